"""Run box tools: execute each module, serve its FastMCP server to a client.

A trusted box runs in-process, each module's server behind an in-memory client. A box the user
marked untrusted (`runtime box import --isolated`) runs in one confined child process per box
(`runtime.boxes.isolated`), its modules mounted on one server that the client reaches over stdio;
either way the tools come out as the same `RemoteTool`s and calls.

A `BoxHost` owns one private event loop on a background thread, so the synchronous agent and the
sandbox's tool proxy can call the async FastMCP clients from any thread. Create one per process
and keep it: modules are executed and clients connected once.
"""

from __future__ import annotations

import asyncio
import atexit
import keyword
import logging
import os
import re
import shutil
import sys
import tempfile
import threading
import types
from collections import Counter
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import mcp_types
from fastmcp import Client, FastMCP
from fastmcp.client.transports import StdioTransport
from pydantic import BaseModel

import runtime
from runtime.boxes.bundle import Bundle, sha256
from runtime.boxes.errors import BoxLoadError, SelfTestFailed
from runtime.sandbox.oslayer import Protections
from runtime.tools import JSONValue, Tool, ToolArgumentError, ToolError, ToolExample, Toolset, ToolSpec


class RemoteTool(BaseModel):
    """One tool as its box's FastMCP server lists it."""

    box: str
    module: str
    name: str
    description: str
    input_schema: dict[str, Any]
    output_schema: dict[str, Any] | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.box}.{self.name}"


def exec_module(bundle: Bundle, path: str) -> FastMCP:
    """Execute one module from memory (no bytecode is written into the store) and return its `mcp`."""
    stem = re.sub(r"\W", "_", path.removesuffix(".py"))
    module_name = f"runtime_box_{bundle.name}_{stem}_{sha256(bundle.files[path])[:8]}"
    module = types.ModuleType(module_name)
    module.__file__ = f"<box {bundle.name}>/{path}"
    sys.modules[module_name] = module  # dataclasses and pydantic look classes' modules up here
    code = compile(bundle.module_source(path), f"{bundle.name}/{path}", "exec", dont_inherit=True)
    try:
        exec(code, module.__dict__)
    except (Exception, SystemExit) as exc:
        sys.modules.pop(module_name, None)
        raise BoxLoadError(f"{bundle.name}/{path} raised at import: {type(exc).__name__}: {exc}") from None
    server = module.__dict__.get("mcp")
    if not isinstance(server, FastMCP):
        raise BoxLoadError(f"{bundle.name}/{path} defines no module-level `mcp = FastMCP(...)`")
    return server


def module_namespace(index: int) -> str:
    """The prefix an isolated box's child puts on the tools of its `index`-th module."""
    return f"m{index}"


