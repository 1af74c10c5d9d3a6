"""`runtime solve --sag N` end to end: the real GGUF samples candidates, the real sandbox runs them in forks."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_solve import solve

pytestmark = pytest.mark.e2e


def test_sag_votes_every_step_and_answers_an_arithmetic_question(e2e_home):
    # At the default T=0.4 (seed 0) the 0.5B model's candidates split 2/1 on step 1; the majority is right.
    proc = solve(
        e2e_home, "--model", "qwen2.5-coder-0.5b", "--no-boxes", "--sag", "3", "--json", "--max-steps", "4",
        "What is 123 * 456?",
    )
    assert proc.returncode == 0, proc.stderr
    trace = json.loads(proc.stdout)
    assert trace["answer"] == 56088
    for step in trace["steps"]:
        vote = step["vote"]
        assert vote["requested"] == 3 and len(vote["candidates"]) + vote["abandoned"] == 3
        for candidate in vote["candidates"]:
            assert {"raw", "code", "observation", "group", "mean_logprob"} <= candidate.keys()
        if vote["groups"]:  # the winner is the best of the largest group
            sizes = [g["size"] for g in vote["groups"]]
            assert sizes == sorted(sizes, reverse=True)
            assert vote["candidates"][vote["winner"]]["group"] == 0
    assert "/3 agree: " in proc.stderr
