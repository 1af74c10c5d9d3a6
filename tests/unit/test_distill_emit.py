"""Emit and the whole `runtime box distill` command, from recorded teacher trajectories to an imported box."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime.boxes.bundle import open_bundle
from runtime.cli.main import cli
from runtime.distill.cluster import ClusterOptions
from runtime.distill.emit import BoxMeta, emit
from runtime.distill.pipeline import Distiller, DistillOptions
from runtime.distill.records import Case, DistilledTool
from runtime.retrieval.embedder import E5Embedder
from tests.fakes import ScriptedModel
from tests.unit.test_distill_abstract import GOOD_REWRITE

pytestmark = pytest.mark.slow

DATA = Path(__file__).parent / "test_distill_data"
TRAJECTORIES = DATA / "trajectories.jsonl"


def typed(name: str, body: str, returns: str = "int", cases: list[tuple[dict, object]] | None = None) -> DistilledTool:
    code = f'def {name}(n: int) -> {returns}:\n    """Does {name}.\n\n    Args:\n        n: A number.\n    """\n    {body}\n'
    return DistilledTool(
        key=name,
        name=name,
        params=["n"],
        code=code,
        how="annotated",
        sources=[name],
        cases=[Case(inputs=i, output=o) for i, o in (cases or [({"n": 2}, 4)])],
    )


def test_emit_writes_a_sealed_box_and_leaves_out_tools_fastmcp_would_serve_differently(tmp_path):
    good = typed("double", "return n * 2")
    text_result = typed("as_list", "return [n, n]", returns="list", cases=[({"n": 2}, [2, 2])])  # served as text
    report = emit([good, text_result], tmp_path / "box", BoxMeta(name="mine", version="1.2.3"))
    assert [(e.name, e.kept, e.module) for e in report] == [("double", True, "double.py"), ("as_list", False, None)]
    assert "self-test failed" in report[1].reason
    bundle = open_bundle(tmp_path / "box")  # hashes, manifest, syntax: as import checks them
    assert bundle.manifest.name == "mine" and bundle.manifest.modules == ["double.py"]
    assert bundle.examples["double"][0].args == {"n": 2} and bundle.examples["double"][0].expect == 4
    assert "@mcp.tool\ndef double(n: int) -> int:" in bundle.module_source("double.py")


def test_tools_with_the_same_name_are_told_apart(tmp_path):
    first, second = (
        typed("step", "return n + 1", cases=[({"n": 1}, 2)]),
        typed("step", "return n - 1", cases=[({"n": 1}, 0)]),
    )
    report = emit([first, second.model_copy(update={"key": "other"})], tmp_path / "box", BoxMeta())
    assert [e.name for e in report if e.kept] == ["step", "step_2"]
    assert "def step_2(n: int)" in open_bundle(tmp_path / "box").module_source("step_2.py")


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_distill_command_writes_every_stage_and_a_box_that_imports(home, tmp_path):
    out = tmp_path / "out"
    result = run_cli("box", "distill", str(TRAJECTORIES), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "cluster 1: solve_24 -> solve_24 [single]" in result.output
    assert f"box distilled 0.1.0 with 2 tools: {out / 'box'}" in result.output
    for stage in ("extract", "validate", "abstract", "cluster", "consolidate", "emit"):
        assert (out / f"{stage}.jsonl").is_file(), stage
    imported = run_cli("box", "import", str(out / "box"), "--yes")
    assert imported.exit_code == 0, imported.output
    assert "installed distilled 0.1.0: 2 tools (in-process), self-test passed" in imported.output
    inspected = run_cli("box", "inspect", "distilled")
    assert "def solve_24(numbers: list[int]) -> str | None:" in inspected.output
    assert "def find_expression(values: list[int], target: int) -> str | None:" in inspected.output


def test_dry_run_shows_the_functions_and_writes_nothing(tmp_path):
    out = tmp_path / "out"
    result = run_cli("box", "distill", str(TRAJECTORIES), "-o", str(out), "--dry-run")
    assert result.exit_code == 0, result.output
    assert "3 of 4 trajectories succeeded; 4 functions found:" in result.output
    assert "  find_expression(values, target): 2 calls, reproduces" in result.output
    assert "  eval_chain(nums, ops): 0 calls, dropped: never called" in result.output
    assert not out.exists()


def test_json_report(tmp_path):
    result = run_cli("box", "distill", str(TRAJECTORIES), "-o", str(tmp_path / "out"), "--json", "--name", "g24")
    report = json.loads(result.stdout)
    assert report["succeeded"] == 3 and [e["name"] for e in report["emitted"]] == ["solve_24", "find_expression"]


@pytest.mark.parametrize(
    ("content", "message"),
    [("", "holds no trajectories"), ('{"id": 1}\n', "is not a Trajectory record")],
)
def test_unusable_trajectories_are_one_line(tmp_path, content, message):
    file = tmp_path / "traj.jsonl"
    file.write_text(content)
    result = CliRunner().invoke(cli, ["box", "distill", str(file), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_bad_box_name_fails_before_any_work(tmp_path):
    result = CliRunner().invoke(cli, ["box", "distill", str(TRAJECTORIES), "-o", str(tmp_path / "o"), "--name", "Bad"])
    assert result.exit_code == 2 and "must look like 'my_tools'" in result.output


def test_a_rerun_reuses_the_teachers_rewrites_and_reclusters_on_a_new_threshold(tmp_path):
    embedder = E5Embedder()
    first_teacher = ScriptedModel([GOOD_REWRITE, "no code today"])  # solve_24 rewritten; find_expression kept
    strict = DistillOptions(cluster=ClusterOptions(threshold=0.99))
    report = Distiller(tmp_path, strict, first_teacher, lambda: embedder).run(TRAJECTORIES)
    assert [t.how for t in report.tools] == ["rewritten", "annotated"]
    assert len(first_teacher.prompts) == 2 and len(report.clusters) == 2

    again = ScriptedModel([])
    loose = DistillOptions(cluster=ClusterOptions(threshold=0.5))
    second = Distiller(tmp_path, loose, again, lambda: embedder).run(TRAJECTORIES)
    assert again.prompts[:-1] == [] and len(again.prompts) == 1  # one call: the merge of the new cluster
    assert [t.how for t in second.tools] == ["rewritten", "annotated"]
    assert len(second.clusters) == 1 and second.consolidated[0].how == "best_member"
