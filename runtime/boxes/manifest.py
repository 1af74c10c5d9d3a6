"""The box manifest (`box.toml` or `box.json`) and the examples file, as pydantic schemas.

The manifest is the root of trust of a bundle: it names the box and pins the sha256 of every
other file, so a bundle is accepted only if its bytes are exactly the ones the author sealed.
"""

from __future__ import annotations

import json
import re
import tomllib
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from runtime.boxes.errors import ManifestError, UnsafeBundle

MANIFEST_NAMES = ("box.toml", "box.json")
FORMAT = 1

_SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)(?:\.(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*))*))?"
    r"(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


def version_key(version: str) -> tuple:
    """Sort key for a semver string: prereleases before the release, build metadata ignored."""
    match = _SEMVER.match(version)
    if match is None:
        raise ValueError(f"{version!r} is not a semantic version like 1.2.3")
    major, minor, patch, pre = match.groups()
    core = (int(major), int(minor), int(patch))
    if pre is None:
        return (*core, 1, ())
    parts = tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split("."))
    return (*core, 0, parts)


def _semver(value: str) -> str:
    version_key(value)
    return value


def safe_relative_path(raw: str) -> str:
    """Normalise a bundle path to 'a/b.py', refusing anything that could leave the box folder."""
    if not raw or "\\" in raw or "\x00" in raw:
        raise UnsafeBundle(f"bad path {raw!r}: empty, NUL or backslash")
    if raw.startswith("/") or re.match(r"^[A-Za-z]:", raw):
        raise UnsafeBundle(f"absolute path {raw!r} is not allowed")
    parts = [p for p in raw.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise UnsafeBundle(f"path {raw!r} climbs out of the box with '..'")
    if not parts:
        raise UnsafeBundle(f"bad path {raw!r}")
    path = "/".join(parts)
    if len(path) > 255:
        raise UnsafeBundle(f"path {path[:40]!r}... is longer than 255 characters")
    return path


def _safe_path(value: str) -> str:
    try:
        return safe_relative_path(value)
    except UnsafeBundle as exc:
        raise ValueError(str(exc)) from None


Semver = Annotated[str, AfterValidator(_semver)]
RelPath = Annotated[str, AfterValidator(_safe_path)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
BoxName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class Manifest(BaseModel):
    """What a box is and which exact files it holds."""

    model_config = ConfigDict(extra="forbid")

    format: int = Field(default=FORMAT, description="Manifest format version; only 1 exists.")
    name: BoxName = Field(description="Namespace of the tools: lowercase identifier, e.g. 'math'.")
    version: Semver
    description: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    license: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    authors: list[str] = Field(min_length=1)
    min_runtime_version: Semver = Field(description="Oldest runtime that can load this box.")
    modules: list[RelPath] = Field(min_length=1, description="Python files, each with `mcp = FastMCP(...)`.")
    examples: RelPath | None = Field(default=None, description="JSON file of examples per tool: the self-test.")
    files: dict[RelPath, Sha256] = Field(description="sha256 of every file except the manifest itself.")

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if self.format != FORMAT:
            raise ValueError(f"format {self.format} is not supported (only {FORMAT})")
        for name in MANIFEST_NAMES:
            if name in self.files:
                raise ValueError(f"files must not list the manifest {name}")
        if len(set(self.modules)) != len(self.modules):
            raise ValueError("modules lists a file twice")
        for module in self.modules:
            if not module.endswith(".py"):
                raise ValueError(f"module {module!r} is not a .py file")
            if module not in self.files:
                raise ValueError(f"module {module!r} has no sha256 in files")
        if self.examples is not None and self.examples not in self.files:
            raise ValueError(f"examples file {self.examples!r} has no sha256 in files")
        return self


class Example(BaseModel):
    """One call of a tool and what it must give: a value (`expect`) or an error text (`error`)."""

    model_config = ConfigDict(extra="forbid")

    args: dict[str, Any] = Field(default_factory=dict)
    expect: Any = None
    error: str | None = Field(default=None, description="A substring of the expected error message.")

    @model_validator(mode="after")
    def _one_outcome(self) -> Example:
        if ("expect" in self.model_fields_set) == ("error" in self.model_fields_set):
            raise ValueError("give exactly one of 'expect' or 'error'")
        return self


Examples = TypeAdapter(dict[str, list[Example]])


def _describe(exc: ValidationError) -> str:
    """Pydantic's errors as one line: 'version: ...; files.x: ...'."""
    parts = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    return "; ".join(parts)


def read_raw(filename: str, data: bytes) -> dict[str, Any]:
    """A manifest's bytes as a dict, before schema validation; `filename` picks TOML or JSON."""
    try:
        text = data.decode("utf-8")
        raw = tomllib.loads(text) if filename.endswith(".toml") else json.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{filename} is not valid {filename.rsplit('.', 1)[1].upper()}: {exc}") from None
    if not isinstance(raw, dict):
        raise ManifestError(f"{filename} must hold a table/object at the top level")
    return raw


def validate_manifest(filename: str, raw: dict[str, Any]) -> Manifest:
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise ManifestError(f"{filename} does not match the box schema: {_describe(exc)}") from None


def parse_manifest(filename: str, data: bytes) -> Manifest:
    """Parse and validate a manifest's bytes."""
    return validate_manifest(filename, read_raw(filename, data))


def parse_examples(filename: str, data: bytes) -> dict[str, list[Example]]:
    """Parse and validate the examples file."""
    try:
        return Examples.validate_json(data)
    except ValidationError as exc:
        raise ManifestError(f"examples file {filename} is invalid: {_describe(exc)}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return str(value)


def render_manifest(manifest: Manifest, filename: str) -> bytes:
    """Serialise a manifest as TOML or JSON (stdlib has no TOML writer; the schema is flat)."""
    data = manifest.model_dump(exclude_none=True)
    if filename.endswith(".json"):
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
    files = data.pop("files")
    lines = [f"{key} = {_toml_value(value)}" for key, value in data.items()]
    lines += ["", "[files]"]
    lines += [f"{_toml_value(path)} = {_toml_value(digest)}" for path, digest in sorted(files.items())]
    return ("\n".join(lines) + "\n").encode()
