"""Loading boxes in-process: tools behind FastMCP's in-memory client, namespaced by box, with
signatures rendered from their schemas and failures turned into readable ToolErrors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.boxes import load_toolset
from runtime.boxes.bundle import Bundle, open_bundle
from runtime.boxes.errors import BoxLoadError, BoxNotFound, IntegrityError, ManifestError
from runtime.boxes.loader import BoxHost, render_signature
from runtime.boxes.scaffold import box_fields, write_box
from runtime.boxes.store import BoxStore
from runtime.config import Settings
from runtime.tools import ToolError

TOOLS = '''
import time

from fastmcp import FastMCP

mcp = FastMCP("{name}")


@mcp.tool
def solve(numbers: list[int], target: int = 24) -> str | None:
    """Find an expression.

    Args:
        numbers: The numbers to use.
        target: The value to reach.
    """
    return None if target < 0 else f"{{sum(numbers)}} for {{target}}"


@mcp.tool
def {name}_only(text: str, upper: bool = False) -> dict[str, int]:
    """A tool no other box has."""
    return {{"length": len(text.upper() if upper else text)}}


@mcp.tool
def fail(reason: str) -> str:
    """Always raises."""
    raise ValueError(reason)


@mcp.tool
def slow(seconds: float) -> str:
    """Sleeps."""
    time.sleep(seconds)
    return "done"
'''


def make_bundle(parent: Path, name: str) -> Bundle:
    files = {"tools.py": TOOLS.format(name=name).encode()}
    write_box(parent / name, box_fields(name, "1.0.0", files, description=f"Box {name}.", authors=["Tester"]), files)
    return open_bundle(parent / name)


@pytest.fixture
def host(tmp_path: Path):
    with BoxHost(timeout_s=2.0) as host:
        host.add(make_bundle(tmp_path, "alpha"))
        host.add(make_bundle(tmp_path, "beta"))
        yield host


def test_names_are_namespaced_and_clashes_renamed(host: BoxHost) -> None:
    specs = {s.qualified_name: s for s in host.toolset().specs()}
    assert specs["alpha.solve"].name == "alpha_solve"
    assert specs["beta.solve"].name == "beta_solve"
    assert specs["alpha.alpha_only"].name == "alpha_only"  # unique: keeps its own name
    assert specs["beta.beta_only"].name == "beta_only"


def test_spec_shows_signature_docstring_and_argument_order(host: BoxHost) -> None:
    spec = next(s for s in host.toolset().specs() if s.qualified_name == "alpha.solve")
    assert spec.signature == "(numbers: list[int], target: int = 24) -> str | None"
    assert spec.param_names == ["numbers", "target"]
    assert (
        spec.description
        == "Find an expression.\n\nArgs:\n    numbers: The numbers to use.\n    target: The value to reach."
    )
    assert spec.parameters["required"] == ["numbers"]
    assert spec.render().startswith("def alpha_solve(numbers: list[int], target: int = 24) -> str | None:")


def test_calls_go_through_the_in_memory_client(host: BoxHost) -> None:
    tools = host.toolset()
    assert tools.call("alpha_solve", {"numbers": [4, 7, 8, 8]}) == "27 for 24"
    assert tools.call("beta_solve", {"numbers": [1], "target": -1}) is None
    assert tools.call("alpha_only", {"text": "abc", "upper": True}) == {"length": 3}


def test_a_raising_tool_becomes_a_readable_tool_error(host: BoxHost) -> None:
    with pytest.raises(ToolError, match=r"^alpha\.fail: numbers must be positive$"):
        host.toolset().call("alpha_fail", {"reason": "numbers must be positive"})


def test_bad_arguments_become_a_readable_tool_error(host: BoxHost) -> None:
    with pytest.raises(ToolError) as caught:
        host.toolset().call("alpha_solve", {"numbers": "four"})
    message = str(caught.value)
    assert message.startswith("alpha.solve: invalid arguments: numbers: Input should be a valid list")
    assert "https://" not in message and "\n" not in message
    assert message.endswith(". Call it as alpha_solve(numbers: list[int], target: int = 24)")  # how to fix it
    with pytest.raises(ToolError) as failing:
        host.toolset().call("alpha_fail", {"reason": "bad"})
    assert "Call it as" not in str(failing.value)  # a tool's own failure is not about its arguments


def test_a_slow_tool_times_out(tmp_path: Path) -> None:
    with BoxHost(timeout_s=0.3) as host:
        host.add(make_bundle(tmp_path, "alpha"))
        with pytest.raises(ToolError, match=r"alpha\.slow timed out after 0\.3 s"):
            host.toolset().call("slow", {"seconds": 1.0})


def test_the_same_box_cannot_load_twice(tmp_path: Path) -> None:
    with BoxHost() as host:
        host.add(make_bundle(tmp_path, "alpha"))
        with pytest.raises(BoxLoadError, match="already loaded"):
            host.add(open_bundle(tmp_path / "alpha"))


def test_close_stops_the_host_thread(tmp_path: Path) -> None:
    host = BoxHost()
    host.add(make_bundle(tmp_path, "alpha"))
    host.close()
    assert not host._thread.is_alive()
    host.close()  # idempotent


@pytest.mark.parametrize(
    ("schema", "output", "expected"),
    [
        ({"properties": {}}, None, "()"),
        ({"properties": {"x": {"type": "number", "default": 1.5}}}, {"type": "object"}, "(x: float = 1.5) -> dict"),
        ({"properties": {"m": {"enum": ["a", "b"], "type": "string"}}}, None, "(m: Literal['a', 'b'])"),
        (
            {"properties": {"t": {"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}}},
            None,
            "(t: tuple[int, str])",
        ),
        (
            {"properties": {"d": {"type": "object", "additionalProperties": {"type": "boolean"}}}},
            None,
            "(d: dict[str, bool])",
        ),
        ({"properties": {"v": {"type": ["integer", "null"]}}}, None, "(v: int | None)"),
        ({"properties": {"p": {"$ref": "#/$defs/Point"}}}, None, "(p: dict)"),
        ({"properties": {"a": {}}}, None, "(a: Any)"),
        (
            {"properties": {}},
            {
                "x-fastmcp-wrap-result": True,
                "properties": {"result": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}}},
            },
            "() -> list[list[int]]",
        ),
    ],
)
def test_render_signature(schema: dict, output: dict | None, expected: str) -> None:
    assert render_signature(schema, output) == expected


def test_load_toolset_selects_boxes(home: Path, tmp_path: Path) -> None:
    settings = Settings()
    assert len(load_toolset(settings, [])) == 0
    only_math = load_toolset(settings, ["math"])
    assert "solve_24" in only_math and "count_occurrences" not in only_math
    with pytest.raises(BoxNotFound, match="no box named 'nope'"):
        load_toolset(settings, ["nope"])
    BoxStore(settings).install(make_bundle(tmp_path, "alpha"))
    everything = {s.qualified_name for s in load_toolset(settings).specs()}
    assert {"alpha.solve", "math.solve_24", "text.count_occurrences", "time.day_of_week"} <= everything


def test_load_toolset_reports_a_broken_installed_box(home: Path, tmp_path: Path) -> None:
    settings = Settings()
    store = BoxStore(settings)
    store.install(make_bundle(tmp_path, "alpha"))
    (store.root / "alpha" / "tools.py").write_text("tampered = True\n")
    with pytest.raises(IntegrityError, match="sha256 mismatch for tools.py"):
        load_toolset(settings, ["alpha"])


def test_examples_file_must_be_valid(tmp_path: Path) -> None:
    examples = {"solve": [{"args": {}, "expect": 1, "error": "both"}]}
    files = {"tools.py": TOOLS.format(name="ex").encode(), "examples.json": json.dumps(examples).encode()}
    write_box(tmp_path / "ex", box_fields("ex", "1.0.0", files, description="d", authors=["a"]), files)
    with pytest.raises(ManifestError, match="give exactly one of 'expect' or 'error'"):
        open_bundle(tmp_path / "ex")
