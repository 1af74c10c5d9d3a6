"""The saved prompt state hits for every shipped model: `runtime solve` processes only the new tokens.

Each model runs three one-step solves in a fresh RUNTIME_HOME (sharing the assembled GGUFs of the
other e2e tests): the first computes the prompt's fixed start, the same question again loads all
of it, and a different question with the same tools loads all of it and evaluates only its own
task message. Steps are cut short (8 tokens): only the prompt's cost is under test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e

TASK_TOKENS = 160
"""More than any model needs for the task message ("Task: <short question>", then the hint with
its demonstration call of the tool that fits: 89 to 104 tokens) plus the chat template's tail; far
fewer than the tools listed (~800), which a checkpoint cut in the wrong place would recompute."""


@pytest.fixture
def fresh_home(tmp_path, e2e_home):
    home = tmp_path / "home"
    home.mkdir()
    (e2e_home / "models").mkdir(exist_ok=True)
    (home / "models").symlink_to(e2e_home / "models")
    return home


def runtime_json(home, *args: str) -> dict:
    """`runtime ARGS --json --quiet` in a new process, steps cut short; its JSON record."""
    env = {**os.environ, "RUNTIME_HOME": str(home), "RUNTIME_THREADS": "2", "RUNTIME_MAX_TOKENS_PER_STEP": "8"}
    proc = subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", *args, "--json", "--quiet"],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert proc.returncode in (0, 3), proc.stderr
    return json.loads(proc.stdout)


def solve(home, model: str, question: str, boxes: tuple[str, ...] = ("--box", "text")) -> dict:
    return runtime_json(home, "solve", "--model", model, "--max-steps", "1", *boxes, question)


@pytest.mark.parametrize("model", ["smollm2-135m", "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"])
def test_a_second_solve_processes_no_prompt_prefix_tokens(fresh_home, model):
    first = solve(fresh_home, model, "What is 17 * 23?")
    prefix = first["prefix"]
    assert prefix["source"] == "computed" and prefix["computed_tokens"] == prefix["tokens"] > 300

    for question in ("What is 17 * 23?", "How many vowels are in 'banana'?"):
        trace = solve(fresh_home, model, question)
        again = trace["prefix"]
        assert again["tokens"] == prefix["tokens"], question
        assert (again["source"], again["cached_tokens"], again["computed_tokens"]) == ("disk", prefix["tokens"], 0)
        step = trace["steps"][0]["timings"]
        # the first step evaluates only what follows the prefix: its task and the template's tail
        assert step["cached_tokens"] == prefix["tokens"], question
        assert 0 < step["computed_tokens"] == step["prompt_tokens"] - prefix["tokens"] <= TASK_TOKENS, question


def test_warm_saves_the_state_a_first_word_problem_needs(fresh_home):
    """`./install.sh` runs `runtime warm`: the first solve after it loads its whole prefix from disk."""
    prepared = runtime_json(fresh_home, "warm", "--model", "smollm2-135m")
    assert prepared["prefix"]["source"] == "computed" and len(prepared["tools"]) == 12
    # a word problem: no tool clearly fits, so it gets the tools `warm` prepared (all boxes, as by default)
    question = "Tom had 12 apples and gave 5 to Ann. How many apples does Tom have now?"
    trace = solve(fresh_home, "smollm2-135m", question, boxes=())
    assert trace["prefix"]["source"] == "disk"
    assert trace["prefix"]["tokens"] == prepared["prefix"]["tokens"]


def test_after_warm_a_question_a_tool_fits_computes_only_that_tool(fresh_home):
    """Every question's system prompt lists the same tools; a fitting tool the list lacks follows
    it, so the state `warm` saved still holds all of the list (Qwen's tokenizer would merge the
    list's closing fence with the newlines after it, and the state would miss)."""
    prepared = runtime_json(fresh_home, "warm", "--model", "qwen2.5-coder-0.5b")
    trace = solve(fresh_home, "qwen2.5-coder-0.5b", "Use the numbers 4 7 8 8 to make 24", boxes=())
    assert trace["tools"] == prepared["tools"] + ["solve_24"] and trace["hints"] == ["solve_24"]
    prefix = trace["prefix"]
    # all but the chat template's opening of the user's turn, which `warm` saved after the list
    assert prefix["cached_tokens"] >= prepared["prefix"]["tokens"] - 8, prefix
    assert 0 < prefix["computed_tokens"] <= TASK_TOKENS, prefix
