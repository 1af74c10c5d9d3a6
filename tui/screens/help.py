"""`/help` (and F1): the slash commands and keys, over the chat."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from runtime.tui.commands import SlashCommand

KEYS = (
    ("Enter", "send the question or command"),
    ("Shift+Enter / Ctrl+J", "new line (pasted text keeps its lines)"),
    ("Up / Down", "earlier inputs"),
    ("Esc", "stop the current answer"),
    ("Ctrl+P", "command palette"),
    ("Click a step title", "collapse or expand it; click an observation to see all of it"),
    ("Ctrl+Q", "quit (the session is already saved)"),
)


def help_markdown(commands: tuple[SlashCommand, ...]) -> str:
    rows = [f"- `{c.usage}` — {c.help}" for c in commands]
    keys = [f"- **{key}** — {what}" for key, what in KEYS]
    return "\n".join(["## Commands", "", *rows, "", "## Keys", "", *keys])


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,f1", "dismiss", "Close")]

    def __init__(self, commands: tuple[SlashCommand, ...]) -> None:
        super().__init__()
        self.commands = commands

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(help_markdown(self.commands))
