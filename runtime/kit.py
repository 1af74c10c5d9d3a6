"""AgentKit: the one place every front end (solve, chat, eval, teach) gets its agent from.

Before it, each front end combined model, boxes, retrieval, tool picking and hints its own way,
so chat listed all 31 box tools with no hints while solve listed the 12 most relevant, and the
same question got a different first step in each. Now a front end states what it wants (a
`ToolChoice`), opens the tools (fast: a missing box or collection fails before the slow model
load), loads the model, and asks the kit for the agent of a question.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

from pydantic import BaseModel, Field

from runtime.agent import Agent, AgentOptions
from runtime.agent import events as ev
from runtime.boxes.select import ToolPick, ToolSelector, pick_tools, unfitted_pick
from runtime.config import Settings
from runtime.model.base import Model, PrefillProgress, PrefixInfo
from runtime.model.open import open_model
from runtime.model.store import Progress
from runtime.sandbox import Sandbox, SandboxPolicy
from runtime.tools import Toolset, ToolSpec


class ToolChoice(BaseModel):
    """Which tools a front end offers: the user's `--box/--no-boxes/--collection/--no-retrieval`."""

    boxes: list[str] | None = Field(default=None, description="None = every shipped and installed box; [] = none.")
    collection: str | None = Field(default=None, description="None = the only collection, if there is exactly one.")
    retrieval: bool = Field(default=True, description="Offer `retrieve` at all.")


class KitTools:
    """The tools a choice opened, and how a question's prompt lists and hints them."""

    def __init__(
        self, settings: Settings, toolset: Toolset, retrieve: ToolSpec | None, choice: ToolChoice
    ) -> None:
        self.settings = settings
        self.toolset = toolset
        self.retrieve = retrieve
        self.choice = choice
        self._boxes = [s for s in toolset.specs() if retrieve is None or s.name != retrieve.name]
        self._selector = ToolSelector(cache_dir=settings.cache_dir) if self._boxes else None
        self._subsets: dict[tuple[str, ...], Toolset] = {}

    def pick(self, question: str) -> ToolPick:
        """The box tools that fit `question` (see `pick_tools`), then `retrieve`, hinted first when
        the user named its collection (as `--box` names the tools that fit)."""
        return self._with_retrieve(
            pick_tools(self.settings, self._boxes, question, self._selector, named=bool(self.choice.boxes))
        )

    def prepare(self) -> None:
        """Embed the box tools for picking ahead of the first question (`runtime warm`)."""
        if self._selector is not None:
            self._selector.prepare(self._boxes)

    def unfitted(self) -> ToolPick:
        """The pick of a question that no tool clearly fits: its system prompt, every question's,
        is the one `runtime warm` prepares."""
        return self._with_retrieve(unfitted_pick(self.settings, self._boxes))

    def _with_retrieve(self, pick: ToolPick) -> ToolPick:
        if self.retrieve is not None:
            pick.listed.append(self.retrieve)
            if self.choice.collection:
                pick.hinted.insert(0, self.retrieve.name)
        return pick

    def sandbox_tools(self, pick: ToolPick) -> Toolset:
        """Only the listed tools are defined in the sandbox, so a variable the model names after an
        unlisted tool (`day_of_week`) is its own; the same pick gives the same Toolset object, so a
        kept sandbox (chat) is reused while the pick stays."""
        names = tuple(spec.name for spec in pick.listed + pick.shown)
        if names not in self._subsets:
            self._subsets[names] = self.toolset.subset(list(names))
        return self._subsets[names]


def open_tools(settings: Settings, choice: ToolChoice) -> KitTools:
    """Load the boxes (or their saved specs, `load_toolset`) and open the collection a choice
    names (no model needed to fail)."""
    toolset = Toolset()
    if choice.boxes != []:
        from runtime.boxes import load_toolset

        toolset = load_toolset(settings, choice.boxes)
    retrieve = add_retrieval(settings, toolset, choice.collection) if choice.retrieval else None
    return KitTools(settings, toolset, retrieve, choice)


def add_retrieval(settings: Settings, toolset: Toolset, collection: str | None) -> ToolSpec | None:
    """Add `retrieve` over `collection` (or over the only usable collection there is) to the toolset.

    Returns its spec, which the prompt always lists, or None when there is nothing to search.
    """
    if collection is None:
        from runtime.retrieval.store import index_dir

        if not index_dir(settings).is_dir():  # no index yet: skip importing chromadb at all
            return None
        from runtime.retrieval.store import Store

        collection = Store(settings).only()
        if collection is None:
            return None
    from runtime.retrieval.tool import retrieval_tool

    tool = retrieval_tool(settings, collection)
    toolset.add(tool)
    return tool.spec


