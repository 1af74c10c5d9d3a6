"""The Toolset: every callable the student can use from its code (box tools, retrieval).

Tools cross into the sandbox only as specs (name, signature, docstring); calls come back to the
parent as plain JSON data and are answered by `Toolset.call`. The sandbox never holds a parent
object.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, Field

JSONValue = Any
"""A value made only of dict/list/str/int/float/bool/None."""


class ToolError(Exception):
    """A tool failed; the message becomes an observation the model can read."""


class ToolArgumentError(ToolError):
    """The arguments did not fit the tool's parameters; `Toolset.call` adds how to call it."""


class ToolExample(BaseModel):
    """One real call of a tool and its result, from the box's examples: shown to the model as a
    worked step when the tool fits a question (small models copy a demonstration far more
    reliably than they follow a signature)."""

    args: dict[str, Any]
    result: JSONValue


class ToolCall(BaseModel):
    """A call the sandbox made, as the parent answered it: lets the agent see what its own checks
    said (a final answer that a check just rejected is refused)."""

    name: str
    arguments: dict[str, Any]
    result: JSONValue = None
    error: str | None = None


class ToolSpec(BaseModel):
    """What the prompt and the sandbox need to know about one tool."""

    name: str = Field(description="Python identifier the student calls, e.g. 'solve_24'.")
    qualified_name: str = Field(description="Namespaced name, e.g. 'math.solve_24'.")
    description: str = ""
    signature: str = Field(description="Python signature, e.g. '(numbers: list[int], target: int = 24) -> str'.")
    parameters: dict[str, Any] = Field(default_factory=dict, description="JSON schema of the arguments.")
    param_names: list[str] = Field(default_factory=list, description="Positional order of the arguments.")
    example: ToolExample | None = Field(default=None, description="A verified call, shown when the tool fits.")

    def summary(self) -> str:
        """The docstring's first paragraph, plus its first usage example ("f(x) gives y") if elsewhere.

        Small models on a CPU pay for every prompt token, so the prompt shows this, not the whole
        docstring with its argument list.
        """
        paragraphs = [" ".join(p.split()) for p in self.description.strip().split("\n\n") if p.strip()]
        if not paragraphs:
            return ""
        head = paragraphs[0]
        if " gives " not in head:
            sentences = (s.strip() for p in paragraphs[1:] for s in re.split(r"(?<=[.;])\s+", p))
            example = next((s for s in sentences if " gives " in s), None)
            if example:
                head = f"{head} {example.rstrip(';,')}"
        return head

    def demonstration(self, variable: str = "result") -> str | None:
        """The example as the code of a step: `result = f(args)` then `print(result)`."""
        if self.example is None:
            return None
        args = ", ".join(f"{k}={v!r}" for k, v in self.example.args.items())
        return f"{variable} = {self.name}({args})\nprint({variable})"

    def render(self) -> str:
        """The tool as the prompt shows it: a Python stub with its summary as docstring."""
        doc = self.summary().replace('"""', "'''")
        if doc.endswith('"'):  # a closing quote would merge with the docstring's: '""""' reads as broken
            doc += " "
        return f'def {self.name}{self.signature}:\n    """{doc}"""'


class Tool(BaseModel):
    """A spec plus the parent-side function that answers calls with JSON-able results."""

    model_config = {"arbitrary_types_allowed": True}

    spec: ToolSpec
    handler: Callable[[dict[str, Any]], JSONValue]


class Toolset:
    """Tools by sandbox name. Answers proxied calls; turns failures into ToolError."""

    def __init__(self, tools: list[Tool] | None = None) -> None:
        self._tools: dict[str, Tool] = {}
        self.calls: list[ToolCall] = []
        """Every call answered, in order (the agent reads the ones made during its run)."""
        for tool in tools or []:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        if tool.spec.name in self._tools:
            raise ValueError(f"duplicate tool name {tool.spec.name!r}")
        self._tools[tool.spec.name] = tool

    def specs(self) -> list[ToolSpec]:
        return [t.spec for t in self._tools.values()]

    def subset(self, names: list[str]) -> Toolset:
        """A Toolset of just these tools (same handlers), in the given order."""
        return Toolset([self._tools[name] for name in names])

    def handler(self, name: str) -> Callable[[dict[str, Any]], JSONValue]:
        """The function that answers a tool's calls (another Toolset can answer through it)."""
        return self._tools[name].handler

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: str) -> bool:
        return name in self._tools

    def call(self, name: str, arguments: dict[str, Any]) -> JSONValue:
        record = ToolCall(name=name, arguments=arguments)
        self.calls.append(record)
        try:
            record.result = self._answer(name, arguments)
        except ToolError as exc:
            record.error = str(exc)
            raise
        return record.result

    def _answer(self, name: str, arguments: dict[str, Any]) -> JSONValue:
        tool = self._tools.get(name)
        if tool is None:
            raise ToolError(f"unknown tool {name!r}")
        try:
            return tool.handler(arguments)
        except ToolArgumentError as exc:  # the bare complaint left the 1.5B model repeating the bad call
            raise ToolArgumentError(f"{exc}. Call it as {name}{tool.spec.signature.split(' -> ')[0]}") from exc
        except ToolError:
            raise
        except Exception as exc:  # a tool's own bug must reach the model as text, not crash us
            raise ToolError(f"{name} failed: {type(exc).__name__}: {exc}") from exc
