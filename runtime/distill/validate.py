"""Validate: re-run each extracted function on its recorded inputs in the sandbox.

A function becomes a tool only if it reproduces every output it gave while the teacher worked:
that rules out functions that lean on state the teacher built up elsewhere, randomness, and
outputs that do not survive the JSON boundary a box tool's results cross. The same runner
re-checks the teacher's rewrites (abstract, consolidate) and measures agreement (cluster).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import BaseModel

from runtime.distill.records import Candidate, Case, Checked, digest
from runtime.sandbox import Sandbox, SandboxPolicy

MAX_REASONS = 3


class CallResult(BaseModel):
    """What one call gave: a JSON value, or the error it raised."""

    ok: bool
    output: Any = None
    error: str | None = None


def same_json(a: Any, b: Any) -> bool:
    """JSON equality with float noise forgiven (1e-9 relative), so 0.1 + 0.2 matches 0.3."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    return bool(a == b)


def _literal(value: Any) -> str:
    """A Python expression that rebuilds `value` inside the sandbox, as a box call would see it."""
    return f"distill_json.loads({json.dumps(json.dumps(value))})"


class FunctionRunner:
    """One fresh sandbox session holding one piece of code, to call its functions on inputs."""

    def __init__(self, sandbox: Sandbox, code: str) -> None:
        self._sandbox = sandbox
        loaded = sandbox.run(f"import json as distill_json\n{code}")
        self.load_error = None if loaded.ok else (loaded.error or "the code did not run")

    def call(self, name: str, inputs: dict[str, Any] | list[Any]) -> CallResult:
        """Call `name` with keyword (dict) or positional (list) arguments; the result goes through JSON."""
        spread = "**" if isinstance(inputs, dict) else "*"
        code = f"final_answer(distill_json.loads(distill_json.dumps({name}({spread}{_literal(inputs)}))))"
        result = self._sandbox.run(code)
        if not result.ok or not result.final:
            return CallResult(ok=False, error=(result.error or "no result").splitlines()[-1][:300])
        return CallResult(ok=True, output=result.answer)


@contextmanager
def open_runner(code: str, policy: SandboxPolicy) -> Iterator[FunctionRunner]:
    """A runner in its own sandbox, so no definition from another function can mask a missing one."""
    with Sandbox(policy) as sandbox:
        yield FunctionRunner(sandbox, code)


def check_cases(runner: FunctionRunner, name: str, cases: list[Case]) -> tuple[int, list[str]]:
    """How many cases reproduce, and why the others did not (a few reasons)."""
    if runner.load_error:
        return 0, [f"does not load: {runner.load_error}"]
    passed = 0
    reasons: list[str] = []
    for case in cases:
        got = runner.call(name, case.inputs)
        if got.ok and same_json(got.output, case.output):
            passed += 1
        elif len(reasons) < MAX_REASONS:
            args = json.dumps(case.inputs)[:120]
            what = (
                got.error
                if not got.ok
                else f"gave {json.dumps(got.output)[:120]}, recorded {json.dumps(case.output)[:120]}"
            )
            reasons.append(f"{name}(**{args}): {what}")
    return passed, reasons


def validate_key(candidate: Candidate) -> str:
    """Code and cases: more trajectories can bring the same function new cases to pass."""
    return digest("validate", candidate.key, [c.model_dump() for c in candidate.cases])


def validate(candidate: Candidate, policy: SandboxPolicy) -> Checked:
    """Keep a candidate only when every recorded case reproduces in a fresh sandbox."""
    key = validate_key(candidate)
    if not candidate.cases:
        return Checked(
            key=key,
            name=candidate.name,
            ok=False,
            passed=0,
            failed=0,
            reasons=["never called by the teacher's own code with JSON-able inputs and output"],
        )
    with open_runner(candidate.code, policy) as runner:
        passed, reasons = check_cases(runner, candidate.name, candidate.cases)
    failed = len(candidate.cases) - passed
    return Checked(key=key, name=candidate.name, ok=failed == 0, passed=passed, failed=failed, reasons=reasons)
