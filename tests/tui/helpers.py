"""Steps a test takes in the chat app: wait for the model, ask, wait for the outcome."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui.conftest import until
from tui.screens.chat import ChatScreen
from tui.widgets.conversation import Outcome
from tui.widgets.prompt import PromptInput


async def ready(pilot: Pilot, timeout: float = 15.0) -> ChatScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen) and pilot.app.screen.model is not None, timeout)
    assert isinstance(pilot.app.screen, ChatScreen)
    return pilot.app.screen


async def send(pilot: Pilot, text: str) -> None:
    """Type into the input as a paste would (keeps newlines), then press Enter."""
    prompt = pilot.app.screen.query_one(PromptInput)
    prompt.focus()
    prompt.insert(text)
    await pilot.press("enter")


async def outcomes(pilot: Pilot, count: int = 1, timeout: float = 15.0) -> list[Outcome]:
    await until(pilot, lambda: len(pilot.app.screen.query(Outcome)) >= count, timeout)
    return list(pilot.app.screen.query(Outcome))


def text_of(widget) -> str:
    return str(widget.render())
