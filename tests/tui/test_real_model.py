"""The chat app on the real default model through llama.cpp, to a final answer (slow: loads ~1 GB)."""

from __future__ import annotations

import pytest

from runtime.config import Settings
from tests.tui.helpers import outcomes, ready, send, text_of
from tui.app import ChatApp
from tui.widgets.steps import StepView

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
