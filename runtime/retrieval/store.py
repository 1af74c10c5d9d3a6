"""The persistent vector store: one chromadb collection per name under RUNTIME_HOME/index.

Layout: `index/chroma/` is chromadb's own folder; `index/lexical.sqlite3` the BM25 tables;
`index/sources/<collection id>/` holds one small marker file per fully ingested source. Markers live under the collection's id, not its
name, so a collection dropped and created again never inherits the old markers.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Literal

import chromadb
import numpy as np
from chromadb.api.models.Collection import Collection as ChromaCollection

from runtime.atomic import write_atomic
from runtime.config import Settings
from runtime.retrieval.embedder import E5Embedder, EmbedderInfo
from runtime.retrieval.errors import CollectionNotFound, EmbedderMismatch, InvalidCollectionName
from runtime.retrieval.lexical import LexicalIndex
from runtime.retrieval.models import ChunkRecord, CollectionInfo, Hit, SourceMarker

Mode = Literal["dense", "hybrid", "lexical"]
"""dense (vectors) is the default: best on natural questions (NQ-open, docs/performance.md).
lexical (BM25) finds exact strings (names, part numbers, copied phrases); hybrid fuses both."""

FUSION_DEPTH = 50
RRF_K = 60
_ID_PAGE = 1000
"""The usual reciprocal-rank-fusion constant: damps the weight of the very first ranks."""

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{1,510}[A-Za-z0-9]")


def index_dir(settings: Settings) -> Path:
    return settings.home / "index"


def validate_name(name: str) -> str:
    if not _NAME.fullmatch(name) or ".." in name:
        raise InvalidCollectionName(
            f"invalid collection name {name!r}: use 3-512 letters, digits, '.', '_' or '-', "
            "starting and ending with a letter or digit"
        )
    return name


class IndexCollection:
    """One named collection: add chunks with their embeddings, search, track finished sources."""

    def __init__(
        self, collection: ChromaCollection, lexical: LexicalIndex, embedder: E5Embedder, markers: Path
    ) -> None:
        self._col = collection
        self._lexical = lexical
        self.embedder = embedder
        self._markers = markers

    @property
    def name(self) -> str:
        return self._col.name

    def count(self) -> int:
        return self._col.count()

    def missing(self, ids: list[str]) -> list[str]:
        """The ids not stored yet, in order: only these need embedding. Asked in pages, since a
        whole corpus's ids in one query would exceed sqlite's limit on bound variables."""
        unique, present = list(dict.fromkeys(ids)), set[str]()
        for start in range(0, len(unique), _ID_PAGE):
            present.update(self._col.get(ids=unique[start : start + _ID_PAGE], include=[])["ids"])
        return [i for i in ids if i not in present]

    def add(self, chunks: list[ChunkRecord], embeddings: np.ndarray) -> None:
        """Lexical index first: a crash in between leaves the chunk missing from chromadb, where
        `missing` looks, so a rerun writes both again (FTS rows are replaced, never doubled)."""
        if not chunks:
            return
        self._lexical.add(chunks)
        self._col.upsert(
            ids=[c.id for c in chunks],
            embeddings=embeddings,
            documents=[c.text for c in chunks],
            metadatas=[c.model_dump(exclude={"id", "text"}) for c in chunks],
        )

    def remove_stale(self, source_key: str, keep: set[str]) -> int:
        """Deletes the chunks a changed source no longer has, so old text stops being retrieved."""
        stored = self._col.get(where={"source_key": source_key}, include=[])["ids"]
        stale = [i for i in stored if i not in keep]
        if stale:
            self._lexical.delete(stale)
            self._col.delete(ids=stale)
        return len(stale)

    def is_done(self, key: str, fingerprint: str) -> bool:
        path = self._marker_path(key)
        if not path.is_file():
            return False
        return SourceMarker.model_validate_json(path.read_text(encoding="utf-8")).fingerprint == fingerprint

    def mark_done(self, marker: SourceMarker) -> None:
        self._markers.mkdir(parents=True, exist_ok=True)
        write_atomic(self._marker_path(marker.key), marker.model_dump_json())

    def query(self, text: str, k: int, mode: Mode = "dense") -> list[Hit]:
        return self.search(text, self.embedder.query(text), k, mode)

    def search(self, text: str, vector: np.ndarray, k: int, mode: Mode = "dense") -> list[Hit]:
        """The k best chunks for a query already embedded (the benchmark times this part alone)."""
        if mode == "lexical":
            ranked = self._lexical.search(text, k)
        elif mode == "dense":
            ranked = self._dense(vector, k)
        else:
            ranked = fuse(self._dense(vector, FUSION_DEPTH), self._lexical.search(text, FUSION_DEPTH))[:k]
        return self._hits(ranked, vector)

    def _dense(self, vector: np.ndarray, n: int) -> list[str]:
        """No count() first: chromadb returns what it has, and counting costs 5 ms at 100k chunks."""
        return self._col.query(query_embeddings=[vector], n_results=n, include=[])["ids"][0]

    def _hits(self, ids: list[str], vector: np.ndarray) -> list[Hit]:
        if not ids:
            return []
        got = self._col.get(ids=ids, include=["documents", "metadatas", "embeddings"])
        docs, metas, vectors = got["documents"], got["metadatas"], got["embeddings"]
        assert docs is not None and metas is not None and vectors is not None  # all three were included
        rows = dict(zip(got["ids"], zip(docs, metas, vectors, strict=True), strict=True))
        return [
            Hit(
                title=str(meta["title"]),
                text=doc,
                score=round(float(np.dot(emb, vector)), 4),
                source=str(meta["source"]),
            )
            for doc, meta, emb in (rows[i] for i in ids if i in rows)
        ]

    def _marker_path(self, key: str) -> Path:
        return self._markers / f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.json"


def fuse(*rankings: list[str]) -> list[str]:
    """Reciprocal-rank fusion: rank-based, so cosine and BM25 scores need no common scale."""
    scores: dict[str, float] = {}
    for ranking in rankings:
        for rank, cid in enumerate(ranking, start=1):
            scores[cid] = scores.get(cid, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores, key=scores.__getitem__, reverse=True)


class Store:
    """All collections under RUNTIME_HOME/index, opened with the one offline embedder."""

    def __init__(self, settings: Settings, embedder: E5Embedder | None = None) -> None:
        self._root = index_dir(settings)
        self._root.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(
            path=str(self._root / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
        )
        self.embedder = embedder or E5Embedder()

    def collections(self) -> list[CollectionInfo]:
        ours = self.embedder.info
        infos = []
        for col in sorted(self._client.list_collections(), key=lambda c: c.name):
            recorded = _recorded_embedder(col.metadata)
            infos.append(
                CollectionInfo(
                    name=col.name,
                    chunks=col.count(),
                    embedder=recorded.name,
                    dim=recorded.dim,
                    compatible=recorded == ours,
                )
            )
        return infos

    def exists(self, name: str) -> bool:
        return self._find(name) is not None

    def open(self, name: str, create: bool = False) -> IndexCollection:
        """The named collection; EmbedderMismatch if another embedder built it."""
        validate_name(name)
        ours = self.embedder.info
        found = self._find(name)
        if found is None and not create:
            raise CollectionNotFound(f"no collection {name!r}; {self.existing_note()}")
        if found is not None:
            self._check_embedder(name, _recorded_embedder(found.metadata))
        try:
            col = self._client.get_or_create_collection(
                name,
                embedding_function=self.embedder,  # type: ignore[arg-type]  # chromadb types it as taking images too
                metadata={"embedder": ours.name, "dim": ours.dim},
            )
        except ValueError as exc:  # chromadb's own check: another embedding function was persisted
            raise EmbedderMismatch(f"collection {name!r}: {exc}") from exc
        return IndexCollection(col, self._lexical(str(col.id)), self.embedder, self._root / "sources" / str(col.id))

    def drop(self, name: str) -> None:
        found = self._find(validate_name(name))
        if found is None:
            raise CollectionNotFound(f"no collection {name!r}; {self.existing_note()}")
        leftovers = self._segment_dirs(str(found.id))
        self._client.delete_collection(name)
        self._lexical(str(found.id)).drop()
        for folder in [*leftovers, self._root / "sources" / str(found.id)]:
            shutil.rmtree(folder, ignore_errors=True)

    def only(self) -> str | None:
        """The one usable collection (this embedder's, not empty) if there is exactly one: the
        collection `solve` searches and `index query` reads when none is named."""
        names = [c.name for c in self.collections() if c.compatible and c.chunks]
        return names[0] if len(names) == 1 else None

    def existing_note(self) -> str:
        """What to pick from, for an error about a missing or unnamed collection."""
        names = sorted(c.name for c in self._client.list_collections())
        return f"there are: {', '.join(names)}" if names else "there are none yet (see `runtime index add`)"

    def _find(self, name: str) -> ChromaCollection | None:
        """Looked up by listing, so a foreign collection is never opened with chromadb's default embedder."""
        return next((c for c in self._client.list_collections() if c.name == name), None)

    def _segment_dirs(self, collection_id: str) -> list[Path]:
        """The collection's HNSW folders, which chromadb 1.x leaves behind on delete (chroma-core/chroma#5259).

        They are named by segment id, listed in chromadb's sqlite file; if its schema ever differs,
        nothing is listed and nothing removed.
        """
        chroma = self._root / "chroma"
        try:
            with closing(sqlite3.connect(f"file:{chroma / 'chroma.sqlite3'}?mode=ro", uri=True)) as db:
                rows = db.execute("SELECT id FROM segments WHERE collection = ?", (collection_id,)).fetchall()
        except sqlite3.Error:
            return []
        return [chroma / str(row[0]) for row in rows]

    def _lexical(self, collection_id: str) -> LexicalIndex:
        return LexicalIndex(self._root / "lexical.sqlite3", collection_id)

    def _check_embedder(self, name: str, recorded: EmbedderInfo) -> None:
        ours = self.embedder.info
        if recorded != ours:
            raise EmbedderMismatch(
                f"collection {name!r} was built with {_describe(recorded)} but this runtime embeds with "
                f"{_describe(ours)}; run `runtime index drop {name}` and add its sources again"
            )


def _recorded_embedder(metadata: dict | None) -> EmbedderInfo:
    meta = metadata or {}
    return EmbedderInfo(name=str(meta.get("embedder", "unknown")), dim=int(meta.get("dim", 0)))


def _describe(embedder: EmbedderInfo) -> str:
    return f"{embedder.name} ({embedder.dim} dims)" if embedder.dim else "an unknown embedder"
