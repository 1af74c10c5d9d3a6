"""The agent's tools for the chat's options, opened the way `runtime solve` opens them (runtime.kit).

Boxes load once per app (loading executes their modules and starts their host thread); each
combination of options is opened once. Building runs in worker threads, never the UI's.
"""

from __future__ import annotations

import threading

from runtime.config import Settings
from runtime.kit import KitTools, ToolChoice, open_tools
from runtime.tui.sessions import ChatOptions


def tool_choice(options: ChatOptions) -> ToolChoice:
    """The chat's options as solve's flags: boxes on or off, a named collection, the only one, or none."""
    boxes = (list(options.box_names) or None) if options.boxes else []
    return ToolChoice(boxes=boxes, collection=options.collection, retrieval=options.retrieval)


class ChatTools:
    """Opened tools by option, cached: the same options give the same KitTools object."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._lock = threading.Lock()
        self._built: dict[tuple[bool, tuple[str, ...], str | None, bool], KitTools] = {}

    def tools(self, options: ChatOptions) -> KitTools:
        """The tools `options` ask for; raises a RuntimeUserError a notice can show."""
        key = (options.boxes, tuple(options.box_names), options.collection, options.retrieval)
        with self._lock:
            if key not in self._built:
                self._built[key] = open_tools(self._settings, tool_choice(options))
            return self._built[key]
