"""Scripted replies and models, and the steps a test takes in the chat app: wait, ask, read the outcome."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

from textual import events
from textual.pilot import Pilot

from runtime.model.base import Generation, Model, Prompt, Sampling
from runtime.model.store import Progress
from runtime.tui.models import ModelFactory
from runtime.tui.screens.chat import ChatScreen
from runtime.tui.widgets.conversation import Outcome
from runtime.tui.widgets.prompt import PromptInput
from tests.fakes import ScriptedModel


def step(code: str, thought: str = "I will compute it.") -> str:
    """A reply in the format the agent parses: a thought, then one code block."""
    return f"{thought}\n```python\n{code}\n```"


class SlowModel(ScriptedModel):
    """Streams each piece after a pause, so a test can press Esc mid-generation; records being stopped."""

    def __init__(self, replies: list[str], pause_s: float = 0.05) -> None:
        super().__init__(replies)
        self.pause_s = pause_s
        self.stopped = False

    def stream(self, prompt: Prompt, sampling: Sampling, until=None) -> Iterator[str | Generation]:
        try:
            for item in super().stream(prompt, sampling, until):
                if isinstance(item, str):
                    time.sleep(self.pause_s)
                yield item
        except GeneratorExit:
            self.stopped = True
            raise


def factory_for(model: Model, loaded: list[str | None] | None = None) -> ModelFactory:
    """A model factory that hands out `model`, noting which names were asked for."""

    def load(name: str | None, progress: Progress) -> Model:
        progress("loading scripted", 0, 0)
        if loaded is not None:
            loaded.append(name)
        return model

    return load


class Notices(list[tuple[str, str]]):
    """(severity, message) of every notice the app showed."""

    def text(self, severity: str | None = None) -> str:
        return "\n".join(m for s, m in self if severity in (None, s))


async def until(pilot, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the app work until `condition` holds (workers run in threads, so poll)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


async def ready(pilot: Pilot, timeout: float = 15.0) -> ChatScreen:
    await until(pilot, lambda: isinstance(pilot.app.screen, ChatScreen) and pilot.app.screen.model is not None, timeout)
    assert isinstance(pilot.app.screen, ChatScreen)
    return pilot.app.screen


async def send(pilot: Pilot, text: str) -> None:
    """Paste `text` into the input as a terminal does (newlines stay in the box), then press Enter."""
    pilot.app.screen.query_one(PromptInput).focus()
    pilot.app.post_message(events.Paste(text))  # to the app, as the terminal driver does
    await pilot.pause()
    await pilot.press("enter")


async def outcomes(pilot: Pilot, count: int = 1, timeout: float = 15.0) -> list[Outcome]:
    await until(pilot, lambda: len(pilot.app.screen.query(Outcome)) >= count, timeout)
    return list(pilot.app.screen.query(Outcome))


async def ask(pilot: Pilot, text: str, count: int = 1) -> list[Outcome]:
    """Send `text`, then wait until the conversation shows `count` outcomes (this question's is the last)."""
    await send(pilot, text)
    return await outcomes(pilot, count)


def text_of(widget) -> str:
    return str(widget.render())
