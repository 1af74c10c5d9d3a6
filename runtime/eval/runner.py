"""Run a suite through a mode and keep every question's record in a resumable JSONL.

One folder per run: `config.json` (what was run), `records.jsonl` (one line per finished
question, appended and fsynced as each finishes, so a crash loses at most the questions in
progress) and `summary.json` (rewritten at the end). Rerunning with the same folder skips the
questions already recorded. With several workers, each is a spawned process that loads the model
once; only the parent writes the folder.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import multiprocessing
import os
import queue
import re
import subprocess
import time
import traceback
from collections import Counter
from collections.abc import Callable, Generator
from importlib.metadata import PackageNotFoundError, version
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, ValidationError

from runtime import kit as agent_kit
from runtime.agent import events as ev
from runtime.agent.events import RunTrace
from runtime.atomic import write_atomic
from runtime.config import Settings
from runtime.errors import RuntimeUserError
from runtime.eval.checkers import Verdict, check
from runtime.eval.cot import COT_INSTRUCTION, LABEL_INSTRUCTION, CotSolver, reread
from runtime.eval.suites import CheckerName, Corpus, DataSource, Suite, SuiteItem
from runtime.jsonl import append_jsonl, cut_torn_tail, read_jsonl, write_jsonl
from runtime.model.base import Model, Sampling
from runtime.model.openai_compat import is_url
from runtime.model.store import Progress as ByteProgress
from runtime.model.store import resolve

Mode = Literal["cot", "cot+oracle", "agent", "agent+box", "agent+box+sag", "agent+retrieval"]
MODES: tuple[Mode, ...] = ("cot", "cot+oracle", "agent", "agent+box", "agent+box+sag", "agent+retrieval")
COT_MODES: tuple[Mode, ...] = ("cot", "cot+oracle")
"""One generation, no tools; cot+oracle puts the gold passage before the question (the upper bound
of what retrieval can give)."""
ChunkProgress = Callable[[int, int], None]
"""(chunks done, chunks total) while a suite's collection is built."""
Outcome = Literal["correct", "wrong_answer", "parse", "sandbox", "step_limit", "error"]
FAILURES: tuple[Outcome, ...] = ("parse", "sandbox", "step_limit", "wrong_answer", "error")
_Z95 = 1.959963984540054


class ModeNotAvailable(RuntimeUserError):
    """The mode needs a part of the runtime that this tree does not have yet."""


class RunFolderError(RuntimeUserError):
    """The output folder holds another run, or another process is writing it."""


class EvalWorkerFailed(RuntimeUserError):
    """A worker process could not load the model or crashed; finished questions are kept."""


class RunConfig(BaseModel):
    """What was run. A folder is resumed only with an equal config (the limit may grow)."""

    suite: str
    split: str
    sources: list[DataSource]
    checker: CheckerName
    mode: Mode
    model: str
    seed: int
    sag: int | None = None
    sag_temperature: float | None = Field(default=None, description="Candidates' temperature, recorded when sag is on.")
    first_thought: bool = False
    temperature: float
    max_steps: int
    grammar: bool = Field(default=True, description="Agent steps constrained to the Thought + code format.")
    compute_first: bool = Field(
        default=False, description="A bare final_answer(literal) refused until a step has run (absent in older runs: off)."
    )
    guided_call: bool = Field(
        default=False, description="The first step's code opened with a call of the tool that fits (absent: off)."
    )
    boxes: list[str] | None = Field(
        default=None, description="Box modes: only these boxes (e.g. a distilled one); None = every box."
    )
    collection: str | None = Field(
        default=None, description="agent+retrieval: the collection searched; None: 'wiki' (filled by `runtime index add-wiki`)."
    )

    def folder_name(self) -> str:
        model = re.sub(r"[^A-Za-z0-9._-]", "_", Path(self.model).stem if self.model.endswith(".gguf") else self.model)
        extras = (
            (f"-sag{self.sag}" if self.sag else "")
            + (f"-t{self.sag_temperature:g}" if self.sag and self.sag_temperature is not None else "")
            + ("-ft" if self.first_thought else "")
            + ("" if self.grammar else "-nogrammar")
            + ("-computefirst" if self.compute_first else "")
            + ("-guided" if self.guided_call else "")
            + "".join(f"-box-{name}" for name in self.boxes or [])
        )
        return f"{self.suite}-{self.mode}-{model}{extras}-seed{self.seed}"


class QuestionRecord(BaseModel):
    """One finished question: what was asked, answered, judged, and the whole trace."""

    id: str
    question: str
    gold: Any
    answer: Any = None
    correct: bool
    outcome: Outcome
    verdict: Verdict
    steps: int
    prompt_tokens: int = Field(description="Prompt tokens processed (not served from the KV cache).")
    completion_tokens: int
    wall_s: float
    trace: RunTrace
    code_version: str | None = Field(default=None, description="The runtime that answered it (see code_version).")
    judged_by: str | None = Field(
        default=None, description="The runtime that judged it when `rejudge` did, later; None: the one that answered."
    )


