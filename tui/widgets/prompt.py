"""The input box: Enter sends, pasted text keeps its lines, Up/Down walk the history."""

from __future__ import annotations

from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.events import Key
from textual.message import Message
from textual.widgets import TextArea


class PromptInput(TextArea):
    """A multi-line input (a pasted program stays intact) that sends on Enter."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous", show=False),
        Binding("down", "history(1)", "Next", show=False),
        Binding("shift+enter,ctrl+j", "newline", "New line", show=False),
    ]

    class Submitted(Message):
        def __init__(self, text: str) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, soft_wrap=True, show_line_numbers=False, placeholder="Ask a question, or /help")
        self.inputs: list[str] = []
        self._position = 0
        self._draft = ""

    def set_inputs(self, history: list[str]) -> None:
        self.inputs = list(history)
        self._position = len(self.inputs)

    async def _on_key(self, event: Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            self._submit()
            return
        await super()._on_key(event)

    def _submit(self) -> None:
        text = self.text.strip()
        if not text:
            return
        if not self.inputs or self.inputs[-1] != text:
            self.inputs.append(text)
        self._position = len(self.inputs)
        self._draft = ""
        self.clear()
        self.post_message(self.Submitted(text))

    def action_newline(self) -> None:
        self.insert("\n")

    def action_history(self, direction: int) -> None:
        """Up on the first line / Down on the last line moves through earlier inputs; else the cursor moves."""
        row, _ = self.cursor_location
        at_edge = row == 0 if direction < 0 else row == self.document.line_count - 1
        target = self._position + direction
        if not at_edge or not 0 <= target <= len(self.inputs):
            self.action_cursor_up() if direction < 0 else self.action_cursor_down()
            return
        if self._position == len(self.inputs):
            self._draft = self.text
        self._position = target
        self.load_text(self.inputs[target] if target < len(self.inputs) else self._draft)
        self.move_cursor(self.document.end)

    def prefill(self, text: str) -> None:
        """Put text in the box for the user to finish (the palette uses it for commands with arguments)."""
        self.load_text(text)
        self.move_cursor(self.document.end)
        self.focus()