def load_model(settings: Settings, spec: str | None, progress: Progress, on_loading: Callable[[str], None]) -> Model:
    """A registry name, GGUF path or server URL, opened by `open_model`; reports what it is doing."""
    return open_model(settings, spec, progress, on_loading)


def open_tools_and_model(
    settings: Settings, choice: ToolChoice, spec: str | None, progress: Progress, on_loading: Callable[[str], None]
) -> tuple[KitTools, Model]:
    """`open_tools` and `load_model` at once: the model loads on another thread (llama.cpp reads
    the weights outside Python's lock) while FastMCP is imported and the boxes load, which took
    as long again before the first token of a `runtime solve`. A bad box or collection is still
    the error raised: a box name is looked up first, anything else found wrong is raised once
    the load is done (llama.cpp points the process's stdout and stderr at /dev/null while it reads
    the weights, which would swallow the error line)."""
    if choice.boxes:  # a box name's typo fails at once, before anything loads
        from runtime.boxes.store import BoxStore

        store = BoxStore(settings)
        for name in choice.boxes:
            store.find(name)
    loaded: list[Model] = []
    failed: list[BaseException] = []

    def load() -> None:
        try:
            loaded.append(load_model(settings, spec, progress, on_loading))
        except BaseException as exc:  # raised again on the caller's thread
            failed.append(exc)

    loading = threading.Thread(target=load, name="model-load", daemon=True)
    loading.start()
    try:
        tools = open_tools(settings, choice)
    finally:
        loading.join()
    if failed:
        raise failed[0]
    return tools, loaded[0]


def agent_options(settings: Settings, **overrides: object) -> AgentOptions:
    """The settings' agent defaults with a front end's flags on top (None = not given)."""
    values = {name: getattr(settings, name) for name in AgentOptions.model_fields if hasattr(settings, name)}
    values.update({k: v for k, v in overrides.items() if v is not None})
    return AgentOptions.model_validate(values)


def open_sandbox(settings: Settings, toolset: Toolset | None) -> Sandbox:
    return Sandbox(SandboxPolicy(timeout_s=settings.action_timeout_s), toolset=toolset)


class AgentKit:
    """Model + tools + options: hands out the agent for a question, the same in every front end."""

    def __init__(
        self,
        settings: Settings,
        model: Model,
        tools: KitTools | None = None,
        options: AgentOptions | None = None,
        instructions: str = "",
        prefill_progress: PrefillProgress | None = None,
    ) -> None:
        """`prefill_progress` hears how far a prompt prefix is computed (solve shows it)."""
        self.settings = settings
        self.model = model
        self.tools = tools
        self.options = options or agent_options(settings)
        self.instructions = instructions
        self.prefill_progress = prefill_progress

    def pick(self, question: str) -> ToolPick:
        return self.tools.pick(question) if self.tools is not None else ToolPick(listed=[])

    def sandbox_tools(self, pick: ToolPick) -> Toolset | None:
        return self.tools.sandbox_tools(pick) if self.tools is not None and pick.listed else None

    def agent(self, sandbox: Sandbox, pick: ToolPick, should_stop: Callable[[], bool] = lambda: False) -> Agent:
        """The agent for a question whose tools are `pick`, in a sandbox opened with
        `sandbox_tools(pick)` (whose call log it reads)."""
        toolset = self.sandbox_tools(pick)
        return Agent(
            self.model,
            sandbox,
            tools=pick.listed,
            task_tools=pick.shown,
            options=self.options,
            instructions=self.instructions,
            should_stop=should_stop,
            hints=pick.hinted,
            fits=pick.fits,
            calls=toolset.calls if toolset is not None else None,
            prefill_progress=self.prefill_progress,
        )

    def warm(self) -> PrefixInfo | None:
        """Compute (or find) the prompt state every question starts from, and embed the tools for
        picking, so the first question waits for neither; None from a backend without a prefix cache."""
        pick = ToolPick(listed=[])
        if self.tools is not None:
            self.tools.prepare()
            pick = self.tools.unfitted()
        with open_sandbox(self.settings, self.sandbox_tools(pick)) as sandbox:
            return self.agent(sandbox, pick).warm_prefix("")

    def run(self, question: str, should_stop: Callable[[], bool] = lambda: False) -> Iterator[ev.Event]:
        """One question in a fresh sandbox that holds only the tools its prompt lists."""
        pick = self.pick(question)
        with open_sandbox(self.settings, self.sandbox_tools(pick)) as sandbox:
            yield from self.agent(sandbox, pick, should_stop).run(question)
