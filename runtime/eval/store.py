"""The run folder: `config.json` (what was run), `records.jsonl` (one line per finished question,
appended and fsynced as each finishes, so a crash loses at most the questions in progress) and
`summary.json` (rewritten at the end). The folder is locked while a run writes it."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from pydantic import ValidationError

from runtime.atomic import write_atomic
from runtime.errors import RuntimeUserError
from runtime.eval.records import QuestionRecord, RunConfig, Summary, summarize
from runtime.jsonl import append_jsonl, cut_torn_tail, read_jsonl, write_jsonl


class RunFolderError(RuntimeUserError):
    """The output folder holds another run, or another process is writing it."""


class RunStore:
    """The run folder. Holds an exclusive lock while open so two runs never interleave lines."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.config_file = folder / "config.json"
        self.records_file = folder / "records.jsonl"
        self.summary_file = folder / "summary.json"
        self._lock: int | None = None

    def __enter__(self) -> RunStore:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock = os.open(self.folder / ".lock", os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            raise RunFolderError(f"{self.folder} is being written by another eval run") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._lock is not None:
            os.close(self._lock)

    def check_config(self, config: RunConfig) -> None:
        """Write the config of a new run; refuse to mix a different run into an existing folder."""
        if self.config_file.is_file():
            existing = read_config(self.folder)
            if existing != config:
                diff = {k: (v, getattr(config, k)) for k, v in existing if v != getattr(config, k)}
                raise RunFolderError(f"{self.folder} holds a different run {diff}; choose another --out")
            return
        write_atomic(self.config_file, config.model_dump_json(indent=2) + "\n")

    def load(self) -> list[QuestionRecord]:
        """Records finished so far; a torn last line (a crash while writing) is cut off the file."""
        cut_torn_tail(self.records_file)
        return read_records(self.records_file)

    def append(self, record: QuestionRecord) -> None:
        append_jsonl(self.records_file, record)

    def write_summary(self, summary: Summary) -> None:
        write_atomic(self.summary_file, summary.model_dump_json(indent=2) + "\n")

    def replace(self, records: list[QuestionRecord]) -> None:
        """All records at once, atomically: a crash leaves the old file or the new one."""
        write_jsonl(self.records_file, records)


def read_records(file: Path) -> list[QuestionRecord]:
    """Complete lines only: a torn last line is an unfinished question, not an error."""
    return read_jsonl(file, QuestionRecord)


def read_config(folder: Path) -> RunConfig:
    file = folder / "config.json"
    try:
        return RunConfig.model_validate_json(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RunFolderError(f"{folder} is not an eval run folder (no config.json)") from None
    except ValidationError as exc:
        raise RunFolderError(f"{file} is not a run config: {exc}") from None


def folder_summary(folder: Path, records: list[QuestionRecord]) -> Summary:
    """The summary of a folder's records, with the limit and sample size its summary.json recorded
    (a run killed before writing one counts what it finished)."""
    saved = folder / "summary.json"
    if saved.is_file():
        previous = Summary.model_validate_json(saved.read_text(encoding="utf-8"))
        limit, planned = previous.limit, previous.planned
    else:
        limit, planned = None, len(records)
    return summarize(read_config(folder), limit, max(planned, len(records)), records)
