"""Passage files indexed as `runtime index add` does, for the retrieval tests."""

from __future__ import annotations

import json
from pathlib import Path

from runtime.config import Settings
from runtime.retrieval.ingest import ingest, read_sources
from runtime.retrieval.store import IndexCollection, Store


def index_passages(settings: Settings, name: str, passages: list[dict[str, str]], corpus: Path) -> IndexCollection:
    """Collection `name` built from `passages`, written first as the JSONL file `corpus`."""
    corpus.write_text("\n".join(json.dumps(p) for p in passages), encoding="utf-8")
    collection = Store(settings).open(name, create=True)
    ingest(collection, read_sources([corpus]))
    return collection
