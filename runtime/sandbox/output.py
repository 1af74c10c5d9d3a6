"""Bounded capture of printed text and short summaries of values, both inside the worker.

The bound is applied while printing, not afterwards, so a loop printing gigabytes costs a few
kilobytes of memory and is stopped once it is clearly runaway.
"""

from __future__ import annotations

import reprlib
from typing import Any


class OutputLimitExceeded(BaseException):
    """Printed text passed the stop limit. A BaseException, so `except Exception` cannot swallow it."""


class Printer:
    """The sandbox's `print`: keeps the head and tail of each action's output, counts the rest.

    One Printer lives as long as the worker, so functions and generators defined in earlier
    actions print into the current action's output.
    """

    def __init__(self, keep_chars: int, stop_chars: int) -> None:
        self._tail_limit = keep_chars // 4
        self._head_limit = keep_chars - self._tail_limit
        self._stop_chars = stop_chars
        self.reset()

    def reset(self) -> None:
        self._head: list[str] = []
        self._head_len = 0
        self._tail = ""
        self.total = 0

    def write(self, text: str) -> None:
        if type(text) is not str:
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self.total += len(text)
        if self.total > self._stop_chars:
            raise OutputLimitExceeded
        room = self._head_limit - self._head_len
        if room > 0:
            self._head.append(text[:room])
            self._head_len += min(room, len(text))
            text = text[room:]
        if text:
            self._tail = (self._tail + text)[-self._tail_limit :]

    def text(self) -> str:
        head = "".join(self._head)
        dropped = self.total - len(head) - len(self._tail)
        if dropped <= 0:
            return head + self._tail
        return f"{head}\n[... {dropped} more characters truncated]\n{self._tail}"

    def __call__(self) -> str:
        """RestrictedPython's `printed`: the text so far."""
        return self.text()

    def _call_print(self, *objects: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None,
                    flush: bool = False) -> None:
        """What `print(...)` compiles to. Printing to another file object calls its write()."""
        print(*objects, sep=sep, end=end, file=self if file is None else file)


def summarize(value: Any, limit: int) -> str:
    """repr(value), shortened the way reprlib does and capped at `limit` characters."""
    shortener = reprlib.Repr()
    shortener.maxlevel = 4
    shortener.maxstring = shortener.maxother = shortener.maxlong = limit
    for name in ("maxtuple", "maxlist", "maxarray", "maxdeque", "maxset", "maxfrozenset"):
        setattr(shortener, name, 100)
    shortener.maxdict = 50
    try:
        text = shortener.repr(value)
    except ValueError:  # int too large to print as decimal
        text = f"<int with {value.bit_length()} bits>" if isinstance(value, int) else "<unprintable value>"
    if hasattr(value, "__len__") and "..." in text and not isinstance(value, str):
        try:
            text += f"  # {type(value).__name__} of {len(value)} items"
        except Exception:  # a user-defined __len__ may fail
            pass
    return truncate(text, limit)


def truncate(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[... {len(text) - limit} more characters truncated]"
