"""`runtime index ...` through click: add, query, list, drop, with and without --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime.cli.index import index
from runtime.retrieval.errors import CollectionNotFound, IngestIncomplete


@pytest.fixture
def notes(tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "lisbon.md").write_text(
        "# Lisbon\n\nLisbon is the capital and largest city of Portugal.", encoding="utf-8"
    )
    (folder / "tea.txt").write_text("Green tea is made from unoxidised leaves of Camellia sinensis.", encoding="utf-8")
    return folder


def _invoke(*args: str):
    return CliRunner().invoke(index, list(args), catch_exceptions=True)


def test_add_query_list_drop(home: Path, notes: Path):
    added = _invoke("add", str(notes), "--collection", "notes")
    assert added.exit_code == 0, added.output
    assert "notes: 2 sources added, 0 unchanged, 0 failed; 2 new chunks" in added.stdout
    assert "embedding into notes: 2/2 chunks" in added.stderr

    found = _invoke("query", "capital of Portugal", "-k", "1", "--collection", "notes")
    assert found.exit_code == 0 and found.stdout.startswith("1. [") and "Lisbon" in found.stdout

    listed = _invoke("list")
    assert listed.stdout.split()[:3] == ["notes", "2", "chunks"]

    assert _invoke("drop", "notes").stdout == "dropped notes\n"
    assert _invoke("list", "--json").stdout.strip() == "[]"


def test_json_output(home: Path, notes: Path):
    report = json.loads(_invoke("add", str(notes), "-c", "notes", "--json").stdout)
    assert (report["sources_ingested"], report["chunks_added"], report["failures"]) == (2, 2, [])
    again = json.loads(_invoke("add", str(notes), "-c", "notes", "--json").stdout)
    assert (again["sources_unchanged"], again["chunks_added"]) == (2, 0)

    hits = json.loads(_invoke("query", "how is green tea made", "-k", "2", "-c", "notes", "--json").stdout)
    assert hits[0]["title"] == "tea" and set(hits[0]) == {"title", "text", "score", "source"}

    lexical = json.loads(_invoke("query", "Camellia", "-c", "notes", "--mode", "lexical", "--json").stdout)
    assert [h["title"] for h in lexical] == ["tea"]

    (row,) = json.loads(_invoke("list", "--json").stdout)
    assert (row["name"], row["chunks"], row["dim"], row["compatible"]) == ("notes", 2, 384, True)
    assert json.loads(_invoke("drop", "notes", "--json").stdout) == {"dropped": "notes"}


def test_bad_files_are_listed_the_rest_added_and_the_exit_is_an_error(home: Path, notes: Path):
    (notes / "photo.txt").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00")
    result = _invoke("add", str(notes), "--collection", "notes")
    assert isinstance(result.exception, IngestIncomplete)
    assert "1 of 3 sources could not be added" in str(result.exception)
    assert "photo.txt: binary file" in result.stderr
    assert "2 sources added" in result.stdout


def test_query_of_a_missing_collection_is_a_user_error(home: Path):
    result = _invoke("query", "anything", "-c", "wiki")
    assert isinstance(result.exception, CollectionNotFound)
    assert str(result.exception) == "no collection 'wiki'; there are none yet (see `runtime index add`)"
    unnamed = _invoke("query", "anything")
    assert unnamed.exit_code == 2
    assert "name the collection to search with --collection; there are none yet" in unnamed.output


def test_query_searches_the_only_collection_as_solve_does(home: Path, notes: Path):
    assert _invoke("add", str(notes), "-c", "notes").exit_code == 0
    found = _invoke("query", "capital of Portugal", "-k", "1")
    assert found.exit_code == 0 and "Lisbon" in found.stdout
    (notes / "more").mkdir()
    (notes / "more" / "rome.txt").write_text("Rome is the capital of Italy.", encoding="utf-8")
    assert _invoke("add", str(notes / "more"), "-c", "cities").exit_code == 0
    ambiguous = _invoke("query", "capital of Portugal")
    assert ambiguous.exit_code == 2 and "there are: cities, notes" in ambiguous.output


def test_adding_a_missing_folder_leaves_no_empty_collection(home: Path, tmp_path: Path):
    result = _invoke("add", str(tmp_path / "missing"), "-c", "notes")
    assert isinstance(result.exception, IngestIncomplete)
    assert str(result.exception) == "nothing could be added to notes (see above)"
    assert f"failed {tmp_path / 'missing'}: no such file or directory" in result.stderr
    assert _invoke("list", "--json").stdout.strip() == "[]"


def test_an_empty_file_is_skipped_and_re_adding_exits_0(home: Path, notes: Path):
    (notes / "empty.txt").write_text("", encoding="utf-8")
    for _ in range(2):
        result = _invoke("add", str(notes), "-c", "notes")
        assert result.exit_code == 0, result.output
        assert f"skipped {(notes / 'empty.txt').resolve()}: empty file" in result.stderr
        assert "0 failed, 1 skipped;" in result.stdout
    report = json.loads(_invoke("add", str(notes), "-c", "notes", "--json").stdout)
    assert (report["sources_unchanged"], report["failures"], len(report["skipped"])) == (2, [], 1)


def test_a_walk_does_not_follow_a_link_out_of_its_folder_and_reports_a_broken_one(
    home: Path, notes: Path, tmp_path: Path
):
    secret = tmp_path / "secret.txt"
    secret.write_text("The vault code is zanzibar.", encoding="utf-8")
    (notes / "secret.txt").symlink_to(secret)
    (notes / "gone.md").symlink_to(tmp_path / "deleted.md")
    (notes / "lisbon-link.md").symlink_to(notes / "lisbon.md")  # inside the folder: fine
    result = _invoke("add", str(notes), "-c", "notes")
    assert result.exit_code == 0, result.output
    assert f"skipped {notes / 'secret.txt'}: links to {secret}, outside {notes}" in result.stderr
    assert f"skipped {notes / 'gone.md'}: broken symlink" in result.stderr
    assert "2 sources added" in result.stdout
    hits = json.loads(_invoke("query", "zanzibar", "-c", "notes", "--mode", "lexical", "--json").stdout)
    assert hits == []


def test_help_explains_the_commands():
    text = _invoke("--help").stdout
    for word in ["add-wiki", "query", "drop", "RUNTIME_HOME", "resumable"]:
        assert word in text
    assert "--collection" in _invoke("add", "--help").stdout
