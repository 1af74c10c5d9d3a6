"""`runtime cache ...`: show or clear the saved prompt states (see runtime.model.prefix_cache)."""

from __future__ import annotations

import sys

import click

from runtime.config import Settings
from runtime.errors import RuntimeUserError
from runtime.model.prefix_cache import CacheSummary, PrefixStates


class ConfirmationRequired(RuntimeUserError):
    """Clearing needs a yes, and there is nobody at the terminal to give it."""


def _size(n_bytes: int) -> str:
    return f"{n_bytes / (1 << 20):.1f} MB"


def _show(summary: CacheSummary, as_json: bool) -> None:
    if as_json:
        click.echo(summary.model_dump_json(indent=2))
        return
    click.echo(f"prompt states: {summary.folder}")
    click.echo(
        f"{summary.states} states, {_size(summary.bytes)} of {_size(summary.limit_bytes)} "
        "(RUNTIME_PREFIX_CACHE_MB; the least recently used go first)"
    )


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.pass_context
def cache(ctx: click.Context, as_json: bool) -> None:
    """The saved prompt states that spare each run the prompt's fixed start (same as `cache show`)."""
    if ctx.invoked_subcommand is None:
        _show(PrefixStates.of(Settings()).summary(), as_json)


@cache.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
def show(as_json: bool) -> None:
    """Show the folder, the number of saved prompt states and their size."""
    _show(PrefixStates.of(Settings()).summary(), as_json)


@cache.command()
@click.option("--yes", "-y", is_flag=True, help="Delete without asking for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print what was deleted as JSON.")
def clear(yes: bool, as_json: bool) -> None:
    """Delete the saved prompt states; the next run of each prompt computes its state again."""
    states = PrefixStates.of(Settings())
    summary = states.summary()
    if summary.states and not yes:
        if not sys.stdin.isatty():
            raise ConfirmationRequired("nobody at the terminal to confirm: run again with --yes")
        question = f"Delete {summary.states} prompt states ({_size(summary.bytes)})?"
        if not click.confirm(question, default=False, err=True):
            click.echo("nothing deleted", err=True)
            sys.exit(1)
    deleted = states.clear()
    if as_json:
        click.echo(deleted.model_dump_json(indent=2))
    else:
        click.echo(f"deleted {deleted.states} prompt states ({_size(deleted.bytes)}) from {deleted.folder}")
