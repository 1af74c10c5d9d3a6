"""How each mode answers one question: the tools it opens, the solver it builds, the record it makes."""

from __future__ import annotations

import time
from importlib.util import find_spec
from typing import Protocol

from pydantic import BaseModel

from runtime import kit as agent_kit
from runtime.agent import events as ev
from runtime.agent.events import RunTrace
from runtime.config import Settings
from runtime.errors import RuntimeUserError
from runtime.eval.checkers import CheckerName
from runtime.eval.cot import COT_INSTRUCTION, LABEL_INSTRUCTION, CotSolver
from runtime.eval.records import COT_MODES, Mode, QuestionRecord, RunConfig, make_record
from runtime.eval.suites import SuiteItem
from runtime.model.base import Model, Sampling
from runtime.model.openai_compat import is_url
from runtime.model.store import Progress as ByteProgress
from runtime.model.store import resolve


class ModeNotAvailable(RuntimeUserError):
    """The mode needs a part of the runtime that this tree does not have yet."""


class Solver(Protocol):
    def solve(self, question: str) -> RunTrace: ...


class ModelLoader(Protocol):
    """Picklable: spawned workers call it to load their own copy of the model."""

    name: str

    def prepare(self, settings: Settings, progress: ByteProgress) -> None: ...

    def __call__(self, settings: Settings) -> Model: ...


class LlamaLoader(BaseModel):
    """Loads a registry model, GGUF path or server URL as every front end does (runtime.kit)."""

    name: str

    def prepare(self, settings: Settings, progress: ByteProgress) -> None:
        """Assemble and verify once in the parent, so workers never race to write the GGUF."""
        if not is_url(self.name):
            resolve(settings, self.name, progress)

    def __call__(self, settings: Settings) -> Model:
        return agent_kit.load_model(settings, self.name, lambda *_: None, on_loading=lambda _m: None)


class AgentSolver:
    """The CodeAct agent with a fresh sandbox per question, so no variable leaks between questions."""

    def __init__(self, kit: agent_kit.AgentKit) -> None:
        self.kit = kit

    def solve(self, question: str) -> RunTrace:
        started = time.perf_counter()
        steps: list[ev.StepRecord] = []
        try:
            for event in self.kit.run(question):
                if isinstance(event, ev.StepFinished):
                    steps.append(event.record)
                elif isinstance(event, ev.RunFinished):
                    return event.trace
        except RuntimeUserError as exc:  # e.g. the context filled up: the question fails, the run goes on
            return RunTrace(
                question=question,
                model=self.kit.model.name,
                status="error",
                steps=steps,
                wall_s=time.perf_counter() - started,
                error=str(exc),
            )
        raise AssertionError("the agent ended without RunFinished")


DEFAULT_SAG = 5
"""Candidates per step in mode agent+box+sag when neither --sag nor RUNTIME_SAG says (docs/results.md)."""


def resolve_sag(mode: Mode, sag: int | None, configured: int) -> int | None:
    """The N a run records: --sag, else for agent+box+sag the configured N (if on) or DEFAULT_SAG."""
    if sag is not None or mode != "agent+box+sag":
        return sag
    return configured if configured > 1 else DEFAULT_SAG


def check_mode(mode: Mode, sag: int | None, first_thought: bool, boxes: list[str] | None = None) -> None:
    """Fail before any model loads when a mode and its flags do not fit together or a part is missing."""
    if mode in COT_MODES and (first_thought or sag):
        raise ModeNotAvailable("--first-thought and --sag apply to agent modes only")
    if boxes and mode not in ("agent+box", "agent+box+sag"):
        raise ModeNotAvailable("--box applies to the box modes only (agent+box, agent+box+sag)")
    if mode == "agent+box+sag" and (sag or 1) < 2:
        raise ModeNotAvailable("mode agent+box+sag votes between candidates: give --sag 2 or more")
    needs = {"agent+box": "runtime.boxes", "agent+box+sag": "runtime.boxes", "agent+retrieval": "runtime.retrieval"}
    if (module := needs.get(mode)) and find_spec(module) is None:
        raise ModeNotAvailable(f"mode {mode} is not available yet: {module} is missing")


def mode_tools(
    mode: Mode, settings: Settings, boxes: list[str] | None = None, collection: str | None = None
) -> agent_kit.KitTools:
    """The tools as `runtime solve` opens them, limited to what the mode measures."""
    if mode in ("agent+box", "agent+box+sag"):
        return agent_kit.open_tools(settings, agent_kit.ToolChoice(boxes=boxes, retrieval=False))
    if mode == "agent+retrieval":
        from runtime.retrieval.errors import CollectionNotFound
        from runtime.retrieval.wiki import WIKI_COLLECTION

        try:
            return agent_kit.open_tools(
                settings, agent_kit.ToolChoice(boxes=[], collection=collection or WIKI_COLLECTION)
            )
        except CollectionNotFound:
            if collection:
                raise
            raise ModeNotAvailable(
                "mode agent+retrieval searches the wiki index: run `runtime index add-wiki` first"
            ) from None
    return agent_kit.open_tools(settings, agent_kit.ToolChoice(boxes=[], retrieval=False))


def open_solver(config: RunConfig, loader: ModelLoader, settings: Settings) -> Solver:
    """Tools first, so a missing box or index fails before the slow model load."""
    if config.mode in COT_MODES:
        sampling = Sampling(
            max_tokens=settings.max_tokens_per_step,
            temperature=config.temperature,
            top_p=settings.top_p,
            seed=config.seed,
        )
        instruction = LABEL_INSTRUCTION if config.checker == "yesno" else COT_INSTRUCTION
        return CotSolver(loader(settings), sampling, instruction)
    tools = mode_tools(config.mode, settings, config.boxes, config.collection)
    agent_options = agent_kit.agent_options(
        settings,
        seed=config.seed,
        temperature=config.temperature,
        max_steps=config.max_steps,
        grammar=config.grammar,
        sag=config.sag or 1,
        sag_temperature=config.sag_temperature,
        first_thought=config.first_thought,
        compute_first=config.compute_first,
        guided_call=config.guided_call,
    )
    return AgentSolver(agent_kit.AgentKit(settings, loader(settings), tools, agent_options))


def solve_item(solver: Solver, checker: CheckerName, item: SuiteItem) -> QuestionRecord:
    started = time.perf_counter()
    trace = solver.solve(item.question)
    return make_record(item, checker, trace, time.perf_counter() - started)


ORACLE_INTRO = "Read this passage, then answer the question after it."


def oracle_item(item: SuiteItem) -> SuiteItem:
    """The question with its gold passage before it, as mode cot+oracle asks it (and records it)."""
    if item.context is None:
        raise ModeNotAvailable("mode cot+oracle needs a suite with gold passages (boolq, pubmedqa)")
    question = f'{ORACLE_INTRO}\nPassage:\n"""\n{item.context}\n"""\nQuestion: {item.question}'
    return item.model_copy(update={"question": question})
