"""The side panel: which model, how full its context is, and the options the slash commands set."""

from __future__ import annotations

from pydantic import BaseModel
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import ProgressBar, Static

from runtime.tui.models import ModelInfo
from runtime.tui.sessions import ChatOptions
from runtime.tui.text import plural


class PanelState(BaseModel):
    """Everything the panel shows, computed by the chat screen from its own state."""

    model: ModelInfo | None = None
    model_status: str = "not loaded"
    context_used: int = 0
    options: ChatOptions = ChatOptions()
    tool_names: list[str] = []
    tools_note: str = ""
    session: str = ""


class SidePanel(Vertical):
    def compose(self) -> ComposeResult:
        yield Static(id="panel-text")
        yield Static(id="load-label", markup=False)
        yield ProgressBar(id="load-progress", show_eta=False)

    def on_mount(self) -> None:
        self.hide_progress()

    def show(self, state: PanelState) -> None:
        self.query_one("#panel-text", Static).update(panel_text(state))

    def show_progress(self, label: str, done: int, total: int) -> None:
        """A determinate bar for bytes (assembling, hashing); an indeterminate one when total is 0."""
        self.query_one("#load-label", Static).update(label)
        bar = self.query_one("#load-progress", ProgressBar)
        bar.update(total=total or None, progress=done)
        self.query_one("#load-label").display = bar.display = True

    def hide_progress(self) -> None:
        self.query_one("#load-label").display = self.query_one("#load-progress").display = False


def panel_text(state: PanelState) -> Text:
    text = Text()

    def section(title: str, *lines: str) -> None:
        text.append(f"{title}\n", style="bold")
        for line in lines:
            text.append(f"  {line}\n")
        text.append("\n")

    model = state.model
    if model is None:
        section("Model", state.options.model or "default", state.model_status)
    else:
        size = f"{model.size_bytes / 1e9:.2f} GB" if model.size_bytes else "size n/a"
        section(
            "Model", model.name, f"{size} · {state.model_status}", f"context {state.context_used:,} / {model.n_ctx:,}"
        )
    options = state.options
    boxes = sorted({name.split(".")[0] for name in state.tool_names if not name.startswith("retrieval.")})
    section(
        "Tools",
        f"boxes {'on' if options.boxes else 'off'}" + (f": {', '.join(boxes)}" if boxes else ""),
        state.tools_note or (plural(len(state.tool_names), "tool") if state.tool_names else "no tools"),
    )
    section("Collection", options.collection or "none")
    section("SAG", f"{options.sag} candidates per step" if options.sag > 1 else "off")
    section("Session", state.session)
    text.rstrip()
    return text
