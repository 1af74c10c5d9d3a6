"""Chain-of-thought mode: the student answers directly, no tools, ending with "Answer: ...".

The baseline every agent mode must beat. Its result is a one-step RunTrace so that records,
summaries and reports treat both modes the same way.
"""

from __future__ import annotations

import re
import time

from pydantic import BaseModel

from runtime.agent.events import RunTrace, StepRecord, StepTimings
from runtime.model.base import ChatMessage, Generation, Model

COT_SYSTEM = "You are a careful problem solver. Think step by step in a few short lines, then give the answer."
COT_INSTRUCTION = (
    "Think step by step in a few short lines. Then write the last line exactly as:\n"
    "Answer: <the final answer only: a number, an expression or a few words>"
)
NO_ANSWER_LINE = "the reply has no 'Answer: ...' line (nor a \\boxed{...} answer)"

_ANSWER_LINE = re.compile(
    r"^[\s*#>_-]*(?:final\s+)?answer\s*[*_]*\s*[:：]\s*[*_]*\s*(?P<answer>.*?)[ \t*_]*$", re.I | re.M
)
_BOXED = re.compile(r"\\boxed\{(?P<answer>(?:[^{}]|\{[^{}]*\})*)\}")


class CotOptions(BaseModel):
    max_tokens: int = 512
    temperature: float = 0.0
    top_p: float = 0.95
    seed: int = 0


def extract_answer(text: str) -> str | None:
    """The last non-empty "Answer:" line, else the last \\boxed{...}, which Qwen models are trained to write."""
    answers = [m["answer"].strip() for m in _ANSWER_LINE.finditer(text) if m["answer"].strip()]
    answers = answers or [m["answer"].strip() for m in _BOXED.finditer(text) if m["answer"].strip()]
    return answers[-1] if answers else None


def _answer_line_done(text: str) -> bool:
    """Stop generating once an answer line is complete: small models keep talking after it."""
    return any(m["answer"].strip() and m.end() < len(text) for m in _ANSWER_LINE.finditer(text))


class CotSolver:
    """Answers one question per call with a single generation."""

    def __init__(self, model: Model, options: CotOptions) -> None:
        self.model = model
        self.options = options

    def solve(self, question: str) -> RunTrace:
        started = time.perf_counter()
        messages = [
            ChatMessage(role="system", content=COT_SYSTEM),
            ChatMessage(role="user", content=f"{question}\n\n{COT_INSTRUCTION}"),
        ]
        generation: Generation | None = None
        for item in self.model.stream(
            self.model.render(messages),
            max_tokens=self.options.max_tokens,
            temperature=self.options.temperature,
            top_p=self.options.top_p,
            seed=self.options.seed,
            stop=[self.model.end_of_turn],
            until=_answer_line_done,
        ):
            if isinstance(item, Generation):
                generation = item
        assert generation is not None
        answer = extract_answer(generation.text)
        step = StepRecord(
            step=1,
            raw=generation.text,
            thought=generation.text,
            ok=answer is not None,
            error_kind=None if answer is not None else "parse",
            observation="" if answer is not None else NO_ANSWER_LINE,
            final=answer is not None,
            answer=answer,
            timings=StepTimings(
                prompt_tokens=generation.prompt_tokens,
                cached_tokens=generation.cached_tokens,
                completion_tokens=generation.completion_tokens,
                prefill_s=generation.prefill_s,
                decode_s=generation.decode_s,
            ),
        )
        return RunTrace(
            question=question,
            model=self.model.name,
            status="answered" if answer is not None else "error",
            answer=answer,
            steps=[step],
            wall_s=time.perf_counter() - started,
            error=None if answer is not None else NO_ANSWER_LINE,
        )
