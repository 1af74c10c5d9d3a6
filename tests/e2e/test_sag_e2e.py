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

def test_greedy_candidates_reproduce_the_greedy_run_step_for_step(e2e_home):
    # At temperature 0 every candidate is the greedy output, and the next step continues the
    # winner's KV sequence: the trace must match a plain greedy run exactly, cache use included.
    args = ("--model", "qwen2.5-coder-0.5b", "--no-boxes", "--json", "-q", "--max-steps", "2", "What is 123 * 456?")
    plain = json.loads(solve(e2e_home, *args).stdout)
    voted = json.loads(solve(e2e_home, "--sag", "3", "--sag-temperature", "0", *args).stdout)
    assert [s["raw"] for s in voted["steps"]] == [s["raw"] for s in plain["steps"]]
    assert [s["timings"]["cached_tokens"] for s in voted["steps"]] == [s["timings"]["cached_tokens"] for s in plain["steps"]]
    assert all([g["size"] for g in s["vote"]["groups"]] in ([3], []) for s in voted["steps"])
