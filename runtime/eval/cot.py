"""Chain-of-thought mode: the student answers directly, no tools, ending with "Answer: ...".

The baseline every agent mode must beat. Its result is a one-step RunTrace so that records,
summaries and reports treat both modes the same way.
"""

from __future__ import annotations

import re
import time

from runtime.agent.events import RunTrace, StepRecord, StepTimings
from runtime.agent.prompt import COT_SYSTEM
from runtime.model.base import ChatMessage, Generation, Model, Prompt, Sampling

COT_INSTRUCTION = (
    "Think step by step in a few short lines. Then write the last line exactly as:\n"
    "Answer: <the final answer only: a number, an expression or a few words>"
)
LABEL_INSTRUCTION = (
    "Think step by step in a few short lines. Then write the last line exactly as:\n"
    "Answer: <yes or no, or maybe if the question offers it>"
)
"""For yes/no questions: the generic line's "a number, an expression or a few words" made the 0.5B
model write "Answer: a number" even with the passage in front of it."""
NO_ANSWER_LINE = "the reply has no 'Answer: ...' line, 'the answer is ...' sentence or \\boxed{...} answer"

# The asked-for line: "Answer: X" or "**Final answer:** X" at the start of a line; X may be on the next one.
_ANSWER_LINE = re.compile(
    r"^[\s*#>_-]*(?:final\s+)?answer\s*[*_]*\s*[:：]\s*[*_]*\s*(?P<answer>.*?)[ \t*_]*$", re.I | re.M
)
# Small models often put it inside a line ("so the answer is: 82 feet.", "... is: Answer: 15") or in a
# sentence ("Therefore, the answer is 90."). Read in that order, only when no asked-for line exists, so a
# right answer is not lost to wording (as lm-evaluation-harness's "flexible extract" does for GSM8K);
# never used to stop generating, since "the answer is the sum of ..." also opens a line of reasoning.
_AFTER = r"[ \t*_]*(?:\n[ \t*_]*)?(?P<answer>[^\n]*?)[ \t*_]*(?=\.\s|\.?$)"
_ANSWER_COLON = re.compile(r"\b(?:final\s+)?answer\b[ \t*_]*(?:is\b[ \t]*)?[:：]" + _AFTER, re.I | re.M)
_ANSWER_IS = re.compile(r"\b(?:final\s+)?answer\b[ \t*_]*is\b" + _AFTER, re.I | re.M)
_LABEL = re.compile(r"^[-*\s]*(?:the\s+)?(?:final\s+)?answer\b\s*(?:is\b)?\s*[:：]?\s*", re.I)
_BOXED = re.compile(r"\\boxed\{(?P<answer>(?:[^{}]|\{[^{}]*\})*)\}")
_DISPLAY_MATH = re.compile(r"\\\[\s*(?P<math>.*?)\s*\\\]|\$\$\s*(?P<dollars>.*?)\s*\$\$", re.S)
_MATH_OPENERS = {"\\[", "$$", "\\("}
_OPENING_LABEL = re.compile(r"[*_\s]*(?:yes|no|maybe)\b", re.I)
_INLINE_MATH = re.compile(r"^(?:\\\((?P<paren>.*)\\\)|\$(?P<dollar>[^$]*)\$)$")


def _clean(answer: str) -> str:
    """The answer alone: without a repeated "the answer is" label, a final period, <angle brackets>,
    math delimiters or \\boxed{}."""
    answer = _LABEL.sub("", answer.strip()).removesuffix(".").strip()
    if answer.startswith("<") and answer.endswith(">"):
        answer = answer[1:-1].strip()
    inline = _INLINE_MATH.match(answer)
    if inline:
        answer = (inline["paren"] if inline["paren"] is not None else inline["dollar"]).strip()
    boxed = _BOXED.fullmatch(answer)
    return boxed["answer"].strip() if boxed else answer


def _flatten_display_math(text: str) -> str:
    """`\\[ 9 \\]` over three lines becomes `9` on one, so "Answer:" followed by display math reads as 9."""
    return _DISPLAY_MATH.sub(lambda m: " ".join((m["math"] or m["dollars"] or "").split()), text)


