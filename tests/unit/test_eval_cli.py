"""The `runtime eval` commands through click's CliRunner, with a private RUNTIME_HOME."""

import json

import pytest
from click.testing import CliRunner

from runtime.cli.main import cli
from runtime.config import Settings
from runtime.eval.runner import EvalRequest, run_eval
from runtime.eval.suites import load_suite
from tests.unit.test_eval_runner import FakeLoader, config, right


@pytest.fixture
def finished_run(home):
    """A finished 3-question run made with scripted model text, in the folder the CLI would pick."""
    settings, suite = Settings(), load_suite("asdiv")
    run_config = config(suite, max_steps=settings.max_steps, guided_call=settings.guided_call)
    folder = settings.home / "eval" / run_config.folder_name()
    loader = FakeLoader(replies=right(suite.sample(3, seed=0)))
    run_eval(EvalRequest(config=run_config, limit=3, out=folder), suite, loader, settings)
    return folder


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_help_lists_the_suites_and_report():
    result = invoke("eval", "--help")
    assert result.exit_code == 0
    for name in ("game24", "asdiv", "nq-wiki", "report", "rejudge"):
        assert name in result.output
    assert "--workers" in invoke("eval", "asdiv", "--help").output
    assert "--compute-first / --no-compute-first" in invoke("eval", "game24", "--help").output


def test_rerunning_a_finished_run_loads_no_model_and_prints_the_summary(finished_run):
    # "scripted" is no registry model: the command would fail if it tried to load it
    result = invoke("eval", "asdiv", "--mode", "agent", "--model", "scripted", "--limit", "3", "--quiet")
    assert result.exit_code == 0, result.output
    assert "3/3 correct = 100.0%" in result.output and "records.jsonl" in result.output
    as_json = invoke("eval", "asdiv", "--mode", "agent", "--model", "scripted", "--limit", "3", "--json", "--quiet")
    summary = json.loads(as_json.stdout)
    assert summary["n"] == 3 and summary["failures"]["parse"] == 0 and summary["config"]["seed"] == 0


def test_report_prints_a_table_and_json(finished_run):
    table = invoke("eval", "report", str(finished_run))
    assert table.exit_code == 0
    assert table.output.splitlines()[2].startswith(f"| {finished_run.name} | asdiv | agent | scripted |")
    data = json.loads(invoke("eval", "report", str(finished_run), "--json").output)
    assert data[0]["accuracy"] == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["game24", "--mode", "agent+box+sag", "--sag", "1"], "--sag 2 or more"),
        (["game24", "--mode", "cot", "--sag", "5"], "agent modes only"),
        (["asdiv", "--mode", "cot", "--first-thought"], "agent modes only"),
        (["asdiv", "--mode", "cot", "--limit", "1", "--model", "no-such-model"], "no-such-model"),
    ],
)
def test_user_errors_are_one_line_and_exit_1(home, args, message):
    result = invoke("eval", *args, "--quiet")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert "Traceback" not in result.output


def test_rejudge_says_what_changed_in_each_folder(finished_run, tmp_path):
    result = invoke("eval", "rejudge", str(finished_run))
    assert result.exit_code == 0
    assert result.output == f"{finished_run.name}: 3 -> 3/3 correct (0 answers read anew, 0 verdicts changed)\n"
    data = json.loads(invoke("eval", "rejudge", str(finished_run), "--json").output)
    assert data[0]["summary"]["correct"] == 3 and data[0]["changed"] == 0
    refused = invoke("eval", "rejudge", str(tmp_path))
    assert refused.exit_code == 1 and "not an eval run folder" in refused.stderr
    assert not (tmp_path / ".lock").exists()  # nothing written into a folder that is not a run


def test_report_on_a_folder_that_is_not_a_run(home, tmp_path):
    result = invoke("eval", "report", str(tmp_path))
    assert result.exit_code == 1 and "not an eval run folder" in result.stderr


def test_python_dash_m_runtime_is_the_same_cli() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "runtime", "eval", "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--mode" in done.stdout
