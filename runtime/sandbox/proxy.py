"""Tool calls from sandboxed code: stubs in the worker, answers in the parent, plain JSON between.

The worker knows only each tool's name and parameter names; the call travels as
`{"op": "tool", "name", "args"}` and the parent answers with `Toolset.call`'s result or the
ToolError message, which the stub raises as ToolError inside the sandbox.
"""

from __future__ import annotations

import json
import keyword
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from runtime.tools import ToolError, Toolset, ToolSpec

ToolCaller = Callable[[str, dict[str, Any]], Any]
"""Sends one call to the parent and returns the JSON result (raises ToolError on failure)."""


class ToolStub(BaseModel):
    """What the worker is told about a tool."""

    name: str
    param_names: list[str]
    description: str = ""

    @classmethod
    def from_spec(cls, spec: ToolSpec) -> ToolStub:
        if not spec.name.isidentifier() or keyword.iskeyword(spec.name) or spec.name.startswith("_"):
            raise ValueError(f"tool name {spec.name!r} cannot be called from Python code")
        return cls(name=spec.name, param_names=spec.param_names, description=spec.description)


def make_tool_function(stub: ToolStub, call: ToolCaller) -> Callable[..., Any]:
    """A sandbox function that maps positional arguments to parameter names and calls out."""

    def tool(*args: Any, **kwargs: Any) -> Any:
        if len(args) > len(stub.param_names):
            raise TypeError(
                f"{stub.name}() takes {len(stub.param_names)} positional arguments but {len(args)} were given"
            )
        arguments = dict(zip(stub.param_names, args))
        for name, value in kwargs.items():
            if name in arguments:
                raise TypeError(f"{stub.name}() got multiple values for argument {name!r}")
            arguments[name] = value
        try:
            json.dumps(arguments)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{stub.name}() arguments must be JSON data (str, numbers, lists, dicts): {exc}") from None
        return call(stub.name, arguments)

    tool.__name__ = tool.__qualname__ = stub.name
    tool.__doc__ = stub.description
    return tool


def answer_tool_call(toolset: Toolset | None, message: dict[str, Any]) -> dict[str, Any]:
    """The parent's reply to one `tool` message; never raises for a tool's failure."""
    reply: dict[str, Any] = {"op": "tool_result", "id": message.get("id")}
    name, arguments = message.get("name"), message.get("args")
    if toolset is None or not isinstance(name, str) or not isinstance(arguments, dict):
        return {**reply, "ok": False, "error": f"unknown tool {name!r}"}
    try:
        value = toolset.call(name, arguments)
    except ToolError as exc:
        return {**reply, "ok": False, "error": str(exc)}
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        value = str(value)
    return {**reply, "ok": True, "value": value}
