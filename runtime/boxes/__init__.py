"""MCP-Boxes: bundles of FastMCP tool modules that a student calls from its code.

The agent calls `load_toolset` once per process and `pick_tools` once per question.
"""

from __future__ import annotations

from runtime.boxes.select import ToolPick, ToolSelector, pick_tools
from runtime.config import Settings
from runtime.tools import Toolset

__all__ = ["ToolPick", "ToolSelector", "load_toolset", "pick_tools"]


def load_toolset(settings: Settings, names: list[str] | None = None) -> Toolset:
    """Load boxes into one Toolset: None = every shipped and installed box, [] = none.

    The boxes stay loaded (and their host thread running) for the life of the process, so call
    this once and reuse the Toolset for every question.
    """
    if names == []:
        return Toolset()
    # FastMCP takes a second or two to import: only here, so picking tools (`runtime.boxes.select`)
    # and whatever runs beside the loading (the model, `open_tools_and_model`) do not wait for it
    from runtime.boxes.bundle import open_bundle
    from runtime.boxes.loader import BoxHost
    from runtime.boxes.store import BoxStore

    store = BoxStore(settings)
    entries = store.available() if names is None else [store.find(name) for name in dict.fromkeys(names)]
    host = BoxHost(settings.action_timeout_s)
    try:
        for entry in entries:
            host.add(open_bundle(entry.path), isolated_from=entry.path if entry.isolated else None)
        return host.toolset()
    except BaseException:
        host.close()
        raise
