"""One way to get a model from what a user typed: a registry name, a GGUF path, or a server URL."""

from __future__ import annotations

from collections.abc import Callable

from runtime.config import Settings
from runtime.model.base import Model
from runtime.model.openai_compat import OpenAIModel, is_url
from runtime.model.store import Progress, resolve


def open_model(settings: Settings, spec: str | None, progress: Progress, on_loading: Callable[[str], None]) -> Model:
    """The model `spec` names (None: the default): an OpenAI-compatible server for an http(s) URL
    (`http://host:port/v1`, optionally `#model-name`), else a GGUF resolved, verified (assembled
    on first use) and loaded through llama.cpp. Reports what it is doing."""
    if spec is not None and is_url(spec):
        on_loading(f"connecting to {spec}")
        key = settings.api_key.get_secret_value() if settings.api_key else None
        return OpenAIModel(spec, api_key=key)
    manifest, path = resolve(settings, spec, progress)
    on_loading(f"loading {manifest.name} ({manifest.size_bytes / 1e9:.2f} GB)")
    from runtime.model.backend import LlamaModel  # imports llama.cpp: only when a GGUF is loaded

    return LlamaModel(manifest, path, settings)
