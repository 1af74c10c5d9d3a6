"""`runtime box ...` through click's CliRunner, with a private RUNTIME_HOME."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime.cli.main import cli


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Invoke `runtime ARGS` in tmp, with RUNTIME_HOME in tmp too."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    env = {"RUNTIME_HOME": str(tmp_path / "home")}
    return lambda *args: runner.invoke(cli, list(args), env=env)


def test_list_shows_the_shipped_boxes(run) -> None:
    result = run("box", "list", "--json")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [(r["name"], r["source"]) for r in rows] == [("math", "shipped"), ("text", "shipped"), ("time", "shipped")]
    assert "math" in run("box", "list").output


def test_new_then_import_needs_yes_when_not_interactive(run, tmp_path: Path) -> None:
    assert run("box", "new", "my_tools").exit_code == 0
    refused = run("box", "import", "my_tools")
    assert refused.exit_code == 1
    assert "error: nobody at the terminal to confirm the install: run again with --yes" in refused.output
    assert "tool my_tools.scale_values: Multiply every value by the same factor." in refused.output
    assert "sha256" in refused.output and "imports: fastmcp" in refused.output
    assert not (tmp_path / "home" / "boxes" / "my_tools").exists()

    installed = run("box", "import", "my_tools", "--yes", "--json")
    assert installed.exit_code == 0, installed.output
    data = json.loads(installed.stdout)
    assert (data["status"], data["version"]) == ("installed", "0.1.0")
    assert data["tools"][0]["signature"] == "(values: list[float], factor: float = 2.0) -> list[float]"

    again = run("box", "import", "my_tools", "--yes")
    assert again.exit_code == 0 and "already available; nothing to do" in again.output


def test_inspect_export_remove(run, tmp_path: Path) -> None:
    run("box", "new", "my_tools")
    run("box", "import", "my_tools", "--yes")
    shown = run("box", "inspect", "my_tools")
    assert "def scale_values(values: list[float], factor: float = 2.0) -> list[float]:" in shown.output
    details = json.loads(run("box", "inspect", "math", "--json").output)
    assert details["source"] == "shipped" and "math.solve_24" in {t["qualified_name"] for t in details["tools"]}

    exported = run("box", "export", "my_tools", "-o", "out.tar.gz", "--json")
    assert json.loads(exported.output)["path"] == "out.tar.gz" and (tmp_path / "out.tar.gz").is_file()

    removed = run("box", "remove", "my_tools", "--json")
    assert json.loads(removed.output) == {"name": "my_tools", "version": "0.1.0", "status": "removed"}
    assert run("box", "import", "out.tar.gz", "--yes").exit_code == 0


def test_user_errors_are_one_line(run, tmp_path: Path) -> None:
    (tmp_path / "evil.zip").write_bytes(b"not a zip at all")
    for args, message in [
        (("box", "import", "evil.zip", "--yes"), "error: evil.zip: not a box folder, .zip or .tar.gz\n"),
        (("box", "import", "missing", "--yes"), "error: missing: no such folder or file\n"),
        (("box", "inspect", "nope"), "error: no box named 'nope'; available: math, text, time\n"),
        (
            ("box", "remove", "math"),
            "error: math is shipped with the runtime and cannot be removed; leave it out of a run instead\n",
        ),
        (("box", "export", "math", "-o", "math.rar"), "error: math.rar: export to a .zip, .tar.gz or .tgz file\n"),
        (("box", "new", "Bad-Name"), "error: box name 'Bad-Name' must be a lowercase identifier like 'my_tools'\n"),
    ]:
        result = run(*args)
        assert result.exit_code == 1, args
        assert result.output == message


def test_seal_after_editing(run, tmp_path: Path) -> None:
    run("box", "new", "my_tools")
    module = tmp_path / "my_tools" / "tools.py"
    module.write_text(module.read_text().replace("Multiply every value", "Scale every value"))
    assert "sha256 mismatch for tools.py" in run("box", "import", "my_tools", "--yes").output
    assert run("box", "seal", "my_tools").output == "sealed my_tools 0.1.0: 2 files\n"
    assert run("box", "import", "my_tools", "--yes").exit_code == 0
