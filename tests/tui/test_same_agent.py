"""One agent kit (runtime/kit.py) for every front end: with the same model and question, `solve`,
`eval` and `chat` show the model the very same prompt (so greedy decoding takes the same first
step), and `teach` the same prompt with its brief added to the system part."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from runtime import kit
from runtime.cli.main import cli
from runtime.distill.teach import TEACHER_BRIEF, teach_one
from runtime.eval.records import RunConfig
from runtime.eval.runner import EvalRequest, run_eval
from runtime.eval.suites import Suite, SuiteItem
from tests.fakes import ScriptedModel
from tests.tui.helpers import outcomes, ready, send, step

QUESTION = "Use the numbers 4 7 8 8 and + - * / to make 24. Answer with the expression only."
REPLY = step("result = solve_24([4, 7, 8, 8])\nprint(result)")


def scripted() -> ScriptedModel:
    return ScriptedModel([REPLY, step("final_answer(result)")])


class Loader:
    """The eval's model loader, handing out one scripted model."""

    name = "scripted"

    def __init__(self, model: ScriptedModel) -> None:
        self.model = model

    def prepare(self, settings, progress) -> None:
        pass

    def __call__(self, settings):
        return self.model


@pytest.mark.slow
@pytest.mark.asyncio
async def test_solve_eval_chat_and_teach_show_the_model_the_same_first_prompt(make_app, settings, monkeypatch, tmp_path):
    solved = scripted()
    monkeypatch.setattr(kit, "load_model", lambda *args, **kwargs: solved)
    result = CliRunner().invoke(cli, ["solve", "--no-retrieval", QUESTION], env={"RUNTIME_HOME": str(settings.home)})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "8 * (4 + 7 - 8)"

    evaluated = scripted()
    suite = Suite(name="one", checker="game24", split="one", sources=[],
                  items=[SuiteItem(id="q", question=QUESTION, gold=[4, 7, 8, 8])])
    config = RunConfig(suite="one", split="one", sources=[], checker="game24", mode="agent+box", model="scripted",
                       seed=0, temperature=0.0, max_steps=settings.max_steps, guided_call=settings.guided_call)
    summary = run_eval(EvalRequest(config=config, limit=1, out=tmp_path / "run"), suite, Loader(evaluated), settings)
    assert summary.correct == 1

    chatted = scripted()
    app = make_app(chatted, tools={"boxes": True, "retrieval": False})
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await send(pilot, QUESTION)
        await outcomes(pilot, timeout=60)

    assert solved.prompts[0] == evaluated.prompts[0] == chatted.prompts[0]
    assert solved.grammars[:2] == evaluated.grammars[:2] == chatted.grammars[:2]
    assert "result = solve_24(" in solved.grammars[0]  # the fitting tool's call opens the step

    taught = scripted()
    teach_one(taught, settings, SuiteItem(id="q", question=QUESTION, gold=[4, 7, 8, 8]), "game24")
    static = solved.prompts[0].split("These tool functions")[0]
    assert taught.prompts[0].startswith(static.rstrip() + "\n\n" + TEACHER_BRIEF)
