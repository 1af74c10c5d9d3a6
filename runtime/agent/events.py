"""Typed events the agent yields; the CLI prints them, the TUI renders them, --json records them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, computed_field

Status = Literal["answered", "step_limit", "error", "cancelled"]


class RunStarted(BaseModel):
    kind: Literal["run_started"] = "run_started"
    question: str
    model: str
    tools: list[str] = []


class PrefixReady(BaseModel):
    """The fixed prompt prefix is in the KV cache (from memory, disk, or computed now): of its
    `tokens`, `cached_tokens` were loaded and `computed_tokens` evaluated, in `seconds`."""

    kind: Literal["prefix_ready"] = "prefix_ready"
    tokens: int
    source: Literal["memory", "disk", "computed"]
    seconds: float
    cached_tokens: int = 0
    computed_tokens: int = 0


class FirstThought(BaseModel):
    """The plan a chain-of-thought answer opens with; the agent's first Thought starts with it."""

    kind: Literal["first_thought"] = "first_thought"
    text: str
    completion_tokens: int
    seconds: float


class StepStarted(BaseModel):
    kind: Literal["step_started"] = "step_started"
    step: int


class TextDelta(BaseModel):
    """A piece of model output as it is generated (for live display)."""

    kind: Literal["text_delta"] = "text_delta"
    step: int
    text: str


class ActionParsed(BaseModel):
    kind: Literal["action"] = "action"
    step: int
    thought: str
    code: str


class ParseFailed(BaseModel):
    kind: Literal["parse_failed"] = "parse_failed"
    step: int
    text: str
    message: str


class ObservationEvent(BaseModel):
    kind: Literal["observation"] = "observation"
    step: int
    text: str
    ok: bool
    error_kind: str | None = None
    duration_s: float


class Candidate(BaseModel):
    """One sampled action of a self-consistent step, and what running it gave."""

    index: int = Field(description="Order in which it finished decoding.")
    raw: str
    code: str | None = None
    observation: str
    ok: bool
    error_kind: str | None = None
    final: bool = False
    answer: Any = None
    group: int | None = Field(default=None, description="Its group in Vote.groups; None when it failed.")
    mean_logprob: float
    completion_tokens: int


class VoteGroup(BaseModel):
    """Candidates whose observations agree; `best` is the one the group would keep, `observation` its."""

    size: int
    observation: str
    members: list[int]
    best: int


class Vote(BaseModel):
    """Self-consistent action generation: the candidates of one step, grouped by what they observed.

    `groups` come largest first (ties: the better mean log-probability), so the winner's is
    first; they are empty when every candidate failed, and `winner` is then the candidate with
    the most common error. Candidates still decoding when the leading group could no longer be
    caught are `abandoned`: they could not have changed which observation wins.
    """

    kind: Literal["vote"] = "vote"
    step: int
    requested: int
    candidates: list[Candidate]
    groups: list[VoteGroup]
    winner: int
    executions: int = Field(description="Distinct code actions run (identical code runs once).")
    abandoned: int = 0
    tool_calls: int = Field(default=0, description="Calls answered by the tools; repeats were served from the step's cache.")
    cached_tool_calls: int = 0


class StepTimings(BaseModel):
    """A step's cost: of its `prompt_tokens`, `cached_tokens` were in the KV cache already and
    `computed_tokens` were evaluated in `prefill_s`."""

    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    prefill_s: float
    decode_s: float
    action_s: float = 0.0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def computed_tokens(self) -> int:
        return self.prompt_tokens - self.cached_tokens


class StepRecord(BaseModel):
    """One step of the trace: what the model wrote, what ran, what came back, what it cost."""

    step: int
    raw: str
    thought: str = ""
    code: str | None = None
    observation: str = ""
    ok: bool = False
    error_kind: str | None = None
    final: bool = False
    answer: Any = None
    timings: StepTimings
    vote: Vote | None = None


class StepFinished(BaseModel):
    kind: Literal["step_finished"] = "step_finished"
    record: StepRecord


class FinalAnswer(BaseModel):
    kind: Literal["final_answer"] = "final_answer"
    step: int
    answer: Any


class RunTrace(BaseModel):
    """The whole run, as `runtime solve --json` prints it."""

    question: str
    model: str
    status: Status
    answer: Any = None
    tools: list[str] = []
    """The tools the prompt listed (and the sandbox defined)."""
    hints: list[str] = []
    """The tools the task message named as fitting it."""
    steps: list[StepRecord] = []
    prefix: PrefixReady | None = None
    first_thought: str | None = None
    wall_s: float = 0.0
    error: str | None = None

    @property
    def total_completion_tokens(self) -> int:
        return sum(s.timings.completion_tokens for s in self.steps)


class RunFinished(BaseModel):
    kind: Literal["run_finished"] = "run_finished"
    trace: RunTrace


Event = Annotated[
    RunStarted | PrefixReady | FirstThought | StepStarted | TextDelta | ActionParsed | ParseFailed
    | ObservationEvent | Vote | StepFinished | FinalAnswer | RunFinished,
    Field(discriminator="kind"),
]
