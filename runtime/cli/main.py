"""Entry point: the `runtime` group, shared options, and the one place user errors become one line."""

from __future__ import annotations

import signal
import sys
from typing import NoReturn

import click

from runtime import __version__
from runtime.cli import box as box_cmd
from runtime.cli import cache as cache_cmd
from runtime.cli import chat as chat_cmd
from runtime.cli import doctor as doctor_cmd
from runtime.cli import eval as eval_cmd
from runtime.cli import index as index_cmd
from runtime.cli import model as model_cmd
from runtime.cli import solve as solve_cmd
from runtime.cli import teach as teach_cmd
from runtime.cli import warm as warm_cmd
from runtime.config import load_settings
from runtime.errors import RuntimeUserError


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a job scheduler, a stopping container), unwound like Ctrl-C so that every
    `finally` runs: an eval run stopped with `kill` writes its summary, as after Ctrl-C."""


def _terminate(_signum: int, _frame: object) -> NoReturn:
    raise Terminated


class _Group(click.Group):
    """Turns RuntimeUserError into `error: ...` and exit 1 (a traceback only with --debug), and
    Ctrl-C or SIGTERM into one line and the shell's exit status for them (130, 143)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["runtime.help"] = any(a in ctx.help_option_names for a in args)  # help needs no settings
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        signal.signal(signal.SIGTERM, _terminate)
        try:
            return super().invoke(ctx)
        except RuntimeUserError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except Terminated:
            click.echo("terminated", err=True)
            sys.exit(143)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="runtime")
@click.option("--debug", is_flag=True, help="Show full tracebacks for errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Offline CodeAct agent runtime for small local models.

    A quantized student model runs through llama.cpp, writes Python actions that run in a
    sandbox and may call MCP-Box tools, until it calls final_answer(...).
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    if not ctx.resilient_parsing and not ctx.meta.get("runtime.help"):
        load_settings()  # a bad RUNTIME_* value or home folder: one line before any command starts
    if debug:
        click.echo(doctor_cmd.protections_line(), err=True)


cli.add_command(solve_cmd.solve)
cli.add_command(model_cmd.model)
cli.add_command(eval_cmd.eval_)
cli.add_command(box_cmd.box)
cli.add_command(index_cmd.index)
cli.add_command(chat_cmd.chat)
cli.add_command(teach_cmd.teach)
cli.add_command(doctor_cmd.doctor)
cli.add_command(cache_cmd.cache)
cli.add_command(warm_cmd.warm)


def main() -> None:
    cli(prog_name="runtime")


if __name__ == "__main__":
    main()
