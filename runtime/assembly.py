"""Puts a runnable agent together from settings: model, sandbox, tools. Used by CLI, TUI and eval."""

from __future__ import annotations

from collections.abc import Callable

from runtime.agent import Agent, AgentOptions
from runtime.config import Settings
from runtime.model.backend import LlamaModel
from runtime.model.store import Progress, resolve
from runtime.sandbox import Sandbox, SandboxPolicy
from runtime.tools import Toolset


def load_model(settings: Settings, name_or_path: str | None, progress: Progress, on_loading: Callable[[str], None]) -> LlamaModel:
    """Resolve, verify (assembling on first use) and load a model; reports what it is doing."""
    manifest, path = resolve(settings, name_or_path, progress)
    on_loading(f"loading {manifest.name} ({manifest.size_bytes / 1e9:.2f} GB)")
    return LlamaModel(manifest, path, settings)


def agent_options(settings: Settings, **overrides: object) -> AgentOptions:
    values = {
        "max_steps": settings.max_steps,
        "max_tokens_per_step": settings.max_tokens_per_step,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
        "seed": settings.seed,
        "grammar": settings.grammar,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return AgentOptions.model_validate(values)


def open_sandbox(settings: Settings, toolset: Toolset | None) -> Sandbox:
    return Sandbox(SandboxPolicy(timeout_s=settings.action_timeout_s), toolset=toolset)


def make_agent(model: LlamaModel, sandbox: Sandbox, toolset: Toolset | None, options: AgentOptions) -> Agent:
    return Agent(model, sandbox, tools=toolset.specs() if toolset else [], options=options)
