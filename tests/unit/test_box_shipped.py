"""The shipped boxes pass their own self-tests, and tool selection finds the right tool."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from runtime.boxes import ToolSelector, load_toolset
from runtime.boxes.bundle import open_bundle
from runtime.boxes.loader import check_bundle
from runtime.boxes.store import shipped_dir
from runtime.config import Settings
from runtime.tools import ToolError, Toolset, ToolSpec

SHIPPED = ["math", "text", "time"]


@pytest.fixture(scope="module")
def toolset() -> Toolset:
    return load_toolset(Settings(home=Path("/nonexistent-runtime-home")))


@pytest.mark.slow
@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_box_passes_import_checks_and_self_test(name: str) -> None:
    bundle = open_bundle(shipped_dir() / name)
    specs = check_bundle(bundle)
    assert specs
    untested = {s.qualified_name.split(".", 1)[1] for s in specs} - set(bundle.examples)
    assert not untested, f"every shipped tool needs examples: {untested}"


def test_every_shipped_tool_is_documented_and_typed(toolset: Toolset) -> None:
    for spec in toolset.specs():
        assert len(spec.description) > 40, spec.qualified_name
        assert "->" in spec.signature, spec.qualified_name
        assert "Any" not in spec.signature, spec.qualified_name


def test_game_of_24_through_the_toolset(toolset: Toolset) -> None:
    expression = toolset.call("solve_24", {"numbers": [4, 7, 8, 8]})
    assert toolset.call("check_24", {"expression": expression, "numbers": [4, 7, 8, 8]})["ok"] is True
    assert toolset.call("solve_24", {"numbers": [1, 1, 1, 1]}) is None


def test_math_refuses_code_in_expressions(toolset: Toolset) -> None:
    for attack in ("__import__('os').system('true')", "().__class__.__mro__", "open('/etc/passwd')", "lambda: 1"):
        with pytest.raises(ToolError):
            toolset.call("evaluate", {"expression": attack})
        with pytest.raises(ToolError):
            toolset.call("solve_equation", {"equation": attack})


def test_textbook_notation_is_understood(toolset: Toolset) -> None:
    assert toolset.call("solve_equation", {"equation": "3x^2 - 12 = 0"}) == ["-2", "2"]
    assert toolset.call("evaluate", {"expression": "2(3 + 4) × 5!"})["exact"] == "1680"


class CountingEmbedder:
    """The real embedder, counting passages embedded (selection must cache them)."""

    def __init__(self) -> None:
        from runtime.retrieval.embedder import E5Embedder

        self.inner = E5Embedder()
        self.passages_embedded = 0

    @property
    def info(self):
        return self.inner.info

    def query(self, text: str) -> np.ndarray:
        return self.inner.query(text)

    def passages(self, texts: list[str]) -> np.ndarray:
        self.passages_embedded += len(texts)
        return self.inner.passages(texts)


class NoEmbedder:
    def query(self, text: str) -> np.ndarray:
        raise AssertionError("no embedding needed when every tool fits")

    passages = query  # type: ignore[assignment]


def test_all_tools_are_kept_when_they_fit(toolset: Toolset) -> None:
    specs = toolset.specs()[:5]
    assert ToolSelector(NoEmbedder()).select(specs, "anything", limit=12) == specs


@pytest.mark.slow
def test_selection_finds_the_right_tools_and_embeds_each_tool_once(toolset: Toolset, tmp_path: Path) -> None:
    embedder = CountingEmbedder()
    selector = ToolSelector(embedder, cache_dir=tmp_path)
    specs: list[ToolSpec] = toolset.specs()
    assert len(specs) > 12
    chosen = selector.select(specs, "Use the numbers 4 7 8 8 to make 24", limit=12)
    assert len(chosen) == 12
    assert chosen[0].name == "solve_24"
    assert selector.select(specs, "How many times does the letter r appear in strawberry?", limit=3)[0].name == (
        "count_occurrences"
    )
    assert selector.select(specs, "What day of the week was 4 July 1776?", limit=3)[0].name == "day_of_week"
    assert embedder.passages_embedded == len(specs)

    fresh = CountingEmbedder()
    later_process = ToolSelector(fresh, cache_dir=tmp_path)  # e.g. the next `runtime solve`
    assert later_process.select(specs, "Use the numbers 4 7 8 8 to make 24", limit=12) == chosen
    assert fresh.passages_embedded == 0


@pytest.mark.slow
def test_tools_that_clearly_fit_are_hinted_in_the_task_and_others_are_not(toolset: Toolset, tmp_path: Path) -> None:
    from runtime.agent.prompt import task_message
    from runtime.boxes import pick_tools
    from runtime.boxes.select import unfitted_pick

    settings = Settings(home=tmp_path)
    selector = ToolSelector(cache_dir=tmp_path)
    game = pick_tools(settings, toolset.specs(), "Use the numbers 4 7 8 8 to make 24", selector)
    assert "solve_24" in game.hinted and len(game.hinted) <= settings.tool_hints
    # every question's system prompt lists the same tools (one cached prefix); the fitting tool
    # the list lacks is shown after it (`more_tools_section`)
    assert game.listed == unfitted_pick(settings, toolset.specs()).listed
    assert game.hinted == ["solve_24"] and [s.name for s in game.shown] == ["solve_24"]
    assert task_message("Make 24 from 4 7 8 8", game.hinted).endswith(
        "\nHint: call solve_24(...) in your code; it is already defined."
    )
    assert task_message("q", ["retrieve", "solve_24"]).endswith("call retrieve(...) or solve_24(...) in your code; they are already defined.")
    word_problem = "Dave had sixteen apps on his phone. After deleting some, he had 5 left. How many did he delete?"
    plain = pick_tools(settings, toolset.specs(), word_problem, selector)
    assert plain.hinted == [] and plain.listed == toolset.specs()[: settings.max_prompt_tools]  # one cached prefix
    assert plain == unfitted_pick(settings, toolset.specs())  # the prefix `runtime warm` computes ahead
    off = settings.model_copy(update={"tool_hints": 0})
    assert pick_tools(off, toolset.specs(), "Use the numbers 4 7 8 8 to make 24", selector).hinted == []
    # boxes the user named (--box): their best tool is hinted even below the score
    best = selector.ranked(toolset.specs(), word_problem)[0][0].name
    assert pick_tools(settings, toolset.specs(), word_problem, selector, named=True).hinted == [best]


@pytest.mark.parametrize(
    ("question", "tool", "said"),
    [
        ("How many days are there between 2024-01-01 and 2024-03-01?", "days_between", True),
        ("What are the prime factors of 360?", "prime_factors", True),
        ("What day of the week was 4 July 1776?", "day_of_week", True),
        ("What day was 4 July 1776?", "day_of_week", False),
        ("What is the 100th prime?", "nth_prime", False),  # "nth" is not said
        ("Is 97 prime?", "is_prime", False),  # one word of three letters or more is no name
    ],
)
def test_a_question_says_a_tool_name_in_words(question: str, tool: str, said: bool) -> None:
    from runtime.boxes.select import says_name

    assert says_name(question, tool) is said


@pytest.mark.slow
def test_a_tool_the_question_names_fits_first(toolset: Toolset, tmp_path: Path) -> None:
    # by similarity alone day_of_week (0.88) ranked above days_between (0.82) for this question
    from runtime.boxes import pick_tools

    settings = Settings(home=tmp_path)
    pick = pick_tools(settings, toolset.specs(), "How many days are there between 2024-01-01 and 2024-03-01?",
                      ToolSelector(cache_dir=tmp_path))
    assert pick.fits == "days_between" and pick.hinted == ["days_between"]
    assert [s.name for s in pick.shown] == ["days_between"]


def test_the_sandbox_defines_only_the_listed_tools(toolset: Toolset, tmp_path: Path) -> None:
    # a model's own variable named like an unlisted tool (`day_of_week = ...`) must stay its own
    from runtime.kit import KitTools, ToolChoice, open_sandbox
    from runtime.boxes.select import unfitted_pick

    settings = Settings(home=tmp_path)
    tools = KitTools(settings, toolset, None, ToolChoice())
    pick = unfitted_pick(settings, toolset.specs())
    defined = tools.sandbox_tools(pick)
    assert [s.name for s in defined.specs()] == [s.name for s in pick.listed] and "day_of_week" not in defined
    assert tools.sandbox_tools(unfitted_pick(settings, toolset.specs())) is defined  # chat keeps its sandbox
    with open_sandbox(settings, defined) as sandbox:
        result = sandbox.run('day_of_week = "Thursday"\nprint(day_of_week)')
    assert result.ok and result.stdout.strip() == "Thursday", result
