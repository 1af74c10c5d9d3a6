"""Puts a runnable agent together from settings: model, sandbox, tools. Used by CLI, TUI and eval."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from runtime.agent import Agent, AgentOptions
from runtime.config import Settings
from runtime.model.backend import LlamaModel
from runtime.model.store import Progress, resolve
from runtime.sandbox import Sandbox, SandboxPolicy
from runtime.tools import Toolset, ToolSpec

if TYPE_CHECKING:
    from runtime.boxes import ToolSelector


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
        "sag": settings.sag,
        "sag_temperature": settings.sag_temperature,
        "sag_top_p": settings.sag_top_p,
        "first_thought": settings.first_thought,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return AgentOptions.model_validate(values)


def open_sandbox(settings: Settings, toolset: Toolset | None) -> Sandbox:
    return Sandbox(SandboxPolicy(timeout_s=settings.action_timeout_s), toolset=toolset)


def make_agent(model: LlamaModel, sandbox: Sandbox, tools: Toolset | list[ToolSpec] | None, options: AgentOptions) -> Agent:
    """An agent whose prompt lists `tools` (a whole Toolset, or the specs picked for a question)."""
    specs = tools.specs() if isinstance(tools, Toolset) else list(tools or [])
    return Agent(model, sandbox, tools=specs, options=options)


def load_tools(settings: Settings, boxes: list[str] | None) -> Toolset:
    """Box tools for this process: None = every shipped and installed box, [] = none."""
    if boxes == []:
        return Toolset()
    from runtime.boxes import load_toolset  # FastMCP takes a second to import: only when needed

    return load_toolset(settings, boxes)


def tool_selector(settings: Settings) -> ToolSelector:
    from runtime.boxes import ToolSelector

    return ToolSelector(cache_dir=settings.cache_dir)


def pick_tools(settings: Settings, toolset: Toolset, question: str, selector: ToolSelector | None) -> list[ToolSpec]:
    """The tools the prompt lists for `question`: all that fit, else the most relevant ones.

    They keep the toolset's order, so similar questions share more of their prompt (KV cache).
    """
    specs = toolset.specs()
    if len(specs) <= settings.max_prompt_tools or selector is None:
        return specs
    chosen = {s.name for s in selector.select(specs, question, settings.max_prompt_tools)}
    return [s for s in specs if s.name in chosen]


def add_retrieval(settings: Settings, toolset: Toolset, collection: str | None) -> ToolSpec | None:
    """Add `retrieve` over `collection` (or over the only usable collection there is) to the toolset.

    Returns its spec, which the prompt always lists, or None when there is nothing to search.
    """
    if collection is None:
        from runtime.retrieval.store import index_dir

        if not index_dir(settings).is_dir():  # no index yet: skip importing chromadb at all
            return None
        from runtime.retrieval.store import Store

        names = [c.name for c in Store(settings).collections() if c.compatible]
        if len(names) != 1:
            return None
        collection = names[0]
    from runtime.retrieval.tool import retrieval_tool

    tool = retrieval_tool(settings, collection)
    toolset.add(tool)
    return tool.spec
