"""Resumable JSONL files: one pydantic record a line, appended durably as work finishes.

A long run (an eval, a teacher's trajectories, a distillation stage) appends each finished item
and fsyncs it, so a crash loses at most the item being written. That item's line may be torn (no
final newline): readers drop it, and the item is simply done again on the next run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from runtime.atomic import atomic_file
from runtime.errors import RuntimeUserError

T = TypeVar("T", bound=BaseModel)


class RecordError(RuntimeUserError):
    """A complete line of a JSONL file is not the record it should be (edited by hand, or another file)."""


def complete_lines(file: Path) -> list[bytes]:
    """The file's lines up to its last newline (a torn last line is left out); none if it is absent."""
    if not file.is_file():
        return []
    data = file.read_bytes()
    return data[: data.rfind(b"\n") + 1].splitlines()


def read_jsonl(file: Path, model: type[T]) -> list[T]:
    """Every complete record, in order; blank lines are skipped, a torn last line is dropped."""
    records = []
    for number, line in enumerate(complete_lines(file), start=1):
        if not line.strip():
            continue
        try:
            records.append(model.model_validate_json(line))
        except ValidationError as exc:
            raise RecordError(f"{file}:{number} is not a {model.__name__} record: {exc.errors()[0]['msg']}") from None
    return records


def append_jsonl(file: Path, *records: BaseModel) -> None:
    """Add records durably: work interrupted halfway keeps what it already paid for."""
    file.parent.mkdir(parents=True, exist_ok=True)
    with file.open("a", encoding="utf-8") as handle:
        handle.write("".join(record.model_dump_json() + "\n" for record in records))
        handle.flush()
        os.fsync(handle.fileno())


def write_jsonl(file: Path, records: Iterable[BaseModel]) -> None:
    """Replace the file atomically, so a reader never sees half of it."""
    with atomic_file(file) as handle:
        for record in records:
            handle.write((record.model_dump_json() + "\n").encode("utf-8"))


def cut_torn_tail(file: Path) -> None:
    """Cut a torn last line off the file, so the next append starts on a line of its own."""
    if file.is_file():
        size = file.read_bytes().rfind(b"\n") + 1
        with file.open("r+b") as handle:
            handle.truncate(size)
