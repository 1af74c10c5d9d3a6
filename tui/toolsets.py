"""The agent's tools for the chat's options: the boxes (/boxes) and a collection's `retrieve` (/collection).

Boxes load once per app (loading executes their modules and starts their host thread); a
collection's tool is opened once per name. Building runs in worker threads, never the UI's.
"""

from __future__ import annotations

import threading
from functools import partial

from runtime.config import Settings
from runtime.tools import Tool, Toolset
from tui.sessions import ChatOptions


class ChatTools:
    """Toolsets by option, cached: the same options give the same Toolset object."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._boxes: dict[tuple[str, ...], list[Tool]] = {}
        self._retrieve: dict[str, Tool] = {}
        self._built: dict[tuple[bool, tuple[str, ...], str | None], Toolset | None] = {}

    def toolset(self, options: ChatOptions) -> Toolset | None:
        """The tools `options` ask for (None: no tools); raises a RuntimeUserError a notice can show."""
        names = tuple(options.box_names)
        key = (options.boxes, names, options.collection)
        with self._lock:
            if key not in self._built:
                boxes = self._box_tools(names) if options.boxes else []
                tools = [*boxes, *self._collection_tools(options.collection)]
                self._built[key] = Toolset(tools) if tools else None
            return self._built[key]

    def _box_tools(self, names: tuple[str, ...]) -> list[Tool]:
        """The named boxes' tools (all boxes' for no names), loaded once per selection."""
        if names not in self._boxes:
            from runtime.boxes import load_toolset  # imports FastMCP: only when boxes are on

            boxes = load_toolset(self._settings, list(names) or None)
            self._boxes[names] = [Tool(spec=spec, handler=partial(boxes.call, spec.name)) for spec in boxes.specs()]
        return self._boxes[names]

    def _collection_tools(self, name: str | None) -> list[Tool]:
        if name is None:
            return []
        if name not in self._retrieve:
            from runtime.retrieval.tool import retrieval_tool  # imports chromadb (about a second)

            self._retrieve[name] = retrieval_tool(self._settings, name)
        return [self._retrieve[name]]
