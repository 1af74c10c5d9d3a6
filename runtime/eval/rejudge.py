"""Judge a finished run again with this version's checkers, without the model."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from runtime.eval.cot import reread
from runtime.eval.records import COT_MODES, QuestionRecord, RunConfig, Summary, code_version, make_record
from runtime.eval.store import RunStore, folder_summary, read_config
from runtime.eval.suites import SuiteItem


class Rejudged(BaseModel):
    """What `rejudge` changed in one run folder."""

    folder: Path
    correct_before: int
    reread: int = Field(description="CoT answers read differently from their stored replies.")
    changed: int = Field(description="Verdicts that changed.")
    summary: Summary


def _rejudged_record(config: RunConfig, record: QuestionRecord, judged_by: str) -> QuestionRecord:
    trace = reread(record.trace, config.checker == "yesno") if config.mode in COT_MODES else record.trace
    item = SuiteItem(id=record.id, question=record.question, gold=record.gold)
    fresh = make_record(item, config.checker, trace, record.wall_s)
    return fresh.model_copy(update={"code_version": record.code_version, "judged_by": judged_by})


def rejudge(folder: Path) -> Rejudged:
    """Judge a run's stored answers again with this version's checkers (and, for CoT, its answer reading),
    without the model: a checker fix re-scores old runs in seconds instead of hours. Each record keeps
    the code that answered it and names the one that judged it."""
    config = read_config(folder)
    with RunStore(folder) as store:
        old = store.load()
        before = folder_summary(folder, old)
        judged_by = code_version()
        records = [_rejudged_record(config, record, judged_by) for record in old]
        store.replace(records)
        summary = folder_summary(folder, records)
        store.write_summary(summary)
    return Rejudged(
        folder=folder,
        correct_before=before.correct,
        reread=sum(a.answer != b.answer for a, b in zip(old, records, strict=True)),
        changed=sum(a.correct != b.correct for a, b in zip(old, records, strict=True)),
        summary=summary,
    )
