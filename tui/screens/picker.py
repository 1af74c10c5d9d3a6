"""Pick a saved session to resume (`runtime chat --resume` without an id, or from the palette)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from runtime.tui.sessions import Session


class SessionPicker(ModalScreen[str | None]):
    """Dismisses with the chosen session id, or None for a new conversation."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss(None)", "New conversation")]

    def __init__(self, sessions: list[Session]) -> None:
        super().__init__()
        self.sessions = sessions

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Label("Resume a conversation (Esc: start a new one)")
            yield OptionList(*[Option(Text(session_line(s)), id=s.id) for s in self.sessions])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id)


def session_line(session: Session) -> str:
    turns = len(session.turns)
    label = session.label if len(session.label) <= 60 else session.label[:59] + "…"
    return f"{session.created:%Y-%m-%d %H:%M}  {label}  ({turns} question{'s' if turns != 1 else ''})"
