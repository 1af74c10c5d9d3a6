"""First-thought prefix: the agent's first Thought starts with the opening of a chain-of-thought answer.

Small agents tend to write code before they have a plan. The Agent Distillation paper asks the
same model for a chain-of-thought answer first (no tools) and uses its first reasoning step as
the start of the agent's first thought, which the model then continues.
"""

from __future__ import annotations

import time

from runtime.agent import events as ev
from runtime.agent.parse import CODE_CLOSE
from runtime.agent.prompt import COT_SYSTEM
from runtime.model.base import ChatMessage, Generation, Model, Prompt, Sampling

PLAN_INSTRUCTION = "Think step by step. Start with one short paragraph that says how you will solve it."
_MAX_TOKENS = 96


def first_paragraph(text: str) -> str:
    """The first paragraph as one line, without code: it must read as the start of a Thought."""
    text = text.split(CODE_CLOSE)[0].strip()
    paragraph = text.split("\n\n")[0]
    return " ".join(paragraph.split())


def _paragraph_done(text: str) -> bool:
    return "\n\n" in text.strip()


def first_thought(model: Model, question: str, seed: int) -> ev.FirstThought:
    """Greedy, short, and stopped at the first blank line: only the first paragraph is used."""
    started = time.perf_counter()
    messages = [
        ChatMessage(role="system", content=COT_SYSTEM),
        ChatMessage(role="user", content=f"{question}\n\n{PLAN_INSTRUCTION}"),
    ]
    generation: Generation | None = None
    sampling = Sampling(max_tokens=_MAX_TOKENS, seed=seed, stop=[model.end_of_turn, CODE_CLOSE])
    for item in model.stream(Prompt(messages=messages), sampling, until=_paragraph_done):
        if isinstance(item, Generation):
            generation = item
    assert generation is not None
    return ev.FirstThought(
        text=first_paragraph(generation.text),
        completion_tokens=generation.completion_tokens,
        seconds=time.perf_counter() - started,
    )
