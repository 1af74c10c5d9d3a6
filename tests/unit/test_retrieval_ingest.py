"""Ingest: reading files, chunking, storing once, resuming after a crash, persisting across processes."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

from runtime.config import Settings
from runtime.retrieval.errors import SourceError
from runtime.retrieval.embedder import E5Embedder
from runtime.retrieval.ingest import chunk_source, chunk_text, ingest, passage_text, read_source, read_sources
from runtime.retrieval.store import Store

REPO = Path(__file__).resolve().parents[2]

FACTS = {
    "eiffel.txt": "The Eiffel Tower in Paris was designed by the engineering company of Gustave Eiffel.\n\n"
    "It was completed in 1889 for the World's Fair.",
    "bananas.md": "# Bananas\n\nBananas are elongated yellow fruit that are rich in potassium.",
    "cats.html": "<html><head><title>Cats</title><style>p {color: red}</style></head><body><h1>Cats</h1>"
    "<p>Domestic cats purr when they are content.</p><script>var hidden = 'secret';</script></body></html>",
    "geo.jsonl": json.dumps({"title": "Everest", "text": "Mount Everest is the highest mountain on Earth."})
    + "\n"
    + json.dumps({"text": "The Nile is a long river that flows through north-eastern Africa."})
    + "\n",
}


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in FACTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(Settings(home=tmp_path / "home"))


# ------------------------------------------------------------------ chunking


def test_short_text_is_one_chunk():
    assert chunk_text("One paragraph.\n\nAnother one.") == ["One paragraph.\n\nAnother one."]


def test_chunks_respect_the_limit_break_at_sentences_and_overlap():
    sentences = [f"Sentence number {i} says something about topic {i}." for i in range(60)]
    text = " ".join(sentences[:30]) + "\n\n" + " ".join(sentences[30:])
    chunks = chunk_text(text, max_chars=300, overlap_chars=120)
    assert len(chunks) > 5
    assert all(len(c) <= 300 for c in chunks)
    assert all(c.endswith(".") for c in chunks), "chunks end on sentence boundaries"
    for before, after in itertools.pairwise(chunks):
        first_sentence = after.split(". ")[0] + "."
        assert first_sentence in before, "each chunk starts with the tail of the one before"
    assert all(s in " ".join(chunks) for s in sentences), "no text is lost"


def test_paragraphs_that_fit_are_kept_whole():
    paragraphs = [("Alpha " * 30).strip() + ".", ("Beta " * 30).strip() + ".", ("Gamma " * 30).strip() + "."]
    chunks = chunk_text("\n\n".join(paragraphs), max_chars=400, overlap_chars=0)
    assert chunks == ["\n\n".join(paragraphs[:2]), paragraphs[2]]


def test_a_word_longer_than_a_chunk_is_cut():
    chunks = chunk_text("x" * 2500, max_chars=1000)
    assert [len(c) for c in chunks] == [1000, 1000, 500]


def test_identical_chunks_are_stored_once(tmp_path: Path):
    path = tmp_path / "dup.jsonl"
    path.write_text("\n".join(json.dumps({"text": "Same words."}) for _ in range(3)), encoding="utf-8")
    assert len(chunk_source(read_source(path))) == 1


# ------------------------------------------------------------------ reading files


def test_html_is_stripped_to_visible_text(docs: Path):
    (doc,) = read_source(docs / "cats.html").documents
    assert doc.title == "Cats"
    assert "purr when they are content" in doc.text
    assert "secret" not in doc.text and "color" not in doc.text


def test_jsonl_records_become_documents_with_titles(docs: Path):
    first, second = read_source(docs / "geo.jsonl").documents
    assert (first.title, second.title) == ("Everest", "geo #2")
    assert second.source.endswith("geo.jsonl:2")


def test_markdown_title_is_its_first_heading(docs: Path):
    (only,) = read_source(docs / "bananas.md").documents
    assert (only.title, only.text) == ("Bananas", "Bananas are elongated yellow fruit that are rich in potassium.")


def test_markdown_sections_are_documents_titled_by_their_heading_path(tmp_path: Path):
    # A CI run's model looked for the line holding "open" and answered the heading "## Opening hours":
    # headings go into the title, so the passage's lines are the sentences under them.
    notes = tmp_path / "rules.md"
    notes.write_text(
        "Intro before any heading.\n\n# Garden\n\nMembers water their own beds.\n\n## Opening hours\n\n"
        "The gates open at 6:45.\n\n## Tools\n\n```sh\n# not a heading\n```\n\n# Empty\n\n# Bikes\n\nLock: 4-7-1-3.\n"
    )
    sections = [(d.title, d.text) for d in read_source(notes).documents]
    assert sections == [
        ("rules", "Intro before any heading."),
        ("Garden", "Members water their own beds."),
        ("Garden › Opening hours", "The gates open at 6:45."),
        ("Garden › Tools", "```sh\n# not a heading\n```"),
        ("Bikes", "Lock: 4-7-1-3."),
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"  \n\n ", "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary file"),
        (b"caf\xe9 latin-1", "not UTF-8"),
    ],
)
def test_empty_and_binary_files_are_refused_clearly(tmp_path: Path, content: bytes, reason: str):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    with pytest.raises(SourceError, match=reason):
        read_source(path)


def test_malformed_jsonl_names_the_line(tmp_path: Path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "ok"}\n{"title": "no text"}\n', encoding="utf-8")
    with pytest.raises(SourceError, match="line 2"):
        read_source(path)


# ------------------------------------------------------------------ storing and searching


def test_ingest_then_query_finds_the_right_passage(docs: Path, store: Store):
    col = store.open("notes", create=True)
    report = ingest(col, read_sources([docs]))
    assert (report.sources_ingested, report.chunks_added, report.failures) == (4, 5, [])
    assert col.count() == 5
    best = col.query("who designed the Eiffel tower?", 2)[0]
    assert best.title == "eiffel" and "Gustave Eiffel" in best.text
    assert best.source == str((docs / "eiffel.txt").resolve())
    assert col.query("which mountain is the tallest", 1)[0].title == "Everest"
    assert col.query("why do cats purr", 1)[0].title == "Cats"


def test_bad_files_are_reported_and_the_rest_still_ingested(docs: Path, store: Store):
    (docs / "empty.txt").write_text("", encoding="utf-8")
    (docs / "image.txt").write_bytes(bytes(range(256)))
    col = store.open("notes", create=True)
    report = ingest(col, read_sources([docs, docs / "missing.md"]))
    reasons = {Path(f.source).name: f.reason for f in report.failures}
    assert reasons == {
        "image.txt": "binary file (contains NUL bytes)",
        "missing.md": "no such file or directory",
    }
    assert [(Path(s.source).name, s.reason) for s in report.skipped] == [("empty.txt", "empty file")]
    assert report.sources_ingested == 4 and col.count() == 5


def test_rerun_skips_unchanged_sources_and_a_changed_file_replaces_its_chunks(docs: Path, store: Store):
    col = store.open("notes", create=True)
    ingest(col, read_sources([docs]))
    again = ingest(col, read_sources([docs]))
    assert (again.sources_unchanged, again.chunks_added) == (4, 0)

    (docs / "eiffel.txt").write_text("The Eiffel Tower is 330 metres tall.", encoding="utf-8")
    changed = ingest(col, read_sources([docs]))
    assert (changed.sources_ingested, changed.chunks_added, changed.chunks_removed) == (1, 1, 1)
    assert col.count() == 5
    assert "330 metres" in col.query("how tall is the Eiffel tower", 1)[0].text


def test_the_same_text_in_two_files_is_stored_once(docs: Path, store: Store):
    (docs / "copy.txt").write_text(FACTS["eiffel.txt"], encoding="utf-8")
    col = store.open("notes", create=True)
    report = ingest(col, read_sources([docs]))
    assert (report.chunks_added, report.chunks_duplicate) == (5, 1)


def _run(code: str, home: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "RUNTIME_HOME": str(home), "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(code)], env=env, stdout=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_a_collection_written_here_is_read_by_another_process(docs: Path, tmp_path: Path):
    home = tmp_path / "home"
    ingest(Store(Settings(home=home)).open("notes", create=True), read_sources([docs]))
    reader = _run(
        """
        import json
        from runtime.config import Settings
        from runtime.retrieval.store import Store
        hits = Store(Settings()).open("notes").query("a river in Africa", 1)
        print(json.dumps([h.model_dump() for h in hits]))
        """,
        home,
    )
    out, _ = reader.communicate(timeout=60)
    assert reader.returncode == 0
    assert json.loads(out)[0]["text"].startswith("The Nile")


@pytest.mark.slow
def test_kill_9_mid_ingest_then_rerun_completes_without_duplicates(tmp_path: Path):
    home, corpus = tmp_path / "home", tmp_path / "corpus.jsonl"
    records = [
        {"title": f"Fact {i}", "text": f"Fact number {i}: the item {i} weighs {i * 7} grams."} for i in range(160)
    ]
    corpus.write_text("\n".join(json.dumps(r) for r in records), encoding="utf-8")
    writer = _run(
        f"""
        from pathlib import Path
        from runtime.config import Settings
        from runtime.retrieval.ingest import ingest, read_sources
        from runtime.retrieval.store import Store
        col = Store(Settings()).open("facts", create=True)
        ingest(col, read_sources([Path({str(corpus)!r})]), progress=lambda d, t: print(d, flush=True), batch=16)
        print("finished", flush=True)
        """,
        home,
    )
    assert writer.stdout is not None
    deadline = time.monotonic() + 60
    while int(writer.stdout.readline().split()[0]) < 48:  # some batches stored, many still to go
        assert time.monotonic() < deadline
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=10)
    assert writer.returncode == -signal.SIGKILL

    col = Store(Settings(home=home)).open("facts")
    stored_before = col.count()
    assert 48 <= stored_before < 160
    report = ingest(col, read_sources([corpus]))
    assert report.chunks_added == 160 - stored_before, "only the missing chunks are embedded again"
    assert report.chunks_duplicate == stored_before
    assert col.count() == 160
    assert col.missing([c.id for c in chunk_source(read_source(corpus))]) == []
    assert len(col.query("how many grams does the item weigh", 5)) == 5
    assert ingest(col, read_sources([corpus])).sources_unchanged == 1


class RecordingEmbedder(E5Embedder):
    """The real embedder, noting the size of each batch it is given."""

    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def passages(self, texts: list[str]) -> np.ndarray:
        self.batches.append(len(texts))
        return super().passages(texts)


def test_small_files_are_embedded_in_full_batches_and_progress_counts_only_new_chunks(tmp_path: Path):
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(10):
        (folder / f"note{i}.txt").write_text(f"Note {i}: the locker {i} code is {1000 + i * 37}.", encoding="utf-8")
    embedder = RecordingEmbedder()
    col = Store(Settings(home=tmp_path / "home"), embedder=embedder).open("notes", create=True)
    ingest(col, read_sources([folder / "note0.txt", folder / "note1.txt"]))
    embedder.batches.clear()
    (folder / "copy.txt").write_text("Note 3: the locker 3 code is 1111.", encoding="utf-8")  # same chunk text as note3
    seen: list[tuple[int, int]] = []
    report = ingest(col, read_sources([folder]), progress=lambda done, total: seen.append((done, total)), batch=4)
    assert embedder.batches == [4, 4], "8 new chunks from 9 new sources, in full batches across files"
    assert seen == [(4, 8), (8, 8)]
    assert (report.sources_ingested, report.sources_unchanged, report.chunks_added) == (9, 2, 8)
    assert report.chunks_duplicate == 1 and col.count() == 10
    assert col.query("which code opens locker 7", 1)[0].text == "Note 7: the locker 7 code is 1259."
    assert ingest(col, read_sources([folder])).sources_unchanged == 11


def test_vectors_stored_by_the_pipeline_are_the_embedder_s_own(docs: Path, store: Store):
    col = store.open("notes", create=True)
    ingest(col, read_sources([docs]), batch=2)
    chunks = [c for source in read_sources([docs]) for c in chunk_source(source)]
    expected = dict(zip((c.text for c in chunks), store.embedder.passages([passage_text(c) for c in chunks]), strict=True))
    query = "who designed the tower"
    hits = col.query(query, len(chunks))
    assert len(hits) == len(chunks) == 5
    vector = store.embedder.query(query)
    assert [h.score for h in hits] == [round(float(np.dot(expected[h.text], vector)), 4) for h in hits]
