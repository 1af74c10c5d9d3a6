"""Sessions: saved as they go, resumed from the file, and a crash loses at most the message in progress."""

from __future__ import annotations

import pytest

from runtime.tui.screens.picker import SessionPicker
from runtime.tui.sessions import Asked, ChatOptions, SessionError, SessionStore, load_session
from runtime.tui.widgets.conversation import Outcome, UserMessage
from runtime.tui.widgets.steps import StepView
from tests.fakes import ScriptedModel
from tests.tui.helpers import outcomes, ready, send, step, text_of, until


@pytest.mark.slow
@pytest.mark.asyncio
async def test_resume_shows_the_conversation_and_continues_it(make_app):
    app = make_app(ScriptedModel([step("x = 6 * 7\nprint(x)"), step("final_answer(x)")]))
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await send(pilot, "What is six times seven?")
        await outcomes(pilot)
        session_id = app.screen.session_log.session.id

    model = ScriptedModel([step("final_answer(43)")])
    resumed = make_app(model, resume=session_id)
    async with resumed.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        assert text_of(screen.query_one(UserMessage)) == "What is six times seven?"
        assert [s.collapsed for s in screen.query(StepView)] == [True, True]
        assert text_of(screen.query_one(Outcome)) == "Answer: 42"
        await pilot.press("up")
        assert screen.query_one("#prompt").text == "What is six times seven?"
        screen.query_one("#prompt").clear()
        await send(pilot, "Plus one?")
        await outcomes(pilot, 2)
        assert "A: 42" in model.prompts[0]
    turns = SessionStore(resumed.settings).open(session_id).session.turns
    assert [t.answer for t in turns] == [42, 43]


@pytest.mark.asyncio
async def test_the_picker_resumes_the_chosen_session(make_app, settings):
    store = SessionStore(settings)
    for question in ("older question", "newer question"):
        store.create(ChatOptions()).record(Asked(question=question, at="2026-01-01T10:00:00"))
    app = make_app(pick=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, SessionPicker))
        await pilot.press("down", "enter")
        screen = await ready(pilot)
        assert text_of(screen.query_one(UserMessage)) == "older question"
        assert "Interrupted after 0 steps" in text_of(screen.query_one(Outcome))


@pytest.mark.asyncio
async def test_resuming_an_unknown_session_is_a_notice_and_a_new_session(make_app, notices):
    app = make_app(resume="no-such-session")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        assert "no saved session 'no-such-session'" in notices.text("error")
        assert not screen.session_log.session.turns


def test_a_torn_last_line_is_dropped_and_earlier_lines_are_kept(settings):
    log = SessionStore(settings).create(ChatOptions(sag=2))
    log.record(Asked(question="kept", at="2026-01-01T10:00:00"))
    with log.path.open("a") as fh:
        fh.write('{"kind": "asked", "question": "lost in the cra')  # killed mid-write
    session = load_session(log.path)
    assert [t.question for t in session.turns] == ["kept"] and session.options.sag == 2


def test_a_damaged_middle_line_is_a_clear_error(settings):
    log = SessionStore(settings).create(ChatOptions())
    log.record(Asked(question="one", at="2026-01-01T10:00:00"))
    log.record(Asked(question="two", at="2026-01-01T10:00:01"))
    lines = log.path.read_text().splitlines()
    lines[2] = '{"kind": "asked"}'
    log.path.write_text("\n".join(lines) + "\n")
    with pytest.raises(SessionError, match=r":3: not a session record \(asked.question: Field required\)"):
        load_session(log.path)


def test_nothing_is_written_until_something_happens(settings):
    store = SessionStore(settings)
    log = store.create(ChatOptions())
    assert not log.path.exists() and store.ids() == []


def test_a_session_id_cannot_name_a_path(settings, tmp_path):
    (tmp_path / "outside.jsonl").write_text("")
    with pytest.raises(SessionError, match="no saved session"):
        SessionStore(settings).open("../../outside")
