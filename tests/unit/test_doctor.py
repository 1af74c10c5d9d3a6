"""`runtime doctor` and `--debug` say in one line which OS protections the sandbox has."""

from __future__ import annotations

from click.testing import CliRunner

from runtime.cli.main import cli


def test_doctor_prints_one_line_of_protections():
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("sandbox OS layer: ")
    assert "seccomp" in lines[0] and "landlock" in lines[0] and "uid" in lines[0]


def test_debug_starts_with_the_protections_line():
    result = CliRunner().invoke(cli, ["--debug", "doctor"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("sandbox OS layer: ")
