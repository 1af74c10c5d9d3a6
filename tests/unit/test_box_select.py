"""Which tool fits a question: similarity, and a tool the question names in words."""

from __future__ import annotations

import pytest

from runtime.boxes.select import named_in, pick_tools
from runtime.config import Settings
from runtime.tools import ToolSpec


class FixedScores:
    """A selector whose similarities are given: the ranking rule is under test, not the embedder."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def ranked(self, specs: list[ToolSpec], question: str) -> list[tuple[ToolSpec, float]]:
        return sorted(((s, self.scores[s.name]) for s in specs), key=lambda pair: -pair[1])


def spec(name: str) -> ToolSpec:
    return ToolSpec(name=name, qualified_name=f"box.{name}", description=f"{name} tool", signature="() -> int")


@pytest.mark.parametrize(
    ("question", "tool", "named"),
    [
        ("How many days are there between 2024-01-01 and 2024-03-01?", "days_between", True),
        ("What day of the week is 2024-07-04?", "day_of_week", True),
        ("How many days are there between 2024-01-01 and 2024-03-01?", "day_of_week", False),
        ("What is the sum of the squares of the first 20 primes?", "is_prime", False),  # "is" is too short to count
        ("Use the numbers 4 7 8 8 to make 24", "solve_24", False),
        ("Evaluate 2 + 2", "evaluate", False),  # one word is not a name
    ],
)
def test_a_tool_is_named_when_the_question_says_its_words(question, tool, named):
    assert named_in(question, tool) is named


def test_a_named_tool_fits_before_a_more_similar_one(tmp_path):
    names = [f"tool_{i}" for i in range(12)] + ["day_of_week", "days_between"]
    specs = [spec(n) for n in names]
    selector = FixedScores({**{n: 0.5 for n in names}, "day_of_week": 0.88, "days_between": 0.82})
    settings = Settings(home=tmp_path)
    pick = pick_tools(settings, specs, "How many days are there between 2024-01-01 and 2024-03-01?", selector)
    assert pick.fits == "days_between" and pick.hinted == ["days_between"]
    assert {"day_of_week", "days_between"} <= {s.name for s in pick.listed}
    other = pick_tools(settings, specs, "What day of the week is 2024-07-04?", selector)
    assert other.fits == "day_of_week"
