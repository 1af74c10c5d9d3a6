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
    from runtime.retrieval.embedder import E5Embedder

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")


def _print_json(data: object) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


@click.group()
def box() -> None:
    """Manage MCP-Boxes: bundles of tools the student can call from its code."""


def _show_preview(summary: BundleSummary, plan: InstallResult, isolated: bool) -> None:
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
    if isolated:
        info("The modules run in a confined child process (no files outside the Python install, no network, ")
        info("no processes): now for the self-test, later whenever the box is loaded.")
    else:
        info("The modules run inside this process: now for the self-test, later whenever the box is loaded.")


@box.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--yes", "-y", is_flag=True, help="Install without asking for confirmation.")
@click.option(
    "--isolated", is_flag=True,
    help="Untrusted box: run its tools in a confined child process (the sandbox's OS layer) instead of in-process.",
)
@json_option
def import_(path: Path, yes: bool, isolated: bool, as_json: bool) -> None:
    """Validate a box folder, .zip or .tar.gz and install it into the store."""
    from runtime.boxes.bundle import open_bundle
    from runtime.boxes.errors import ConfirmationRequired
    from runtime.boxes.store import BoxStore

    store = BoxStore(Settings())
    bundle = open_bundle(path)
    plan = store.plan(bundle)
    if plan.status != "unchanged":
        _show_preview(bundle.summary(), plan, isolated)
        if not yes:
            if not sys.stdin.isatty():
                raise ConfirmationRequired("nobody at the terminal to confirm the install: run again with --yes")
            if not click.confirm(f"Install {bundle.name} {bundle.manifest.version}?", default=False, err=True):
                info("not installed")
                sys.exit(1)
    plan = store.install(bundle, isolated)
    where = "isolated" if plan.isolated else "in-process"
    if as_json:
        _print_json(plan.model_dump(mode="json"))
    elif plan.status == "unchanged":
        click.echo(f"{plan.name} {plan.version} is already available; nothing to do (it runs {where})")
    elif plan.status == "isolated":
        click.echo(f"{plan.name} {plan.version} is already installed; its tools now run isolated")
    else:
        previous = f" (was {plan.previous})" if plan.previous else ""
        click.echo(
            f"{plan.status} {plan.name} {plan.version}{previous}: {len(plan.tools)} tools ({where}), self-test passed"
        )


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
                    "isolated": e.isolated,
                }
                for e in entries
            ]
        )
        return
    for e in entries:
        source = f"installed, hides shipped {e.overrides}" if e.overrides else e.source
        source += ", isolated" if e.isolated else ""
        click.echo(f"{e.manifest.name:<16} {e.manifest.version:<10} {source:<38} {e.manifest.description}")


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
        tools = host.add(bundle, isolated_from=entry.path if entry.isolated else None)
        names = sandbox_names(tools)
        specs = [to_spec(t, names[t.qualified_name]) for t in tools]
    if as_json:
        _print_json(
            {
                **bundle.manifest.model_dump(),
                "source": entry.source,
                "path": str(entry.path),
                "isolated": entry.isolated,
                "tools": [s.model_dump() for s in specs],
            }
        )
        return
    m = bundle.manifest
    where = ", isolated" if entry.isolated else ""
    click.echo(f"{m.name} {m.version} ({entry.source}{where}, {entry.path})\n{m.description}")
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


def _e5() -> E5Embedder:
    """Loaded only when two or more tools need clustering."""
    from runtime.retrieval.embedder import E5Embedder

    return E5Embedder()


@box.command("distill")
@click.argument("trajectories", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", "out", type=click.Path(file_okay=False, path_type=Path), required=True,
              help="Folder for the stage artifacts (JSONL) and the box; an existing one is resumed.")
@click.option("--teacher", "-t", metavar="NAME|PATH",
              help="Model that rewrites and merges the tools; without it they keep the teacher's code, typed from their cases.")
@click.option("--teacher-url", metavar="URL", help="OpenAI-compatible endpoint for the teacher (see `runtime teach`).")
@click.option("--threshold", type=click.FloatRange(0, 1), default=0.92, show_default=True,
              help="Similarity two tools need to share a cluster (cosine, averaged with output agreement).")
@click.option("--min-agreement", type=click.FloatRange(0, 1), default=1.0, show_default=True,
              help="Share of shared inputs two tools must give equal outputs on to be merged.")
@click.option("--held-out", metavar="SUITE|QUESTIONS.jsonl",
              help="Score every version of every tool on these questions (never the taught ones) and keep what solves most.")
