"""Slash commands and their command palette entries change the session's options and the panel."""

from __future__ import annotations

import pytest

from runtime.retrieval.ingest import ingest, read_sources
from runtime.retrieval.store import Store
from runtime.tui.commands import SLASH_COMMANDS, parse_command
from runtime.tui.screens.help import HelpScreen
from runtime.tui.sessions import SessionStore
from runtime.tui.widgets.conversation import UserMessage
from runtime.tui.widgets.steps import ObservationView, StepView
from tests.fakes import ScriptedModel
from tests.tui.helpers import factory_for, outcomes, ready, send, step, text_of, until


def panel(screen) -> str:
    return text_of(screen.query_one("#panel-text"))


def test_slash_text_parses_into_name_and_argument():
    assert parse_command("/sag 3") == ("sag", "3")
    assert parse_command("/Model  qwen2.5-coder-0.5b ") == ("model", "qwen2.5-coder-0.5b")
    assert parse_command("/clear") == ("clear", "")
    assert parse_command("What is 2/3?") is None


@pytest.mark.asyncio
async def test_sag_votes_between_candidates_and_the_step_shows_the_vote(make_app, notices):
    candidates = [step("print(6 * 7)"), step("print(42)"), step("print(41)")]
    model = ScriptedModel([candidates, step("final_answer(42)")])
    app = make_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        assert "SAG\n  off" in panel(screen)
        await send(pilot, "/sag 3")
        assert screen.session_log.session.options.sag == 3
        assert "3 candidates per step" in panel(screen)
        assert "SAG: 3 candidates per step" in notices.text("information")
        await send(pilot, "What is 6 times 7?")
        [outcome] = await outcomes(pilot)
        assert text_of(outcome) == "Answer: 42"
        first = screen.query(StepView).first()
        assert text_of(first._vote) == "Vote: 2/3 agree: 42\n      1/3 agree: 41"
        await send(pilot, "/sag many")
        assert "Usage: /sag N" in notices.text("warning")
        await send(pilot, "/sag 99")
        assert "Usage: /sag N" in notices.text("warning")
        await send(pilot, "/nonsense")
        assert "Unknown command /nonsense; /help lists them." in notices.text("warning")
        saved = SessionStore(app.settings).open(screen.session_log.session.id).session
        assert saved.options.sag == 3
        assert saved.turns[0].steps[0].vote is not None  # a resumed session shows the vote again
        assert len(screen.query(UserMessage)) == 1  # commands are not questions


@pytest.mark.slow
@pytest.mark.asyncio
async def test_boxes_command_gives_the_agent_the_shipped_box_tools(make_app):
    model = ScriptedModel([step("final_answer(is_prime(97))")])
    app = make_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        assert "boxes off\n  no tools" in panel(screen)
        await send(pilot, "/boxes")
        await until(pilot, lambda: "boxes on: math, text, time" in panel(screen))
        assert screen.session_log.session.options.boxes
        await send(pilot, "Is 97 prime?")
        assert text_of((await outcomes(pilot))[0]) == "Answer: true"  # as `runtime solve` prints it: JSON
        assert "def is_prime" in model.prompts[0]
        await send(pilot, "/boxes")
        await until(pilot, lambda: "boxes off\n  no tools" in panel(screen))


@pytest.mark.slow
@pytest.mark.asyncio
async def test_collection_command_gives_the_agent_a_retrieve_tool(make_app, settings, tmp_path, notices):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "lisbon.md").write_text("# Lisbon\n\nLisbon is the capital and largest city of Portugal.")
    ingest(Store(settings).open("notes", create=True), read_sources([notes]))
    model = ScriptedModel([step("hits = retrieve('capital of Portugal', k=1)\nfinal_answer(hits[0]['title'])")])
    app = make_app(model)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await send(pilot, "/collection atlas")
        await until(pilot, lambda: notices.text("error"))
        assert "atlas" in notices.text("error")
        assert screen.session_log.session.options.collection is None  # a failed change is not saved
        await send(pilot, "/collection notes")
        await until(pilot, lambda: "Collection\n  notes" in panel(screen) and "1 tool" in panel(screen))
        await send(pilot, "What is the capital of Portugal?")
        assert text_of((await outcomes(pilot))[0]) == "Answer: Lisbon", [
            text_of(o) for o in screen.query(ObservationView)
        ]
        await send(pilot, "/collection")
        assert screen.session_log.session.options.collection is None


