"""Events as people read them: the answer and the SAG vote, worded once for `runtime solve` and the TUI."""

from __future__ import annotations

import json

from runtime.agent import events as ev

SHOWN_CHARS = 80


def format_answer(answer: object) -> str:
    """Strings as they are, anything else as JSON, so a list answer reads the same everywhere."""
    return answer if isinstance(answer, str) else json.dumps(answer)


def vote_lines(vote: ev.Vote) -> list[str]:
    """The vote in a few lines: each group's size and observation, then what did not take part."""
    n = vote.requested
    lines = [f"{g.size}/{n} agree: {one_line(_voted_for(vote, g))}" for g in vote.groups]
    failed = sum(1 for c in vote.candidates if c.group is None)
    if failed:
        common = "" if vote.groups else f"; most common: {one_line(vote.candidates[vote.winner].observation)}"
        lines.append(f"{failed}/{n} failed{common}")
    if vote.abandoned:
        lines.append(f"{vote.abandoned}/{n} not finished (the vote was already decided)")
    return lines


def _voted_for(vote: ev.Vote, group: ev.VoteGroup) -> str:
    """A final answer votes on the answer: show it rather than the "Final answer: ..." observation."""
    best = vote.candidates[group.best]
    return format_answer(best.answer) if best.final else group.observation


def one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"
