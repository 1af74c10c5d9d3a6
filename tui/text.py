"""Small wording helpers shared by the widgets and the context preface."""

from __future__ import annotations

import json


def format_answer(answer: object) -> str:
    """An answer as the user reads it: strings as they are, anything else as JSON (as `runtime solve` prints it)."""
    return answer if isinstance(answer, str) else json.dumps(answer)


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
