"""The registry of student models: pydantic manifests shipped in `runtime.model.manifests` plus user-added GGUFs."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from runtime.atomic import write_atomic
from runtime.config import Settings
from runtime.errors import ConfigError, ModelNotFound


class PackageSource(BaseModel):
    """A GGUF shipped inside index packages: one file, or `count` parts concatenated in order.

    `package`, `module` and `file` may hold `{i}` (1-based part number) for multi-part models.
    """

    kind: Literal["parts", "file"]
    package: str
    version: str
    module: str
    file: str
    count: int = 1
    no_deps: bool = False

    def parts(self) -> list[tuple[str, str, str]]:
        """(pip requirement, importable module, file inside it) for each part, in order."""
        return [
            (
                f"{self.package.format(i=i)}=={self.version}",
                self.module.format(i=i),
                self.file.format(i=i),
            )
            for i in range(1, self.count + 1)
        ]


class LocalSource(BaseModel):
    """A GGUF the user already has on disk (`runtime model add`)."""

    kind: Literal["local"] = "local"
    path: Path


class ModelManifest(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    title: str = ""
    description: str = ""
    license: str = "unknown"
    size_bytes: int
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    context_length: int = 4096
    chat_template: Literal["gguf"] = Field(
        default="gguf", description="Templates come from the GGUF metadata; no copy is kept here."
    )
    source: PackageSource | LocalSource = Field(discriminator="kind")


def _user_dir(settings: Settings) -> Path:
    return settings.models_dir / "registry"


def _parse(text: str, origin: str, loader) -> ModelManifest:
    try:
        return ModelManifest.model_validate(loader(text))
    except (ValidationError, ValueError) as exc:
        raise ConfigError(f"invalid model manifest {origin}: {exc}") from exc


def shipped_manifests() -> list[ModelManifest]:
    files = sorted(resources.files("runtime.model.manifests").iterdir(), key=lambda p: p.name)
    return [_parse(f.read_text(), f.name, tomllib.loads) for f in files if f.name.endswith(".toml")]


def user_manifests(settings: Settings) -> list[ModelManifest]:
    folder = _user_dir(settings)
    if not folder.is_dir():
        return []
    return [
        ModelManifest.model_validate_json(p.read_text()) for p in sorted(folder.glob("*.json"))
    ]


def all_manifests(settings: Settings) -> list[ModelManifest]:
    """Shipped first; a user entry with the same name replaces the shipped one."""
    merged = {m.name: m for m in shipped_manifests()}
    merged.update({m.name: m for m in user_manifests(settings)})
    return list(merged.values())


def get_manifest(settings: Settings, name: str) -> ModelManifest:
    for manifest in all_manifests(settings):
        if manifest.name == name:
            return manifest
    known = ", ".join(m.name for m in all_manifests(settings))
    raise ModelNotFound(f"unknown model {name!r} (known: {known}; or pass a path to a .gguf file)")


def save_user_manifest(settings: Settings, manifest: ModelManifest) -> Path:
    path = _user_dir(settings) / f"{manifest.name}.json"
    write_atomic(path, manifest.model_dump_json(indent=2))
    return path
