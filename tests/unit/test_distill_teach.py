"""Collect: `runtime teach` with a scripted teacher, and with a scripted OpenAI-compatible server on 127.0.0.1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime.agent import Agent
from runtime.cli.main import cli
from runtime.config import Settings
from runtime.distill.records import Trajectory
from runtime.distill.teach import (
    RETRY_REMINDER,
    RETRY_TEMPERATURE,
    TASK_REMINDER,
    TEACHER_BRIEF,
    load_teaching,
    summary,
    teach,
)
from runtime.eval.suites import GAME24_TEST_RANKS, SuiteNotFound, load_suite
from runtime.jsonl import read_jsonl
from runtime.sandbox import Sandbox
from tests.fakes import ScriptedModel, ScriptedServer

SOLVING = '''Thought: I will write a general search function and call it.
```python
import itertools

def solve(numbers, target=24):
    """First left-to-right expression that reaches the target."""
    for a, b, c, d in itertools.permutations(numbers):
        for x, y, z in itertools.product("+-*", repeat=3):
            text = f"(({a} {x} {b}) {y} {c}) {z} {d}"
            if eval_chain([a, b, c, d], [x, y, z]) == target:
                return text
    return None

def eval_chain(nums, ops):
    total = nums[0]
    for n, op in zip(nums[1:], ops):
        total = total + n if op == "+" else total - n if op == "-" else total * n
    return total

print(solve([1, 2, 3, 4]))
```'''
ANSWER = 'Thought: It works.\n```python\nfinal_answer("((1 + 2) + 3) * 4")\n```'
WRONG = 'Thought: I think it is this.\n```python\nfinal_answer("1 + 2 + 3 + 4")\n```'


@pytest.fixture
def questions(tmp_path) -> Path:
    file = tmp_path / "questions.jsonl"
    rows = [
        {"id": "a", "question": "Make 24 from 1 2 3 4.", "gold": [1, 2, 3, 4]},
        {"id": "b", "question": "Make 24 from 1 2 3 4 again.", "gold": [1, 2, 3, 4]},
    ]
    file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return file


def test_teacher_gets_the_brief_and_each_trajectory_is_judged(questions, tmp_path, home):
    teaching = load_teaching(str(questions), "train", "game24", None, seed=0)
    teacher = ScriptedModel([SOLVING, ANSWER, WRONG])
    out = tmp_path / "traj.jsonl"
    done = teach(teaching, teacher, Settings(), out)
    assert [(t.id, t.correct, t.reason) for t in done] == [
        ("a", True, "uses each number once and equals 24"),
        ("b", False, "equals 10, not 24"),
    ]
    first = done[0]
    assert first.question == "Make 24 from 1 2 3 4."  # without the reminder the teacher was shown
    assert first.trace.steps[0].code.startswith("import itertools") and first.teacher == "scripted"
    assert TEACHER_BRIEF in teacher.prompts[0] and TASK_REMINDER.strip() in teacher.prompts[0]
    assert read_jsonl(out, Trajectory) == done


def test_the_students_prompt_has_no_brief():
    with Sandbox() as sandbox:
        assert TEACHER_BRIEF not in Agent(ScriptedModel([]), sandbox).system
        assert Agent(ScriptedModel([]), sandbox, instructions=TEACHER_BRIEF).system.count(TEACHER_BRIEF) == 1


def test_teaching_resumes_where_it_stopped(questions, tmp_path, home):
    teaching = load_teaching(str(questions), "train", "game24", None, seed=0)
    out = tmp_path / "traj.jsonl"
    teach(teaching.model_copy(update={"items": teaching.items[:1]}), ScriptedModel([SOLVING, ANSWER]), Settings(), out)
    second = ScriptedModel([WRONG])
    done = teach(teaching, second, Settings(), out)
    assert len(done) == 2 and len(second.prompts) == 1


def test_a_failed_question_is_retried_sampled_and_asked_for_a_function(questions, tmp_path, home):
    teaching = load_teaching(str(questions), "train", "game24", None, seed=0)
    one = teaching.model_copy(update={"items": teaching.items[:1]})
    out = tmp_path / "traj.jsonl"
    first = ScriptedModel([WRONG])
    assert [t.attempt for t in teach(one, first, Settings(), out)] == [1]  # no retries asked for
    assert first.temperatures == [0.0] and RETRY_REMINDER.strip() not in first.prompts[0]
    # a rerun with --retries goes on from the failed attempt
    teacher = ScriptedModel([WRONG, SOLVING, ANSWER])
    done = teach(one, teacher, Settings(), out, retries=3)
    assert [(t.attempt, t.correct) for t in done] == [(1, False), (2, False), (3, True)]  # stops at a success
    assert RETRY_REMINDER.strip() in teacher.prompts[0] and TASK_REMINDER.strip() not in teacher.prompts[0]
    assert set(teacher.temperatures) == {RETRY_TEMPERATURE}
    assert summary(done) | {"with_functions": None} == {
        "questions": 1,
        "attempts": 3,
        "succeeded": 1,
        "correct": 1,
        "correct_first_try": 0,
        "success_rate": 1.0,
        "with_functions": None,
    }
    assert len(teach(one, ScriptedModel([]), Settings(), out, retries=3)) == 3  # solved: nothing more to run


def test_game24_training_rows_never_include_a_test_row():
    train = load_suite("game24", "train")
    ranks = {int(item.id.removeprefix("rank-")) for item in train.items}
    assert len(ranks) == 1362 - 100 and not ranks & set(GAME24_TEST_RANKS)
    sample = load_teaching("game24", "train", None, 5, seed=0)
    assert len(sample.items) == 5 and sample.checker == "game24"
    with pytest.raises(SuiteNotFound, match="no training split"):
        load_teaching("asdiv", "train", None, 5, seed=0)


def test_teach_command_with_an_openai_compatible_teacher(questions, tmp_path, home):
    out = tmp_path / "traj.jsonl"
    with ScriptedServer([SOLVING + "\nObservation: invented", ANSWER, WRONG]) as server:
        args = ["teach", str(questions), "--teacher-url", server.url, "--teacher", "big-coder"]
        result = CliRunner().invoke(cli, [*args, "--checker", "game24", "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "questions": 2,
        "attempts": 2,
        "succeeded": 1,
        "correct": 1,
        "correct_first_try": 1,
        "success_rate": 0.5,
        "with_functions": 1,
        "output": str(out),
    }
    first = server.bodies[0]
    assert first["path"] == "/v1/chat/completions" and first["model"] == "big-coder"
    assert [m["role"] for m in first["messages"]] == ["system", "user"]
    assert TEACHER_BRIEF in first["messages"][0]["content"]
    assert "\nObservation:" in first["stop"]
    trajectories = read_jsonl(out, Trajectory)
    assert trajectories[0].teacher == "big-coder"
    assert "invented" not in trajectories[0].trace.steps[0].raw  # cut where a local model would have stopped
