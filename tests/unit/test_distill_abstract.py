"""Abstract: the teacher's rewrite (scripted text) is accepted only if it still reproduces every case."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from runtime.distill.abstract import abstract, annotate, json_type, verify
from runtime.distill.extract import extract
from runtime.distill.records import Candidate, Case, Trajectory
from runtime.jsonl import read_jsonl
from runtime.sandbox import SandboxPolicy
from tests.fakes import ScriptedModel

DATA = Path(__file__).parent / "test_distill_data"
POLICY = SandboxPolicy(timeout_s=10)
MODULES = list(POLICY.allowed_modules)

GOOD_REWRITE = '''Here is the general tool.
```python
import itertools


def apply_op(a: float, b: float, op: str) -> float | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a / b if b != 0 else None


def find_target_expression(numbers: list[int], target: int = 24, ops: str = "+-*/") -> str | None:
    """Find a left-to-right arithmetic expression over the numbers that equals the target.

    find_target_expression([1, 2, 3, 4]) gives "((1 + 2) + 3) * 4".

    Args:
        numbers: Four numbers, each used once.
        target: The value to reach.
        ops: The operations allowed.
    """
    for a, b, c, d in itertools.permutations(numbers):
        for x, y, z in itertools.product(ops, repeat=3):
            first = apply_op(a, b, x)
            second = None if first is None else apply_op(first, c, y)
            value = None if second is None else apply_op(second, d, z)
            if value is not None and abs(value - target) < 1e-9:
                print("found", value)
                return f"(({a} {x} {b}) {y} {c}) {z} {d}"
    return None
```'''


@pytest.fixture(scope="module")
def solve_24() -> Candidate:
    candidates = extract(read_jsonl(DATA / "trajectories.jsonl", Trajectory), POLICY)
    return next(c for c in candidates if c.name == "solve_24")


def test_a_faithful_rewrite_becomes_the_tool_with_constants_as_defaulted_parameters(solve_24):
    teacher = ScriptedModel([GOOD_REWRITE])
    tool = abstract(solve_24, teacher, MODULES, POLICY)
    assert tool.how == "rewritten" and tool.ok, tool.note
    assert tool.name == "find_target_expression"
    assert tool.params == ["numbers", "target", "ops"]
    assert [c.inputs for c in tool.cases] == [{"numbers": [1, 2, 3, 4]}, {"numbers": [4, 7, 8, 8]}]
    assert "print(" not in tool.code  # box tools run in the runtime's process: no stray output
    prompt = teacher.prompts[0]
    assert (
        "def solve_24(numbers):" in prompt and 'solve_24(numbers=[1, 2, 3, 4]) returned "((1 + 2) + 3) * 4"' in prompt
    )
    assert "itertools" in prompt  # the allowed modules are listed


def test_renamed_parameters_keep_their_cases():
    code = "def area(w, h):\n    return w * h\nprint(area(2, 3))"
    from tests.unit.test_distill_extract import trajectory

    [candidate] = extract([trajectory(code)], POLICY)
    reply = (
        "```python\ndef rectangle_area(width: float, height: float) -> float:\n"
        '    """Area of a rectangle.\n\n    rectangle_area(2, 3) gives 6.\n\n    Args:\n'
        '        width: Side one.\n        height: Side two.\n    """\n    return width * height\n```'
    )
    tool = abstract(candidate, ScriptedModel([reply]), MODULES, POLICY)
    assert tool.how == "rewritten", tool.note
    assert tool.cases[0].inputs == {"width": 2, "height": 3}


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        (GOOD_REWRITE.replace("abs(value - target)", "abs(value - target - 1)"), "gave"),
        (GOOD_REWRITE.replace("numbers: list[int], target: int = 24", "numbers, target: int = 24"), "type hints"),
        (GOOD_REWRITE.replace("target: int = 24,", "target: int,"), "defaults"),
        ("I cannot help with that.", "does not parse"),
        (GOOD_REWRITE.replace("import itertools", "import os"), "os"),
    ],
)
def test_a_rewrite_that_breaks_a_case_or_the_form_falls_back_to_the_annotated_original(solve_24, reply, why):
    tool = abstract(solve_24, ScriptedModel([reply]), MODULES, POLICY)
    assert tool.how == "annotated" and tool.ok
    assert tool.name == "solve_24"
    assert tool.note.startswith("teacher rewrite rejected") and why in tool.note


def test_without_a_teacher_the_original_is_typed_from_its_cases_and_documented(solve_24):
    tool = abstract(solve_24, None, MODULES, POLICY)
    assert tool.how == "annotated" and tool.note == "no teacher given"
    node = next(n for n in ast.parse(tool.code).body if isinstance(n, ast.FunctionDef) and n.name == "solve_24")
    assert ast.unparse(node.args) == "numbers: list[int]"
    assert ast.unparse(node.returns) == "str | None"
    doc = ast.get_docstring(node)
    assert doc.startswith("Find an expression that uses each number once and equals 24.")
    assert 'solve_24([1, 2, 3, 4]) gives "((1 + 2) + 3) * 4".' in doc
    assert "Args:\n    numbers: For example [1, 2, 3, 4]." in doc
    assert verify(tool, POLICY) is None  # passes in the sandbox and through FastMCP


def test_an_undocumented_function_gets_a_summary_from_its_task():
    from tests.unit.test_distill_extract import trajectory

    [candidate] = extract(
        [trajectory("def digit_sum(n):\n    return sum(int(d) for d in str(n))\nprint(digit_sum(2 ** 10))")], POLICY
    )
    doc = ast.get_docstring(ast.parse(annotate(candidate).code).body[0])
    assert doc.startswith('Digit sum: a helper the teacher wrote for tasks like "question t1"')


def test_a_parameter_the_teacher_never_passed_is_typed_from_its_default_and_the_example_names_arguments():
    candidate = Candidate(
        key="k",
        name="total",
        params=["a", "b", "c"],
        code="def total(a, b=1, c=2):\n    return a + b + c\n",
        origins=["x"],
        task="t",
        cases=[Case(inputs={"a": 1, "c": 5}, output=7)],
    )
    tool = annotate(candidate)
    node = ast.parse(tool.code).body[0]
    assert ast.unparse(node.args) == "a: int, b: int=1, c: int=2"
    assert "total(a=1, c=5) gives 7." in ast.get_docstring(node)
    assert verify(tool, POLICY) is None


def test_json_types():
    assert json_type([1, 2]) == "int"
    assert json_type([1, 2.5]) == "int | float"
    assert json_type([[1, 2], []]) == "list"
    assert json_type([None, "a"]) == "None | str"
    assert json_type([{"a": 1}, True]) == "dict | bool"
