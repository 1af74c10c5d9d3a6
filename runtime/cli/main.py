"""Entry point: the `runtime` group, shared options, and the one place user errors become one line."""

from __future__ import annotations

import importlib
import signal
import sys
from typing import NoReturn

import click

from runtime import __version__
from runtime.config import load_settings
from runtime.errors import RuntimeUserError


class Terminated(KeyboardInterrupt):
    """SIGTERM (`kill`, a job scheduler, a stopping container), unwound like Ctrl-C so that every
    `finally` runs: an eval run stopped with `kill` writes its summary, as after Ctrl-C."""


def _terminate(_signum: int, _frame: object) -> NoReturn:
    raise Terminated


COMMANDS = {
    "solve": "runtime.cli.solve:solve",
    "chat": "runtime.cli.chat:chat",
    "model": "runtime.cli.model:model",
    "box": "runtime.cli.box:box",
    "index": "runtime.cli.index:index",
    "eval": "runtime.cli.eval:eval_",
    "teach": "runtime.cli.teach:teach",
    "warm": "runtime.cli.warm:warm",
    "cache": "runtime.cli.cache:cache",
    "doctor": "runtime.cli.doctor:doctor",
}
"""Each command's module is imported only when it runs (or for --help): `runtime solve` does not
pay for importing eval, indexing and the TUI (seconds on a loaded 2-core machine)."""


class _Group(click.Group):
    """Turns RuntimeUserError into `error: ...` and exit 1 (a traceback only with --debug), and
    Ctrl-C or SIGTERM into one line and the shell's exit status for them (130, 143)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return super().get_command(ctx, cmd_name)
        module, name = COMMANDS[cmd_name].split(":")
        command = getattr(importlib.import_module(module), name)
        assert isinstance(command, click.Command)
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["runtime.help"] = any(a in ctx.help_option_names for a in args)  # help needs no settings
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        previous = signal.signal(signal.SIGTERM, _terminate)  # put back after: tests invoke commands in-process
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
        finally:
            signal.signal(signal.SIGTERM, previous)


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
        from runtime.cli.doctor import protections_line

        click.echo(protections_line(), err=True)


def main() -> None:
    cli(prog_name="runtime")


if __name__ == "__main__":
    main()
