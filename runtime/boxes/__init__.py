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
    this once and reuse the Toolset for every question. When these exact boxes were loaded before
    (their specs are on disk, `runtime.boxes.stubs`), the Toolset comes back at once and the boxes
    load at its first call.
    """
    if names == []:
        return Toolset()
    # FastMCP takes a second or two to import: only where a box loads, so picking tools
    # (`runtime.boxes.select`) and the model's load beside this do not wait for it
    from runtime.boxes.bundle import open_bundle
    from runtime.boxes.store import BoxStore
    from runtime.boxes.stubs import loaded_on_first_call, read_stubs, stubs_file, write_stubs

    store = BoxStore(settings)
    entries = store.available() if names is None else [store.find(name) for name in dict.fromkeys(names)]
    bundles = [(open_bundle(entry.path), entry) for entry in entries]
    saved = stubs_file(settings.cache_dir, [(bundle, entry.isolated) for bundle, entry in bundles])

    def load() -> Toolset:
        from runtime.boxes.loader import BoxHost

        host = BoxHost(settings.action_timeout_s)
        try:
            for bundle, entry in bundles:
                host.add(bundle, isolated_from=entry.path if entry.isolated else None)
            return host.toolset()
        except BaseException:
            host.close()
            raise

    specs = read_stubs(saved)
    if specs is not None:
        return loaded_on_first_call(specs, load)
    toolset = load()
    write_stubs(saved, toolset.specs())
    return toolset