class _Child(BaseModel):
    """An isolated box's child process: its private folder (its cwd and temp) and its stderr log."""

    box: str
    workdir: Path

    @property
    def log(self) -> Path:
        return self.workdir / "stderr.log"

    def transport(self, source: Path) -> StdioTransport:
        """`python -m runtime.boxes.isolated SOURCE`, importing this same runtime package."""
        paths = [str(Path(runtime.__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]
        return StdioTransport(
            sys.executable,
            ["-m", "runtime.boxes.isolated", str(source)],
            env={"PYTHONPATH": os.pathsep.join(p for p in paths if p)},
            cwd=str(self.workdir),
            keep_alive=False,
            log_file=self.log,
        )

    def protections(self) -> Protections:
        """What the child put in force before it ran any box code (written by it at start)."""
        return Protections.model_validate_json((self.workdir / "protections.json").read_text())

    def last_words(self) -> str:
        """The last line the child wrote to stderr: why it would not start, or how it ended."""
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""


def _check_tools(bundle: Bundle, tools: list[RemoteTool]) -> None:
    """The rules the format promises: unique identifiers, docstrings, typed parameters, no hidden tools."""
    seen: dict[str, str] = {}
    for tool in tools:
        where = f"{bundle.name}/{tool.module}"
        if tool.name in seen:
            raise BoxLoadError(
                f"{bundle.name}: duplicate tool name {tool.name!r} in {seen[tool.name]} and {tool.module}"
            )
        seen[tool.name] = tool.module
        if not tool.name.isidentifier() or keyword.iskeyword(tool.name):
            raise BoxLoadError(f"{where}: tool name {tool.name!r} is not a Python identifier")
        if not tool.description.strip():
            raise BoxLoadError(f"{where}: tool {tool.name!r} has no docstring")
        for param, schema in tool.input_schema.get("properties", {}).items():
            if not set(schema) & {"type", "anyOf", "oneOf", "allOf", "$ref", "enum", "const"}:
                raise BoxLoadError(f"{where}: parameter {param!r} of {tool.name!r} has no type annotation")
    declared = {(t.module, t.name) for t in bundle.declared_tools()}
    loaded = {(t.module, t.name) for t in tools}
    if declared != loaded:
        odd = sorted(f"{m}:{n}" for m, n in declared ^ loaded)
        raise BoxLoadError(
            f"{bundle.name}: tools must be module-level functions decorated with @mcp.tool; "
            f"these differ: {', '.join(odd)}"
        )


_INVALID_ARGUMENTS = "invalid arguments: "


def _error_text(result: mcp_types.CallToolResult) -> str:
    """FastMCP's error text, without the pydantic URLs and type codes a small model cannot use."""
    text = " ".join(c.text for c in result.content if isinstance(c, mcp_types.TextContent))
    text = re.sub(r"^Error calling tool '[^']*': ", "", text)
    text = re.sub(r"\s*For further information visit \S+", "", text)
    text = re.sub(r"\s*\[type=[^\]]*\]", "", text)
    header = re.match(r"\d+ validation errors? for call\[\w*\]\n", text)
    if header:  # pydantic's layout: a location line, then its indented message
        lines = text[header.end() :].split("\n")
        pairs = [f"{loc.strip()}: {msg.strip()}" for loc, msg in zip(lines[::2], lines[1::2])]
        return _INVALID_ARGUMENTS + "; ".join(pairs)
    return re.sub(r"\s*\n\s*", "; ", text).strip() or "the tool reported an error"


def _result_value(result: mcp_types.CallToolResult) -> JSONValue:
    if result.structured_content is not None:
        wrapped = (result.meta or {}).get("fastmcp", {}).get("wrap_result")
        return result.structured_content.get("result") if wrapped else result.structured_content
    texts = [c.text if isinstance(c, mcp_types.TextContent) else f"[{c.type} content]" for c in result.content]
    return "\n".join(texts)


class BoxHost:
    """Loaded boxes behind in-memory FastMCP clients, served on a private event-loop thread."""

    def __init__(self, timeout_s: float = 10.0) -> None:
        self._timeout_s = timeout_s
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="box-host", daemon=True)
        self._thread.start()
        self._closing = asyncio.Event()
        self._serving: list[asyncio.Task[None]] = []
        self._routes: dict[tuple[str, str], tuple[Client, str]] = {}  # (box, module) -> client, tool prefix
        self._children: dict[str, _Child] = {}
        self._tools: list[RemoteTool] = []
        self._examples: dict[str, ToolExample] = {}  # by qualified name: the first that returns a value
        # Tool failures come back to us as results; the server's own tracebacks are only noise.
        logging.getLogger("fastmcp.server.server").setLevel(logging.CRITICAL)

    def __enter__(self) -> BoxHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def tools(self) -> list[RemoteTool]:
        return list(self._tools)

    def protections(self, box: str) -> Protections | None:
        """The OS protections of an isolated box's process; None for a box loaded in-process."""
        child = self._children.get(box)
        return None if child is None else child.protections()

    def _run(self, coro: Coroutine[Any, Any, Any], timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    async def _serve(self, server: FastMCP | StdioTransport, ready: asyncio.Future[Client]) -> None:
        """Hold one client open in a single task, as anyio's cancel scopes require."""
        try:
            async with Client(server) as client:
                ready.set_result(client)
                await self._closing.wait()
        except Exception as exc:
            if not ready.done():
                ready.set_exception(exc)

    async def _connect(self, server: FastMCP | StdioTransport) -> tuple[Client, list[mcp_types.Tool]]:
        ready: asyncio.Future[Client] = self._loop.create_future()
        self._serving.append(asyncio.create_task(self._serve(server, ready)))
        client = await ready
        return client, await client.list_tools()

    def add(self, bundle: Bundle, isolated_from: Path | None = None) -> list[RemoteTool]:
        """Execute a box's modules, connect a client to each, and check the tools they list.

        With `isolated_from` (the box's folder or archive) the modules run in a confined child
        process that reads the box from there; nothing of the box runs in this process."""
        if any(t.box == bundle.name for t in self._tools):
            raise BoxLoadError(f"box {bundle.name!r} is already loaded")
        if isolated_from is None:
            routes, tools = self._load_in_process(bundle)
        else:
            routes, tools = self._load_isolated(bundle, isolated_from)
        _check_tools(bundle, tools)
        for tool_name, examples in bundle.examples.items():
            shown = next((e for e in examples if e.error is None and e.expect is not None), None)
            if shown is not None:
                self._examples[f"{bundle.name}.{tool_name}"] = ToolExample(args=shown.args, result=shown.expect)
        self._routes.update(routes)
        self._tools += tools
        return tools

    def _load_in_process(self, bundle: Bundle) -> tuple[dict[tuple[str, str], tuple[Client, str]], list[RemoteTool]]:
        routes: dict[tuple[str, str], tuple[Client, str]] = {}
        tools: list[RemoteTool] = []
        for path in bundle.manifest.modules:
            server = exec_module(bundle, path)
            try:
                client, listed = self._run(self._connect(server), self._timeout_s)
            except Exception as exc:
                raise BoxLoadError(f"{bundle.name}/{path}: tools failed to load: {exc}") from None
            routes[(bundle.name, path)] = (client, "")
            tools += [_remote(bundle.name, path, t, t.name) for t in listed]
        return routes, tools

    def _load_isolated(
        self, bundle: Bundle, source: Path
    ) -> tuple[dict[tuple[str, str], tuple[Client, str]], list[RemoteTool]]:
        """Start the box's child and sort the tools it lists back to their modules by prefix."""
        child = _Child(box=bundle.name, workdir=Path(tempfile.mkdtemp(prefix=f"runtime-box-{bundle.name}-")))
        if not self._children:  # a host kept for the process's life is closed at exit, ending its children cleanly
            atexit.register(self.close)
        self._children[bundle.name] = child
        try:
            client, listed = self._run(self._connect(child.transport(source.resolve())), self._timeout_s)
        except Exception as exc:
            why = child.last_words() or f"{type(exc).__name__}: {exc}"
            raise BoxLoadError(f"{bundle.name}: its isolated process failed to start: {why}") from None
        modules = bundle.manifest.modules
        prefixes = {f"{module_namespace(i)}_": path for i, path in enumerate(modules)}
        routes = {(bundle.name, path): (client, prefix) for prefix, path in prefixes.items()}
        tools: list[RemoteTool] = []
        for t in listed:
            prefix = t.name.split("_", 1)[0] + "_"
            if prefix not in prefixes:
                raise BoxLoadError(f"{bundle.name}: its isolated process lists an unknown tool {t.name!r}")
            tools.append(_remote(bundle.name, prefixes[prefix], t, t.name.removeprefix(prefix)))
        return routes, tools

    def call(self, tool: RemoteTool, arguments: dict[str, Any]) -> JSONValue:
        """Call a tool synchronously; any failure becomes a ToolError the model can read."""
        client, prefix = self._routes[(tool.box, tool.module)]
        future = asyncio.run_coroutine_threadsafe(client.call_tool_mcp(prefix + tool.name, arguments), self._loop)
        try:
            result = future.result(self._timeout_s)
        except TimeoutError:
            future.cancel()
            raise ToolError(f"{tool.qualified_name} timed out after {self._timeout_s:g} s") from None
        except Exception as exc:
            child = self._children.get(tool.box)
            if child is not None:
                why = child.last_words()
                raise ToolError(
                    f"{tool.qualified_name} failed: the box's isolated process ended" + (f" ({why})" if why else "")
                ) from None
            raise ToolError(f"{tool.qualified_name} failed: {exc}") from None
        if result.is_error:
            text = _error_text(result)
            error = ToolArgumentError if text.startswith(_INVALID_ARGUMENTS) else ToolError
            raise error(f"{tool.qualified_name}: {text}")
        return _result_value(result)

    def toolset(self) -> Toolset:
        """Every loaded tool as a `Tool` whose handler calls through this host."""
        names = sandbox_names(self._tools)
        return Toolset(
            [
                Tool(
                    spec=to_spec(t, names[t.qualified_name], self._examples.get(t.qualified_name)),
                    handler=lambda args, t=t: self.call(t, args),
                )
                for t in self._tools
            ]
        )

    def close(self) -> None:
        """Disconnect the clients (ending isolated boxes' processes) and stop the loop thread
        (waiting at most the call timeout)."""
        atexit.unregister(self.close)
        if not self._thread.is_alive():
            return

        async def shutdown() -> None:
            self._closing.set()
            await asyncio.gather(*self._serving, return_exceptions=True)

        try:
            self._run(shutdown(), self._timeout_s)
        except TimeoutError:
            return  # a tool still runs in a worker thread; the daemon loop thread ends with the process
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(self._timeout_s)
        self._loop.close()
        for child in self._children.values():
            shutil.rmtree(child.workdir, ignore_errors=True)


def _remote(box: str, module: str, listed: mcp_types.Tool, name: str) -> RemoteTool:
    return RemoteTool(
        box=box,
        module=module,
        name=name,
        description=listed.description or "",
        input_schema=listed.input_schema,
        output_schema=listed.output_schema,
    )


def sandbox_names(tools: list[RemoteTool]) -> dict[str, str]:
    """Qualified name -> the identifier the student calls: the tool's own name unless it clashes."""
    counts = Counter(t.name for t in tools)
    names = {t.qualified_name: t.name if counts[t.name] == 1 else f"{t.box}_{t.name}" for t in tools}
    taken: dict[str, str] = {}
    for qualified, name in names.items():
        if name in taken:
            raise BoxLoadError(f"tools {taken[name]} and {qualified} would both be called {name!r} in the sandbox")
        taken[name] = qualified
    return names


def _py_type(schema: dict[str, Any] | bool) -> str:
    """A JSON schema as the Python annotation a model would write, e.g. 'list[int] | None'."""
    if not isinstance(schema, dict) or not schema:
        return "Any"
    if "$ref" in schema:
        return "dict"
    if "const" in schema:
        return f"Literal[{schema['const']!r}]"
    if "enum" in schema:
        return f"Literal[{', '.join(repr(v) for v in schema['enum'])}]"
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(dict.fromkeys(_py_type(s) for s in schema[key]))
    if "allOf" in schema and len(schema["allOf"]) == 1:
        return _py_type(schema["allOf"][0])
    kind = schema.get("type")
    if isinstance(kind, list):
        return " | ".join(_py_type({**schema, "type": k}) for k in kind)
    if kind == "array":
        if "prefixItems" in schema:
            return f"tuple[{', '.join(_py_type(s) for s in schema['prefixItems'])}]"
        return f"list[{_py_type(schema['items'])}]" if "items" in schema else "list"
    if kind == "object":
        extra = schema.get("additionalProperties")
        return f"dict[str, {_py_type(extra)}]" if isinstance(extra, dict) and extra else "dict"
    simple = {"integer": "int", "number": "float", "string": "str", "boolean": "bool", "null": "None"}
    return simple.get(kind, "Any") if isinstance(kind, str) else "Any"


def render_signature(input_schema: dict[str, Any], output_schema: dict[str, Any] | None) -> str:
    """'(numbers: list[int], target: int = 24) -> str | None', rendered from the tool's schemas."""
    params = []
    for name, schema in input_schema.get("properties", {}).items():
        default = f" = {schema['default']!r}" if "default" in schema else ""
        params.append(f"{name}: {_py_type(schema)}{default}")
    if output_schema is None:
        returns = ""
    elif output_schema.get("x-fastmcp-wrap-result"):
        returns = f" -> {_py_type(output_schema['properties']['result'])}"
    else:
        returns = f" -> {_py_type(output_schema)}"
    return f"({', '.join(params)}){returns}"


def to_spec(tool: RemoteTool, name: str, example: ToolExample | None = None) -> ToolSpec:
    """The spec the prompt and sandbox see: docstring plus the argument notes FastMCP split off."""
    properties = tool.input_schema.get("properties", {})
    notes = [f"    {p}: {s['description']}" for p, s in properties.items() if s.get("description")]
    description = tool.description.strip() + ("\n\nArgs:\n" + "\n".join(notes) if notes else "")
    return ToolSpec(
        name=name,
        qualified_name=tool.qualified_name,
        description=description,
        signature=render_signature(tool.input_schema, tool.output_schema),
        parameters=tool.input_schema,
        param_names=list(properties),
        example=example,
    )


def self_test(host: BoxHost, bundle: Bundle) -> int:
    """Run the box's examples through the host; return how many passed (all, or raise)."""
    by_name = {t.name: t for t in host.tools if t.box == bundle.name}
    count = 0
    for tool_name, examples in bundle.examples.items():
        if tool_name not in by_name:
            raise SelfTestFailed(f"{bundle.name}: examples name unknown tool {tool_name!r}")
        tool = by_name[tool_name]
        for example in examples:
            call = f"{tool.qualified_name}({', '.join(f'{k}={v!r}' for k, v in example.args.items())})"
            try:
                got = host.call(tool, example.args)
            except ToolError as exc:
                if example.error is None or example.error not in str(exc):
                    raise SelfTestFailed(f"self-test failed: {call} raised {exc}") from None
            else:
                if example.error is not None:
                    raise SelfTestFailed(
                        f"self-test failed: {call} gave {got!r}, expected an error with {example.error!r}"
                    )
                if got != example.expect:
                    raise SelfTestFailed(f"self-test failed: {call} gave {got!r}, expected {example.expect!r}")
            count += 1
    return count


def check_bundle(bundle: Bundle, timeout_s: float = 10.0, isolated_from: Path | None = None) -> list[ToolSpec]:
    """Load a bundle on a throwaway host and run its self-test: the checks that run box code."""
    with BoxHost(timeout_s) as host:
        host.add(bundle, isolated_from)
        self_test(host, bundle)
        names = sandbox_names(host.tools)
        return [to_spec(t, names[t.qualified_name]) for t in host.tools]
