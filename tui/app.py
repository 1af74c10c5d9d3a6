"""`runtime chat`: a textual app to talk to the local student agent, offline, and watch it work."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from textual.app import App, SystemCommand
from textual.screen import Screen

from runtime.config import Settings
from runtime.tui.commands import SLASH_COMMANDS
from runtime.tui.models import ModelFactory, llama_factory
from runtime.tui.screens.chat import ChatScreen
from runtime.tui.screens.picker import SessionPicker
from runtime.tui.sessions import ChatOptions, OptionsSet, SessionError, SessionLog, SessionStore


class ChatApp(App[None]):
    """Opens one chat screen on a new, resumed or picked session.

    `model_factory` is injectable so tests drive the app with a scripted model.
    """

    CSS_PATH = "app.tcss"
    TITLE = "runtime chat"

    def __init__(
        self,
        settings: Settings,
        model_factory: ModelFactory | None = None,
        *,
        model: str | None = None,
        resume: str | None = None,
        pick: bool = False,
        tools: dict[str, object] | None = None,
    ) -> None:
        """`tools`: the ChatOptions fields `chat --box/--no-boxes/--collection/--no-retrieval` set."""
        super().__init__()
        self.settings = settings
        self.model_factory = model_factory or llama_factory(settings)
        self.store = SessionStore(settings)
        self.model_name = model
        self.resume = resume
        self.pick = pick
        self.tools = tools or {}

    def on_mount(self) -> None:
        sessions = self.store.sessions() if self.pick else []
        if sessions:
            self.push_screen(SessionPicker(sessions), callback=self.start)
        else:
            self.start(self.resume)
            if self.pick:
                self.notify("No saved sessions yet; this is a new one.")

    def start(self, session_id: str | None) -> None:
        """Open the chat on a session; options given on the command line override a resumed one's."""
        log = self._open(session_id) if session_id else None
        chosen = {**self.tools, **({"model": self.model_name} if self.model_name else {})}
        if log is None:
            log = self.store.create(ChatOptions(**chosen))
        elif chosen and log.session.options.model_copy(update=chosen) != log.session.options:
            log.record(OptionsSet(options=log.session.options.model_copy(update=chosen)))
        self.push_screen(ChatScreen(self.settings, self.model_factory, self.store, log))

    def _open(self, session_id: str) -> SessionLog | None:
        try:
            return self.store.open(session_id)
        except SessionError as exc:
            self.notify(str(exc), title="Could not resume", severity="error", timeout=10)
            return None

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if isinstance(screen, ChatScreen):
            for command in SLASH_COMMANDS:
                title = command.usage.replace("[", r"\[")  # the palette reads markup: keep "[NAME]" literal
                yield SystemCommand(title, command.help, partial(screen.palette_command, command))
            yield SystemCommand(
                "Resume a saved session", "Pick an earlier conversation", partial(self.pick_session, screen)
            )

    def pick_session(self, screen: ChatScreen) -> None:
        def chosen(session_id: str | None) -> None:
            log = self._open(session_id) if session_id else None
            if log is not None:
                screen.open_session(log)

        self.push_screen(SessionPicker(self.store.sessions()), callback=chosen)
