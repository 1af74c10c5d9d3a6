"""The chat app with a scripted model and the real sandbox: ask, watch steps, stop, resume."""

from __future__ import annotations

import pytest

from tests.fakes import ScriptedModel
from tests.tui.conftest import SlowModel, step, until
from tui.screens.chat import ChatScreen
from tui.sessions import SessionStore
from tui.widgets.conversation import Outcome, UserMessage
from tui.widgets.steps import StepView

pytestmark = pytest.mark.asyncio


def chat(app) -> ChatScreen:
    assert isinstance(app.screen, ChatScreen)
    return app.screen


async def ready(pilot) -> ChatScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen) and pilot.app.screen.model is not None)
    return chat(pilot.app)


async def ask(pilot, text: str) -> None:
    await pilot.click("#prompt")
    pilot.app.screen.query_one("#prompt").insert(text)
    await pilot.press("enter")


async def answered(pilot, count: int = 1) -> list[Outcome]:
    await until(pilot, lambda: len(pilot.app.screen.query(Outcome)) >= count)
    return list(pilot.app.screen.query(Outcome))


async def test_a_question_shows_each_step_and_the_highlighted_answer(make_app):
    model = ScriptedModel([step("x = sum(p * p for p in [2, 3, 5])\nprint(x)"), step("final_answer(x)", "Done.")])
    app = make_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "What is the sum of the squares of 2, 3 and 5?")
        [outcome] = await answered(pilot)
        assert "Answer: 38" in str(outcome.render())
        assert outcome.has_class("-answered")
        steps = list(screen.query(StepView))
        assert [s.step for s in steps] == [1, 2]
        assert steps[0].title.startswith("Step 1 ·") and "code ok" in steps[0].title
        assert [u.content for u in screen.query(UserMessage)][0].plain.startswith("What is the sum")
        turn = SessionStore(app.settings).open(screen.session_log.session.id).session.turns[0]
        assert turn.status == "answered" and turn.answer == 38 and len(turn.steps) == 2
