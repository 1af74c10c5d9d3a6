"""`runtime eval report`: a side-by-side Markdown table of run folders, and a PNG chart."""

import sys

import pytest

from runtime.config import Settings
from runtime.eval.report import ChartUnavailable, load_summary, markdown_table, write_chart
from runtime.eval.runner import EvalRequest, run_eval
from tests.unit.test_eval_runner import FakeLoader, act, config, gold, right, suite  # noqa: F401  (fixture)


@pytest.fixture
def two_runs(suite, tmp_path):  # noqa: F811
    settings = Settings(home=tmp_path / "home", max_steps=2, threads=1)
    items = suite.sample(3, seed=0)
    agent = {**right(items), items[2].question: [act("print(1)")]}
    cot = {item.question: [f"Answer: {gold(item)}"] for item in items}
    run_eval(
        EvalRequest(config=config(suite), limit=3, out=tmp_path / "agent"), suite, FakeLoader(replies=agent), settings
    )
    run_eval(
        EvalRequest(config=config(suite, mode="cot"), limit=3, out=tmp_path / "cot"),
        suite,
        FakeLoader(replies=cot),
        settings,
    )
    return [tmp_path / "agent", tmp_path / "cot"]


def test_table_puts_runs_side_by_side_with_interval_and_failures(two_runs):
    summaries = [load_summary(folder) for folder in two_runs]
    table = markdown_table(summaries, ["agent", "cot"]).splitlines()
    assert table[0].startswith("| run | suite | mode | model | seed | n | accuracy [95% CI] |")
    assert table[0].rstrip(" |").endswith("parse | sandbox | step limit | wrong answer | error")
    assert set(table[1].replace("|", "").split()) == {"---"}
    agent, cot = (row.split(" | ") for row in table[2:])
    assert agent[:7] == ["| agent", "asdiv", "agent", "scripted", "0", "3", "66.7% [21–94]"]
    assert cot[:7] == ["| cot", "asdiv", "cot", "scripted", "0", "3", "100.0% [44–100]"]
    assert agent[-3:] == ["1", "0", "0 |"]  # one step limit, no wrong answer, no error


def test_a_killed_run_reports_what_it_finished(two_runs):
    (two_runs[0] / "summary.json").unlink()
    with (two_runs[0] / "records.jsonl").open("a") as handle:
        handle.write('{"id": "half a li')
    summary = load_summary(two_runs[0])
    assert summary.n == 3 and summary.correct == 2


