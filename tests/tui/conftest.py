"""Drive the chat app with a scripted model and the real sandbox, in a private RUNTIME_HOME."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator

import pytest

from runtime.config import Settings
from runtime.model.base import Generation, Model
from runtime.model.store import Progress
from tests.fakes import ScriptedModel
from tui.app import ChatApp
from tui.models import ModelFactory


def step(code: str, thought: str = "I will compute it.") -> str:
    """A reply in the format the agent parses: a thought, then one code block."""
    return f"{thought}\n```python\n{code}\n```"


class SlowModel(ScriptedModel):
    """Streams each piece after a pause, so a test can press Esc mid-generation; records being stopped."""

    def __init__(self, replies: list[str], pause_s: float = 0.05) -> None:
        super().__init__(replies)
        self.pause_s = pause_s
        self.stopped = False

    def stream(self, prompt: str, **kwargs) -> Iterator[str | Generation]:
        try:
            for item in super().stream(prompt, **kwargs):
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


@pytest.fixture
def settings(home) -> Settings:
    return Settings(home=home, action_timeout_s=30)


class Notices(list[tuple[str, str]]):
    """(severity, message) of every notice the app showed."""

    def text(self, severity: str | None = None) -> str:
        return "\n".join(m for s, m in self if severity in (None, s))


@pytest.fixture
def notices() -> Notices:
    return Notices()


@pytest.fixture
def make_app(settings, notices) -> Callable[..., ChatApp]:
    """An app on a scripted model (or any factory), whose notices land in `notices`."""

    def make(scripted: Model | None = None, factory: ModelFactory | None = None, **kwargs) -> ChatApp:
        app = ChatApp(settings, factory or factory_for(scripted or ScriptedModel([])), **kwargs)
        show = app.notify

        def notify(message: str, *args, severity: str = "information", **more) -> None:
            notices.append((severity, message))
            show(message, *args, severity=severity, **more)

        app.notify = notify  # type: ignore[method-assign]
        return app

    return make


async def until(pilot, condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Let the app work until `condition` holds (workers run in threads, so poll)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)