@click.option("--held-out-split", type=click.Choice(["train", "test"]), default="train", show_default=True,
              help="Which rows of a --held-out suite (game24 and molar-mass have a training split).")
@click.option("--held-out-limit", type=click.IntRange(min=1), default=100, show_default=True,
              help="How many held-out questions (a seeded sample).")
@click.option("--checker", metavar="NAME", help="Judges a --held-out QUESTIONS.jsonl's `gold` answers (as `runtime teach --checker`).")
@click.option("--keep", type=click.IntRange(min=1), default=3, show_default=True,
              help="With --held-out: at most this many tools: the one that solves most, then each that solves the most "
                   "questions those before it do not (at least 1 in 20).")
@click.option("--name", default="distilled", show_default=True, help="The box's name.")
@click.option("--box-version", default="0.1.0", show_default=True, help="The box's version.")
@click.option("--dry-run", is_flag=True, help="Find and check the functions, show what would be made; write nothing.")
@json_option
def distill(
    trajectories: Path, out: Path, teacher: str | None, teacher_url: str | None, threshold: float,
    min_agreement: float, held_out: str | None, held_out_split: str, held_out_limit: int, checker: str | None,
    keep: int, name: str, box_version: str, dry_run: bool, as_json: bool,
) -> None:
    """Distill a teacher's trajectories (from `runtime teach`) into a box for `runtime box import`."""
    from pydantic import ValidationError

    from runtime.cli.teach import open_teacher
    from runtime.distill.cluster import ClusterOptions
    from runtime.distill.emit import BoxMeta
    from runtime.distill.pipeline import Distiller, DistillOptions

    settings = Settings()
    try:
        meta = BoxMeta(name=name, version=box_version)
    except ValidationError:
        raise click.BadParameter(f"{name!r} {box_version!r}: the name must look like 'my_tools', the version like 1.2.3") from None
    scoring = None
    if held_out and not dry_run:
        from runtime.distill.pipeline import read_trajectories
        from runtime.distill.score import load_held_out
        from runtime.eval.checkers import checker_named

        taught = {t.id for t in read_trajectories(trajectories)[0]}
        scoring = load_held_out(
            held_out, held_out_split, checker_named(checker) if checker else None, held_out_limit, settings.seed, taught
        )
        info(f"held out: {len(scoring.items)} questions of {scoring.name}, none of them taught")
    options = DistillOptions(cluster=ClusterOptions(threshold=threshold, min_agreement=min_agreement), box=meta,
                             action_timeout_s=settings.action_timeout_s, held_out=scoring, keep=keep)
    model = open_teacher(settings, teacher, teacher_url) if (teacher or teacher_url) and not dry_run else None

    distiller = Distiller(out, options, model, _e5, on_progress=info)
    if dry_run:
        plan = distiller.plan(trajectories)
        if as_json:
            _print_json(plan.model_dump(mode="json"))
            return
        click.echo(f"{plan.succeeded} of {plan.trajectories} trajectories succeeded; {len(plan.candidates)} functions found:")
        for candidate, checked in zip(plan.candidates, plan.checked):
            verdict = "reproduces" if checked.ok else f"dropped: {'; '.join(checked.reasons)[:100]}"
            click.echo(f"  {candidate.name}({', '.join(candidate.params)}): {len(candidate.cases)} calls, {verdict}")
        click.echo(f"would ask the teacher for {plan.rewrites_needed} rewrites ({plan.rewrites_cached} cached) "
                   f"and write the box to {plan.box}")
        return
    report = distiller.run(trajectories)
    if as_json:
        _print_json(report.model_dump(mode="json"))
        return
    for group, tool in zip(report.clusters, report.consolidated):
        agree = ", ".join(f"cos {link.cosine:.2f} agree {link.agreed}/{link.shared}" for link in group.links)
        made = f"{tool.name} [{tool.how}]" if tool.ok else f"nothing ({tool.note[:100]})"
        click.echo(f"cluster {group.id}: {', '.join(group.names)}{f' ({agree})' if agree else ''} -> {made}")
    for found in report.kept:
        click.echo(f"kept {found.name} ({found.how}): solved {found.solved} of {found.total} held-out questions")
    for emitted in report.emitted:
        if not emitted.kept:
            click.echo(f"left out {emitted.name}: {emitted.reason[:160]}")
    if report.box is None:
        click.echo(f"no tool survived; see the stage files in {out}")
        sys.exit(1)
    kept = sum(e.kept for e in report.emitted)
    click.echo(f"box {name} {box_version} with {kept} tools: {report.box}")
    info(f"import it with: runtime box import {report.box}")
