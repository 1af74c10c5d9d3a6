"""A bad setting, home folder, question, box or collection is one line and a documented exit
status, and the checks on the question and on its tools run before the model loads."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime import __version__, kit
from runtime.cli.main import cli
from tests.fakes import ScriptedModel

NO_MODEL = "/nonexistent/model.gguf"
"""Loading it would fail with `error: ... not found`: a check that answers instead ran before the model loaded."""


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None):
    return CliRunner().invoke(cli, list(args), env=env, input=stdin)


def one_error_line(result) -> str:
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


def read_only_folder(tmp_path: Path) -> Path:
    """A folder nobody here can write: chmod is no bar to root, sysfs is."""
    if os.geteuid() != 0:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o555)
        return folder
    assert Path("/sys/kernel").is_dir(), "running as root needs Linux's read-only /sys for this test"
    return Path("/sys/kernel")


def test_a_context_size_that_is_not_a_number_is_one_line(home):
    result = run("box", "list", env={"RUNTIME_N_CTX": "abc"})
    assert result.exit_code == 1
    assert one_error_line(result) == "error: RUNTIME_N_CTX: not a whole number (got 'abc')"


def test_a_context_size_below_the_minimum_is_one_line(home):
    result = run("model", "list", env={"RUNTIME_N_CTX": "100"})
    assert result.exit_code == 1
    assert one_error_line(result).startswith("error: RUNTIME_N_CTX: input should be greater than or equal to 256")


def test_a_home_that_is_a_file_is_one_line(tmp_path):
    file = tmp_path / "home.txt"
    file.write_text("not a folder")
    result = run("index", "list", env={"RUNTIME_HOME": str(file)})
    assert result.exit_code == 1
    assert one_error_line(result) == f"error: RUNTIME_HOME {file} is a file, not a folder"


def test_a_home_below_a_file_is_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    home = tmp_path / "file" / "home"
    result = run("index", "list", env={"RUNTIME_HOME": str(home)})
    assert result.exit_code == 1
    assert one_error_line(result).startswith(f"error: RUNTIME_HOME {home} is not a writable folder")


def test_a_read_only_home_is_one_line(tmp_path):
    folder = read_only_folder(tmp_path)
    result = run("index", "list", env={"RUNTIME_HOME": str(folder)})
    assert result.exit_code == 1
    assert one_error_line(result).startswith(f"error: RUNTIME_HOME {folder} is not a writable folder: ")


def test_help_needs_no_settings():
    result = run("solve", "--help", env={"RUNTIME_N_CTX": "abc"})
    assert result.exit_code == 0 and "QUESTION" in result.output


@pytest.mark.parametrize("question", ["", "   \n\t"])
def test_an_empty_question_is_a_usage_error_before_the_model_loads(home, question):
    result = run("solve", "-m", NO_MODEL, question)
    assert result.exit_code == 2
    assert "Error: Invalid value for QUESTION: the question is empty" in result.output


def test_an_empty_question_on_stdin_is_a_usage_error(home):
    result = run("solve", "-m", NO_MODEL, "-", stdin="  \n")
    assert result.exit_code == 2 and "the question is empty" in result.output


def test_a_question_too_long_for_the_context_fails_before_the_model_loads(home):
    result = run("solve", "-m", NO_MODEL, "x" * 20_000, env={"RUNTIME_N_CTX": "4096"})
    assert result.exit_code == 2
    assert "the question is 20,000 characters; a context of 4096 tokens holds about 12,288" in result.output


def test_an_unknown_box_fails_before_the_model_loads_and_lists_the_boxes(home):
    result = run("solve", "-m", NO_MODEL, "--box", "nosuch", "What is 2 + 2?")
    assert result.exit_code == 1
    assert one_error_line(result) == "error: no box named 'nosuch'; available: math, text, time"


def test_an_unknown_collection_fails_before_the_model_loads_and_lists_the_collections(home, tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "tea.txt").write_text("Green tea is made from unoxidised leaves.", encoding="utf-8")
    assert run("index", "add", str(tmp_path / "notes"), "-c", "notes").exit_code == 0
    result = run("solve", "-m", NO_MODEL, "--no-boxes", "--collection", "nosuch", "What is tea?")
    assert result.exit_code == 1
    assert one_error_line(result) == "error: no collection 'nosuch'; there are: notes"


def test_the_model_loads_only_after_the_checks(home):
    result = run("solve", "-m", NO_MODEL, "--no-boxes", "What is 2 + 2?")
    assert result.exit_code == 1 and one_error_line(result).startswith("error: ")
    assert one_error_line(result) == f"error: no such model file: {NO_MODEL}"  # every check before it passed


def test_a_question_from_stdin_is_answered_with_progress_and_settings_in_the_json(home, monkeypatch):
    model = ScriptedModel(["I add.\n```python\nfinal_answer(2 + 2)\n```"])
    monkeypatch.setattr(kit, "load_model", lambda *args, **kwargs: model)
    result = run("solve", "--no-boxes", "--json", "-", stdin="What is 2 + 2?\n", env={"RUNTIME_MAX_STEPS": "4"})
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert (record["question"], record["status"], record["answer"]) == ("What is 2 + 2?", "answered", 4)
    runtime = record["runtime"]
    assert runtime["version"] == __version__
    assert runtime["settings"]["max_steps"] == 4 and runtime["settings"]["home"] == str(home)
    assert runtime["options"]["max_steps"] == 4
    assert "reading the prompt:   0% of" in result.stderr  # progress while the prefix is computed


def test_quiet_shows_no_progress(home, monkeypatch):
    model = ScriptedModel(["I add.\n```python\nfinal_answer(2 + 2)\n```"])
    monkeypatch.setattr(kit, "load_model", lambda *args, **kwargs: model)
    result = run("solve", "--no-boxes", "-q", "What is 2 + 2?")
    assert result.exit_code == 0 and result.stdout == "4\n" and result.stderr == ""


@pytest.mark.slow
def test_the_json_says_which_tools_were_offered_and_hinted(home, monkeypatch):
    model = ScriptedModel(["I call the solver.\n```python\nfinal_answer(solve_24([4, 7, 8, 8]))\n```"])
    monkeypatch.setattr(kit, "load_model", lambda *args, **kwargs: model)
    result = run("solve", "--box", "math", "--no-guided-call", "--json", "Make 24 from 4 7 8 8")
    assert result.exit_code == 0, result.output
    record = json.loads(result.stdout)
    assert record["tools"][-1] == "solve_24" and len(record["tools"]) == 13  # the 12 every prompt lists, then it
    assert record["hints"] == ["solve_24"]


def test_the_model_loads_beside_the_boxes_and_a_box_typo_loads_nothing(home, monkeypatch):
    from runtime.config import Settings
    from runtime.errors import ModelLoadError, RuntimeUserError

    calls: list[str] = []
    model = ScriptedModel([])
    monkeypatch.setattr(kit, "load_model", lambda *args, **kwargs: calls.append("load") or model)
    settings = Settings(home=home)
    with pytest.raises(RuntimeUserError, match="no box named 'nosuch'"):
        kit.open_tools_and_model(settings, kit.ToolChoice(boxes=["nosuch"]), None, print, print)
    assert calls == []
    tools, loaded = kit.open_tools_and_model(settings, kit.ToolChoice(boxes=["text"]), None, print, print)
    assert loaded is model and calls == ["load"] and "count_occurrences" in tools.toolset

    def fails(*args, **kwargs):
        raise ModelLoadError("llama.cpp could not load x.gguf")

    monkeypatch.setattr(kit, "load_model", fails)
    with pytest.raises(RuntimeUserError, match="could not load"):
        kit.open_tools_and_model(settings, kit.ToolChoice(boxes=[]), None, print, print)
