"""The prompt-state cache: checkpoints cut on the prompt's own tokens, the size cap, `runtime cache`."""

from __future__ import annotations

import json
import os
import re

import pytest
from click.testing import CliRunner

from runtime.agent.loop import Agent
from runtime.cli.main import cli
from runtime.model.base import checkpoint_lengths
from runtime.model.prefix_cache import PrefixStates
from runtime.sandbox import Sandbox, SandboxPolicy
from runtime.tools import Tool, Toolset, ToolSpec
from tests.fakes import ScriptedModel


def words(text: str) -> list[int]:
    """A token is a word with the whitespace after it, so "x```" + "\\n\\ny" tokenizes across the cut."""
    return [hash(piece) for piece in re.findall(r"\s+|\S+\s*", text)]


def test_a_cut_inside_a_merged_token_ends_before_that_token():
    prompt = "alpha beta```\n\ngamma delta"
    tokens = words(prompt)
    cut = prompt.index("\n\n")
    assert words(prompt[:cut]) != tokens[: len(words(prompt[:cut]))]  # tokenized alone it is no prefix
    assert checkpoint_lengths(words, prompt, tokens, [cut]) == [1]  # "alpha " only: "beta```\n\n" spans the cut


def test_cuts_on_token_boundaries_keep_every_token_before_them():
    prompt = "one two three four"
    tokens = words(prompt)
    cuts = [prompt.index("three"), len(prompt)]
    assert checkpoint_lengths(words, prompt, tokens, cuts) == [2, 4]


def test_empty_and_repeated_checkpoints_are_dropped():
    prompt = "one two```\n\nthree"
    tokens = words(prompt)
    # 0 keeps nothing; both later cuts fall inside "two```\n\n", so they keep the same 1 token
    assert checkpoint_lengths(words, prompt, tokens, [prompt.index("\n"), 0, prompt.index("```") + 1]) == [1]


def _double_toolset() -> Toolset:
    spec = ToolSpec(
        name="double", qualified_name="t.double", description="Return twice n.",
        signature="(n: int) -> int", param_names=["n"],
    )
    return Toolset([Tool(spec=spec, handler=lambda args: args["n"] * 2)])


def test_the_agents_checkpoints_are_starts_of_the_token_list_of_every_prompt():
    toolset = _double_toolset()
    model = ScriptedModel(["Thought: t\n```python\nprint(double(2))\n```", "Thought: t\n```python\nfinal_answer(4)\n```"])
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        list(Agent(model, box, tools=toolset.specs()).run("What is double 2?"))
    (static_text, _listed, tools_text), (static, _, with_tools) = model.prefixes[0], model.checkpoints[0]
    assert static_text.endswith("```") and "def double" in tools_text and "What is double" not in tools_text
    # the static part ends on "```", which the whole prompt merges with the "\n\n" after it
    assert model.tokenize(static_text) != with_tools[: len(model.tokenize(static_text))]
    assert len(static) == len(model.tokenize(static_text)) - 1
    for prompt in model.prompts:  # so its saved state matches every prompt of the run
        tokens = model.tokenize(prompt)
        assert tokens[: len(static)] == static and tokens[: len(with_tools)] == with_tools


def test_a_different_question_with_the_same_tools_shares_every_checkpoint():
    toolset = _double_toolset()
    model = ScriptedModel(["Thought: t\n```python\nfinal_answer(1)\n```"] * 2)
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        for question in ("What is double 2?", "Name a colour."):
            list(Agent(model, box, tools=toolset.specs()).run(question))
    assert model.checkpoints[0] == model.checkpoints[1]


def test_a_fitting_tool_after_the_fixed_list_keeps_the_lists_checkpoint():
    # what `runtime warm` saves for the fixed list is a start of the prompt of a question a tool fits
    toolset = _double_toolset()
    extra = ToolSpec(name="halve", qualified_name="t.halve", signature="(n: int) -> float", param_names=["n"])
    model = ScriptedModel(["Thought: t\n```python\nfinal_answer(1)\n```"] * 2)
    with Sandbox(SandboxPolicy(timeout_s=5), toolset=toolset) as box:
        list(Agent(model, box, tools=toolset.specs()).run("Name a colour."))
        list(Agent(model, box, tools=toolset.specs(), task_tools=[extra], hints=["halve"]).run("Halve 4."))
    (_, warmed_list, _), (_, fitted_list, fitted) = model.checkpoints
    assert fitted_list == warmed_list and len(fitted) > len(fitted_list)


def _state(states: PrefixStates, key: str, size: int, age: int) -> None:
    path = states.path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    os.utime(path, (1_000_000 - age, 1_000_000 - age))


def test_eviction_keeps_the_most_recently_used_states_that_fit(tmp_path):
    states = PrefixStates(tmp_path / "prefix", limit_bytes=250)
    for key, age in (("old", 3), ("middle", 2), ("new", 1)):
        _state(states, key, 100, age)
    states.used(states.path("old"))  # loaded just now: the most recently used
    assert [p.stem for p in states.evict()] == ["middle"]
    assert sorted(p.stem for p in (tmp_path / "prefix").iterdir()) == ["new", "old"]
    assert states.summary().bytes == 200 and states.summary().states == 2


def test_a_state_larger_than_the_limit_is_not_kept(tmp_path):
    states = PrefixStates(tmp_path / "prefix", limit_bytes=50)
    _state(states, "big", 100, 1)
    states.evict()
    assert states.summary().states == 0


def test_clear_deletes_states_and_interrupted_saves(tmp_path):
    states = PrefixStates(tmp_path / "prefix", limit_bytes=1 << 20)
    _state(states, "a", 10, 1)
    (tmp_path / "prefix" / "b.tmp1234").write_bytes(b"partial")
    assert states.clear().states == 1
    assert list((tmp_path / "prefix").iterdir()) == []


@pytest.fixture
def cached_states(home, monkeypatch):
    monkeypatch.setenv("RUNTIME_PREFIX_CACHE_MB", "2")
    states = PrefixStates(home / "cache" / "prefix", limit_bytes=2 << 20)
    _state(states, "a", 1 << 20, 1)
    _state(states, "b", 1 << 19, 2)
    return states


def test_cache_shows_the_folder_count_and_size(cached_states):
    result = CliRunner().invoke(cli, ["cache"])
    assert result.exit_code == 0, result.output
    assert str(cached_states.folder) in result.output and "2 states, 1.5 MB of 2.0 MB" in result.output
    shown = json.loads(CliRunner().invoke(cli, ["cache", "show", "--json"]).output)
    assert shown == {"folder": str(cached_states.folder), "states": 2, "bytes": 3 << 19, "limit_bytes": 2 << 20}


def test_cache_clear_needs_a_yes(cached_states):
    refused = CliRunner().invoke(cli, ["cache", "clear"])  # no terminal to ask at
    assert refused.exit_code == 1 and "run again with --yes" in refused.output
    assert cached_states.summary().states == 2
    cleared = CliRunner().invoke(cli, ["cache", "clear", "--yes"])
    assert cleared.exit_code == 0 and "deleted 2 prompt states (1.5 MB)" in cleared.output
    assert cached_states.summary().states == 0
