"""Chat sessions as append-only JSONL files under RUNTIME_HOME/sessions.

Each user action or finished step is one line, written and fsynced as it happens, so a crash or
kill loses at most the message in progress. Loading folds the lines back into a `Session`; a torn
last line (the write a crash interrupted) is dropped, any other bad line is an error.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError

from runtime.agent.events import Status, StepRecord
from runtime.config import MAX_CANDIDATES, Settings
from runtime.errors import RuntimeUserError
from runtime.jsonl import append_jsonl

FORMAT_VERSION = 1


class SessionError(RuntimeUserError):
    """A session file is missing or unreadable."""


class ChatOptions(BaseModel):
    """What the user chose with slash commands; saved so a resumed session continues the same way."""

    model: str | None = Field(default=None, description="Registry name or GGUF path; None = the default model.")
    boxes: bool = Field(default=True, description="Offer every shipped and installed box's tools to the agent.")
    box_names: list[str] = Field(default=[], description="With boxes on, only these (`chat --box`); empty = all.")
    collection: str | None = Field(
        default=None, description="Retrieval collection the agent may search; None = the only one, if just one."
    )
    retrieval: bool = Field(default=True, description="Offer `retrieve` at all (as solve's --no-retrieval).")
    sag: int = Field(default=1, ge=1, le=MAX_CANDIDATES, description="Candidate actions per step; 1 = self-consistency off.")


class SessionStarted(BaseModel):
    kind: Literal["started"] = "started"
    id: str
    created: datetime
    format: int = FORMAT_VERSION


class OptionsSet(BaseModel):
    kind: Literal["options"] = "options"
    options: ChatOptions


class TitleSet(BaseModel):
    kind: Literal["title"] = "title"
    title: str


class Asked(BaseModel):
    kind: Literal["asked"] = "asked"
    question: str
    at: datetime


class StepSaved(BaseModel):
    kind: Literal["step"] = "step"
    record: StepRecord


class TurnEnded(BaseModel):
    kind: Literal["turn_ended"] = "turn_ended"
    status: Status
    answer: Any = None
    error: str | None = None
    wall_s: float = 0.0


Record = Annotated[SessionStarted | OptionsSet | TitleSet | Asked | StepSaved | TurnEnded, Field(discriminator="kind")]
_RECORD = TypeAdapter(Record)


class Turn(BaseModel):
    """One question and what the agent did about it. `status` None: unfinished (running or cut off)."""

    question: str
    steps: list[StepRecord] = []
    status: Status | None = None
    answer: Any = None
    error: str | None = None
    wall_s: float = 0.0


class Session(BaseModel):
    """A conversation's state, exactly what its file says."""

    id: str
    created: datetime
    title: str = ""
    options: ChatOptions = ChatOptions()
    turns: list[Turn] = []

    def apply(self, record: Record) -> None:
        """Fold one saved line into the state (the same code runs live and on load)."""
        match record:
            case OptionsSet(options=options):
                self.options = options
            case TitleSet(title=title):
                self.title = title
            case Asked(question=question):
                self.turns.append(Turn(question=question))
            case StepSaved(record=step) if self.turns:
                self.turns[-1].steps.append(step)
            case TurnEnded() if self.turns:
                self.turns[-1] = self.turns[-1].model_copy(update=record.model_dump(exclude={"kind"}))

    @property
    def label(self) -> str:
        """What a picker shows: the title, or else the first question."""
        text = self.title or (self.turns[0].question if self.turns else "(empty)")
        return " ".join(text.split())


_ID = re.compile(r"[\w.-]+")
"""What a session id may contain, so an id given on the command line cannot name a path."""


def new_session_id() -> str:
    return f"{datetime.now():%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


class SessionLog:
    """A session and its file: every `record` is applied to the state and appended to disk.

    The file is created on the first record, so sessions where nothing was said leave nothing.
    """

    def __init__(self, path: Path, session: Session) -> None:
        self.path = path
        self.session = session

    def record(self, record: Record) -> None:
        header = [] if self.path.exists() else self._header()
        append_jsonl(self.path, *header, record)
        self.session.apply(record)

    def _header(self) -> list[Record]:
        return [SessionStarted(id=self.session.id, created=self.session.created), OptionsSet(options=self.session.options)]


class SessionStore:
    """The sessions folder: create, list (newest first) and load sessions by id."""

    def __init__(self, settings: Settings) -> None:
        self.root = settings.home / "sessions"

    def path(self, session_id: str) -> Path:
        return self.root / f"{session_id}.jsonl"

    def create(self, options: ChatOptions) -> SessionLog:
        session_id = new_session_id()
        session = Session(id=session_id, created=datetime.now(), options=options)
        return SessionLog(self.path(session_id), session)

    def ids(self) -> list[str]:
        """Session ids, most recently written first."""
        if not self.root.is_dir():
            return []
        files = sorted(self.root.glob("*.jsonl"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        return [f.stem for f in files]

    def sessions(self) -> list[Session]:
        """Every readable session, most recently written first (for the picker)."""
        found = []
        for session_id in self.ids():
            try:
                found.append(load_session(self.path(session_id)))
            except SessionError:
                continue  # one damaged file must not hide the others
        return found

    def open(self, session_id: str) -> SessionLog:
        """Load a session to continue it; new records go to the end of the same file."""
        path = self.path(session_id)
        if not _ID.fullmatch(session_id) or not path.is_file():
            raise SessionError(f"no saved session {session_id!r} in {self.root}")
        return SessionLog(path, load_session(path))


def load_session(path: Path) -> Session:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SessionError(f"cannot read session {path}: {exc}") from exc
    records: list[Record] = []
    for number, line in enumerate(lines, start=1):
        try:
            records.append(_RECORD.validate_json(line))
        except ValidationError as exc:
            if number == len(lines):
                break  # torn last line: the write a crash interrupted
            raise SessionError(f"{path}:{number}: not a session record ({_first_error(exc)})") from exc
    if not records or not isinstance(records[0], SessionStarted):
        raise SessionError(f"{path}: not a session file (no 'started' line)")
    session = Session(id=records[0].id, created=records[0].created)
    for record in records[1:]:
        session.apply(record)
    return session


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}" if where else error["msg"]
