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
