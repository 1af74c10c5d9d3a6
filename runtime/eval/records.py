"""What a run records: its config, one record per question, and the summary with its statistics.

Pure data and arithmetic, no model and no files: the store, the runner, `rejudge` and the reports
all build on these types.
"""

from __future__ import annotations

import math
import re
import subprocess
from collections import Counter
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field

from runtime.agent.events import RunTrace
from runtime.eval.checkers import CheckerName, Verdict, check
from runtime.eval.suites import DataSource, SuiteItem

Mode = Literal["cot", "cot+oracle", "agent", "agent+box", "agent+box+sag", "agent+retrieval"]
MODES: tuple[Mode, ...] = ("cot", "cot+oracle", "agent", "agent+box", "agent+box+sag", "agent+retrieval")
COT_MODES: tuple[Mode, ...] = ("cot", "cot+oracle")
"""One generation, no tools; cot+oracle puts the gold passage before the question (the upper bound
of what retrieval can give)."""
Outcome = Literal["correct", "wrong_answer", "parse", "sandbox", "step_limit", "error"]
FAILURES: tuple[Outcome, ...] = ("parse", "sandbox", "step_limit", "wrong_answer", "error")
_Z95 = 1.959963984540054


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
