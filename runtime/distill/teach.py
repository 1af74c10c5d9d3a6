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

from runtime.agent import AgentOptions, RunTrace
from runtime.agent import events as ev
from runtime.config import Settings
from runtime.distill.records import Trajectory
from runtime.errors import RuntimeUserError
from runtime.eval.checkers import CheckerName, check
from runtime.eval.suites import SuiteItem, load_suite, read_question_file
from runtime.jsonl import append_jsonl, read_jsonl
from runtime.kit import AgentKit, agent_options
from runtime.model.base import Model

TEACHER_BRIEF = '''You are also a teacher: the functions you write become tools for other tasks of the same kind.
So never work out an answer in your head. In your first step, define a general function that
finds the answer (by calculation or by search), with the task's values as parameters (never
hard-coded in its body), returning its result, with a one-line docstring; then call it on this
task's values exactly as the task writes them (a number as a number, a name or a code as a text,
never something you worked out from them: the function does that work) and print what it
returns. Reuse it in later steps.

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

TASK_REMINDER = (
    "\n(Teacher: first write a general function that finds the answer, then call it on the task's values "
    "as the task writes them.)"
)
"""Repeated in the user turn: small teachers follow a nearby instruction far more often."""

RETRY_REMINDER = (
    "\n(Teacher: an earlier attempt at this task failed. Do not guess an answer: write a general function "
    "that tries every possibility the task allows and returns one that is right, then call it.)"
)
"""A retry asks for the function, not the answer: the function is what distillation keeps."""

RETRY_TEMPERATURE = 0.7
"""A retry is sampled: at temperature 0 it would repeat the failed attempt token for token."""


class Teaching(BaseModel):
    """What to teach on: the questions, and the checker that judges the teacher's answers."""

    name: str
    split: str
    checker: CheckerName | None
    items: list[SuiteItem]


def load_teaching(source: str, split: str, checker: CheckerName | None, limit: int | None, seed: int) -> Teaching:
    """Questions from a QUESTIONS.jsonl file or a suite's split, cut to a seeded sample of `limit`."""
    path = Path(source)
    if path.suffix == ".jsonl" or path.is_file():
        items = read_question_file(path, checker)
        random.Random(seed).shuffle(items)
        return Teaching(name=path.stem, split=path.name, checker=checker, items=items[:limit] if limit else items)
    suite = load_suite(source, split)
    return Teaching(name=suite.name, split=suite.split, checker=suite.checker, items=suite.sample(limit, seed))


def teach_one(
    model: Model,
    settings: Settings,
    item: SuiteItem,
    checker: CheckerName | None,
    attempt: int = 1,
    options: AgentOptions | None = None,
) -> Trajectory:
    """One question, fresh sandbox, no box tools (the teacher writes its own), judged if it can be.
    A retry (`attempt` > 1) is sampled with its own seed and reminded that guessing failed."""
    options = options or agent_options(settings)
    if attempt > 1:
        hotter = max(options.temperature, RETRY_TEMPERATURE)
        options = options.model_copy(update={"temperature": hotter, "seed": options.seed + attempt - 1})
    kit = AgentKit(settings, model, options=options, instructions=TEACHER_BRIEF)
    trace: RunTrace | None = None
    started = time.perf_counter()
    try:
        for event in kit.run(item.question + (TASK_REMINDER if attempt == 1 else RETRY_REMINDER)):
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
        attempt=attempt,
        trace=trace,
    )


def _finished(attempts: list[Trajectory], retries: int) -> bool:
    return any(t.succeeded for t in attempts) or len(attempts) > retries


def teach(
    teaching: Teaching,
    model: Model,
    settings: Settings,
    out: Path,
    on_record: Callable[[Trajectory, int, int], None] = lambda _t, _d, _n: None,
    retries: int = 0,
    options: AgentOptions | None = None,
) -> list[Trajectory]:
    """Run the questions not yet finished in `out`, appending each attempt as it ends; a failed
    question is tried again up to `retries` times (a rerun with more retries goes on from there).
    Returns every attempt; `on_record` hears each with the count of questions finished."""
    planned = {item.id for item in teaching.items}
    done = [t for t in read_jsonl(out, Trajectory) if t.id in planned]
    tries: dict[str, list[Trajectory]] = {}
    for trajectory in done:
        tries.setdefault(trajectory.id, []).append(trajectory)
    finished = sum(_finished(attempts, retries) for attempts in tries.values())
    for item in teaching.items:
        attempts = tries.setdefault(item.id, [])
        while not _finished(attempts, retries):
            trajectory = teach_one(model, settings, item, teaching.checker, len(attempts) + 1, options)
            append_jsonl(out, trajectory)
            done.append(trajectory)
            attempts.append(trajectory)
            finished += _finished(attempts, retries)
            on_record(trajectory, finished, len(teaching.items))
    return done


def summary(trajectories: list[Trajectory]) -> dict[str, Any]:
    """Counts a person (or --json) wants after teaching: questions, attempts, how many the teacher
    solved (at the first try and in all), how many trajectories distillation can use."""
    questions: dict[str, list[Trajectory]] = {}
    for trajectory in trajectories:
        questions.setdefault(trajectory.id, []).append(trajectory)
    judged = any(t.correct is not None for t in trajectories)
    correct = sum(any(t.correct for t in attempts) for attempts in questions.values())
    return {
        "questions": len(questions),
        "attempts": len(trajectories),
        "succeeded": sum(t.succeeded for t in trajectories),
        "correct": correct if judged else None,
        "correct_first_try": sum(bool(a[0].correct) for a in questions.values()) if judged else None,
        "success_rate": round(correct / len(questions), 3) if judged and questions else None,
        "with_functions": sum(any("def " in (s.code or "") for s in t.trace.steps) for t in trajectories),
    }
