"""Distillation end to end with the real teacher GGUF: teach one question, distill recorded
trajectories with the teacher's rewrites, import the box. New processes, real sandbox, real FastMCP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.distill.records import DistilledTool, Trajectory
from runtime.jsonl import read_jsonl

pytestmark = pytest.mark.e2e

TEACHER = "qwen2.5-coder-1.5b"
TRAJECTORIES = Path(__file__).parents[1] / "unit" / "test_distill_data" / "trajectories.jsonl"


def runtime(home: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "RUNTIME_HOME": str(home), "RUNTIME_THREADS": "2"}
    command = [sys.executable, "-m", "runtime.cli.main", *args]
    return subprocess.run(command, check=False, capture_output=True, text=True, env=env, timeout=timeout)


def test_teacher_records_a_trajectory_then_its_rewrites_become_an_importable_box(e2e_home, tmp_path):
    questions = tmp_path / "questions.jsonl"
    questions.write_text(json.dumps({"id": "digits", "question": "What is the sum of the digits of 2**100?"}) + "\n")
    taught = runtime(e2e_home, "teach", str(questions), "--teacher", TEACHER, "-o", str(tmp_path / "traj.jsonl"))
    assert taught.returncode == 0, taught.stderr
    [trajectory] = read_jsonl(tmp_path / "traj.jsonl", Trajectory)
    assert trajectory.teacher == TEACHER and trajectory.correct is None
    assert any(step.code for step in trajectory.trace.steps)

    out = tmp_path / "distill"
    distilled = runtime(e2e_home, "box", "distill", str(TRAJECTORIES), "-o", str(out), "--teacher", TEACHER)
    assert distilled.returncode == 0, distilled.stderr
    tools = read_jsonl(out / "abstract.jsonl", DistilledTool)
    assert {t.sources[0] for t in tools} == {"solve_24", "find_expression"}
    for tool in tools:  # the teacher was asked each time: either its rewrite passed, or we know why not
        assert tool.how == "rewritten" or tool.note.startswith("teacher rewrite rejected"), tool.note
        assert tool.ok

    imported = runtime(e2e_home, "box", "import", str(out / "box"), "--yes")
    assert imported.returncode == 0, imported.stderr
    assert "self-test passed" in imported.stdout
