"""Self-consistent action generation (SAG): sample N actions, run each, keep one the majority agrees with.

The paper's released code runs every candidate in one shared interpreter (losers' side effects
leak into later steps, tools run N+1 times) and pays for N full generations. Here:
- every candidate runs in its own fork of the sandbox, taken from the same state; the winner's
  fork is committed, so losers leave nothing behind and the winner is not run again;
- identical code runs once, and a tool called again with the same arguments within the step is
  answered from the first call;
- candidates run as soon as they are decoded, while the others are still being decoded, and
  decoding stops once the leading group is larger than the runner-up plus every candidate not
  yet counted: no later candidate could change which observation wins.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from typing import Any

from runtime.agent import events as ev
from runtime.agent.parse import (
    FORMAT_HELP,
    ParsedStep,
    ParseError,
    has_complete_block,
    parse_step,
)
from runtime.model.base import Generation, Model, Prompt, Sampling
from runtime.sandbox import ExecResult, Sandbox, SandboxFork
from runtime.tools import ToolError, Toolset

Render = Callable[[ExecResult], str]
"""Turns a result into the observation text the model reads."""

_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][-+]?\d+)?")


def observation_key(result: ExecResult) -> str:
    """What a candidate votes for: its final answer, else its printed output and last value.

    Numbers are rounded to 9 significant digits (56088, 56088.0 and 56088.000000001 agree) and
    whitespace is folded, so formatting differences do not split a group.
    """
    if result.final:
        answer = result.answer if isinstance(result.answer, str) else json.dumps(result.answer, sort_keys=True)
        text = f"final answer: {answer}"
    else:
        text = f"{result.stdout}\n{result.value or ''}"
    text = _NUMBER.sub(lambda m: f"{float(m.group()):.9g}", text)
    return " ".join(text.split())


class ToolCallCache:
    """Answers a repeated (tool, arguments) call from the first one's answer.

    Candidates of one step often make the same call (the same retrieval query). Calls arrive from
    one thread per running candidate and are serialized, so tools need not be thread-safe.
    """

    def __init__(self, call: Callable[[str, dict[str, Any]], Any]) -> None:
        self._call = call
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[bool, Any]] = {}
        self.calls = 0
        self.hits = 0

    def call(self, name: str, arguments: dict[str, Any]) -> Any:
        key = json.dumps([name, arguments], sort_keys=True)
        with self._lock:
            if key in self._answers:
                self.hits += 1
            else:
                self.calls += 1
                try:
                    self._answers[key] = (True, self._call(name, arguments))
                except ToolError as exc:
                    self._answers[key] = (False, str(exc))
            ok, value = self._answers[key]
        if not ok:
            raise ToolError(value)
        return value


@contextmanager
def cached_tool_calls(toolset: Toolset | None) -> Iterator[ToolCallCache]:
    """Within the block, `toolset.call` (through which the sandbox answers tool calls) is cached."""
    if toolset is None:
        yield ToolCallCache(lambda name, _args: None)
        return
    cache = ToolCallCache(toolset.call)
    toolset.call = cache.call  # type: ignore[method-assign]  # shadows the method for this step only
    try:
        yield cache
    finally:
        del toolset.call


@dataclass
class Execution:
    """One distinct code action, run once in its own fork for every candidate that wrote it."""

    code: str
    fork: SandboxFork
    future: Future[ExecResult]


@dataclass
class Outcome:
    """One candidate: what the model wrote and, if it parsed, the execution of its code."""

    index: int
    raw: str
    generation: Generation
    parsed: ParsedStep | None
    execution: Execution | None

    @property
    def result(self) -> ExecResult | None:
        return self.execution.future.result() if self.execution else None

    def rank(self) -> tuple[float, int]:
        """Higher is better: mean token log-probability, then shorter code."""
        return self.generation.mean_logprob, -len(self.parsed.code if self.parsed else self.raw)


class Ballot:
    """Candidates per observation so far, counted as executions finish, to stop decoding early."""

    def __init__(self, requested: int) -> None:
        self.requested = requested
        self._lock = threading.Lock()
        self._writers: Counter[str] = Counter()
        self._keys: dict[str, str | None] = {}
        self._unparsed = 0

    def cast(self, code: str | None) -> None:
        """A decoded candidate: its code, or None when it had none (it counts as failed at once)."""
        with self._lock:
            if code is None:
                self._unparsed += 1
            else:
                self._writers[code] += 1

    def record(self, code: str, future: Future[ExecResult]) -> None:
        result = None if future.exception() else future.result()
        key = observation_key(result) if result is not None and result.ok else None
        with self._lock:
            self._keys[code] = key

    def decided(self) -> bool:
        """True once the leading observation has more votes than the runner-up could reach even
        if every candidate not yet counted (decoding, or running) joined it."""
        votes: Counter[str] = Counter()
        with self._lock:
            counted = self._unparsed
            for code, key in self._keys.items():
                counted += self._writers[code]
                if key is not None:
                    votes[key] += self._writers[code]
        first, second = [*sorted(votes.values(), reverse=True), 0, 0][:2]
        return first > second + self.requested - counted


@dataclass
class Candidates:
    """The candidates of one step, in the order they finished decoding."""

    requested: int
    outcomes: list[Outcome] = field(default_factory=list)
    executions: dict[str, Execution] = field(default_factory=dict)
    tool_calls: int = 0
    cached_tool_calls: int = 0


def run_candidates(
    model: Model,
    sandbox: Sandbox,
    prompt: Prompt,
    n: int,
    sampling: Sampling,
    stop: Callable[[], bool] = lambda: False,
) -> Candidates:
    """Sample `n` continuations of `prompt` and run each one's code in a fork as it arrives.

    Each candidate's raw text is the start of the assistant message the prompt asks for
    ("Thought: ...") + what it generated. `stop` ends the decoding early when the user stops the
    run (the batch is polled every token).
    """
    found = Candidates(requested=n)
    try:
        with cached_tool_calls(sandbox.toolset) as cache, ThreadPoolExecutor(max_workers=n) as pool:
            _sample_and_start(model, sandbox, prompt, n, sampling, pool, found, stop)
    except BaseException:
        for execution in found.executions.values():
            execution.fork.close()
        raise
    found.tool_calls, found.cached_tool_calls = cache.calls, cache.hits
    return found


def _sample_and_start(
    model: Model,
    sandbox: Sandbox,
    prompt: Prompt,
    n: int,
    sampling: Sampling,
    pool: ThreadPoolExecutor,
    found: Candidates,
    stop: Callable[[], bool],
) -> None:
    ballot = Ballot(n)
    generations = model.sample_n(
        prompt, n, sampling, until=has_complete_block, stop_early=lambda: ballot.decided() or stop()
    )
    with closing(generations):
        for index, generation in enumerate(generations):
            raw = f"{prompt.continue_assistant}{generation.text}".rstrip()
            parsed = _parse(raw)
            execution = None
            if parsed is not None:
                execution = found.executions.get(parsed.code)
                if execution is None:
                    execution = _start(sandbox, pool, parsed.code, ballot)
                    found.executions[parsed.code] = execution
            ballot.cast(parsed.code if parsed else None)
            found.outcomes.append(Outcome(index, raw, generation, parsed, execution))


def _parse(raw: str) -> ParsedStep | None:
    try:
        return parse_step(raw)
    except ParseError:
        return None


def _start(sandbox: Sandbox, pool: ThreadPoolExecutor, code: str, ballot: Ballot) -> Execution:
    """Fork here (the session's worker is driven from this thread); run in the pool, since the work
    happens in the fork's process and the thread only waits for its answer."""
    fork = sandbox.fork()
    future = pool.submit(fork.run, code)
    future.add_done_callback(lambda done: ballot.record(code, done))
    return Execution(code, fork, future)


def tally(found: Candidates, step: int, render: Render) -> ev.Vote:
    """Group the candidates that ran without error by observation and pick the winner.

    The largest group wins (ties: the better best mean log-probability, then shorter code); its
    best candidate is the winner. When every candidate failed, the winner is the best candidate
    with the most common error, which then becomes the observation.
    """
    groups: dict[str, list[Outcome]] = {}
    for outcome in found.outcomes:
        if (result := outcome.result) is not None and result.ok:
            groups.setdefault(observation_key(result), []).append(outcome)
    ranked = sorted(groups.values(), key=lambda members: (len(members), max(o.rank() for o in members)), reverse=True)
    winner = max(ranked[0], key=Outcome.rank) if ranked else _most_common_failure(found.outcomes, render)
    group_of = {o.index: g for g, members in enumerate(ranked) for o in members}
    return ev.Vote(
        step=step,
        requested=found.requested,
        candidates=[_record(o, group_of.get(o.index), render) for o in found.outcomes],
        groups=[_group(members, render) for members in ranked],
        winner=winner.index,
        executions=len(found.executions),
        abandoned=found.requested - len(found.outcomes),
        tool_calls=found.tool_calls,
        cached_tool_calls=found.cached_tool_calls,
    )


def _group(members: list[Outcome], render: Render) -> ev.VoteGroup:
    best = max(members, key=Outcome.rank)
    return ev.VoteGroup(
        size=len(members), observation=observation(best, render), members=[o.index for o in members], best=best.index
    )


def observation(outcome: Outcome, render: Render) -> str:
    result = outcome.result
    return FORMAT_HELP if result is None else render(result)


def _most_common_failure(outcomes: list[Outcome], render: Render) -> Outcome:
    errors = {o.index: " ".join(observation(o, render).split()) for o in outcomes}
    counts = Counter(errors.values())
    return max(outcomes, key=lambda o: (counts[errors[o.index]], o.rank()))


def _record(outcome: Outcome, group: int | None, render: Render) -> ev.Candidate:
    result = outcome.result
    return ev.Candidate(
        index=outcome.index,
        raw=outcome.raw,
        code=outcome.parsed.code if outcome.parsed else None,
        observation=observation(outcome, render),
        ok=result is not None and result.ok,
        error_kind="parse" if outcome.parsed is None else result.error_kind if result else None,
        final=bool(result and result.final),
        answer=result.answer if result else None,
        group=group,
        mean_logprob=outcome.generation.mean_logprob,
        completion_tokens=outcome.generation.completion_tokens,
    )


def discard(found: Candidates) -> None:
    """A stopped step: every fork goes, the session's state stays as before the step."""
    for execution in found.executions.values():
        execution.fork.close()


def settle(sandbox: Sandbox, found: Candidates, winner: Outcome) -> None:
    """The winner's fork becomes the session's state; every other fork is discarded."""
    if winner.execution is not None:
        sandbox.commit(winner.execution.fork)
        return
    for execution in found.executions.values():
        execution.fork.close()
