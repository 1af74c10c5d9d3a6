"""Any JSONL file is a suite: `runtime eval FILE.jsonl --checker NAME --mode MODE`, end to end through
the CLI with scripted model text served over real HTTP, and its one-line errors."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime.cli.main import cli
from runtime.distill.teach import load_teaching
from runtime.eval.checkers import CHECKERS, file_gold
from runtime.eval.suites import SuiteFileError, load_file_suite
from tests.fakes import ScriptedServer

ROWS = [
    {"question": "Tom has 3 apples and buys 4 more. How many apples does he have?", "answer": 7},
    {"problem": "A box holds 12 eggs. How many eggs are in 3 boxes?", "target": "36 eggs"},
    {"input": "What is half of 9?", "gold": 4.5},
]


def write(file: Path, rows: list) -> Path:
    file.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows), encoding="utf-8")
    return file


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def questions(tmp_path) -> Path:
    return write(tmp_path / "my-questions.jsonl", ROWS)


def test_a_users_file_runs_end_to_end_and_resumes_through_eval_file(home, questions):
    order = [item.question for item in load_file_suite(questions, "numeric").sample(None, seed=0)]
    answers = {ROWS[0]["question"]: "3 + 4 = 7.\nAnswer: 7", ROWS[1]["problem"]: "12 * 3.\nAnswer: 36",
               ROWS[2]["input"]: "9 / 2.\nAnswer: 4"}  # the last is wrong: 4.5
    with ScriptedServer([answers[q] for q in order]) as server:
        result = invoke("eval", str(questions), "--checker", "numeric", "--mode", "cot", "--model", server.url, "--json", "--quiet")
        assert result.exit_code == 0, result.output
        asked = [body["messages"][-1]["content"] for body in server.bodies]
    summary = json.loads(result.stdout)
    assert (summary["n"], summary["correct"]) == (3, 2) and summary["accuracy"] == pytest.approx(2 / 3)
    assert summary["failures"]["wrong_answer"] == 1 and summary["config"]["suite"] == "my-questions"
    assert summary["config"]["checker"] == "numeric" and str(questions) in summary["config"]["split"]
    assert all(any(q in text for text in asked) for q in order)  # each row's question reached the model
    [folder] = (home / "eval").iterdir()
    assert folder.name.startswith("my-questions-cot-")
    records = {r["question"]: r for r in map(json.loads, (folder / "records.jsonl").read_text().splitlines())}
    assert records[ROWS[2]["input"]]["gold"] == "4.5" and records[ROWS[2]["input"]]["verdict"]["read_as"] == "4"
    # the explicit `eval file` form finds the same run folder: all done, so no model (the server is gone)
    again = invoke("eval", "file", str(questions), "--checker", "numeric", "--mode", "cot", "--model", server.url, "--quiet")
    assert again.exit_code == 0, again.output
    assert "2/3 correct = 66.7%" in again.stdout and str(folder / "records.jsonl") in again.stdout


def test_an_edited_file_is_not_resumed_into_the_old_run(home, questions, tmp_path):
    with ScriptedServer(["Answer: 7"] * 3) as server:
        args = ["--checker", "numeric", "--mode", "cot", "--model", server.url, "--limit", "1", "--quiet"]
        assert invoke("eval", str(questions), *args).exit_code == 0
        write(questions, [*ROWS, {"question": "What is 1 + 1?", "answer": 2}])
        result = invoke("eval", str(questions), *args)
    assert result.exit_code == 1 and "holds a different run" in result.stderr and "--out" in result.stderr


@pytest.mark.parametrize(
    ("rows", "args", "message"),
    [
        (None, [], "missing.jsonl: no such file"),
        ([ROWS[0], '{"question": "What is 2 + 2?", "answer": 4'], [], "bad.jsonl:2: not JSON: "),
        ([ROWS[0], "", "[1, 2]"], [], "bad.jsonl:3: not a JSON object"),
        ([{"prompt": "What is 2 + 2?", "answer": 4}], [], "bad.jsonl:1: no question (a field question, input or problem)"),
        ([{"question": "What is 2 + 2?"}], [], "bad.jsonl:1: no answer (a field answer, gold or target) for --checker numeric"),
        ([{"question": "What is 2 + 2?", "answer": "four"}], [], "bad.jsonl:1: answer 'four' is not a number (--checker numeric)"),
        ([ROWS[0]], ["--answer-field", "expected"], "bad.jsonl:1: no field 'expected'"),
        ([{"id": 1, **ROWS[0]}, {"id": 1, **ROWS[0]}], [], "bad.jsonl:2: id '1' repeats line 1"),
        ([""], [], "bad.jsonl holds no questions"),
        ([ROWS[0]], ["--checker", "numbers"], "unknown checker 'numbers'; choose one of: numeric, exact"),
    ],
)
def test_bad_input_is_one_line_and_exit_1(home, tmp_path, rows, args, message):
    file = tmp_path / "missing.jsonl" if rows is None else write(tmp_path / "bad.jsonl", rows)
    checker = [] if "--checker" in args else ["--checker", "numeric"]
    result = invoke("eval", str(file), *checker, *args, "--mode", "cot", "--quiet")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: ") and message in result.stderr and result.stderr.count("\n") == 1


def test_fields_by_other_names_and_every_checkers_gold(tmp_path):
    file = write(tmp_path / "capitals.jsonl", [{"id": "fr", "prompt": "Capital of France?", "expected": ["Paris", "paris, france"]}])
    [item] = load_file_suite(file, "exact", question_field="prompt", answer_field="expected").items
    assert (item.id, item.question, item.gold) == ("fr", "Capital of France?", ["Paris", "paris, france"])
    assert file_gold("numeric", 1e-05) == "0.00001" and file_gold("yesno", True) == "yes"
    assert file_gold("game24", "4, 5, 6, 7") == [4, 5, 6, 7] and file_gold("asdiv", 12) == "12"
    with pytest.raises(ValueError, match="not yes, no or maybe"):
        file_gold("yesno", "probably")
    with pytest.raises(SuiteFileError, match="no field 'prompt'"):
        load_file_suite(write(tmp_path / "other.jsonl", ROWS), "numeric", question_field="prompt")


def test_teach_reads_question_files_with_the_same_loader(tmp_path):
    file = write(tmp_path / "train.jsonl", [{"input": "Make 24 from 1 2 3 4.", "target": "1 2 3 4"}])
    teaching = load_teaching(str(file), "train", "game24", None, seed=0)
    assert [(i.id, i.gold) for i in teaching.items] == [("q1", [1, 2, 3, 4])] and teaching.name == "train"


def test_help_lists_the_checkers_and_the_file_form():
    assert "SUITE|FILE.jsonl" in invoke("eval", "--help").output
    text = invoke("eval", "file", "--help").output
    assert all(name in text for name in CHECKERS) and "--question-field" in text and "--answer-field" in text


def test_any_existing_file_goes_to_the_file_command_and_suite_names_win(home, tmp_path, monkeypatch):
    write(tmp_path / "rows.txt", ["not json"])
    write(tmp_path / "asdiv", ["not json"])  # a file named like a suite in the current folder
    monkeypatch.chdir(tmp_path)
    result = invoke("eval", "rows.txt", "--checker", "exact", "--mode", "cot", "--quiet")
    assert result.exit_code == 1 and result.stderr.startswith("error: rows.txt:1: not JSON")
    suite = invoke("eval", "asdiv", "--mode", "cot", "--first-thought", "--quiet")
    assert suite.exit_code == 1 and "agent modes only" in suite.stderr  # the asdiv suite answered, not the file
