"""The boxes' tool specs kept on disk, keyed by the boxes' file hashes, so a prompt is ready
before the boxes load.

Loading the shipped boxes imports FastMCP and runs their modules: 2.5 s of a `runtime solve`'s
5 s to its first token, all of it before the prompt could be built. The specs (names, stubs,
examples) are all a prompt needs, and a box's files are fixed by the sha256 its manifest lists,
so specs saved once serve every later process, and the boxes load when a tool is first called.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from runtime import __version__
from runtime.atomic import write_atomic
from runtime.boxes.bundle import Bundle
from runtime.tools import JSONValue, Tool, ToolError, Toolset, ToolSpec

_SPECS = TypeAdapter(list[ToolSpec])


def stubs_file(cache_dir: Path, bundles: list[tuple[Bundle, bool]]) -> Path:
    """Where the specs of exactly these boxes (in this order, each isolated or not) are kept: the
    key holds every file's hash, so an edited or upgraded box is a new key."""
    key = hashlib.sha256(__version__.encode())
    for bundle, isolated in bundles:
        files = sorted(bundle.manifest.files.items())
        key.update(json.dumps([bundle.name, bundle.manifest.version, isolated, files]).encode())
    return cache_dir / "box-specs" / f"{key.hexdigest()[:32]}.json"


def read_stubs(file: Path) -> list[ToolSpec] | None:
    try:
        return _SPECS.validate_json(file.read_bytes())
    except (OSError, ValidationError):
        return None


def write_stubs(file: Path, specs: list[ToolSpec]) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(file, _SPECS.dump_json(specs))


def loaded_on_first_call(specs: list[ToolSpec], load: Callable[[], Toolset]) -> Toolset:
    """A Toolset of `specs` at once, whose calls are answered by the Toolset `load` returns,
    loaded at the first call: a question answered without a box tool (most word problems) never
    pays for it, and loading beside the model's prefill took both cores from it (its first token
    came 0.5 s later). The first call waits the 1-3 s the load takes, within its action's clock."""
    lock = threading.Lock()
    outcome: list[Toolset | Exception] = []

    def boxes() -> Toolset:
        with lock:
            if not outcome:
                try:
                    outcome.append(load())
                except Exception as exc:  # told to every call, as a ToolError the model reads
                    outcome.append(exc)
        if isinstance(outcome[0], Exception):
            raise ToolError(f"the boxes failed to load: {outcome[0]}")
        return outcome[0]

    def answer(name: str) -> Callable[[dict[str, Any]], JSONValue]:
        def call(arguments: dict[str, Any]) -> JSONValue:
            real = boxes()
            if name not in real:
                raise ToolError(f"{name} is unavailable: the boxes no longer list it")
            return real.handler(name)(arguments)

        return call

    return Toolset([Tool(spec=spec, handler=answer(spec.name)) for spec in specs])
