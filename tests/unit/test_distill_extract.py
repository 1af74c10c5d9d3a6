"""Extract and validate: which teacher functions become candidates, with which recorded calls.

The trajectories in test_distill_data/trajectories.jsonl are teacher runs on Game of 24 rows as
`runtime teach` records them; the sandbox is real.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.agent.events import RunTrace, StepRecord, StepTimings
from runtime.distill.extract import MAX_CASES, extract
from runtime.distill.records import Candidate, Case, Trajectory
from runtime.distill.validate import same_json, validate
from runtime.jsonl import read_jsonl
from runtime.sandbox import SandboxPolicy

DATA = Path(__file__).parent / "test_distill_data"
POLICY = SandboxPolicy(timeout_s=10)
TIMINGS = StepTimings(prompt_tokens=10, cached_tokens=0, completion_tokens=10, prefill_s=0.1, decode_s=0.1)


def trajectory(*codes: str, correct: bool | None = True, id: str = "t1") -> Trajectory:
    steps = [
        StepRecord(step=n, raw=f"Thought: x\n```python\n{c}\n```", code=c, ok=True, timings=TIMINGS)
        for n, c in enumerate(codes, start=1)
    ]
    trace = RunTrace(question=f"question {id}", model="teacher", status="answered", answer=1, steps=steps)
    return Trajectory(id=id, question=f"question {id}", correct=correct, trace=trace)


def by_name(candidates: list[Candidate]) -> dict[str, list[Candidate]]:
    found: dict[str, list[Candidate]] = {}
    for c in candidates:
        found.setdefault(c.name, []).append(c)
    return found


@pytest.fixture(scope="module")
def recorded() -> list[Candidate]:
    return extract(read_jsonl(DATA / "trajectories.jsonl", Trajectory), POLICY)


def test_functions_of_successful_trajectories_with_their_calls_as_cases(recorded):
    found = by_name(recorded)
    assert set(found) == {"solve_24", "apply_op", "find_expression", "eval_chain"}  # not add_all: that run failed
    finds = found["find_expression"]
    assert len(finds) == 1 and finds[0].origins == ["rank-301"]
    # `values` was a variable in the teacher's code: the recorder saw its value
    task = next(t.question for t in read_jsonl(DATA / "trajectories.jsonl", Trajectory) if t.id == "rank-301")
    assert finds[0].cases == [  # each with the task it was called for (held-out scoring transfers from it)
        Case(inputs={"values": [2, 3, 4, 6], "target": 24}, output="((2 + 4) * 3) + 6", question=task),
        Case(inputs={"values": [6, 4, 3, 2], "target": 24}, output="((6 + 4) - 2) * 3", question=task),
    ]
    assert finds[0].params == ["values", "target"]


def test_the_same_function_in_two_trajectories_is_one_candidate_with_both_cases(recorded):
    [solve] = by_name(recorded)["solve_24"]
    assert solve.origins == ["rank-12", "rank-57"]
    assert [c.inputs for c in solve.cases] == [{"numbers": [1, 2, 3, 4]}, {"numbers": [4, 7, 8, 8]}]


def test_code_is_self_contained_with_only_what_the_function_uses(recorded):
    [solve] = by_name(recorded)["solve_24"]
    assert solve.code.startswith("import itertools\n")
    assert 'OPS = "+-*/"' in solve.code and "def apply_op(" in solve.code
    assert "numbers = [1, 2, 3, 4]" not in solve.code  # a parameter shadows the teacher's variable
    [find] = by_name(recorded)["find_expression"]
    assert "from itertools import permutations, product" in find.code and "def eval_chain(" in find.code


def test_helpers_only_other_functions_call_have_no_cases(recorded):
    assert by_name(recorded)["eval_chain"][0].cases == []
    assert by_name(recorded)["apply_op"][0].cases == []


def test_outputs_are_recorded_as_json_and_unjsonable_calls_are_skipped():
    code = (
        "from fractions import Fraction\n"
        "def pair(a, b=2):\n    return (a, b)\n"
        "def half(n):\n    return Fraction(n, 2)\n"
        "print(pair(1), pair(3, b=4), half(3))"
    )
    found = by_name(extract([trajectory(code)], POLICY))
    assert [(c.inputs, c.output) for c in found["pair"][0].cases] == [({"a": 1}, [1, 2]), ({"a": 3, "b": 4}, [3, 4])]
    assert found["half"][0].cases == []


def test_a_redefined_function_keeps_the_calls_made_while_each_version_was_in_effect():
    first = "def scale(x):\n    return x * 2\nprint(scale(3))"
    second = "def scale(x):\n    return x * 3\nprint(scale(3))"
    versions = by_name(extract([trajectory(first, second)], POLICY))["scale"]
    assert [(v.code.strip().splitlines()[-1].strip(), v.cases[0].output) for v in versions] == [
        ("return x * 2", 6),
        ("return x * 3", 9),
    ]


def test_failed_and_unjudged_trajectories():
    code = "def inc(x):\n    return x + 1\nprint(inc(1))"
    assert extract([trajectory(code, correct=False)], POLICY) == []
    unjudged = trajectory(code, correct=None)  # no checker: an answered run counts as a success
    assert [c.name for c in extract([unjudged], POLICY)] == ["inc"]


def test_functions_a_box_cannot_serve_are_not_candidates():
    code = (
        "def total(*xs):\n    return sum(xs)\n"
        "def done(x):\n    final_answer(x)\n"
        "def plain(x):\n    return x\n"
        "print(total(1, 2), plain(1))"
    )
    assert [c.name for c in extract([trajectory(code)], POLICY)] == ["plain"]


def test_cases_are_capped_and_distinct():
    code = "def sq(x):\n    return x * x\nfor i in range(30):\n    sq(i % 12)"
    [sq] = extract([trajectory(code)], POLICY)
    assert len(sq.cases) == MAX_CASES
    assert len({c.inputs["x"] for c in sq.cases}) == MAX_CASES


def test_validate_keeps_reproducing_functions(recorded):
    [solve] = by_name(recorded)["solve_24"]
    checked = validate(solve, POLICY)
    assert checked.ok and checked.passed == 2 and checked.failed == 0


def test_validate_drops_functions_that_lean_on_the_teachers_state_or_on_chance():
    leaning = "offset = [len('abcde')]\ndef shift(x):\n    return x + offset[0]\nprint(shift(1))"
    chance = "import random\ndef roll(n):\n    return random.randint(1, n)\nprint(roll(10 ** 9))"
    for code, why in ((leaning, "NameError"), (chance, "gave")):
        [candidate] = extract([trajectory(code)], POLICY)
        checked = validate(candidate, POLICY)
        assert not checked.ok, code
        assert why in checked.reasons[0]


def test_validate_reports_never_called_functions(recorded):
    checked = validate(by_name(recorded)["apply_op"][0], POLICY)
    assert not checked.ok and "never called" in checked.reasons[0]


def test_same_json_forgives_float_noise_only():
    assert same_json(0.1 + 0.2, 0.3)
    assert same_json({"a": [1, 2.0]}, {"a": [1, 2]})
    assert not same_json(1, True)
    assert not same_json([1, 2], [2, 1])
    assert not same_json(24.0001, 24)


def test_a_module_the_sandbox_had_imported_is_imported_by_the_tool():
    code = "def pairs(xs):\n    return len(list(itertools.combinations(xs, 2)))\nprint(pairs([1, 2, 3]))"
    [candidate] = extract([trajectory(code)], POLICY)
    assert candidate.code.startswith("import itertools\n\n") and validate(candidate, POLICY).ok
    own = "from itertools import combinations\ndef pairs(xs):\n    return len(list(combinations(xs, 2)))\nprint(pairs([1]))"
    [imported] = extract([trajectory(own)], POLICY)
    assert imported.code.count("import") == 1  # its own import, nothing added
