"""`runtime chat` on the command line: a wrong session id is one clear line, before any screen opens."""

from __future__ import annotations

from click.testing import CliRunner

from runtime.cli.main import cli


def test_resuming_an_unknown_session_is_one_clear_line(home):
    result = CliRunner().invoke(cli, ["chat", "--resume", "nope"])
    assert result.exit_code == 1
    assert result.output.startswith("error: no saved session 'nope' in ")
    assert "Traceback" not in result.output


def test_help_names_the_options():
    result = CliRunner().invoke(cli, ["chat", "--help"])
    assert result.exit_code == 0
    assert "--model" in result.output and "--resume [ID]" in result.output


def test_a_wrong_box_or_collection_is_one_line_before_the_screen_opens(home):
    for args, line in [
        (["--box", "nosuch"], "error: no box named 'nosuch'; available: math, text, time"),
        (["--collection", "nosuch"], "error: no collection 'nosuch'; there are none yet (see `runtime index add`)"),
    ]:
        result = CliRunner().invoke(cli, ["chat", *args])
        assert result.exit_code == 1
        assert result.output.strip() == line


def test_contradicting_tool_options_are_a_usage_error(home):
    result = CliRunner().invoke(cli, ["chat", "--box", "math", "--no-boxes"])
    assert result.exit_code == 2 and "--box and --no-boxes contradict each other" in result.output
