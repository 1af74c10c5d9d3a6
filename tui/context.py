"""Follow-up questions keep context: earlier answers go into the task text.

`Agent.run` takes one question, so for now the TUI prefaces the question with the last few
answered turns. Only question and answer are kept (not the steps), which is what a small model's
short context can afford.
"""

from __future__ import annotations

from runtime.agent.summary import format_answer
from runtime.tui.sessions import Turn

KEEP_TURNS = 3
MAX_ANSWER_CHARS = 300


def with_context(turns: list[Turn], question: str) -> str:
    """The task text for `question`, prefaced by the answered turns before it."""
    earlier = [t for t in turns if t.status == "answered"][-KEEP_TURNS:]
    if not earlier:
        return question
    lines = ["Earlier in this conversation:"]
    lines += [
        f"- Q: {_one_line(t.question)} A: {_one_line(format_answer(t.answer))[:MAX_ANSWER_CHARS]}" for t in earlier
    ]
    lines.append(f"Current task: {question}")
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())