@pytest.mark.asyncio
async def test_model_command_loads_the_named_model_in_a_worker(settings, make_app):
    loaded: list[str | None] = []
    app = make_app(factory=factory_for(ScriptedModel([]), loaded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await send(pilot, "/model qwen2.5-coder-0.5b")
        await until(pilot, lambda: loaded == [None, "qwen2.5-coder-0.5b"] and screen.model is not None)
        assert screen.session_log.session.options.model == "qwen2.5-coder-0.5b"
        assert "scripted\n  size n/a · ready" in panel(screen)


@pytest.mark.asyncio
async def test_save_names_the_session_and_clear_starts_a_new_one(make_app, notices):
    app = make_app(ScriptedModel([step("final_answer(1)")]))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await send(pilot, "/save")
        assert "Nothing to save yet" in notices.text("warning")
        await send(pilot, "Say one.")
        await outcomes(pilot)
        first = screen.session_log
        await send(pilot, "/save Counting")
        assert f"Saved as {first.path}" in notices.text()
        assert screen.sub_title == "Counting" and "Counting" in panel(screen)
        await send(pilot, "/clear")
        assert screen.session_log.session.id != first.session.id
        assert not screen.query(UserMessage) and not screen.session_log.session.turns
        assert SessionStore(app.settings).open(first.session.id).session.title == "Counting"


@pytest.mark.asyncio
async def test_help_lists_every_command(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await ready(pilot)
        await send(pilot, "/help")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        markdown = app.screen.query_one("Markdown")
        assert all(f"`{c.usage}`" in markdown.source for c in SLASH_COMMANDS)
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, HelpScreen))


@pytest.mark.slow
@pytest.mark.asyncio
async def test_the_command_palette_has_an_entry_for_each_command(make_app):
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        titles = [c.title for c in app.get_system_commands(screen)]
        assert len(titles) >= len(SLASH_COMMANDS) + 1 and "Resume a saved session" in titles
        assert all(any(title.startswith(f"/{c.name}") for title in titles) for c in SLASH_COMMANDS)
        await pilot.press("ctrl+p")
        await pilot.press(*"/sag N")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is screen and screen.query_one("#prompt").text == "/sag ")
        await pilot.press("2", "enter")
        assert screen.session_log.session.options.sag == 2
        await pilot.press("ctrl+p")
        await pilot.press(*"/boxes")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await until(pilot, lambda: screen.session_log.session.options.boxes)


@pytest.mark.asyncio
async def test_chat_box_option_offers_only_that_box_and_overrides_a_resumed_session(make_app, settings):
    model = ScriptedModel([step("final_answer(extract_numbers('a 1 b 2'))")])
    app = make_app(model, tools={"boxes": True, "box_names": ["text"]})
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        await until(pilot, lambda: "boxes on: text\n" in panel(screen))
        options = screen.session_log.session.options
        assert (options.boxes, options.box_names) == (True, ["text"])
        await send(pilot, "Which numbers are in 'a 1 b 2'?")
        await outcomes(pilot)
        assert "def extract_numbers" in model.prompts[0] and "def is_prime" not in model.prompts[0]
        session_id = screen.session_log.session.id
    resumed = make_app(resume=session_id, tools={"boxes": False})
    async with resumed.run_test(size=(120, 40)) as pilot:
        screen = await ready(pilot)
        assert screen.session_log.session.id == session_id
        assert not screen.session_log.session.options.boxes
        await until(pilot, lambda: "boxes off" in panel(screen))
