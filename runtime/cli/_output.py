"""Small stderr helpers shared by the commands: progress for long work, status lines."""

from __future__ import annotations

import sys
import time

import click


def info(message: str) -> None:
    click.echo(message, err=True)


class ByteProgress:
    """A `Progress` callback that draws one self-updating line on stderr (plain lines off a TTY)."""

    def __init__(self) -> None:
        self._label = ""
        self._last = 0.0
        self._tty = sys.stderr.isatty()

    def __call__(self, label: str, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if label == self._label and not finished and now - self._last < (0.2 if self._tty else 5.0):
            return
        self._label, self._last = label, now
        pct = 100 * done / total if total else 100
        line = f"{label}: {pct:5.1f}% of {total / 1e9:.2f} GB"
        if self._tty:
            click.echo(f"\r{line}", err=True, nl=finished)
        else:
            click.echo(line, err=True)


class TokenProgress:
    """A `(done, total)` callback for prompt tokens: a self-updating percentage on a TTY that is
    erased when done (the step printer then says what it cost), a line every 5 s off one."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._last = 0.0
        self._tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if self._tty and finished:
            click.echo("\r\033[K", err=True, nl=False)
            return
        if now - self._last < (0.2 if self._tty else 5.0) or finished:
            return
        self._last = now
        line = f"{self._label}: {100 * done / total:3.0f}% of {total} tokens"
        click.echo(f"\r{line}\033[K" if self._tty else line, err=True, nl=not self._tty)
