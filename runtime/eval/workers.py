"""Where the questions run on this machine: in this process, or in spawned worker processes that each
load the model once (llama.cpp state must not be forked). Only the parent writes the run folder."""

from __future__ import annotations

import multiprocessing
import os
import queue
import traceback
from collections.abc import Generator
from typing import Any

from pydantic import BaseModel

from runtime.config import Settings
from runtime.errors import RuntimeUserError
from runtime.eval.records import QuestionRecord, RunConfig
from runtime.eval.solvers import ModelLoader, open_solver, solve_item
from runtime.eval.suites import SuiteItem


class EvalWorkerFailed(RuntimeUserError):
    """A worker process could not load the model or crashed; finished questions are kept."""


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


def in_process(
    config: RunConfig, loader: ModelLoader, settings: Settings, todo: list[SuiteItem]
) -> Generator[QuestionRecord, None, None]:
    solver = open_solver(config, loader, settings)
    for item in todo:
        yield solve_item(solver, config.checker, item)


def in_workers(
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
