"""The boxes' specs are saved by their file hashes, so a later process builds its prompt without
loading them, and the boxes load at the first tool call."""

from __future__ import annotations

import dataclasses

from pathlib import Path

import pytest

from runtime.boxes import load_toolset
from runtime.boxes.bundle import open_bundle
from runtime.boxes.store import shipped_dir
from runtime.boxes.stubs import loaded_on_first_call, stubs_file
from runtime.config import Settings
from runtime.tools import Tool, ToolError, Toolset, ToolSpec


def test_a_second_load_has_the_same_tools_from_the_saved_specs(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    first = load_toolset(settings, ["text"])
    saved = list((settings.cache_dir / "box-specs").glob("*.json"))
    assert len(saved) == 1
    again = load_toolset(settings, ["text"])
    assert again.specs() == first.specs()
    assert again.call("count_occurrences", {"text": "strawberry", "substring": "r"}) == first.call(
        "count_occurrences", {"text": "strawberry", "substring": "r"}
    )


def test_an_edited_box_is_another_key(tmp_path: Path) -> None:
    bundle = open_bundle(shipped_dir() / "text")
    edited = dataclasses.replace(bundle, manifest=bundle.manifest.model_copy(deep=True))
    edited.manifest.files["analysis.py"] = "0" * 64
    assert stubs_file(tmp_path, [(bundle, False)]) != stubs_file(tmp_path, [(edited, False)])
    assert stubs_file(tmp_path, [(bundle, False)]) != stubs_file(tmp_path, [(bundle, True)])


def test_the_boxes_load_at_the_first_call_once_and_a_failure_is_a_tool_error() -> None:
    spec = ToolSpec(name="double", qualified_name="t.double", signature="(n: int) -> int", param_names=["n"])
    loads: list[int] = []

    def load() -> Toolset:
        loads.append(1)
        return Toolset([Tool(spec=spec, handler=lambda args: args["n"] * 2)])

    lazy = loaded_on_first_call([spec], load)
    assert lazy.specs() == [spec] and loads == []
    assert lazy.call("double", {"n": 21}) == 42 and lazy.call("double", {"n": 1}) == 2
    assert loads == [1]

    def broken() -> Toolset:
        raise RuntimeError("no module named fastmcp")

    failing = loaded_on_first_call([spec], broken)
    for _ in range(2):
        with pytest.raises(ToolError, match="the boxes failed to load: no module named fastmcp"):
            failing.call("double", {"n": 1})
