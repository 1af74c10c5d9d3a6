"""Run a suite through a mode into a resumable run folder: the orchestration of the eval parts.

The sample is the suite's seeded shuffle cut to --limit; questions already in the folder's records
are skipped, so rerunning resumes. The questions run here, in local workers (workers.py) or on
Ray (cluster.py); each record is appended as it arrives and the summary is written at the end,
also after a crash or Ctrl-C.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Generator
from pathlib import Path

from pydantic import BaseModel, Field

from runtime.config import Settings
from runtime.eval.cluster import ray_records
from runtime.eval.records import Mode, QuestionRecord, RunConfig, RunProgress, Summary, code_version, summarize
from runtime.eval.solvers import ModelLoader, check_mode, oracle_item
from runtime.eval.store import RunStore
from runtime.eval.suites import Corpus, Suite, SuiteItem
from runtime.eval.workers import in_process, in_workers, worker_settings
from runtime.model.store import Progress as ByteProgress

ChunkProgress = Callable[[int, int], None]
"""(chunks done, chunks total) while a suite's collection is built."""


class EvalRequest(BaseModel):
    """Everything one `runtime eval` invocation asks for."""

    config: RunConfig
    limit: int | None
    workers: int = Field(default=1, description="Local processes, or Ray actors with `ray`.")
    out: Path
    ray: str | None = Field(default=None, description="Ray address ('auto' or host:port); None runs locally.")


def _records(
    request: EvalRequest, loader: ModelLoader, settings: Settings, todo: list[SuiteItem]
) -> Generator[QuestionRecord, None, None]:
    """Where the questions run: Ray actors, this process, or spawned local workers."""
    if request.ray:
        return ray_records(request.config, loader, settings, todo, request.workers, request.ray)
    local = worker_settings(settings, request.workers)
    if request.workers == 1:
        return in_process(request.config, loader, local, todo)
    return in_workers(request.config, loader, local, todo, request.workers)


def suite_collection(suite: Suite, mode: Mode) -> str | None:
    """The collection agent+retrieval searches: the suite's own corpus, or None for the wiki."""
    return suite.corpus.collection if mode == "agent+retrieval" and suite.corpus else None


def build_corpus(settings: Settings, corpus: Corpus, progress: ChunkProgress) -> None:
    """The suite's collection, through `runtime index add`'s ingest: a finished build is skipped by its
    marker, an interrupted one resumes. Built here in the parent, so workers never race to write it."""
    from runtime.retrieval.ingest import Document, Source, ingest
    from runtime.retrieval.store import Store

    source = Source(
        key=corpus.key,
        fingerprint=corpus.fingerprint,
        documents=[Document(**d.model_dump()) for d in corpus.documents],
    )
    ingest(Store(settings).open(corpus.collection, create=True), [source], progress=progress)


def run_eval(
    request: EvalRequest,
    suite: Suite,
    loader: ModelLoader,
    settings: Settings,
    on_record: Callable[[QuestionRecord, RunProgress], None] = lambda _r, _p: None,
    on_start: Callable[[RunProgress], None] = lambda _p: None,
    on_bytes: ByteProgress = lambda *_: None,
    on_chunks: ChunkProgress = lambda _d, _t: None,
) -> Summary:
    """Run the sample's unfinished questions, appending each record as it arrives; returns the summary."""
    check_mode(request.config.mode, request.config.sag, request.config.first_thought, request.config.boxes)
    sample = suite.sample(request.limit, request.config.seed)
    if request.config.mode == "cot+oracle":
        sample = [oracle_item(item) for item in sample]
    with RunStore(request.out) as store:
        store.check_config(request.config)
        planned = {item.id for item in sample}
        records = [r for r in store.load() if r.id in planned]
        done = {r.id for r in records}
        todo = [item for item in sample if item.id not in done]
        progress = RunProgress(done=len(records), total=len(sample), correct=sum(r.correct for r in records))
        on_start(progress)
        try:
            if todo:
                if suite.corpus and request.config.collection == suite.corpus.collection:
                    build_corpus(settings, suite.corpus, on_chunks)
                loader.prepare(settings, on_bytes)
                answered_by = code_version()
                stream = _records(request, loader, settings, todo)
                with contextlib.closing(stream):
                    for record in stream:
                        record.code_version = answered_by
                        store.append(record)
                        records.append(record)
                        progress = RunProgress(
                            done=progress.done + 1, total=progress.total, correct=progress.correct + record.correct
                        )
                        on_record(record, progress)
        finally:
            summary = summarize(request.config, request.limit, len(sample), records)
            store.write_summary(summary)
    return summary
