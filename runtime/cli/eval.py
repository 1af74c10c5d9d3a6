"""`runtime eval SUITE|FILE.jsonl --mode MODE ...`, `runtime eval report DIR...` and `runtime eval rejudge DIR...`.

Progress goes to stderr (one self-updating line on a terminal, one line per question in a log);
the summary or table goes to stdout, as JSON with --json.
"""

from __future__ import annotations

import inspect
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import click
from pydantic import BaseModel

from runtime.cli._output import ByteProgress, info
from runtime.cli.index import ChunkProgress
from runtime.config import MAX_CANDIDATES, Settings
from runtime.eval import report as report_mod
from runtime.eval.checkers import CHECKER_HELP, CHECKERS, checker_named
from runtime.eval.records import COT_MODES, MODES, Mode, QuestionRecord, RunConfig, RunProgress, Summary
from runtime.eval.rejudge import rejudge
from runtime.eval.runner import EvalRequest, run_eval, suite_collection
from runtime.eval.solvers import DEFAULT_SAG, LlamaLoader, resolve_sag
from runtime.eval.suites import ANSWER_FIELDS, LOADERS, QUESTION_FIELDS, Suite, load_file_suite, load_suite


class ProgressLine:
    """A progress bar with the running accuracy and time per question, on stderr."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.started = time.monotonic()
        self.resumed = 0

    def start(self, progress: RunProgress) -> None:
        self.started, self.resumed = time.monotonic(), progress.done
        if progress.done and not self.quiet:
            info(f"resuming: {progress.done} of {progress.total} questions already done")

    def __call__(self, record: QuestionRecord, progress: RunProgress) -> None:
        if self.quiet:
            return
        width = 24
        filled = width * progress.done // max(1, progress.total)
        per_question = (time.monotonic() - self.started) / max(1, progress.done - self.resumed)
        eta = per_question * (progress.total - progress.done)
        line = (
            f"[{'#' * filled}{'-' * (width - filled)}] {progress.done}/{progress.total} "
            f"acc {100 * progress.correct / progress.done:.1f}% ({progress.correct}) "
            f"{per_question:.1f} s/q eta {eta / 60:.0f} min"
        )
        if self.tty:
            click.echo(f"\r{line}", err=True, nl=progress.done == progress.total)
        else:
            click.echo(f"{line}  {record.id}: {record.outcome}", err=True)


def summary_text(summary: Summary, out: Path) -> str:
    low, high = summary.ci95
    failures = ", ".join(f"{kind.replace('_', ' ')} {count}" for kind, count in summary.failures.items())
    return (
        f"{summary.config.suite} / {summary.config.mode} / {summary.config.model} (seed {summary.config.seed}): "
        f"{summary.correct}/{summary.n} correct = {report_mod.percent(summary.accuracy)} "
        f"[95% CI {100 * low:.1f}–{100 * high:.1f}]\n"
        f"mean steps {summary.mean_steps:.2f}, prompt tokens {summary.mean_prompt_tokens:.0f}, "
        f"generated tokens {summary.mean_completion_tokens:.0f}, {summary.wall_s_per_question:.1f} s/question\n"
        f"failures: {failures}\n"
        f"records: {out / 'records.jsonl'}"
    )


class RunOptions(BaseModel):
    """The options every suite command takes (a shipped suite or a user's file)."""

    mode: Mode
    limit: int | None
    model_name: str | None
    sag: int | None
    sag_temperature: float | None
    first_thought: bool
    boxes: tuple[str, ...]
    grammar: bool | None
    compute_first: bool | None
    guided_call: bool | None
    workers: int
    ray_address: str | None
    out: Path | None
    seed: int | None
    as_json: bool
    quiet: bool


_RUN_OPTIONS = [
    click.option("--mode", type=click.Choice(MODES), required=True, help="How the student answers."),
    click.option("--limit", type=click.IntRange(min=1), help="Questions to run (a seeded sample of the suite)."),
    click.option(
        "--model",
        "-m",
        "model_name",
        metavar="NAME|PATH|URL",
        help="Registry name, .gguf path, or OpenAI-compatible server URL (http://host:port/v1).",
    ),
    click.option(
        "--sag",
        type=click.IntRange(min=1, max=MAX_CANDIDATES),
        help=f"Self-consistent action generation with N candidates (agent+box+sag: default {DEFAULT_SAG}).",
    ),
    click.option(
        "--sag-temperature",
        type=click.FloatRange(min=0),
        help="Temperature of the SAG candidates (default: RUNTIME_SAG_TEMPERATURE or 0.4).",
    ),
    click.option("--first-thought", is_flag=True, help="Agent modes: write the first thought before acting."),
    click.option(
        "--box",
        "boxes",
        multiple=True,
        metavar="NAME",
        help="Box modes: use only this box (repeatable; default: every shipped and installed box).",
    ),
    click.option(
        "--grammar/--no-grammar", default=None, help="Agent modes: constrain steps to the Thought + code format."
    ),
    click.option(
        "--compute-first/--no-compute-first",
        default=None,
        help="Agent modes: refuse a bare final_answer(literal) until a step has run (default: RUNTIME_COMPUTE_FIRST).",
    ),
    click.option(
        "--guided-call/--no-guided-call",
        default=None,
        help="Agent modes: open the first step's code with a call of the tool that fits (default: RUNTIME_GUIDED_CALL).",
    ),
    click.option(
        "--workers",
        type=click.IntRange(1, 64),
        default=1,
        show_default=True,
        help="Parallel processes, one model each.",
    ),
    click.option(
        "--ray",
        "ray_address",
        metavar="auto|ADDRESS",
        help="Run on a Ray cluster (the cluster extra); --workers = actors.",
    ),
    click.option(
        "--out", type=click.Path(file_okay=False, path_type=Path), help="Run folder (default: under RUNTIME_HOME/eval)."
    ),
    click.option("--seed", type=int, help="Seed for the sample and for sampling (default: RUNTIME_SEED or 0)."),
    click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON on stdout."),
    click.option("--quiet", "-q", is_flag=True, help="No progress on stderr."),
]


def run_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add the options every suite command takes."""
    for option in reversed(_RUN_OPTIONS):
        command = option(command)
    return command


def run_suite(suite: Suite, options: RunOptions) -> None:
    """Run `suite` as the options ask, with progress on stderr and the summary on stdout."""
    settings = Settings()
    mode = options.mode
    sag = resolve_sag(mode, options.sag, settings.sag)
    sag_temperature = settings.sag_temperature if options.sag_temperature is None else options.sag_temperature
    config = RunConfig(
        suite=suite.name,
        split=suite.split,
        sources=suite.sources,
        checker=suite.checker,
        mode=mode,
        model=options.model_name or settings.default_model,
        seed=settings.seed if options.seed is None else options.seed,
        sag=sag,
        sag_temperature=sag_temperature if sag else None,
        first_thought=options.first_thought,
        temperature=settings.temperature,
        max_steps=settings.max_steps,
        grammar=settings.grammar if options.grammar is None else options.grammar,
        compute_first=mode not in COT_MODES
        and (settings.compute_first if options.compute_first is None else options.compute_first),
        guided_call=mode not in COT_MODES
        and (settings.guided_call if options.guided_call is None else options.guided_call),
        boxes=list(options.boxes) or None,
        collection=suite_collection(suite, mode),
    )
    folder = options.out or settings.home / "eval" / config.folder_name()
    request = EvalRequest(
        config=config, limit=options.limit, workers=options.workers, out=folder, ray=options.ray_address
    )
    quiet = options.quiet
    line = ProgressLine(quiet)
    summary = run_eval(
        request,
        suite,
        LlamaLoader(name=config.model),
        settings,
        on_record=line,
        on_start=line.start,
        on_bytes=ByteProgress() if not quiet else lambda *_: None,
        on_chunks=ChunkProgress(f"building the {suite.name} collection") if not quiet else lambda *_: None,
    )
    click.echo(summary.model_dump_json(indent=2) if options.as_json else summary_text(summary, folder))


def _suite_command(name: str) -> click.Command:
    @click.command(name=name)
    @run_options
    def command(**options: object) -> None:
        run_suite(load_suite(name), RunOptions.model_validate(options))

    command.help = (
        f"{inspect.getdoc(LOADERS[name])}\n\nRuns the {name} suite through --mode and records every question."
    )
    return command


_CHECKER_LINES = "\n".join(f"  {name:8} {CHECKER_HELP[name]}" for name in CHECKERS)


@click.command(name="file", short_help="Your own JSONL file of questions as a suite (or just: eval FILE.jsonl).")
@click.argument("path", metavar="FILE.jsonl", type=click.Path(path_type=Path))
@click.option(
    "--checker", required=True, metavar="NAME", help=f"How answers are judged: {', '.join(CHECKERS)} (see above)."
)
@click.option(
    "--question-field", metavar="FIELD", help=f"The rows' question field (default: {', '.join(QUESTION_FIELDS)})."
)
@click.option("--answer-field", metavar="FIELD", help=f"The rows' answer field (default: {', '.join(ANSWER_FIELDS)}).")
@run_options
def file_command(
    path: Path, checker: str, question_field: str | None, answer_field: str | None, **options: object
) -> None:
    suite = load_file_suite(path, checker_named(checker), question_field, answer_field)
    run_suite(suite, RunOptions.model_validate(options))


file_command.help = f"""Run your own JSONL file of questions as a suite: `runtime eval FILE.jsonl` is short for this.

Each line is a JSON object with a question ({', '.join(QUESTION_FIELDS)}) and an answer
({', '.join(ANSWER_FIELDS)}); an optional `id` names it (default q<line>) and an optional `context`
is the passage mode cot+oracle shows. The run folder is named after the file's stem.

\b
Checkers (--checker):
{_CHECKER_LINES}
"""


@click.command()
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--png", type=click.Path(dir_okay=False, path_type=Path), help="Also write a bar chart of accuracy.")
@click.option("--json", "as_json", is_flag=True, help="Print the summaries as JSON instead of a table.")
def report(folders: tuple[Path, ...], png: Path | None, as_json: bool) -> None:
    """Compare run FOLDERS side by side: a Markdown table on stdout."""
    summaries = [report_mod.load_summary(folder) for folder in folders]
    labels = [folder.name for folder in folders]
    if png:
        report_mod.write_chart(summaries, labels, png)
        info(f"chart written to {png}")
    if as_json:
        click.echo(json.dumps([s.model_dump(mode="json") for s in summaries], indent=2))
    else:
        click.echo(report_mod.markdown_table(summaries, labels), nl=False)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


@click.command(name="rejudge")
@click.argument("folders", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print what changed in each folder as JSON.")
def rejudge_command(folders: tuple[Path, ...], as_json: bool) -> None:
    """Judge finished run FOLDERS again with this version's checkers and CoT answer reading, without
    running the model, and rewrite their records and summaries (each record keeps the runtime that
    answered it and gains `judged_by`)."""
    results = []
    for folder in folders:
        result = rejudge(folder)
        results.append(result)
        if not as_json:
            click.echo(
                f"{folder.name}: {result.correct_before} -> {result.summary.correct}/{result.summary.n} correct "
                f"({_count(result.reread, 'answer')} read anew, {_count(result.changed, 'verdict')} changed)"
            )
    if as_json:
        click.echo(json.dumps([r.model_dump(mode="json") for r in results], indent=2))


class EvalGroup(click.Group):
    """Dispatches an argument that is a file (or ends in .jsonl) to the `file` command: any JSONL
    file is a suite. A subcommand's name wins over a file of the same name in the current folder."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name not in self.commands and (name.endswith(".jsonl") or Path(name).is_file()):
            return "file", file_command, args
        return super().resolve_command(ctx, args)


@click.group(name="eval", cls=EvalGroup, options_metavar="[OPTIONS]", subcommand_metavar="SUITE|FILE.jsonl [ARGS]...")
def eval_() -> None:
    """Measure the student on real benchmarks (SUITE --mode MODE) or on your own JSONL file
    (FILE.jsonl --checker NAME --mode MODE), compare runs (report), or judge finished runs again
    after a checker change (rejudge)."""


for _name in LOADERS:
    eval_.add_command(_suite_command(_name))
eval_.add_command(file_command)
eval_.add_command(report)
eval_.add_command(rejudge_command)
