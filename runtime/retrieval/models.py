"""The records that cross module boundaries: stored chunks, search hits, resume markers, listings."""

from __future__ import annotations

from pydantic import BaseModel, Field

DOC_OPEN, DOC_CLOSE = "<document>", "</document>"
"""The quote around each retrieved passage (tool.py); answers.py refuses an answer that still holds it."""


class ChunkRecord(BaseModel):
    """One stored chunk. Its id is the hash of its text, so storing it twice is a no-op."""

    id: str
    text: str
    title: str
    source: str = Field(description="Where the text came from, shown to the model: a path, a URL.")
    source_key: str = Field(description="The ingested source it belongs to (the file), for resume and cleanup.")
    chunk: int = Field(description="Position of the chunk within its document.")


class Hit(BaseModel):
    """One retrieved passage; score is its cosine similarity to the query (hybrid order also weighs BM25)."""

    title: str
    text: str
    score: float
    source: str


class SourceMarker(BaseModel):
    """Written after every chunk of a source is stored: a rerun skips the source while it is unchanged."""

    key: str
    fingerprint: str
    chunks: int


class CollectionInfo(BaseModel):
    name: str
    chunks: int
    embedder: str
    dim: int
    compatible: bool = Field(description="False when built by another embedder: drop and rebuild it.")
