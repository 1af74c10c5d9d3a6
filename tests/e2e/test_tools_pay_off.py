"""Game of 24 asked the way people ask it: `runtime solve` turns the fitting tool into the answer.

Each phrasing is solved by the 0.5B model through the shipped box, in a new process, with the
defaults: the tool that fits is demonstrated, its call opens the first step, and the answer is
checked against the form asked for (never the target `24`).
"""

from __future__ import annotations

import json

import pytest

from runtime.eval.checkers import check_game24
from tests.e2e.test_solve import solve

pytestmark = pytest.mark.e2e

PHRASINGS = [
    ("can you get 24 from 3 3 8 8?", [3, 3, 8, 8]),
    ("Use 4, 7, 8 and 8 once each with + - * / to reach 24", [4, 7, 8, 8]),
    ("My son's homework says: with 1, 5, 5 and 5, using + - * / and each number exactly once, make 24. How?",
     [1, 5, 5, 5]),
    ("Make 24 from 2 9 10 12", [2, 9, 10, 12]),
]


@pytest.fixture(scope="module")
def shipped_home(tmp_path_factory):
    """A home with only the shipped boxes: the session's e2e home gets a distilled box installed
    (tests/e2e/test_distill.py), whose solver then fits these questions best."""
    return tmp_path_factory.mktemp("shipped-boxes-home")


@pytest.mark.parametrize(("question", "numbers"), PHRASINGS, ids=[str(n) for _q, n in PHRASINGS])
def test_a_puzzle_in_everyday_words_is_solved_with_the_box(shipped_home, question, numbers):
    proc = solve(shipped_home, "--model", "qwen2.5-coder-0.5b", "--json", question)
    assert proc.returncode == 0, proc.stderr[-2000:]
    trace = json.loads(proc.stdout)
    assert check_game24(numbers, trace["answer"]).correct, (trace["answer"], [s["code"] for s in trace["steps"]])
    assert len(trace["steps"]) <= 3