def extract_answer(text: str, labels: bool = False) -> str | None:
    """The last asked-for answer line, else the last "answer: ..." or "answer is: ..." inside a line, else
    the last "the answer is ..." sentence, else the last \\boxed{...}, which Qwen models are trained to write.

    `labels` (a yes/no question): else a line that opens with its label. The 1.5B model answers BoolQ's
    "...? Answer yes or no." with one sentence, "Yes, there have been tie games in baseball.", and no
    answer line; read strictly, 11 of the first 11 were "no answer"."""
    flat = _flatten_display_math(text)
    for pattern in (_ANSWER_LINE, _ANSWER_COLON, _ANSWER_IS, _BOXED):
        answers = [_clean(m["answer"]) for m in pattern.finditer(flat)]
        answers = [answer for answer in answers if answer]
        if answers:
            return answers[-1]
    if labels:
        lines = [line.strip() for line in text.splitlines() if _OPENING_LABEL.match(line.strip())]
        return lines[-1] if lines else None
    return None


def _answer_line_done(text: str) -> bool:
    """Stop generating once an answer line is complete (small models keep talking after it), but not
    at a line that only opens display math: its content comes on the next lines."""
    return any(
        m["answer"].strip() and m["answer"].strip() not in _MATH_OPENERS and m.end() < len(text)
        for m in _ANSWER_LINE.finditer(text)
    )


class CotSolver:
    """Answers one question per call with a single generation."""

    def __init__(self, model: Model, sampling: Sampling, instruction: str = COT_INSTRUCTION) -> None:
        """`instruction`: how the answer line is asked for (LABEL_INSTRUCTION on yes/no suites)."""
        self.model = model
        self.instruction = instruction
        self.sampling = sampling.model_copy(update={"stop": [*sampling.stop, model.end_of_turn]})

    def solve(self, question: str) -> RunTrace:
        started = time.perf_counter()
        messages = [
            ChatMessage(role="system", content=COT_SYSTEM),
            ChatMessage(role="user", content=f"{question}\n\n{self.instruction}"),
        ]
        generation: Generation | None = None
        for item in self.model.stream(Prompt(messages=messages), self.sampling, until=_answer_line_done):
            if isinstance(item, Generation):
                generation = item
        assert generation is not None
        timings = StepTimings(
            prompt_tokens=generation.prompt_tokens,
            cached_tokens=generation.cached_tokens,
            completion_tokens=generation.completion_tokens,
            prefill_s=generation.prefill_s,
            decode_s=generation.decode_s,
        )
        labels = self.instruction == LABEL_INSTRUCTION
        return cot_trace(question, self.model.name, generation.text, timings, time.perf_counter() - started, labels)


def cot_trace(
    question: str, model: str, reply: str, timings: StepTimings, wall_s: float, labels: bool = False
) -> RunTrace:
    """The one-step trace of a reply, its answer read by `extract_answer`."""
    answer = extract_answer(reply, labels)
    step = StepRecord(
        step=1,
        raw=reply,
        thought=reply,
        ok=answer is not None,
        error_kind=None if answer is not None else "parse",
        observation="" if answer is not None else NO_ANSWER_LINE,
        final=answer is not None,
        answer=answer,
        timings=timings,
    )
    return RunTrace(
        question=question,
        model=model,
        status="answered" if answer is not None else "error",
        answer=answer,
        steps=[step],
        wall_s=wall_s,
        error=None if answer is not None else NO_ANSWER_LINE,
    )


def reread(trace: RunTrace, labels: bool = False) -> RunTrace:
    """A stored CoT trace with its answer read again from the reply by this version's `extract_answer`.
    Generation stops at the same asked-for line as before, so this is what a new run would answer;
    the one exception is a reply cut after an `Answer:` line that only opens display math, where a
    new run goes on (none of the stored 100-question runs has one)."""
    step = trace.steps[0]
    return cot_trace(trace.question, trace.model, step.raw, step.timings, trace.wall_s, labels)
