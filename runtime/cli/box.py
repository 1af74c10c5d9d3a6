"""`runtime box ...`: import, list, inspect, remove, export, scaffold and seal MCP-Boxes.

The library is imported inside each command: FastMCP takes about a second to import, and
`runtime --help` or `runtime model list` should not pay for it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runtime.cli._output import info
from runtime.config import Settings

if TYPE_CHECKING:
    from runtime.boxes.bundle import BundleSummary
    from runtime.boxes.store import InstallResult

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group()
def box() -> None:
    """Manage MCP-Boxes: bundles of tools the student can call from its code."""


def _show_preview(summary: BundleSummary, plan: InstallResult) -> None:
    """What is about to be installed: every tool, every file's hash, every import. On stderr."""
    change = f"replaces {plan.previous}" if plan.previous else "new"
    info(f"{summary.name} {summary.version} ({change}): {summary.description}")
    authors = ", ".join(summary.authors)
    info(f"  license {summary.license}; authors {authors}; needs runtime >= {summary.min_runtime_version}")
    for module in summary.modules:
        info(f"  {module.path}  sha256 {module.sha256}")
        info(f"    imports: {', '.join(module.imports) or '(none)'}")
        for tool in module.tools:
            info(f"    tool {summary.name}.{tool.name}: {tool.summary}")
    for path, digest in summary.files.items():
        if path not in {m.path for m in summary.modules}:
            info(f"  {path}  sha256 {digest}")
    info("The modules run inside this process: now for the self-test, later whenever the box is loaded.")


@box.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", "-y", is_flag=True, help="Install without asking for confirmation.")
@json_option
def import_(path: Path, yes: bool, as_json: bool) -> None:
    """Validate a box folder, .zip or .tar.gz and install it into the store."""
    from runtime.boxes.bundle import open_bundle
    from runtime.boxes.errors import ConfirmationRequired
    from runtime.boxes.store import BoxStore

    store = BoxStore(Settings())
    bundle = open_bundle(path)
    plan = store.plan(bundle)
    if plan.status != "unchanged":
        _show_preview(bundle.summary(), plan)
        if not yes:
            if not sys.stdin.isatty():
                raise ConfirmationRequired("nobody at the terminal to confirm the install: run again with --yes")
            if not click.confirm(f"Install {bundle.name} {bundle.manifest.version}?", default=False, err=True):
                info("not installed")
                sys.exit(1)
        plan = store.install(bundle)
    if as_json:
        _print_json(plan.model_dump(mode="json"))
    elif plan.status == "unchanged":
        click.echo(f"{plan.name} {plan.version} is already available; nothing to do")
    else:
        previous = f" (was {plan.previous})" if plan.previous else ""
        click.echo(f"{plan.status} {plan.name} {plan.version}{previous}: {len(plan.tools)} tools, self-test passed")


@box.command("list")
@json_option
def list_(as_json: bool) -> None:
    """List the shipped and installed boxes."""
    from runtime.boxes.store import BoxStore

    entries = BoxStore(Settings()).available()
    if as_json:
        _print_json(
            [
                {
                    **e.manifest.model_dump(exclude={"files"}),
                    "source": e.source,
                    "path": str(e.path),
                    "overrides": e.overrides,
                }
                for e in entries
            ]
        )
        return
    for e in entries:
        source = f"installed, hides shipped {e.overrides}" if e.overrides else e.source
        click.echo(f"{e.manifest.name:<16} {e.manifest.version:<10} {source:<28} {e.manifest.description}")


@box.command("inspect")
@click.argument("name")
@json_option
def inspect_(name: str, as_json: bool) -> None:
    """Show a box's manifest and its tools as the student sees them."""
    from runtime.boxes.loader import BoxHost, sandbox_names, to_spec
    from runtime.boxes.store import BoxStore

    settings = Settings()
    store = BoxStore(settings)
    entry = store.find(name)
    bundle = store.open(name)
    with BoxHost(settings.action_timeout_s) as host:
        tools = host.add(bundle)
        names = sandbox_names(tools)
        specs = [to_spec(t, names[t.qualified_name]) for t in tools]
    if as_json:
        _print_json(
            {
                **bundle.manifest.model_dump(),
                "source": entry.source,
                "path": str(entry.path),
                "tools": [s.model_dump() for s in specs],
            }
        )
        return
    m = bundle.manifest
    click.echo(f"{m.name} {m.version} ({entry.source}, {entry.path})\n{m.description}")
    click.echo(f"license {m.license}; authors {', '.join(m.authors)}; needs runtime >= {m.min_runtime_version}\n")
    for tool, spec in zip(tools, specs):
        examples = len(bundle.examples.get(tool.name, []))
        click.echo(f"# {spec.qualified_name} ({examples} examples)\n{spec.render()}\n")


@box.command("remove")
@click.argument("name")
@json_option
def remove(name: str, as_json: bool) -> None:
    """Remove an installed box."""
    from runtime.boxes.store import BoxStore

    entry = BoxStore(Settings()).remove(name)
    if as_json:
        _print_json({"name": entry.manifest.name, "version": entry.manifest.version, "status": "removed"})
        return
    shipped = f"; the shipped {name} {entry.overrides} is active again" if entry.overrides else ""
    click.echo(f"removed {name} {entry.manifest.version}{shipped}")


@box.command("export")
@click.argument("name")
@click.option(
    "-o", "--output", "output", type=click.Path(path_type=Path), required=True, help="A .zip or .tar.gz file."
)
@json_option
def export(name: str, output: Path, as_json: bool) -> None:
    """Write a shipped or installed box to a .zip or .tar.gz that `runtime box import` accepts."""
    from runtime.boxes.bundle import write_archive
    from runtime.boxes.store import BoxStore

    bundle = BoxStore(Settings()).open(name)
    write_archive(bundle, output)
    if as_json:
        _print_json({"name": bundle.name, "version": bundle.manifest.version, "path": str(output)})
    else:
        click.echo(f"exported {bundle.name} {bundle.manifest.version} to {output}")


@box.command("new")
@click.argument("name")
@click.option("--dir", "parent", type=click.Path(path_type=Path), default=Path("."), help="Where to create it.")
@json_option
def new(name: str, parent: Path, as_json: bool) -> None:
    """Scaffold a new box folder from a template that already imports cleanly."""
    from runtime.boxes.scaffold import new_box

    folder = new_box(name, parent)
    if as_json:
        _print_json({"name": name, "path": str(folder)})
        return
    click.echo(f"created {folder}")
    info(
        f"edit {folder}/tools.py and examples.json, then `runtime box seal {folder}` and `runtime box import {folder}`"
    )


@box.command("seal")
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False, exists=True))
@json_option
def seal(folder: Path, as_json: bool) -> None:
    """Record the sha256 of every file of a box folder in its manifest (after editing it)."""
    from runtime.boxes.scaffold import seal as seal_folder

    manifest = seal_folder(folder)
    if as_json:
        _print_json({"name": manifest.name, "files": manifest.files})
    else:
        click.echo(f"sealed {manifest.name} {manifest.version}: {len(manifest.files)} files")
