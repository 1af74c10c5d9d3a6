"""One agent step as a collapsible block: streamed thought, highlighted code, expandable observation."""

from __future__ import annotations

from typing import ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual.binding import BindingType
from textual.reactive import reactive
from textual.widgets import Collapsible, Static

from runtime.agent.events import StepRecord, Vote
from runtime.agent.summary import vote_lines

PREVIEW_LINES = 6


class ObservationView(Static, can_focus=True):
    """What the code printed; long output is cut to a few lines until clicked, so it can't bury the answer."""

    BINDINGS: ClassVar[list[BindingType]] = [("enter", "toggle_expanded", "Expand/shrink")]

    expanded: reactive[bool] = reactive(False, init=False)

    def __init__(self) -> None:
        super().__init__(markup=False, classes="observation")
        self.text = ""
        self.display = False

    def show(self, text: str, ok: bool) -> None:
        self.text = text
        self.set_class(not ok, "-error")
        self.display = True
        self.update(self._content())

    def _content(self) -> Text:
        lines = self.text.splitlines() or [""]
        hidden = len(lines) - PREVIEW_LINES
        if self.expanded or hidden <= 0:
            return Text(self.text)
        preview = Text("\n".join(lines[:PREVIEW_LINES]))
        preview.append(f"\n… {hidden} more lines (click or Enter to expand)", style="italic")
        return preview

    def watch_expanded(self) -> None:
        self.update(self._content())

    def on_click(self) -> None:
        self.action_toggle_expanded()

    def action_toggle_expanded(self) -> None:
        self.expanded = not self.expanded


class StepView(Collapsible):
    """A step while it runs (fed by the event stream) or as restored from a saved record."""

    def __init__(self, step: int, collapsed: bool = False) -> None:
        self.step = step
        self.finished = False
        self._raw = ""
        self._thought = Static(markup=False, classes="thought -streaming")
        self._code = Static(classes="code")
        self._problem = Static(markup=False, classes="problem")
        self._vote = Static(markup=False, classes="vote")
        self._observation = ObservationView()
        self._code.display = self._problem.display = self._vote.display = False
        super().__init__(
            self._thought,
            self._code,
            self._problem,
            self._vote,
            self._observation,
            title=f"Step {step} · thinking…",
            collapsed=collapsed,
            classes="step",
        )

    @classmethod
    def from_record(cls, record: StepRecord, collapsed: bool) -> StepView:
        view = cls(record.step, collapsed=collapsed)
        if record.code is None:
            view.show_parse_failure(record.raw, record.observation)
        else:
            view.show_action(record.thought, record.code)
            if record.vote is not None:
                view.show_vote(record.vote)
            view.show_observation(record.observation, record.ok)
        view.finish(record)
        return view

    def append_text(self, text: str) -> None:
        self._raw += text
        self._thought.update(Text(self._raw))

    def show_action(self, thought: str, code: str) -> None:
        self.title = f"Step {self.step} · running code…"
        self._thought.remove_class("-streaming")
        self._thought.update(Text(thought))
        self._code.update(Syntax(code, "python", theme="monokai", word_wrap=True))
        self._code.display = True

    def show_parse_failure(self, raw: str, message: str) -> None:
        self._thought.remove_class("-streaming")
        self._thought.update(Text(raw))
        self._problem.update(f"No code to run: {message}")
        self._problem.display = True

    def show_vote(self, vote: Vote) -> None:
        """SAG: how the candidates grouped, so the user sees how sure the step was."""
        self._vote.update(Text("Vote: " + "\n      ".join(vote_lines(vote))))
        self._vote.display = True

    def show_observation(self, text: str, ok: bool) -> None:
        self._observation.show(text, ok)

    def finish(self, record: StepRecord) -> None:
        self.finished = True
        self.title = step_summary(record)
        self.set_class(record.code is None or not record.ok, "-failed")

    def stop(self) -> None:
        self._thought.remove_class("-streaming")
        self.title = f"Step {self.step} · stopped"


def step_summary(record: StepRecord) -> str:
    """The title of a finished step: what it cost and how it went."""
    t = record.timings
    parts = [f"Step {record.step}", f"{t.completion_tokens} tok in {t.prefill_s + t.decode_s:.1f} s"]
    if record.code is None:
        parts.append("no code")
    else:
        outcome = "ok" if record.ok else f"failed ({record.error_kind or 'error'})"
        parts.append(f"code {outcome} in {t.action_s * 1000:.0f} ms")
    return " · ".join(parts)
