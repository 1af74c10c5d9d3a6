"""The chat app on the real default model through llama.cpp, to a final answer (slow: loads ~1 GB)."""

from __future__ import annotations

import pytest

from runtime.config import Settings
from runtime.tui.app import ChatApp
from runtime.tui.widgets.steps import StepView
from tests.tui.helpers import outcomes, ready, send, text_of

pytestmark = [pytest.mark.e2e, pytest.mark.asyncio]


async def test_the_default_model_answers_a_question_in_the_app(e2e_settings):
    app = ChatApp(e2e_settings)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, timeout=600)
        assert screen.model_info is not None and screen.model_info.name == Settings().default_model
        assert "GB · ready" in text_of(screen.query_one("#panel-text"))
        await send(pilot, "What is 123 * 456?")
        [outcome] = await outcomes(pilot, timeout=600)
        assert text_of(outcome) == "Answer: 56088", text_of(outcome)
        assert any("code ok" in step.title for step in screen.query(StepView))
        assert screen.context_used > 0


SAME_AS_SOLVE = [
    "can you get 24 from 2 9 10 12?",
    "Tom had 12 marbles. He gave 5 to his sister and then bought 9 more. How many marbles does he have now?",
]


async def test_chat_takes_the_same_steps_as_solve_for_the_same_question(e2e_home, e2e_settings):
    """One agent kit for every front end: the 0.5B model in the chat picks the same tools and writes
    the same code, step for step, as `runtime solve` in a new process."""
    import json

    from tests.e2e.test_solve import solve

    expected = []
    for question in SAME_AS_SOLVE:
        proc = solve(e2e_home, "--model", "qwen2.5-coder-0.5b", "--json", question)
        assert proc.returncode in (0, 3), proc.stderr[-2000:]
        expected.append([step["code"] for step in json.loads(proc.stdout)["steps"]])
    app = ChatApp(e2e_settings, model="qwen2.5-coder-0.5b")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot, timeout=600)
        for n, question in enumerate(SAME_AS_SOLVE):
            if n:
                await send(pilot, "/clear")  # a new conversation: no earlier turn in the task
            await send(pilot, question)
            await outcomes(pilot, timeout=600)
            steps = screen.session_log.session.turns[-1].steps
            assert [step.code for step in steps] == expected[n], question