def code_version() -> str:
    """The runtime that answers: its version, plus the git commit when it runs from a checkout
    (`+dirty` with uncommitted changes to the code), so a run extended later shows whether all its
    questions were answered by the same code."""
    try:
        release = version("runtime")
    except PackageNotFoundError:
        release = "unknown"
    root = Path(__file__).resolve().parents[2]
    git = ["git", "-C", str(root)]
    try:
        found = subprocess.run(
            [*git, "rev-parse", "--show-toplevel", "--short", "HEAD"], capture_output=True, text=True, timeout=10, check=True
        )
        top, commit = found.stdout.split()
        if Path(top).resolve() != root:  # an install inside some other repository (a venv in a project)
            return release
        changed = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no", "--", "runtime", "boxes"],
            capture_output=True, text=True, timeout=10, check=True,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return release
    return f"{release} (git {commit}{'+dirty' if changed.stdout.strip() else ''})"


class Summary(BaseModel):
    config: RunConfig
    limit: int | None
    planned: int = Field(description="Questions in the sample (the suite cut to --limit after a seeded shuffle).")
    n: int = Field(description="Questions finished.")
    correct: int
    accuracy: float
    ci95: tuple[float, float] = Field(description="Wilson score interval.")
    mean_steps: float
    mean_prompt_tokens: float
    mean_completion_tokens: float
    wall_s_per_question: float
    failures: dict[Outcome, int]
    step_errors: dict[str, int] = Field(description="Steps by error kind, over all questions.")
    code_versions: dict[str, int] = Field(
        default_factory=dict, description="Questions by the runtime version that answered them (see code_version)."
    )


class RunProgress(BaseModel):
    done: int
    total: int
    correct: int


class Solver(Protocol):
    def solve(self, question: str) -> RunTrace: ...


class ModelLoader(Protocol):
    """Picklable: spawned workers call it to load their own copy of the model."""

    name: str

    def prepare(self, settings: Settings, progress: ByteProgress) -> None: ...

    def __call__(self, settings: Settings) -> Model: ...


class LlamaLoader(BaseModel):
    """Loads a registry model, GGUF path or server URL as every front end does (runtime.kit)."""

    name: str

    def prepare(self, settings: Settings, progress: ByteProgress) -> None:
        """Assemble and verify once in the parent, so workers never race to write the GGUF."""
        if not is_url(self.name):
            resolve(settings, self.name, progress)

    def __call__(self, settings: Settings) -> Model:
        return agent_kit.load_model(settings, self.name, lambda *_: None, on_loading=lambda _m: None)


