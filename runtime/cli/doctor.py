"""`runtime doctor`: which of the sandbox's OS protections this machine gives, in one line."""

from __future__ import annotations

import click

from runtime.sandbox import Sandbox


def protections_line() -> str:
    """Asked of a real worker: it reports what the kernel let it put in force."""
    with Sandbox() as sandbox:
        return sandbox.protections.line()


@click.command()
def doctor() -> None:
    """Show which OS protections the sandbox has on this machine (seccomp, Landlock, uid...)."""
    click.echo(protections_line())