@pytest.mark.slow
def test_png_chart_is_written(two_runs, tmp_path):
    summaries = [load_summary(folder) for folder in two_runs]
    chart = tmp_path / "charts" / "accuracy.png"
    write_chart(summaries, ["agent", "cot"], chart)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_chart_of_a_run_that_got_none_right(suite, tmp_path):  # noqa: F811
    settings = Settings(home=tmp_path / "home", max_steps=2, threads=1)
    items = suite.sample(3, seed=0)
    wrong = {item.question: ["Answer: -1"] for item in items}
    request = EvalRequest(config=config(suite, mode="cot"), limit=3, out=tmp_path / "none")
    run_eval(request, suite, FakeLoader(replies=wrong), settings)
    summary = load_summary(tmp_path / "none")
    assert summary.correct == 0 and summary.ci95[0] == 0.0
    write_chart([summary], ["cot"], tmp_path / "none.png")
    assert (tmp_path / "none.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_png_without_matplotlib_is_a_clear_error(two_runs, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import now fails as if not installed
    with pytest.raises(ChartUnavailable, match=r"pip install 'runtime\[eval\]'"):
        write_chart([load_summary(two_runs[0])], ["agent"], tmp_path / "a.png")


def test_results_page_is_generated_from_run_folders(two_runs, tmp_path):
    from scripts.make_results import render

    summaries = [load_summary(folder) for folder in two_runs]
    page = render(summaries, ["agent", "cot"])
    assert page.startswith("# Results") and "## asdiv" in page
    assert "| model | cot | agent |" in page  # modes in their canonical order
    assert "| scripted | 100.0% [44–100] n=3 | 66.7% [21–94] n=3 |" in page
    assert "seed 0" in page
    assert "Best: **scripted, cot** at 100.0% (3/3); its 95% interval overlaps that of scripted, agent" in page
    assert render(summaries, ["agent", "cot"], note="Made on 2 cores.").count("Made on 2 cores.") == 1


def test_runs_that_differ_only_in_the_grammar_are_compared_side_by_side(suite, tmp_path):  # noqa: F811
    from scripts.make_results import render

    settings = Settings(home=tmp_path / "home", max_steps=2, threads=1)
    items = suite.sample(2, seed=0)
    prose = {item.question: [f"The answer is {gold(item)}."] for item in items}  # never a code block
    folders = []
    for grammar, replies in ((True, right(items)), (False, prose)):
        folder = tmp_path / f"grammar-{grammar}"
        run_eval(EvalRequest(config=config(suite, grammar=grammar), limit=2, out=folder), suite, FakeLoader(replies=replies), settings)
        folders.append(folder)
    page = render([load_summary(f) for f in folders], ["on", "off"])
    assert "| model | agent | agent, no grammar |" in page
    assert "| asdiv | scripted | agent | 2 | on | 0 / 2 (0.0%) | 100.0% [34–100] |" in page
    assert "| asdiv | scripted | agent | 2 | off | 6 / 6 (100.0%) | 0.0% [0–66] |" in page


def test_a_run_limited_to_named_boxes_has_its_own_column(two_runs):
    from scripts.make_results import column

    summary = load_summary(two_runs[0])
    limited = summary.model_copy(update={"config": summary.config.model_copy(update={"mode": "agent+box", "boxes": ["distilled"]})})
    assert column(limited) == "agent+box, only box distilled"


def test_runs_that_differ_only_in_compute_first_are_compared_side_by_side(suite, tmp_path):  # noqa: F811
    from scripts.make_results import column, render

    settings = Settings(home=tmp_path / "home", max_steps=2, threads=1)
    items = suite.sample(2, seed=0)
    folders = []
    for on in (True, False):
        folder = tmp_path / f"compute-first-{on}"
        request = EvalRequest(config=config(suite, compute_first=on), limit=2, out=folder)
        run_eval(request, suite, FakeLoader(replies={i.question: [act(f"final_answer({gold(i)})")] * 3 for i in items}), settings)
        folders.append(folder)
    summaries = [load_summary(f) for f in folders]
    assert column(summaries[0]) == "agent, compute first"
    page = render(summaries, ["on", "off"])
    assert "| suite | model | mode | n | compute first | unchecked steps / steps |" in page
    assert "| asdiv | scripted | agent | 2 | on | 4 / 6 (66.7%) | 100.0% [34–100] | 3.00 |" in page  # the last step may answer
    assert "| asdiv | scripted | agent | 2 | off | 0 / 2 (0.0%) | 100.0% [34–100] | 1.00 |" in page
    assert "step grammar" not in page  # no grammar pair among these runs


@pytest.mark.slow
def test_runs_of_one_model_are_paired_on_the_same_questions(suite, tmp_path, monkeypatch):  # noqa: F811
    import scripts.make_results
    from scripts.make_results import load_verdicts, mcnemar_p, render

    monkeypatch.setattr(scripts.make_results, "MIN_PAIRED", 12)  # the test suite holds 12 questions
    settings = Settings(home=tmp_path / "home", max_steps=2, threads=1)
    items = suite.sample(12, seed=0)
    cot = {item.question: [f"Answer: {gold(item)}"] for item in items}  # all 12 right
    agent = {**right(items), **{item.question: [act(f"final_answer({gold(item) + 1})")] for item in items[:10]}}
    for mode, replies in (("cot", cot), ("agent", agent)):
        request = EvalRequest(config=config(suite, mode=mode), limit=12, out=tmp_path / mode)
        run_eval(request, suite, FakeLoader(replies=replies), settings)
    verdicts = [load_verdicts(tmp_path / "cot"), load_verdicts(tmp_path / "agent")]
    page = render([v.summary for v in verdicts], ["cot", "agent"], verdicts=verdicts)
    assert "| scripted | cot | agent | 12 | 12 | 2 | 10 | 0 | 0.002 |" in page
    assert mcnemar_p(10, 0) == 2 / 2**10 and mcnemar_p(13, 4) == pytest.approx(0.049, abs=5e-4)
    assert mcnemar_p(0, 0) == 1.0
    assert "Paired" not in render([v.summary for v in verdicts], ["cot", "agent"])  # records not given