def wilson(correct: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval: sensible at 0%, 100% and small n, unlike the normal approximation.

    Clamped to contain p, as it does exactly: float error would otherwise put the bound at 0/n a
    hair above 0, and a chart's error bar below the bar would be negative.
    """
    if n == 0:
        return (0.0, 1.0)
    p, z2 = correct / n, _Z95**2
    center = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = _Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return (min(p, max(0.0, center - half)), max(p, min(1.0, center + half)))


def outcome_of(trace: RunTrace, verdict: Verdict) -> Outcome:
    """Why a question was lost: judged by the answer, else by how the last step ended."""
    if trace.status == "answered":
        return "correct" if verdict.correct else "wrong_answer"
    last = trace.steps[-1].error_kind if trace.steps else None
    if last == "parse":
        return "parse"
    if trace.status != "step_limit":
        return "error"
    return "sandbox" if last else "step_limit"


def make_record(item: SuiteItem, checker: CheckerName, trace: RunTrace, wall_s: float) -> QuestionRecord:
    if trace.status == "answered":
        verdict = check(checker, item.gold, trace.answer)
    else:
        verdict = Verdict(correct=False, reason=f"no answer ({trace.status.replace('_', ' ')})")
    return QuestionRecord(
        id=item.id,
        question=item.question,
        gold=item.gold,
        answer=trace.answer,
        correct=verdict.correct,
        outcome=outcome_of(trace, verdict),
        verdict=verdict,
        steps=len(trace.steps),
        prompt_tokens=sum(s.timings.prompt_tokens - s.timings.cached_tokens for s in trace.steps),
        completion_tokens=sum(s.timings.completion_tokens for s in trace.steps),
        wall_s=wall_s,
        trace=trace,
    )


def summarize(config: RunConfig, limit: int | None, planned: int, records: list[QuestionRecord]) -> Summary:
    n = len(records)
    correct = sum(r.correct for r in records)
    outcomes = Counter(r.outcome for r in records)
    step_errors = Counter(s.error_kind for r in records for s in r.trace.steps if s.error_kind)

    def mean(values: list[float]) -> float:
        return sum(values) / len(values) if values else 0.0

    return Summary(
        config=config,
        limit=limit,
        planned=planned,
        n=n,
        correct=correct,
        accuracy=correct / n if n else 0.0,
        ci95=wilson(correct, n),
        mean_steps=mean([r.steps for r in records]),
        mean_prompt_tokens=mean([r.prompt_tokens for r in records]),
        mean_completion_tokens=mean([r.completion_tokens for r in records]),
        wall_s_per_question=mean([r.wall_s for r in records]),
        failures={kind: outcomes.get(kind, 0) for kind in FAILURES},
        step_errors=dict(sorted(step_errors.items())),
        code_versions=dict(Counter(r.code_version or "not recorded" for r in records)),
    )


# ---------------------------------------------------------------- the run folder


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


# ---------------------------------------------------------------- solving


class AgentSolver:
    """The CodeAct agent with a fresh sandbox per question, so no variable leaks between questions."""

    def __init__(self, kit: agent_kit.AgentKit) -> None:
        self.kit = kit

    def solve(self, question: str) -> RunTrace:
        started = time.perf_counter()
        steps: list[ev.StepRecord] = []
        try:
            for event in self.kit.run(question):
                if isinstance(event, ev.StepFinished):
                    steps.append(event.record)
                elif isinstance(event, ev.RunFinished):
                    return event.trace
        except RuntimeUserError as exc:  # e.g. the context filled up: the question fails, the run goes on
            return RunTrace(
                question=question,
                model=self.kit.model.name,
                status="error",
                steps=steps,
                wall_s=time.perf_counter() - started,
                error=str(exc),
            )
        raise AssertionError("the agent ended without RunFinished")


DEFAULT_SAG = 5
"""Candidates per step in mode agent+box+sag when neither --sag nor RUNTIME_SAG says (docs/results.md)."""


def resolve_sag(mode: Mode, sag: int | None, configured: int) -> int | None:
    """The N a run records: --sag, else for agent+box+sag the configured N (if on) or DEFAULT_SAG."""
    if sag is not None or mode != "agent+box+sag":
        return sag
    return configured if configured > 1 else DEFAULT_SAG


def check_mode(mode: Mode, sag: int | None, first_thought: bool, boxes: list[str] | None = None) -> None:
    """Fail before any model loads when a mode and its flags do not fit together or a part is missing."""
    if mode in COT_MODES and (first_thought or sag):
        raise ModeNotAvailable("--first-thought and --sag apply to agent modes only")
    if boxes and mode not in ("agent+box", "agent+box+sag"):
        raise ModeNotAvailable("--box applies to the box modes only (agent+box, agent+box+sag)")
    if mode == "agent+box+sag" and (sag or 1) < 2:
        raise ModeNotAvailable("mode agent+box+sag votes between candidates: give --sag 2 or more")
    needs = {"agent+box": "runtime.boxes", "agent+box+sag": "runtime.boxes", "agent+retrieval": "runtime.retrieval"}
    if (module := needs.get(mode)) and find_spec(module) is None:
        raise ModeNotAvailable(f"mode {mode} is not available yet: {module} is missing")


def mode_tools(
    mode: Mode, settings: Settings, boxes: list[str] | None = None, collection: str | None = None
) -> agent_kit.KitTools:
    """The tools as `runtime solve` opens them, limited to what the mode measures."""
    if mode in ("agent+box", "agent+box+sag"):
        return agent_kit.open_tools(settings, agent_kit.ToolChoice(boxes=boxes, retrieval=False))
    if mode == "agent+retrieval":
        from runtime.retrieval.errors import CollectionNotFound
        from runtime.retrieval.wiki import WIKI_COLLECTION

        try:
            return agent_kit.open_tools(
                settings, agent_kit.ToolChoice(boxes=[], collection=collection or WIKI_COLLECTION)
            )
        except CollectionNotFound:
            if collection:
                raise
            raise ModeNotAvailable(
                "mode agent+retrieval searches the wiki index: run `runtime index add-wiki` first"
            ) from None
    return agent_kit.open_tools(settings, agent_kit.ToolChoice(boxes=[], retrieval=False))


def open_solver(config: RunConfig, loader: ModelLoader, settings: Settings) -> Solver:
    """Tools first, so a missing box or index fails before the slow model load."""
    if config.mode in COT_MODES:
        sampling = Sampling(
            max_tokens=settings.max_tokens_per_step,
            temperature=config.temperature,
            top_p=settings.top_p,
            seed=config.seed,
        )
        instruction = LABEL_INSTRUCTION if config.checker == "yesno" else COT_INSTRUCTION
        return CotSolver(loader(settings), sampling, instruction)
    tools = mode_tools(config.mode, settings, config.boxes, config.collection)
    agent_options = agent_kit.agent_options(
        settings,
        seed=config.seed,
        temperature=config.temperature,
        max_steps=config.max_steps,
        grammar=config.grammar,
        sag=config.sag or 1,
        sag_temperature=config.sag_temperature,
        first_thought=config.first_thought,
        compute_first=config.compute_first,
        guided_call=config.guided_call,
    )
    return AgentSolver(agent_kit.AgentKit(settings, loader(settings), tools, agent_options))


def solve_item(solver: Solver, checker: CheckerName, item: SuiteItem) -> QuestionRecord:
    started = time.perf_counter()
    trace = solver.solve(item.question)
    return make_record(item, checker, trace, time.perf_counter() - started)


def worker_settings(settings: Settings, workers: int) -> Settings:
    """Split the cores between workers: llama.cpp slows down badly when threads oversubscribe."""
    threads = max(1, (os.cpu_count() or 1) // workers)
    return settings.model_copy(update={"threads": min(settings.threads, threads)})


class WorkerFailure(BaseModel):
    message: str


def _worker(config: RunConfig, loader: ModelLoader, settings: Settings, tasks: Any, results: Any) -> None:
    """A spawned worker: load the model once, then solve questions until the None sentinel."""
    try:
        solver = open_solver(config, loader, settings)
        while (item := tasks.get()) is not None:
            results.put(solve_item(solver, config.checker, item))
    except BaseException as exc:  # the parent must hear why, or it waits for records that never come
        detail = str(exc) if isinstance(exc, RuntimeUserError) else traceback.format_exc()
        results.put(WorkerFailure(message=detail))


def _in_process(
    config: RunConfig, loader: ModelLoader, settings: Settings, todo: list[SuiteItem]
) -> Generator[QuestionRecord, None, None]:
    solver = open_solver(config, loader, settings)
    for item in todo:
        yield solve_item(solver, config.checker, item)


def _in_workers(
    config: RunConfig, loader: ModelLoader, settings: Settings, todo: list[SuiteItem], workers: int
) -> Generator[QuestionRecord, None, None]:
    """Fan questions out to spawned workers (llama.cpp state must not be forked) and stream records back."""
    context = multiprocessing.get_context("spawn")
    tasks, results = context.Queue(), context.Queue()
    for item in todo:
        tasks.put(item)
    count = min(workers, len(todo))
    for _ in range(count):
        tasks.put(None)
    processes = [
        context.Process(target=_worker, args=(config, loader, settings, tasks, results), daemon=True)
        for _ in range(count)
    ]
    for process in processes:
        process.start()
    finished = False
    try:
        for _ in range(len(todo)):
            message = _next_result(results, processes)
            if isinstance(message, WorkerFailure):
                raise EvalWorkerFailed(f"an eval worker failed: {message.message}")
            yield message
        finished = True
    finally:
        if not finished:  # stopped early: questions still queued must not keep the parent waiting
            tasks.cancel_join_thread()
        for process in processes:
            if not finished:
                process.terminate()
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()


def _next_result(results: Any, processes: list[Any]) -> QuestionRecord | WorkerFailure:
    while True:
        try:
            return results.get(timeout=0.5)
        except queue.Empty:
            if not any(p.is_alive() for p in processes):
                codes = sorted({p.exitcode for p in processes})
                raise EvalWorkerFailed(
                    f"all eval workers exited (codes {codes}) before finishing; rerun to resume"
                ) from None


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
        from runtime.eval.cluster import ray_records

        return ray_records(request.config, loader, settings, todo, request.workers, request.ray)
    local = worker_settings(settings, request.workers)
    if request.workers == 1:
        return _in_process(request.config, loader, local, todo)
    return _in_workers(request.config, loader, local, todo, request.workers)


ORACLE_INTRO = "Read this passage, then answer the question after it."


def oracle_item(item: SuiteItem) -> SuiteItem:
    """The question with its gold passage before it, as mode cot+oracle asks it (and records it)."""
    if item.context is None:
        raise ModeNotAvailable("mode cot+oracle needs a suite with gold passages (boolq, pubmedqa)")
    question = f'{ORACLE_INTRO}\nPassage:\n"""\n{item.context}\n"""\nQuestion: {item.question}'
    return item.model_copy(update={"question": question})


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


# ---------------------------------------------------------------- judging a finished run again


class Rejudged(BaseModel):
    """What `rejudge` changed in one run folder."""

    folder: Path
    correct_before: int
    reread: int = Field(description="CoT answers read differently from their stored replies.")
    changed: int = Field(description="Verdicts that changed.")
    summary: Summary


def _rejudged_record(config: RunConfig, record: QuestionRecord, judged_by: str) -> QuestionRecord:
    trace = reread(record.trace) if config.mode in COT_MODES else record.trace
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
