"""What the chat's worker threads tell the screen. Posting a message is the one thread-safe way in."""

from __future__ import annotations

from textual.message import Message

from runtime.agent import events as ev
from runtime.kit import KitTools
from runtime.model.base import Model
from runtime.tui.sessions import ChatOptions


class AgentUpdate(Message):
    """One event of run number `run`; the screen drops events of runs it has already ended."""

    def __init__(self, run: int, event: ev.Event) -> None:
        super().__init__()
        self.run, self.event = run, event


class RunFailed(Message):
    def __init__(self, run: int, error: str) -> None:
        super().__init__()
        self.run, self.error = run, error


class ModelProgress(Message):
    def __init__(self, label: str, done: int, total: int) -> None:
        super().__init__()
        self.label, self.done, self.total = label, done, total


class ModelLoaded(Message):
    def __init__(self, model: Model) -> None:
        super().__init__()
        self.model = model


class ModelFailed(Message):
    def __init__(self, name: str, error: str) -> None:
        super().__init__()
        self.name, self.error = name, error


class ToolsReady(Message):
    def __init__(self, options: ChatOptions, tools: KitTools, done: str = "") -> None:
        super().__init__()
        self.options, self.tools, self.done = options, tools, done


class ToolsFailed(Message):
    def __init__(self, options: ChatOptions, error: str) -> None:
        super().__init__()
        self.options, self.error = options, error
