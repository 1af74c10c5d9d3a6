"""The artifacts of distillation, one pydantic model per JSONL file (kept with runtime.jsonl).

Every stage reads the previous stage's records and writes its own, so a run can be inspected
line by line and resumed: a record carries the `key` (a hash of everything it was made from),
and a rerun reuses every record whose key still matches instead of recomputing it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from runtime.agent.events import RunTrace
from runtime.errors import RuntimeUserError


class DistillError(RuntimeUserError):
    """A distillation input or output folder is unusable (missing, corrupt, or another run's)."""


def digest(*parts: Any) -> str:
    """A short stable hash of JSON-able parts: the key that decides whether a record is reusable."""
    text = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Trajectory(BaseModel):
    """One question the teacher worked on (a line of `runtime teach` output; eval records parse too)."""

    model_config = ConfigDict(extra="ignore")

    id: str
    question: str
    gold: Any = None
    teacher: str = ""
    correct: bool | None = Field(default=None, description="The checker's verdict; None when there is no checker.")
    reason: str = Field(default="", description="Why the verdict, or how the run ended.")
    attempt: int = Field(default=1, ge=1, description="1, or which retry of a question the teacher failed (--retries).")
    trace: RunTrace

    @property
    def succeeded(self) -> bool:
        """Checked right, or (without a checker) answered at all: only these teach tools."""
        if self.correct is not None:
            return self.correct
        return self.trace.status == "answered"


class Case(BaseModel):
    """One recorded call of a function: its arguments by parameter name and the JSON result."""

    inputs: dict[str, Any]
    output: Any
    question: str = Field(
        default="", description="The task it was called for: held-out scoring swaps this task's values for another's."
    )


class Candidate(BaseModel):
    """A function the teacher defined and called (extract.jsonl); identical copies are merged."""

    key: str
    name: str
    params: list[str] = Field(description="Parameter names in signature order.")
    code: str = Field(description="Imports, constants and helper functions it needs, then its def.")
    origins: list[str] = Field(description="Ids of the trajectories that defined it.")
    task: str = Field(description="The first question it was written for: context for its docstring.")
    cases: list[Case]


class Checked(BaseModel):
    """A candidate re-run in the sandbox on its recorded inputs (validate.jsonl)."""

    key: str
    name: str
    ok: bool = Field(description="Every recorded case reproduced.")
    passed: int
    failed: int
    reasons: list[str] = Field(default_factory=list, description="Why cases failed (at most a few).")


ToolHow = Literal["rewritten", "annotated", "single", "merged", "best_member", "chained"]


class DistilledTool(BaseModel):
    """A tool ready for a box: typed, documented, with its test cases (abstract/consolidate.jsonl)."""

    key: str
    name: str
    params: list[str]
    code: str = Field(description="Self-contained source: imports, helpers, then the tool's def.")
    cases: list[Case] = Field(description="Inputs use this tool's own parameter names.")
    how: ToolHow
    ok: bool = Field(default=True, description="Passes its cases in the sandbox and through FastMCP.")
    sources: list[str] = Field(description="Names of the candidates or tools it was made from.")
    note: str = ""


class Link(BaseModel):
    """How alike two tools are: their description embeddings and their outputs on shared inputs."""

    a: str
    b: str
    cosine: float
    shared: int = Field(description="Cases of one that the other could be called on.")
    agreed: int
    score: float
    linked: bool


class Cluster(BaseModel):
    """Tools to be merged into one (cluster.jsonl)."""

    key: str
    id: int
    members: list[str] = Field(description="Keys of the member tools.")
    names: list[str] = Field(description="Their names, in the same order.")
    links: list[Link] = Field(default_factory=list, description="The pairs inside the cluster.")


class Emitted(BaseModel):
    """One tool's fate in the emitted box (emit.jsonl)."""

    name: str
    module: str | None = None
    examples: int = 0
    kept: bool
    reason: str = ""
