"""How the TUI gets a model: an injectable factory (tests pass a scripted one) and what it shows about it."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel

from runtime import kit
from runtime.config import Settings
from runtime.model.backend import LlamaModel
from runtime.model.base import Model
from runtime.model.store import Progress

ModelFactory = Callable[[str | None, Progress], Model]
"""(registry name, GGUF path or server URL, None for the default; progress) → a loaded model. Runs in a worker
thread. `progress(label, done, total)` with total 0 means "busy, no known size"."""


def llama_factory(settings: Settings) -> ModelFactory:
    """The real loader: a GGUF (assembled on first use) through llama.cpp, or a server URL (see `open_model`)."""

    def load(name: str | None, progress: Progress) -> Model:
        return kit.load_model(settings, name, progress, on_loading=lambda message: progress(message, 0, 0))

    return load


class ModelInfo(BaseModel):
    """What the side panel says about the loaded model."""

    name: str
    size_bytes: int | None = None
    n_ctx: int


def describe(model: Model, settings: Settings) -> ModelInfo:
    if isinstance(model, LlamaModel):
        return ModelInfo(name=model.name, size_bytes=model.manifest.size_bytes, n_ctx=model.llm.n_ctx())
    return ModelInfo(name=model.name, n_ctx=settings.n_ctx)
