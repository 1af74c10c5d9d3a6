"""Authoring: scaffold a new box from a template, and seal a box folder (record its files' sha256)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from runtime import __version__ as RUNTIME_VERSION
from runtime.atomic import write_atomic
from runtime.boxes.bundle import Limits, read_entries, sha256
from runtime.boxes.errors import BoxError, ManifestError
from runtime.boxes.manifest import MANIFEST_NAMES, BoxName, Manifest, read_raw, render_manifest, validate_manifest

TEMPLATE_MODULE = '''"""{name}: tools distilled from a teacher's work. Replace the example with your own."""

from __future__ import annotations

from fastmcp import FastMCP

mcp = FastMCP("{name}")


@mcp.tool
def scale_values(values: list[float], factor: float = 2.0) -> list[float]:
    """Multiply every value by the same factor.

    scale_values([1, 2.5], 3) gives [3.0, 7.5].

    Args:
        values: The numbers to scale.
        factor: What to multiply each number by.
    """
    return [v * factor for v in values]
'''

TEMPLATE_EXAMPLES = {"scale_values": [{"args": {"values": [1, 2.5], "factor": 3}, "expect": [3.0, 7.5]}]}


def seal(folder: Path, limits: Limits | None = None) -> Manifest:
    """Rewrite the folder's manifest so `files` holds the sha256 of every other file."""
    entries = read_entries(folder, limits or Limits())
    present = [name for name in MANIFEST_NAMES if name in entries]
    if len(present) != 1:
        raise ManifestError(f"{folder}: needs exactly one of box.toml or box.json")
    manifest_name = present[0]
    raw = read_raw(manifest_name, entries.pop(manifest_name))
    raw["files"] = {path: sha256(data) for path, data in sorted(entries.items())}
    manifest = validate_manifest(manifest_name, raw)
    write_atomic(folder / manifest_name, render_manifest(manifest, manifest_name))
    return manifest


def write_box(
    folder: Path, fields: dict[str, Any], files: dict[str, bytes], manifest_name: str = "box.toml"
) -> Manifest:
    """Create a sealed box folder from file contents and manifest fields (all but `files`).

    `runtime box new` uses it for the template; distillation can use it to emit a box.
    """
    manifest = validate_manifest(manifest_name, {**fields, "files": {p: sha256(d) for p, d in files.items()}})
    if folder.exists():
        raise BoxError(f"{folder} already exists")
    folder.mkdir(parents=True)
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    (folder / manifest_name).write_bytes(render_manifest(manifest, manifest_name))
    return manifest


def box_fields(
    name: str, version: str, files: Iterable[str], *, description: str, authors: list[str]
) -> dict[str, Any]:
    """Manifest fields for `write_box` of an MIT box that loads on this runtime or later: every .py file
    is a module, and `examples.json`, when it is one of the files, holds the self-test."""
    paths = list(files)
    return {
        "name": name,
        "version": version,
        "description": description,
        "license": "MIT",
        "authors": authors,
        "min_runtime_version": RUNTIME_VERSION,
        "modules": [p for p in paths if p.endswith(".py")],
        "examples": "examples.json" if "examples.json" in paths else None,
    }


def new_box(name: str, parent: Path) -> Path:
    """Create `parent/name/` with a manifest, one tool module and its examples, already sealed."""
    try:
        TypeAdapter(BoxName).validate_python(name)
    except ValidationError:
        raise ManifestError(f"box name {name!r} must be a lowercase identifier like 'my_tools'") from None
    files = {
        "tools.py": TEMPLATE_MODULE.format(name=name).encode(),
        "examples.json": (json.dumps(TEMPLATE_EXAMPLES, indent=2) + "\n").encode(),
    }
    description = f"{name}: describe what these tools are for."
    write_box(parent / name, box_fields(name, "0.1.0", files, description=description, authors=["Your Name"]), files)
    return parent / name
