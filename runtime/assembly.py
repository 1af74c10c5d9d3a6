"""Puts a runnable agent together from settings: model, sandbox, tools. Used by CLI, TUI and eval."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from runtime.agent import Agent, AgentOptions
from runtime.config import Settings
from runtime.model.base import Model
from runtime.model.open import open_model
from runtime.model.store import Progress
from runtime.sandbox import Sandbox, SandboxPolicy
from runtime.tools import Toolset, ToolSpec

if TYPE_CHECKING:
    from runtime.boxes import ToolSelector


def load_model(settings: Settings, spec: str | None, progress: Progress, on_loading: Callable[[str], None]) -> Model:
    """A registry name, GGUF path or server URL, opened by `open_model`."""
    return open_model(settings, spec, progress, on_loading)


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
        "compute_first": settings.compute_first,
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return AgentOptions.model_validate(values)


def open_sandbox(settings: Settings, toolset: Toolset | None) -> Sandbox:
    return Sandbox(SandboxPolicy(timeout_s=settings.action_timeout_s), toolset=toolset)


def make_agent(
    model: Model,
    sandbox: Sandbox,
    tools: Toolset | list[ToolSpec] | ToolPick | None,
    options: AgentOptions,
    should_stop: Callable[[], bool] = lambda: False,
) -> Agent:
    """An agent whose prompt lists `tools`: a whole Toolset, the specs picked for a question, or
    a ToolPick (whose hinted tools the task message names)."""
    if isinstance(tools, ToolPick):
        return Agent(
            model, sandbox, tools=tools.listed, options=options, should_stop=should_stop, hints=tools.hinted
        )
    specs = tools.specs() if isinstance(tools, Toolset) else list(tools or [])
    return Agent(model, sandbox, tools=specs, options=options, should_stop=should_stop)


def load_tools(settings: Settings, boxes: list[str] | None) -> Toolset:
    """Box tools for this process: None = every shipped and installed box, [] = none."""
    if boxes == []:
        return Toolset()
    from runtime.boxes import load_toolset  # FastMCP takes a second to import: only when needed

    return load_toolset(settings, boxes)


def tool_selector(settings: Settings) -> ToolSelector:
    from runtime.boxes import ToolSelector

    return ToolSelector(cache_dir=settings.cache_dir)


class ToolPick(BaseModel):
    """The tools a question's prompt lists, and the few names its task message points out."""

    listed: list[ToolSpec]
    hinted: list[str] = []


def pick_tools(
    settings: Settings, toolset: Toolset, question: str, selector: ToolSelector | None, named: bool = False
) -> ToolPick:
    """The tools the prompt lists for `question`, and the few its task message names as hints.

    All tools when they fit. Otherwise, when some tool clearly fits (similarity at least
    `tool_hint_score`), the `max_prompt_tools` most similar ones, with the best `tool_hints` as
    hints; when none does (a word problem), the toolset's first `max_prompt_tools`: ranking among
    tools that all score alike picks an arbitrary set, and a fixed one is a prompt prefix that is
    computed once and then loaded from disk (~800 tokens, 12-24 s of prefill per question saved).
    Listed tools keep the toolset's order, so similar questions share more of their prompt.

    `named`: the user picked these boxes for the question (`--box`), as `--collection` picks an
    index, so the best tool is hinted whatever its score (a distilled tool's docstring, written by
    a small teacher, scored 0.843 against the Game of 24 questions it was made for).
    """
    specs = toolset.specs()
    if selector is None or not specs:
        return ToolPick(listed=specs)
    ranked = selector.ranked(specs, question)
    fitting = [s for s, score in ranked if named or score >= settings.tool_hint_score]
    hinted = [s.name for s in fitting[: settings.tool_hints]]
    if len(specs) <= settings.max_prompt_tools:
        return ToolPick(listed=specs, hinted=hinted)
    if not fitting:
        return ToolPick(listed=specs[: settings.max_prompt_tools])
    chosen = {s.name for s, _score in ranked[: settings.max_prompt_tools]}
    return ToolPick(listed=[s for s in specs if s.name in chosen], hinted=hinted)


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
