"""Cluster and consolidate: real embedder, real sandbox; the teacher's merge is scripted text."""

from __future__ import annotations

import pytest

from runtime.distill.cluster import ClusterOptions, cluster, fit_inputs
from runtime.distill.consolidate import consolidate
from runtime.distill.records import Case, Cluster, DistilledTool
from runtime.retrieval.embedder import E5Embedder
from runtime.sandbox import SandboxPolicy
from tests.fakes import ScriptedModel

POLICY = SandboxPolicy(timeout_s=10)
MODULES = list(POLICY.allowed_modules)


def tool(name: str, params: str, body: str, doc: str, cases: list[tuple[dict, object]]) -> DistilledTool:
    code = f'def {name}({params}) -> int:\n    """{doc}\n\n    Args:\n        x: input.\n    """\n    {body}\n'
    names = [p.split(":")[0].strip() for p in params.split(",")]
    return DistilledTool(
        key=name,
        name=name,
        params=names,
        code=code,
        how="annotated",
        sources=[name],
        cases=[Case(inputs=i, output=o) for i, o in cases],
    )


SQUARES = tool(
    "sum_of_squares",
    "values: list[int]",
    "return sum(v * v for v in values)",
    "Add up the squares of the values.",
    [({"values": [1, 2]}, 5), ({"values": [3]}, 9)],
)
SQUARE_TOTAL = tool(
    "square_total",
    "nums: list[int]",
    "return sum([n ** 2 for n in nums])",
    "Total of each number multiplied by itself.",
    [({"nums": [2, 2]}, 8)],
)
DIVISORS = tool(
    "count_divisors",
    "n: int",
    "return sum(1 for d in range(1, n + 1) if n % d == 0)",
    "Number of positive divisors of n.",
    [({"n": 12}, 6), ({"n": 7}, 2)],
)
DIGITS = tool(
    "digit_sum",
    "n: int",
    "return sum(int(c) for c in str(n))",
    "Sum of the decimal digits of n.",
    [({"n": 123}, 6), ({"n": 99}, 18)],
)
WORDS = tool(
    "count_words", "text: str", "return len(text.split())", "Number of words in a text.", [({"text": "a b c"}, 3)]
)
REPEAT = tool(
    "count_repeated_words",
    "text: str, times: int",
    "return len(text.split()) * times",
    "Number of words in a text repeated some times.",
    [({"text": "a b", "times": 2}, 4)],
)


@pytest.fixture(scope="module")
def embedder() -> E5Embedder:
    return E5Embedder()


def names(clusters: list[Cluster]) -> list[set[str]]:
    return [set(c.names) for c in clusters]


def test_tools_that_agree_on_each_others_inputs_cluster(embedder):
    clusters = cluster([SQUARES, SQUARE_TOTAL, WORDS], embedder, POLICY, ClusterOptions())
    assert names(clusters) == [{"sum_of_squares", "square_total"}, {"count_words"}]
    [link] = clusters[0].links
    assert (link.shared, link.agreed) == (3, 3) and link.linked  # called by position: the names differ


def test_tools_that_disagree_on_shared_inputs_never_cluster(embedder):
    clusters = cluster([DIVISORS, DIGITS], embedder, POLICY, ClusterOptions(threshold=0.0))
    assert names(clusters) == [{"count_divisors"}, {"digit_sum"}]


@pytest.mark.slow
def test_the_threshold_decides_where_there_is_no_shared_input(embedder):
    assert len(cluster([SQUARES, REPEAT], embedder, POLICY, ClusterOptions())) == 2
    merged = cluster([SQUARES, REPEAT], embedder, POLICY, ClusterOptions(threshold=0.0))
    assert names(merged) == [{"sum_of_squares", "count_repeated_words"}]
    assert merged[0].links[0].shared == 0  # neither signature takes the other's arguments
    relaxed = cluster([DIVISORS, DIGITS], embedder, POLICY, ClusterOptions(threshold=0.0, min_agreement=0.0))
    assert len(relaxed) == 1


def test_fit_inputs():
    assert fit_inputs({"a": 1}, ["a"], ["a", "b"], {"a"}) == {"a": 1}
    assert fit_inputs({"a": 1}, ["a"], ["x"], {"x"}) == [1]
    assert fit_inputs({"a": 1}, ["a"], ["x", "y"], {"x", "y"}) is None  # y would be missing
    assert fit_inputs({"a": 1, "b": 2}, ["a", "b"], ["x"], {"x"}) is None


MERGED = '''```python
def sum_of_powers(values: list[int], power: int = 2) -> int:
    """Add up each value raised to a power.

    sum_of_powers([1, 2]) gives 5.

    Args:
        values: The numbers.
        power: The exponent.
    """
    return sum(v ** power for v in values)
```'''


def group_of(*tools: DistilledTool) -> Cluster:
    return Cluster(key="k", id=1, members=[t.key for t in tools], names=[t.name for t in tools])


def test_the_teachers_merge_must_pass_every_members_cases():
    members = [SQUARES, SQUARE_TOTAL]
    teacher = ScriptedModel([MERGED])
    merged = consolidate(group_of(*members), members, teacher, MODULES, POLICY)
    assert merged.how == "merged" and merged.name == "sum_of_powers"
    assert merged.sources == ["sum_of_squares", "square_total"]
    assert {str(c.inputs) for c in merged.cases} == {"{'values': [1, 2]}", "{'values': [3]}", "{'values': [2, 2]}"}
    assert "def sum_of_squares" in teacher.prompts[0] and "def square_total" in teacher.prompts[0]


def test_a_failing_merge_falls_back_to_the_member_that_passes_most_cases():
    wider = tool(
        "sum_squares_from",
        "values: list[int], start: int = 0",
        "return start + sum(v * v for v in values)",
        "Squares added to a start value.",
        [({"values": [1, 1], "start": 1}, 3)],
    )
    members = [SQUARES, wider]
    broken = MERGED.replace("v ** power", "v ** power + 1")
    best = consolidate(group_of(*members), members, ScriptedModel([broken]), MODULES, POLICY)
    assert best.how == "best_member" and best.name == "sum_squares_from"  # it also passes sum_of_squares' cases
    assert best.note.startswith("teacher merge rejected")
    assert {"values": [3]} in [c.inputs for c in best.cases]


def test_a_single_member_needs_no_teacher():
    teacher = ScriptedModel([])
    single = consolidate(group_of(WORDS), [WORDS], teacher, MODULES, POLICY)
    assert single.how == "single" and single.name == "count_words" and teacher.prompts == []
