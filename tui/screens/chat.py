"""The chat screen: the conversation, the input, the side panel; model and agent run in workers.

The screen holds no agent logic: a worker thread iterates `Agent.run` and posts each event back;
the screen renders it and appends finished steps to the session file. Stopping cancels the
worker (it stops reading events at the next one) and kills the sandbox's process, so a running
action ends at once too.
"""

from __future__ import annotations

import threading
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Header
from textual.worker import Worker, get_current_worker

from runtime.agent import events as ev
from runtime.config import MAX_CANDIDATES, Settings
from runtime.errors import RuntimeUserError
from runtime.kit import AgentKit, agent_options
from runtime.model.base import Model
from runtime.tui.commands import SLASH_COMMANDS, SlashCommand, parse_command
from runtime.tui.context import with_context
from runtime.tui.messages import AgentUpdate, ModelFailed, ModelLoaded, ModelProgress, RunFailed, ToolsFailed, ToolsReady
from runtime.tui.models import ModelFactory, ModelInfo, describe
from runtime.tui.sandbox_slot import SandboxSlot
from runtime.tui.screens.help import HelpScreen
from runtime.tui.sessions import Asked, ChatOptions, OptionsSet, SessionLog, SessionStore, StepSaved, TitleSet, TurnEnded
from runtime.tui.toolsets import ChatTools
from runtime.tui.widgets.conversation import AnswerView, Conversation
from runtime.tui.widgets.prompt import PromptInput
from runtime.tui.widgets.side_panel import PanelState, SidePanel
from runtime.tui.widgets.status_bar import StatusBar


@dataclass
class ActiveRun:
    """The answer being worked on; events from any other run number are stale and ignored."""

    number: int
    view: AnswerView
    worker: Worker[None] | None = None


def readable(exc: BaseException) -> str:
    """An exception as one line for a notice: user errors speak for themselves, others name their type."""
    return str(exc) if isinstance(exc, RuntimeUserError) else f"{type(exc).__name__}: {exc}"


class ChatScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "stop", "Stop", priority=True),
        Binding("f1", "help", "Help"),
    ]

    def __init__(self, settings: Settings, model_factory: ModelFactory, store: SessionStore, log: SessionLog) -> None:
        super().__init__()
        self.settings = settings
        self.model_factory = model_factory
        self.store = store
        self.session_log = log
        self.model: Model | None = None
        self.model_spec: str | None = None
        self.model_info: ModelInfo | None = None
        self.model_status = "not loaded"
        self.context_used = 0
        self.tools = ChatTools(settings)
        self.tool_names: list[str] = []
        self.tools_note = ""
        self.sandbox = SandboxSlot(settings)
        self.active: ActiveRun | None = None
        self._runs = 0
        self._model_lock = threading.Lock()

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="main"):
            with Vertical(id="chat"):
                yield Conversation(id="conversation")
                yield PromptInput(id="prompt")
            yield SidePanel(id="side")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._show_session()
        self.load_model(self.options.model)
        self.prepare_tools()

    def open_session(self, log: SessionLog) -> None:
        """Continue another conversation (a resumed one, or a new one after /clear) on this screen."""
        if self.active is not None:
            self.notify("Stop the current answer (Esc) first.", severity="warning")
            return
        self.session_log = log
        self.sandbox.discard()
        self.query_one(Conversation).clear()
        self._show_session()
        self.prepare_tools()
        if log.session.options.model != self.model_spec:
            self.load_model(log.session.options.model)

    def _show_session(self) -> None:
        session = self.session_log.session
        steps = [step for turn in session.turns for step in turn.steps]
        self.context_used = steps[-1].timings.prompt_tokens + steps[-1].timings.completion_tokens if steps else 0
        self.query_one(Conversation).show_turns(session.turns)
        prompt = self.query_one(PromptInput)
        prompt.set_inputs([t.question for t in session.turns])
        prompt.focus()
        self.sub_title = session.title or session.id
        self.refresh_panel()

    def on_unmount(self) -> None:
        self.sandbox.close()

    @property
    def options(self) -> ChatOptions:
        return self.session_log.session.options

    # ── model ──────────────────────────────────────────────────────────────────────────────

    def load_model(self, name: str | None) -> None:
        self.model, self.model_info, self.model_spec = None, None, name
        self.model_status = "loading…"
        self.refresh_panel()
        self.query_one(StatusBar).idle(f"loading model {name or self.settings.default_model}…")
        self._load_model(name)

    @work(thread=True, exclusive=True, group="model", exit_on_error=False)
    def _load_model(self, name: str | None) -> None:
        def progress(label: str, done: int, total: int) -> None:
            self.post_message(ModelProgress(label, done, total))

        try:
            model = self.model_factory(name, progress)
        except Exception as exc:  # noqa: BLE001 - shown as a notice; a failed load must not end the app
            self.post_message(ModelFailed(name or self.settings.default_model, readable(exc)))
            return
        if not get_current_worker().is_cancelled:
            self.post_message(ModelLoaded(model))

    def on_model_progress(self, message: ModelProgress) -> None:
        self.query_one(SidePanel).show_progress(message.label, message.done, message.total)

    def on_model_loaded(self, message: ModelLoaded) -> None:
        self.model = message.model
        self.model_info = describe(message.model, self.settings)
        self.model_status = "ready"
        self.query_one(SidePanel).hide_progress()
        self.query_one(StatusBar).idle(f"{self.model_info.name} ready · Enter sends · Esc stops · /help")
        self.refresh_panel()

    def on_model_failed(self, message: ModelFailed) -> None:
        self.model_status = "failed to load"
        self.query_one(SidePanel).hide_progress()
        self.query_one(StatusBar).idle(f"no model: {message.error}")
        self.notify(message.error, title=f"Could not load {message.name}", severity="error", timeout=10)
        self.refresh_panel()

    # ── tools ──────────────────────────────────────────────────────────────────────────────

    def prepare_tools(self) -> None:
        """Load what the options ask for now (boxes take a moment), so errors show before a question."""
        self._prepare(self.options)

    def _prepare(self, options: ChatOptions, done: str = "") -> None:
        self.tools_note = "loading…" if options.boxes or options.collection else ""
        self.refresh_panel()
        self._build_tools(options, done)

    @work(thread=True, exclusive=True, group="tools", exit_on_error=False)
    def _build_tools(self, options: ChatOptions, done: str) -> None:
        try:
            self.post_message(ToolsReady(options, self.tools.tools(options), done))
        except Exception as exc:  # noqa: BLE001 - a box that fails to load, a missing collection: a notice
            self.post_message(ToolsFailed(options, readable(exc)))

    def on_tools_ready(self, message: ToolsReady) -> None:
        """Options that a command changed are kept only now that their tools opened."""
        if message.options != self.options:
            self._set_options(**message.options.model_dump())
            self.sandbox.discard()
        self.tool_names = [spec.qualified_name for spec in message.tools.toolset.specs()]
        self.tools_note = ""
        self.refresh_panel()
        if message.done:
            self.notify(message.done, timeout=3)

    def on_tools_failed(self, message: ToolsFailed) -> None:
        """A failed change (a collection that does not exist) leaves the session's options as they were."""
        if message.options == self.options:
            self.tool_names, self.tools_note = [], "failed to load"
        else:
            self.tools_note = ""
        self.notify(message.error, title="Tools unavailable", severity="error", timeout=10)
        self.refresh_panel()

    # ── asking ─────────────────────────────────────────────────────────────────────────────

    @on(PromptInput.Submitted)
    def on_prompt_submitted(self, message: PromptInput.Submitted) -> None:
        command = parse_command(message.text)
        if command is None:
            self.ask(message.text)
        else:
            self.run_command(command.name, command.argument)

    def ask(self, question: str) -> None:
        if self.active is not None:
            self.notify("Still answering; press Esc to stop it first.", severity="warning")
            return
        if self.model is None:
            self.notify(f"No model yet ({self.model_status}); try /model NAME.", severity="warning")
            return
        task = with_context(self.session_log.session.turns, question)
        self.session_log.record(Asked(question=question, at=datetime.now()))
        conversation = self.query_one(Conversation)
        conversation.add_question(question)
        self._runs += 1
        self.active = ActiveRun(self._runs, conversation.add_answer())
        self.active.worker = self._run_agent(self.active.number, self.model, self.options, question, task)
        self.query_one(StatusBar).idle("starting…")

    @work(thread=True, exclusive=True, group="agent", exit_on_error=False)
    def _run_agent(self, number: int, model: Model, options: ChatOptions, question: str, task: str) -> None:
        """Tools are picked for the question itself, as solve picks them; the task adds the context."""
        worker = get_current_worker()
        with self._model_lock:  # a stopped run may still be finishing its last token
            if worker.is_cancelled:
                return
            try:
                kit = AgentKit(
                    self.settings, model, self.tools.tools(options), agent_options(self.settings, sag=options.sag)
                )
                pick = kit.pick(question)
                sandbox = self.sandbox.get(kit.sandbox_tools(pick))
                agent = kit.agent(sandbox, pick, should_stop=lambda: worker.is_cancelled)
                events = cast(Generator[ev.Event, None, None], agent.run(task))  # closed below, at once
                try:
                    for event in events:
                        if worker.is_cancelled:
                            return
                        self.post_message(AgentUpdate(number, event))
                finally:
                    events.close()
            except Exception as exc:  # noqa: BLE001 - the model, the sandbox or a tool failed: a notice, not a crash
                self.sandbox.discard()
                if not worker.is_cancelled:
                    self.post_message(RunFailed(number, readable(exc)))

    def on_agent_update(self, message: AgentUpdate) -> None:
        run = self.active
        if run is None or message.run != run.number:
            return
        event = message.event
        run.view.handle(event)
        status = self.query_one(StatusBar)
        match event:
            case ev.RunStarted():
                status.idle("reading the prompt…")
            case ev.StepStarted(step=step):
                status.step_started(step)
            case ev.TextDelta():
                status.text_arrived()
            case ev.ActionParsed():
                status.running_code()
            case ev.StepFinished(record=record):
                self.session_log.record(StepSaved(record=record))
                self.context_used = record.timings.prompt_tokens + record.timings.completion_tokens
                status.step_finished(record)
                self.refresh_panel()
            case ev.RunFinished(trace=trace):
                self._end_run(
                    TurnEnded(status=trace.status, answer=trace.answer, error=trace.error, wall_s=trace.wall_s)
                )

    def on_run_failed(self, message: RunFailed) -> None:
        if self.active is not None and message.run == self.active.number:
            self.notify(message.error, title="The run failed", severity="error", timeout=10)
            self._end_run(TurnEnded(status="error", error=message.error))

    def action_stop(self) -> None:
        """Esc: stop generating or running code now; the conversation stays usable."""
        run = self.active
        if run is None:
            return
        if run.worker is not None:
            run.worker.cancel()
        self.sandbox.discard()  # ends a running action now; the next question gets a fresh sandbox
        self._end_run(TurnEnded(status="cancelled"))
        self.notify("Stopped.", timeout=2)

    def _end_run(self, ended: TurnEnded) -> None:
        assert self.active is not None
        self.session_log.record(ended)
        self.active.view.end(self.session_log.session.turns[-1])
        self.active = None
        self.query_one(StatusBar).run_ended(self.session_log.session.turns[-1])

    # ── slash commands ─────────────────────────────────────────────────────────────────────

    def run_command(self, name: str, argument: str) -> None:
        match name:
            case "model":
                self._command_model(argument)
            case "boxes":
                on = not self.options.boxes
                self._set_tool_options(f"Boxes {'on' if on else 'off'}.", boxes=on)
            case "collection":
                self._set_tool_options(
                    f"Collection: {argument}." if argument else "No collection.",
                    collection=argument or None,
                    retrieval=bool(argument),
                )
            case "sag":
                self._command_sag(argument)
            case "clear":
                self._command_clear()
            case "save":
                self._command_save(argument)
            case "help":
                self.action_help()
            case _:
                self.notify(f"Unknown command /{name}; /help lists them.", severity="warning")

    def _command_model(self, name: str) -> None:
        if not name:
            self.notify("Usage: /model NAME (a registry name or a .gguf path).", severity="warning")
        elif self.active is not None:
            self.notify("Stop the current answer (Esc) before changing the model.", severity="warning")
        else:
            self._set_options(model=name)
            self.load_model(name)

    def _command_sag(self, argument: str) -> None:
        if not argument.isdigit() or not 1 <= int(argument) <= MAX_CANDIDATES:
            self.notify(
                f"Usage: /sag N, with 1 ≤ N ≤ {MAX_CANDIDATES} candidates per step (1 turns it off).", severity="warning"
            )
            return
        self._set_options(sag=int(argument))
        if self.options.sag > 1:
            self.notify(f"SAG: {self.options.sag} candidates per step, voted on by what their code prints.", timeout=4)
        else:
            self.notify("SAG off.", timeout=3)

    def _command_clear(self) -> None:
        if self.active is None:
            self.open_session(self.store.create(self.options))
            self.notify("New conversation.", timeout=2)
        else:
            self.notify("Stop the current answer (Esc) before clearing.", severity="warning")

    def _command_save(self, title: str) -> None:
        if title:
            self.session_log.record(TitleSet(title=title))
            self.sub_title = title
            self.refresh_panel()
        if self.session_log.path.exists():
            self.notify(f"Saved as {self.session_log.path}", timeout=6)
        else:
            self.notify("Nothing to save yet: ask something first.", severity="warning")

    def _set_options(self, **changes: object) -> None:
        options = self.options.model_copy(update=changes)
        self.session_log.record(OptionsSet(options=options))
        self.refresh_panel()

    def _set_tool_options(self, done: str, **changes: object) -> None:
        """Tools change the prompt and the sandbox's tool stubs: the next question starts a fresh sandbox."""
        if self.active is not None:
            self.notify("Stop the current answer (Esc) before changing its tools.", severity="warning")
            return
        self._prepare(self.options.model_copy(update=changes), done)

    def palette_command(self, command: SlashCommand) -> None:
        """A palette entry: commands that take an argument wait in the input for it; others run now."""
        if command.takes_argument:
            self.query_one(PromptInput).prefill(f"/{command.name} ")
        else:
            self.run_command(command.name, "")

    def action_help(self) -> None:
        self.app.push_screen(HelpScreen(SLASH_COMMANDS))

    def refresh_panel(self) -> None:
        self.query_one(SidePanel).show(
            PanelState(
                model=self.model_info,
                model_status=self.model_status,
                context_used=self.context_used,
                options=self.options,
                tool_names=self.tool_names,
                tools_note=self.tools_note,
                session=self.session_log.session.title or self.session_log.session.id,
            )
        )
