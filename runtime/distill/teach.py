"""Collect: a teacher agent solves questions while writing reusable functions; record its trajectories.

The teacher is the ordinary CodeAct agent with one extra system block (TEACHER_BRIEF) that asks
it to solve through general helper functions rather than in its head: those functions are what
distillation later turns into tools. The student's prompt is untouched. Each finished question
is appended to the output JSONL (with the checker's verdict when there is one), so an
interrupted run resumes where it stopped.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from runtime.kit import AgentKit
from runtime.agent import RunTrace
from runtime.agent import events as ev
from runtime.config import Settings
from runtime.distill.records import DistillError, Trajectory
from runtime.errors import RuntimeUserError
from runtime.eval.checkers import CheckerName, check
from runtime.eval.suites import (
    GAME24_TEST_RANKS,
    TOT,
    Suite,
    SuiteItem,
    game24_prompt,
    game24_puzzles,
    load_suite,
    read_question_file,
)
from runtime.jsonl import append_jsonl, read_jsonl
from runtime.model.base import Model

TEACHER_BRIEF = '''You are also a teacher: the functions you write become tools for other tasks of the same kind.
So never work out an answer in your head. In your first step, define a general function that
finds the answer (by calculation or by search), with the task's values as parameters (never
hard-coded in its body), returning its result, with a one-line docstring; then call it on this
task's values and print what it returns. Reuse it in later steps.

Example:
Task: Which two of the numbers 3, 8, 11 and 15 add up to 19?
Thought: I will write a general function that searches the pairs, then call it.
```python
import itertools

def find_pair_with_sum(numbers, target):
    """The first two numbers whose sum is the target, or None."""
    for a, b in itertools.combinations(numbers, 2):
        if a + b == target:
            return [a, b]
    return None

print(find_pair_with_sum([3, 8, 11, 15], 19))
```
Observation: [8, 11]
Thought: 8 and 11 add up to 19.
```python
final_answer("8 + 11")
```'''

TASK_REMINDER = "\n(Teacher: first write a general function that finds the answer, then call it.)"
"""Repeated in the user turn: small teachers follow a nearby instruction far more often."""


class Teaching(BaseModel):
    """What to teach on: the questions, and the checker that judges the teacher's answers."""

    name: str
    split: str
    checker: CheckerName | None
    items: list[SuiteItem]


def game24_train() -> Suite:
    """Game of 24 rows outside the test ranks: the teacher must never see a test question."""
    items = [
        SuiteItem(id=f"rank-{rank}", question=game24_prompt(numbers), gold=numbers)
        for rank, numbers in game24_puzzles()
        if rank not in GAME24_TEST_RANKS
    ]
    return Suite(name="game24", checker="game24", split="ranks outside 901-1000 (train)", sources=[TOT], items=items)


def load_teaching(source: str, split: str, checker: CheckerName | None, limit: int | None, seed: int) -> Teaching:
    """Questions from a QUESTIONS.jsonl file or a suite's split, cut to a seeded sample of `limit`."""
    path = Path(source)
    if path.suffix == ".jsonl" or path.is_file():
        items = read_question_file(path, checker)
        random.Random(seed).shuffle(items)
        return Teaching(name=path.stem, split=path.name, checker=checker, items=items[:limit] if limit else items)
    if split == "train" and source != "game24":
        raise DistillError(f"suite {source!r} has no training split; use --split test or a QUESTIONS.jsonl")
    suite = game24_train() if split == "train" else load_suite(source)
    return Teaching(name=suite.name, split=suite.split, checker=suite.checker, items=suite.sample(limit, seed))


def teach_one(model: Model, settings: Settings, item: SuiteItem, checker: CheckerName | None) -> Trajectory:
    """One question, fresh sandbox, no box tools (the teacher writes its own), judged if it can be."""
    kit = AgentKit(settings, model, instructions=TEACHER_BRIEF)
    trace: RunTrace | None = None
    started = time.perf_counter()
    try:
        for event in kit.run(item.question + TASK_REMINDER):
            if isinstance(event, ev.RunFinished):
                trace = event.trace
    except RuntimeUserError as exc:  # e.g. the context filled up: this question fails, teaching goes on
        trace = RunTrace(
            question=item.question,
            model=model.name,
            status="error",
            error=str(exc),
            wall_s=time.perf_counter() - started,
        )
    assert trace is not None
    trace = trace.model_copy(update={"question": item.question})
    verdict = check(checker, item.gold, trace.answer) if checker and trace.status == "answered" else None
    return Trajectory(
        id=item.id,
        question=item.question,
        gold=item.gold,
        teacher=model.name,
        correct=None if checker is None else bool(verdict and verdict.correct),
        reason=verdict.reason if verdict else trace.status.replace("_", " "),
        trace=trace,
    )


def teach(
    teaching: Teaching,
    model: Model,
    settings: Settings,
    out: Path,
    on_record: Callable[[Trajectory, int, int], None] = lambda _t, _d, _n: None,
) -> list[Trajectory]:
    """Run the questions not yet in `out`, appending each trajectory as it finishes; returns them all."""
    planned = {item.id for item in teaching.items}
    done = [t for t in read_jsonl(out, Trajectory) if t.id in planned]
    finished = {t.id for t in done}
    for item in teaching.items:
        if item.id in finished:
            continue
        trajectory = teach_one(model, settings, item, teaching.checker)
        append_jsonl(out, trajectory)
        done.append(trajectory)
        on_record(trajectory, len(done), len(teaching.items))
    return done


def summary(trajectories: list[Trajectory]) -> dict[str, Any]:
    """Counts a person (or --json) wants after teaching: how many, how many usable."""
    judged = [t for t in trajectories if t.correct is not None]
    return {
        "questions": len(trajectories),
        "succeeded": sum(t.succeeded for t in trajectories),
        "correct": sum(bool(t.correct) for t in judged) if judged else None,
        "with_functions": sum(any("def " in (s.code or "") for s in t.trace.steps) for t in trajectories),
    }
