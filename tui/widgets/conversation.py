"""The conversation: the user's questions and, under each, the agent's steps and outcome."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.widgets import Static

from runtime.agent import events as ev
from runtime.agent.summary import format_answer
from runtime.tui.sessions import Turn
from runtime.tui.text import plural
from runtime.tui.widgets.steps import StepView


class UserMessage(Static):
    def __init__(self, text: str) -> None:
        super().__init__(Text(text), classes="user-message")


class Outcome(Static):
    """How a turn ended; a final answer stands out from everything else."""

    def __init__(self, turn: Turn) -> None:
        super().__init__(outcome_text(turn), markup=False, classes=f"outcome -{turn.status or 'interrupted'}")


def outcome_text(turn: Turn) -> str:
    steps = plural(len(turn.steps), "step")
    match turn.status:
        case "answered":
            return f"Answer: {format_answer(turn.answer)}"
        case "step_limit":
            return f"No answer within the step limit ({steps})."
        case "cancelled":
            return f"Stopped after {steps}."
        case "error":
            return f"Error: {turn.error}"
        case _:
            return f"Interrupted after {steps} (the app closed before the answer)."


class AnswerView(Vertical):
    """The agent's work on one question, built live from events or at once from a saved turn."""

    def __init__(self, restored: Turn | None = None) -> None:
        super().__init__(classes="answer")
        self._restored = restored
        self._steps: dict[int, StepView] = {}

    def compose(self) -> ComposeResult:
        if self._restored is not None:
            for record in self._restored.steps:
                yield self._remember(StepView.from_record(record, collapsed=True))
            yield Outcome(self._restored)

    def _remember(self, step: StepView) -> StepView:
        self._steps[step.step] = step
        return step

    def step(self, number: int) -> StepView:
        if number not in self._steps:
            self.mount(self._remember(StepView(number)))
        return self._steps[number]

    def handle(self, event: ev.Event) -> None:
        """Show one event of the run this view belongs to."""
        match event:
            case ev.StepStarted(step=n):
                self.step(n)
            case ev.TextDelta(step=n, text=text):
                self.step(n).append_text(text)
            case ev.ActionParsed(step=n, thought=thought, code=code):
                self.step(n).show_action(thought, code)
            case ev.ParseFailed(step=n, text=text, message=message):
                self.step(n).show_parse_failure(text, message)
            case ev.Vote(step=n) as vote:
                self.step(n).show_vote(vote)
            case ev.ObservationEvent(step=n, text=text, ok=ok):
                self.step(n).show_observation(text, ok)
            case ev.StepFinished(record=record):
                self.step(record.step).finish(record)

    def end(self, turn: Turn) -> None:
        """The run is over (answered, stopped or failed): close open steps, show the outcome."""
        if turn.status != "answered":
            for step in self._steps.values():
                if not step.finished:
                    step.stop()
        self.mount(Outcome(turn))

    def collapse_steps(self) -> None:
        for step in self._steps.values():
            step.collapsed = True


class Conversation(VerticalScroll):
    """Scrolls with the newest output unless the user scrolled up to read."""

    def on_mount(self) -> None:
        self.anchor()

    def add_question(self, text: str) -> None:
        self.mount(UserMessage(text))

    def add_answer(self) -> AnswerView:
        for old in self.query(AnswerView):
            old.collapse_steps()
        view = AnswerView()
        self.mount(view)
        return view

    def show_turns(self, turns: list[Turn]) -> None:
        """Render a restored conversation; its steps start collapsed."""
        for turn in turns:
            self.mount_all([UserMessage(turn.question), AnswerView(restored=turn)])

    def clear(self) -> None:
        self.remove_children()
