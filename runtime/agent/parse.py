"""Get one code action out of a small model's text, however oddly it placed the fences.

Small models put fences in odd places, forget the closing fence, write prose after the code or
invent their own "Observation:". The rule: cut at the first invented observation, take the first
complete fenced block; failing that, an unclosed block that compiles; failing that, explain the
format in a ParseError that becomes the model's next observation.
"""

from __future__ import annotations

import re

from pydantic import BaseModel

CODE_OPEN = "```python"
CODE_CLOSE = "```"
THOUGHT = "Thought:"
OBSERVATION = "Observation:"

FORMAT_HELP = (
    "Your reply could not be used: write 'Thought:' with one short sentence, then exactly one "
    "code block that starts with ```python and ends with ```. Call final_answer(answer) in code "
    "when you know the answer."
)

_FENCE = re.compile(r"```[ \t]*(?:python|py|Python|python3)?[ \t]*\n(.*?)(?:\n[ \t]*```|```)", re.S)
_OPEN = re.compile(r"```[ \t]*(?:python|py|Python|python3)?[ \t]*\n(.*)\Z", re.S)
_INVENTED = re.compile(r"^\s*Observation\s*:", re.M)


class ParsedStep(BaseModel):
    thought: str
    code: str


class ParseError(ValueError):
    """The text held no usable code block; the message says what to write instead."""


def cut_at_invented_observation(text: str) -> str:
    match = _INVENTED.search(text)
    return text[: match.start()] if match else text


def _clean_thought(text: str) -> str:
    text = text.strip()
    if text.startswith(THOUGHT):
        text = text[len(THOUGHT):]
    return text.strip()


def _compiles(code: str) -> bool:
    try:
        compile(code, "<action>", "exec")
    except (SyntaxError, ValueError):
        return False
    return True


def parse_step(text: str) -> ParsedStep:
    """Thought and code of one step; raises ParseError with guidance when there is no code."""
    text = cut_at_invented_observation(text)
    match = _FENCE.search(text)
    if match and match.group(1).strip():
        return ParsedStep(thought=_clean_thought(text[: match.start()]), code=match.group(1).strip("\n"))
    unclosed = _OPEN.search(text)
    if unclosed and unclosed.group(1).strip() and _compiles(unclosed.group(1)):
        return ParsedStep(thought=_clean_thought(text[: unclosed.start()]), code=unclosed.group(1).strip("\n"))
    raise ParseError(FORMAT_HELP)


def has_complete_block(text: str) -> bool:
    """True once the text holds a closed code block: generation can stop there."""
    return bool(_FENCE.search(cut_at_invented_observation(text)))
