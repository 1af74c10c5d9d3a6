"""Emit: distilled tools as a box in the bundle format, ready for `runtime box import`.

One module per tool, so each tool's helpers and imports stay its own; its recorded cases become
the box's examples, i.e. its self-test. A box is checked exactly as an import checks it (load
through FastMCP, run the examples): this is also how every earlier stage tests a tool the way a
student will call it, with arguments and results crossing JSON and the return type enforced.
"""

from __future__ import annotations

import ast
import json
import shutil
import tempfile
from pathlib import Path

from pydantic import BaseModel

from runtime import __version__ as RUNTIME_VERSION
from runtime.boxes.bundle import open_bundle
from runtime.boxes.errors import BoxError
from runtime.boxes.loader import check_bundle
from runtime.boxes.manifest import BoxName, Semver
from runtime.boxes.scaffold import write_box
from runtime.distill.records import DistilledTool, Emitted

MAX_EXAMPLES = 5


class BoxMeta(BaseModel):
    """The manifest fields of the emitted box."""

    name: BoxName = "distilled"
    version: Semver = "0.1.0"
    description: str = "Tools distilled from a teacher's trajectories by `runtime box distill`."
    authors: list[str] = ["runtime box distill"]
    license: str = "MIT"


def module_source(tool: DistilledTool, box: str) -> str:
    """The tool's code as a FastMCP module: the server first, `@mcp.tool` on the tool's def."""
    lines = tool.code.rstrip().splitlines()
    tree = ast.parse(tool.code)
    target = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == tool.name][-1]
    at = target.lineno - 1
    body = "\n".join([*lines[:at], "@mcp.tool", *lines[at:]])
    header = (
        f'"""{box}.{tool.name}: distilled by `runtime box distill` from a teacher\'s trajectories."""\n\n'
        f"from fastmcp import FastMCP\n\nmcp = FastMCP({json.dumps(f'{box}.{tool.name}')})\n\n"
    )
    return f"{header}{body}\n"


def box_files(tools: list[DistilledTool], box: str) -> dict[str, bytes]:
    examples = {t.name: [{"args": c.inputs, "expect": c.output} for c in t.cases[:MAX_EXAMPLES]] for t in tools}
    files = {f"{t.name}.py": module_source(t, box).encode() for t in tools}
    files["examples.json"] = (json.dumps(examples, indent=2, ensure_ascii=False) + "\n").encode()
    return files


def write_bundle(folder: Path, tools: list[DistilledTool], meta: BoxMeta) -> None:
    """A sealed box folder (replacing an earlier one), so a rerun never mixes two runs' files."""
    fields = {
        **meta.model_dump(),
        "min_runtime_version": RUNTIME_VERSION,
        "modules": [f"{t.name}.py" for t in tools],
        "examples": "examples.json",
    }
    staging = folder.with_name(f".{folder.name}.staging")
    shutil.rmtree(staging, ignore_errors=True)
    write_box(staging, fields, box_files(tools, meta.name))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)


def serve_check(tools: list[DistilledTool], timeout_s: float = 10.0, box: str = "distilled") -> str | None:
    """Why these tools would fail `runtime box import` (load or self-test), or None if they pass."""
    with tempfile.TemporaryDirectory(prefix="runtime-distill-") as temp:
        folder = Path(temp) / box
        try:
            write_bundle(folder, tools, BoxMeta(name=box))
            check_bundle(open_bundle(folder), timeout_s)
        except BoxError as exc:
            return str(exc)
    return None


def unique_names(tools: list[DistilledTool]) -> list[DistilledTool]:
    """Tools renamed `name_2`, `name_3` where two clusters chose the same name (modules are per name)."""
    seen: dict[str, int] = {}
    renamed = []
    for tool in tools:
        count = seen[tool.name] = seen.get(tool.name, 0) + 1
        if count == 1:
            renamed.append(tool)
            continue
        new = f"{tool.name}_{count}"
        tree = renamed_in(ast.parse(tool.code), {tool.name: new})
        renamed.append(tool.model_copy(update={"name": new, "code": ast.unparse(tree) + "\n"}))
    return renamed


def renamed_in(tree: ast.Module, names: dict[str, str]) -> ast.Module:
    """The code with its functions and the names that refer to them renamed (`names`: old -> new)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name in names:
            node.name = names[node.name]
        elif isinstance(node, ast.Name) and node.id in names:
            node.id = names[node.id]
    return tree


def emit(tools: list[DistilledTool], folder: Path, meta: BoxMeta, timeout_s: float = 10.0) -> list[Emitted]:
    """Write the box with every tool that loads and passes its examples on its own; say why others did not."""
    report: list[Emitted] = []
    kept: list[DistilledTool] = []
    for tool in unique_names(tools):
        problem = serve_check([tool], timeout_s, meta.name)
        if problem is None:
            kept.append(tool)
        examples = min(len(tool.cases), MAX_EXAMPLES)
        report.append(
            Emitted(
                name=tool.name,
                module=f"{tool.name}.py" if problem is None else None,
                examples=examples if problem is None else 0,
                kept=problem is None,
                reason=problem or "",
            )
        )
    if kept:
        write_bundle(folder, kept, meta)
        problem = serve_check(kept, timeout_s, meta.name)
        if problem is not None:
            raise BoxError(f"the distilled box failed its own check: {problem}")
    else:
        shutil.rmtree(folder, ignore_errors=True)
    return report
