"""Asking, following up, stopping, and failing — a scripted model, the real sandbox."""

from __future__ import annotations

import time

import pytest

from runtime.errors import ModelNotFound
from runtime.tui.sessions import SessionStore
from runtime.tui.widgets.conversation import UserMessage
from runtime.tui.widgets.status_bar import StatusBar
from runtime.tui.widgets.steps import ObservationView, StepView
from tests.fakes import ScriptedModel
from tests.tui.helpers import SlowModel, ask, outcomes, ready, send, step, text_of, until

pytestmark = pytest.mark.asyncio

SQUARES = [step("x = sum(p * p for p in [2, 3, 5])\nprint(x)"), step("final_answer(x)", "The sum is 38.")]


async def test_a_question_shows_each_step_and_the_highlighted_answer(make_app):
    app = make_app(ScriptedModel(list(SQUARES)))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        [outcome] = await ask(pilot, "What is the sum of the squares of 2, 3 and 5?")
        assert text_of(outcome) == "Answer: 38" and outcome.has_class("-answered")
        first, second = screen.query(StepView)
        assert "I will compute it." in text_of(first._thought)
        assert "code ok" in first.title and "code ok" in second.title
        assert [text_of(o) for o in screen.query(ObservationView)] == ["38", "Final answer: 38"]
        assert text_of(screen.query_one(UserMessage)).startswith("What is the sum")
        assert text_of(screen.query_one(StatusBar)).startswith("answered · 2 steps")
        saved = SessionStore(app.settings).open(screen.session_log.session.id).session.turns
        assert [(t.status, t.answer, len(t.steps)) for t in saved] == [("answered", 38, 2)]


async def test_a_long_observation_is_cut_until_expanded(make_app):
    app = make_app(ScriptedModel([step("for i in range(20):\n    print('line', i)"), step("final_answer(20)")]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "Print twenty lines.")
        observation = screen.query(ObservationView).first()
        assert "line 5" in text_of(observation) and "line 19" not in text_of(observation)
        assert "14 more lines" in text_of(observation)
        observation.focus()
        await pilot.press("enter")
        assert "line 19" in text_of(observation)


async def test_a_follow_up_question_carries_the_earlier_answer(make_app):
    model = ScriptedModel([*SQUARES, step("final_answer(38 * 2)")])
    app = make_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await ask(pilot, "What is the sum of the squares of 2, 3 and 5?")
        _, second = await ask(pilot, "And twice that?", 2)
        assert text_of(second) == "Answer: 76"
        follow_up = model.prompts[-1]
        assert "Earlier in this conversation:" in follow_up
        assert "Q: What is the sum of the squares of 2, 3 and 5? A: 38" in follow_up
        assert "Current task: And twice that?" in follow_up


async def test_esc_stops_generation_at_once_and_the_chat_goes_on(make_app):
    model = SlowModel([step("print(1)", "Let me think about this for a long while. " * 40), step("final_answer(7)")])
    app = make_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await send(pilot, "A question the model mulls over.")
        await until(
            pilot, lambda: len(screen.query(StepView)) == 1 and "think" in text_of(screen.query_one(StepView)._thought)
        )
        await pilot.press("escape")
        [outcome] = await outcomes(pilot)
        assert text_of(outcome) == "Stopped after 0 steps." and outcome.has_class("-cancelled")
        assert screen.query_one(StepView).title == "Step 1 · stopped"
        await until(pilot, lambda: model.stopped, timeout=2)  # the worker stopped reading the stream
        assert text_of((await ask(pilot, "Then just answer 7.", 2))[1]) == "Answer: 7"
        turns = screen.session_log.session.turns
        assert [t.status for t in turns] == ["cancelled", "answered"]


async def test_esc_stops_running_code_without_waiting_for_its_timeout(make_app, settings):
    assert settings.action_timeout_s == 30
    app = make_app(ScriptedModel([step("while True:\n    pass"), step("final_answer('fresh')")]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await send(pilot, "Loop forever.")
        await until(pilot, lambda: screen.query_one(StepView).title == "Step 1 · running code…")
        await pilot.pause(0.3)
        stopped_at = time.monotonic()
        await pilot.press("escape")
        await outcomes(pilot)
        assert text_of((await ask(pilot, "Answer something.", 2))[1]) == "Answer: fresh"
        assert time.monotonic() - stopped_at < 10


async def test_esc_stops_decoding_sag_candidates_without_waiting_for_them(make_app):
    model = ScriptedModel([step("print(1)"), step("final_answer('next')")], decode_s=20.0)
    app = make_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await send(pilot, "/sag 3")
        await send(pilot, "A question whose candidates take a minute.")
        await until(pilot, lambda: len(screen.query(StepView)) == 1)
        await pilot.pause(0.3)
        stopped_at = time.monotonic()
        await pilot.press("escape")
        [outcome] = await outcomes(pilot)
        assert text_of(outcome) == "Stopped after 0 steps."
        model.decode_s = 0.0
        assert text_of((await ask(pilot, "Answer the next one.", 2))[1]) == "Answer: next"
        assert time.monotonic() - stopped_at < 10  # not the 60 s the three candidates would take


async def test_a_model_that_cannot_load_is_a_notice_and_another_can_be_chosen(make_app, notices):
    loaded: list[str | None] = []

    def factory(name, progress):
        loaded.append(name)
        if name != "scripted":
            raise ModelNotFound(f"unknown model {name!r}; `runtime model list` shows the known ones")
        return ScriptedModel([step("final_answer(1)")])

    app = make_app(factory=factory, model="no-such-model")
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: notices.text("error"))
        assert notices.text("error") == "unknown model 'no-such-model'; `runtime model list` shows the known ones"
        await send(pilot, "Hello?")
        assert "No model yet (failed to load)" in notices.text("warning")
        await send(pilot, "/model scripted")
        screen = await ready(pilot)
        assert text_of((await ask(pilot, "Hello?"))[0]) == "Answer: 1"
        assert loaded == ["no-such-model", "scripted"]
        assert screen.session_log.session.options.model == "scripted"


class BrokenModel(ScriptedModel):
    """Fails in the middle of writing, as llama.cpp does when decoding fails."""

    def stream(self, prompt, sampling, until=None):
        yield "I will"
        raise RuntimeError("llama_decode returned -3")


async def test_a_run_that_fails_is_a_readable_notice_and_the_chat_goes_on(make_app, notices):
    app = make_app(BrokenModel([]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        [outcome] = await ask(pilot, "Anything.")
        assert text_of(outcome) == "Error: RuntimeError: llama_decode returned -3"
        assert notices.text("error") == "RuntimeError: llama_decode returned -3"
        assert screen.session_log.session.turns[0].status == "error"
        assert len(await ask(pilot, "Again.", 2)) == 2


async def test_input_history_and_multi_line_paste(make_app):
    app = make_app(ScriptedModel([step("final_answer(1)"), step("final_answer(2)")]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await ask(pilot, "first question")
        await ask(pilot, "second\nquestion\nin three lines", 2)
        assert screen.session_log.session.turns[1].question == "second\nquestion\nin three lines"
        prompt = screen.query_one("#prompt")
        await pilot.press("up")
        assert prompt.text == "second\nquestion\nin three lines"
        await pilot.press("up", "up", "up")  # the cursor climbs the lines, then history goes back
        assert prompt.text == "first question"
        await pilot.press("down")
        assert prompt.text == "second\nquestion\nin three lines"
