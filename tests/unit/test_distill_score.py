"""Held-out scoring: each version of a distilled tool is called on questions the teacher never saw,
with its recorded call's values swapped for theirs, and the box keeps what solves most."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime.boxes.bundle import open_bundle
from runtime.cli.main import cli
from runtime.distill.records import Case, DistilledTool
from runtime.distill.validate import open_runner
from runtime.distill.abstract import settled_defaults
from runtime.distill.consolidate import chained
from runtime.distill.score import (
    HeldOut,
    Remaker,
    call_for,
    call_inputs,
    score_key,
    Score,
    best_version,
    changed_words,
    covering,
    describe,
    score,
    task_numbers,
    transfer,
    value_shape,
)
from runtime.eval.suites import SuiteItem, game24_prompt, molar_mass_prompt
from runtime.sandbox import SandboxPolicy
from tests.fakes import ScriptedModel

DATA = Path(__file__).parent / "test_distill_data"
TRAJECTORIES = DATA / "trajectories.jsonl"
PUZZLES = [[1, 1, 4, 6], [2, 2, 2, 3], [3, 3, 8, 8], [1, 2, 7, 7], [1, 1, 1, 1]]
"""Four with an answer (one only with a division: 8 / (3 - 8 / 3)), and one without."""


def test_task_numbers_reads_the_numbers_a_task_writes_in_order():
    assert task_numbers(game24_prompt([4, 7, 8, 8])) == ["4", "7", "8", "8", "24", "1", "2", "3", "4"]
    assert task_numbers("Is 2.5 more than 2? Costs $10.") == ["2.5", "2", "10"]
    assert task_numbers("x2 and 3rd") == []


def test_transfer_swaps_the_task_values_by_their_place_in_the_text():
    source, target = game24_prompt([4, 7, 8, 8]), game24_prompt([1, 5, 6, 10])
    assert transfer({"numbers": [4, 7, 8, 8], "target": 24}, source, target) == {
        "numbers": [1, 5, 6, 10],
        "target": 24,
    }
    # the teacher passed them in another order: each value goes back to its own place
    assert transfer({"values": [8, 4, 7, 8]}, source, target) == {"values": [6, 1, 5, 10]}
    assert transfer({"expr": "4 * 7 - 8 / 8", "tries": 1000}, source, target) == {
        "expr": "1 * 5 - 6 / 10",
        "tries": 1000,  # not written by the task: a setting, kept
    }
    assert transfer({"n": 4}, "Double 4.", "Double 4 and 5.") is None  # another template


def test_transfer_swaps_words_the_task_writes_by_aligning_the_two_tasks():
    source = molar_mass_prompt("chloroacetaldehyde", "C2H3ClO")
    target = molar_mass_prompt("1,2-dichloroethane", "C2H4Cl2")
    assert changed_words(source, target) == {"chloroacetaldehyde": "1,2-dichloroethane", "C2H3ClO": "C2H4Cl2"}
    # numbers in the other task's name do not matter: the call holds no number the task wrote
    assert transfer({"formula": "C2H3ClO", "digits": 4}, source, target) == {"formula": "C2H4Cl2", "digits": 4}
    assert transfer({"name": "chloroacetaldehyde"}, source, target) == {"name": "1,2-dichloroethane"}
    assert transfer({"formula": "C6H12O6"}, source, target) == {"formula": "C6H12O6"}  # not the task's: kept
    two = ("Convert 3 miles to km.", "Convert 5 feet to m.")
    assert transfer({"value": 3, "unit": "miles", "to": "km"}, *two) == {"value": 5, "unit": "feet", "to": "m"}


MOLAR_MASS = '''def molar_mass(counts):
    """The molar mass of a compound from its element counts."""
    masses = {"C": 12.011, "H": 1.008, "N": 14.007, "O": 15.999}
    return round(sum(masses[element] * n for element, n in counts.items()), 2)
'''


def test_call_inputs_reads_one_call_of_literals():
    assert call_inputs("tool({'C': 2}, digits=3)", ["counts", "digits"]) == {"counts": {"C": 2}, "digits": 3}
    assert call_inputs("tool(counts={'C': 2})", ["counts"]) == {"counts": {"C": 2}}
    assert call_inputs("tool(x + 1)", ["x"]) is None  # not a literal
    assert call_inputs("tool(1, 2)", ["x"]) is None  # more arguments than parameters
    assert call_inputs("tool(chemical={'C': 8})", ["counts"]) == {"counts": {"C": 8}}  # renamed: by position
    assert call_inputs("tool(1, z=2)", ["x", "y"]) == {"x": 1, "y": 2}
    assert call_inputs("tool(y=1)", ["x", "z"]) is None  # no such parameter, and one short
    assert call_inputs("tool(1", ["x"]) is None


def test_a_value_the_teacher_worked_out_is_remade_by_the_model_once_per_question():
    source = molar_mass_prompt("ethanol", "C2H6O")
    counts = {"C": 2, "H": 6, "O": 1}
    tool = _tool("molar_mass", MOLAR_MASS, {"counts": counts}, 46.07, source)
    rows = [("urea", "CH4N2O", 60.05526, "{'C': 1, 'H': 4, 'N': 2, 'O': 1})"), ("methane", "CH4", 16.04246, "{'C': 1})")]
    held_out = HeldOut(
        name="molar-mass train",
        checker="approx",
        items=[SuiteItem(id=name, question=molar_mass_prompt(name, f), gold=gold) for name, f, gold, _ in rows],
    )
    assert call_for(tool, held_out.items[0].question, None) == {"counts": counts}  # transfer cannot remake it
    teacher = ScriptedModel([call for *_, call in rows])
    remaker = Remaker(teacher)  # type: ignore[arg-type]
    found = score(tool, held_out, SandboxPolicy(timeout_s=10), remaker)
    assert (found.solved_ids, found.tried) == (["urea"], 2)  # the model's call for methane was wrong
    assert "Task: What is the molar mass of urea (CH4N2O) in g/mol?" in teacher.prompts[0]
    assert "tool(counts={'C': 2, 'H': 6, 'O': 1})" in teacher.prompts[0]
    assert score(tool, held_out, SandboxPolicy(timeout_s=10), remaker).solved_ids == ["urea"]  # no model call
    renamed = _tool("molar_mass", MOLAR_MASS.replace("counts", "molecule"), {"molecule": counts}, 46.07, source)
    assert score(renamed, held_out, SandboxPolicy(timeout_s=10), remaker).solved_ids == ["urea"]  # same kind of value
    assert len(teacher.prompts) == 2
    assert value_shape({"C": 9, "H": 15}) == "dict[int]" != value_shape({"C": 12.01})
    # a name's numbers ("1,2-") are the task's: transfer gives up on a task without them, remake does not
    named = molar_mass_prompt("1,2-dichloroethane", "C2H4Cl2")
    dichloro = _tool("molar_mass", MOLAR_MASS, {"counts": {"C": 2, "H": 4, "Cl": 2}}, 98.96, named)
    assert transfer(dichloro.cases[0].inputs, named, held_out.items[0].question) is None
    assert call_for(dichloro, held_out.items[0].question, remaker) == {"counts": {"C": 1, "H": 4, "N": 2, "O": 1}}
    assert found.key == score_key(tool, held_out, "scripted") != score_key(tool, held_out)


def _held_out(puzzles: list[list[int]] = PUZZLES) -> HeldOut:
    items = [SuiteItem(id=f"p{n}", question=game24_prompt(p), gold=p) for n, p in enumerate(puzzles)]
    return HeldOut(name="game24 test puzzles", checker="game24", items=items)


def _tool(name: str, code: str, case: dict, output: object, question: str, how: str = "annotated") -> DistilledTool:
    return DistilledTool(
        key=name,
        name=name,
        params=list(case),
        code=code,
        cases=[Case(inputs=case, output=output, question=question)],
        how=how,  # type: ignore[arg-type]
        sources=[name],
    )


SEARCH = '''import itertools
from fractions import Fraction

def search(numbers, target):
    """Every order, operator and grouping of the numbers."""
    def go(items):
        if len(items) == 1:
            return items[0] if items[0][0] == target else None
        for i, j in itertools.permutations(range(len(items)), 2):
            (a, x), (b, y) = items[i], items[j]
            rest = [items[k] for k in range(len(items)) if k not in (i, j)]
            options = [(a + b, f"({x} + {y})"), (a - b, f"({x} - {y})"), (a * b, f"({x} * {y})")]
            if b != 0:
                options.append((a / b, f"({x} / {y})"))
            for value in options:
                found = go([*rest, value])
                if found:
                    return found
        return None
    found = go([(Fraction(n), str(n)) for n in numbers])
    return found[1] if found else None
'''
SUM = '''def add_up(numbers):
    """The numbers joined by plus signs."""
    return " + ".join(str(n) for n in numbers)
'''


def test_a_tool_is_scored_by_the_checker_on_transferred_calls():
    question = game24_prompt([4, 7, 8, 8])
    search = _tool("search", SEARCH, {"numbers": [4, 7, 8, 8], "target": 24}, "(((4 + 7) - 8) * 8)", question)
    summed = _tool("add_up", SUM, {"numbers": [4, 7, 8, 8]}, "4 + 7 + 8 + 8", question)
    policy = SandboxPolicy(timeout_s=10)
    found = score(search, _held_out(), policy)
    assert (found.solved, found.tried, found.total) == (4, 5, 5)
    assert found.verified[0].inputs == {"numbers": [1, 1, 4, 6], "target": 24}
    weak = score(summed, _held_out(), policy)
    assert (weak.solved, weak.tried) == (0, 5)  # reproducing its own call was never the question
    assert best_version([(summed, weak), (search, found)])[0] is search
    assert "search solved 4 of 5 held-out questions" in describe([(search, found)], _held_out())


def test_a_case_without_its_task_is_not_scored():
    tool = _tool("search", SEARCH, {"numbers": [4, 7, 8, 8], "target": 24}, "x", question="")
    found = score(tool, _held_out(), SandboxPolicy(timeout_s=10))
    assert (found.solved, found.tried) == (0, 0)


def test_distill_with_held_out_keeps_the_tool_that_solves_most_and_says_its_rate(tmp_path):
    questions = tmp_path / "held.jsonl"
    rows = [{"id": f"h{n}", "question": game24_prompt(p), "gold": p} for n, p in enumerate(PUZZLES)]
    taught = {"id": "rank-12", "question": game24_prompt([1, 2, 3, 4]), "gold": [1, 2, 3, 4]}  # in TRAJECTORIES
    questions.write_text("".join(json.dumps(r) + "\n" for r in [taught, *rows]))
    # as if the checker had accepted rank-640, whose add_all reproduces its call but solves no puzzle
    lines = [json.loads(line) for line in TRAJECTORIES.read_text().splitlines()]
    for line in lines:
        line["correct"] = True
    trajectories = tmp_path / "traj.jsonl"
    trajectories.write_text("".join(json.dumps(line) + "\n" for line in lines))
    out = tmp_path / "out"
    args = ["box", "distill", str(trajectories), "-o", str(out), "--held-out", str(questions), "--checker", "game24"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "held out: 5 questions" in result.output  # the taught row is not scored on
    assert "kept solve_24 (annotated): solved 3 of 5 held-out questions" in result.output
    bundle = open_bundle(out / "box")
    # find_expression solves the same three (it adds nothing), add_all none
    assert bundle.manifest.modules == ["solve_24.py"]
    assert "solve_24 solved 3 of 5 held-out questions" in bundle.manifest.description
    scores = {s["name"]: s["solved"] for s in map(json.loads, (out / "score.jsonl").read_text().splitlines())}
    assert scores == {"solve_24": 3, "find_expression": 3, "add_all": 0}
    # the accepted held-out calls joined the recorded ones as examples
    shown = [e.args["numbers"] for e in bundle.examples["solve_24"]]
    assert shown[:2] == [[1, 2, 3, 4], [4, 7, 8, 8]] and len([p for p in shown if p in PUZZLES]) == 2


def _scored(name: str, solved: range) -> tuple[DistilledTool, Score]:
    tool = _tool(name, SUM.replace("add_up", name), {"numbers": [1]}, "1", "Add 1.")
    ids = [f"q{i}" for i in solved]
    return tool, Score(key=name, name=name, how="annotated", tried=40, total=40, solved_ids=ids)


def test_the_box_keeps_the_tools_that_together_solve_most():
    best, same, more, little = _scored("a", range(20)), _scored("b", range(1, 20)), _scored("c", range(15, 30)), _scored("d", range(30, 31))
    chosen = covering([same, best, little, more], keep=3)
    # b adds nothing to a, d one question: under one in twenty of 40
    assert [tool.name for tool, _ in chosen] == ["a", "c"]
    assert [tool.name for tool, _ in covering([same, best, more], keep=1)] == ["a"]


def test_a_parameter_every_call_gave_the_same_value_gets_it_as_default():
    code = "def f(numbers: list[int], target: int, tries: int) -> str:\n    return str(target)\n"
    cases = [
        Case(inputs={"numbers": [1, 2], "target": 24, "tries": 5}, output="24"),
        Case(inputs={"numbers": [3, 4], "target": 24, "tries": 6}, output="24"),
    ]
    tool = DistilledTool(key="f", name="f", params=["numbers", "target", "tries"], code=code, cases=cases,
                         how="annotated", sources=["f"])
    assert "tries: int)" in settled_defaults(tool).code  # it varies, and defaults must trail
    same = tool.model_copy(update={"cases": [c.model_copy(update={"inputs": {**c.inputs, "tries": 5}}) for c in cases]})
    assert "def f(numbers: list[int], target: int=24, tries: int=5) -> str:" in settled_defaults(same).code
    assert settled_defaults(same.model_copy(update={"cases": cases[:1]})).code == code  # one call settles nothing


def test_held_out_questions_need_a_checker(tmp_path):
    questions = tmp_path / "held.jsonl"
    questions.write_text(json.dumps({"question": "What is 2 + 2?"}) + "\n")
    result = CliRunner().invoke(cli, ["box", "distill", str(TRAJECTORIES), "-o", str(tmp_path / "o"),
                                      "--held-out", str(questions)])
    assert result.exit_code != 0
    assert "needs a checker" in result.output


pytestmark = pytest.mark.slow


PAIRS = '''import itertools

def pairs(numbers, target):
    """(a op b) op (c op d) over every order."""
    for a, b, c, d in itertools.permutations(numbers):
        for x, y, z in itertools.product("+-*/", repeat=3):
            text = f"({a} {x} {b}) {y} ({c} {z} {d})"
            if abs(eval(text) - target) < 1e-9:
                return text
    return None
'''
FOLD = '''import itertools

def fold(numbers, target):
    """((a op b) op c) op d over every order."""
    for a, b, c, d in itertools.permutations(numbers):
        for x, y, z in itertools.product("+-*/", repeat=3):
            text = f"(({a} {x} {b}) {y} {c}) {z} {d}"
            try:
                if abs(eval(text) - target) < 1e-9:
                    return text
            except ZeroDivisionError:
                continue
    return None
'''


def test_searches_with_the_same_parameters_are_chained_into_one_tool_that_finds_what_either_finds():
    question = game24_prompt([4, 7, 8, 8])
    pairs = _tool("pairs", PAIRS, {"numbers": [4, 7, 8, 8], "target": 24}, "(4 + 8) * (8 - 7)", question)
    fold = _tool("fold", FOLD, {"numbers": [4, 7, 8, 8], "target": 24}, "((4 + 7) - 8) * 8", question)
    puzzles = [[1, 1, 1, 11], [1, 1, 1, 8], [1, 2, 3, 4], [1, 1, 1, 1]]  # pairs only, fold only, both, neither
    held_out, policy = _held_out(puzzles), SandboxPolicy(timeout_s=10)
    # on 1 1 1 8, pairs meets (1 - 1) as a divisor before any answer and raises ZeroDivisionError
    assert score(pairs, held_out, policy).solved_ids == ["p0", "p2"]
    assert score(fold, held_out, policy).solved_ids == ["p1", "p2"]
    both = chained([pairs, fold])
    assert both is not None and both.name == "pairs" and both.how == "chained" and both.sources == ["pairs", "fold"]
    assert score(both, held_out, policy).solved_ids == ["p0", "p1", "p2"]
    assert "def pairs(numbers, target):" in both.code and "_v2_fold" in both.code
    other = _tool("other", SUM.replace("numbers", "values"), {"values": [1]}, "1", "Add 1.")
    assert chained([pairs, other]) is None  # different parameters: nothing to chain


def test_tables_that_take_the_same_kind_of_argument_are_chained_by_position():
    question = molar_mass_prompt("ethanol", "C2H6O")
    organic = _tool("molar_mass", MOLAR_MASS, {"counts": {"C": 2, "H": 6, "O": 1}}, 46.07, question)
    chlorine = _tool(
        "mass_of",
        '''def mass_of(molecule):
    """Molar mass of a compound of C, H and Cl."""
    table = {"C": 12.011, "H": 1.008, "Cl": 35.45}
    return round(sum(table[e] * n for e, n in molecule.items()), 2)
''',
        {"molecule": {"C": 2, "H": 5, "Cl": 1}},
        64.51,
        molar_mass_prompt("chloroethane", "C2H5Cl"),
    )
    both = chained([organic, chlorine])
    assert both is not None and "def molar_mass(counts):" in both.code
    with open_runner(both.code, SandboxPolicy(timeout_s=10)) as runner:
        assert runner.call("molar_mass", {"counts": {"C": 1, "H": 3, "Cl": 1}}).output == 50.48  # only the second knows Cl
        assert runner.call("molar_mass", {"counts": {"C": 1, "H": 4, "N": 2, "O": 1}}).output == 60.06
    texts = _tool("mass_text", MOLAR_MASS.replace("counts", "formula"), {"formula": "C2H6O"}, 46.07, question)
    assert chained([organic, texts]) is None  # a text is not a dict of counts
