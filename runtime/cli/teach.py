"""`runtime teach SUITE|QUESTIONS.jsonl --teacher MODEL -o traj.jsonl`: record a teacher's trajectories.

The first step of box distillation: progress on stderr, one line per question; the summary on
stdout (JSON with --json). Rerunning with the same output file resumes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click

from runtime.cli._output import ByteProgress, info
from runtime.config import MAX_CANDIDATES, Settings
from runtime.eval.checkers import CHECKERS
from runtime.model.base import Model

if TYPE_CHECKING:
    from runtime.distill.records import Trajectory

API_KEY_ENV = "RUNTIME_TEACHER_API_KEY"

teacher_option = click.option(
    "--teacher",
    "-t",
    "teacher",
    metavar="NAME|PATH",
    help="Teacher model: a registry name, .gguf path or server URL; with --teacher-url, the model name it serves.",
)
teacher_url_option = click.option(
    "--teacher-url",
    metavar="URL",
    help=f"An OpenAI-compatible endpoint (http://host:port/v1) instead of a local model; a key is read from {API_KEY_ENV}.",
)


def open_teacher(settings: Settings, name: str | None, url: str | None, quiet: bool = False) -> Model:
    """The teacher: a model behind `url`, or a local model loaded like the student's."""
    if url:
        from runtime.model.openai_compat import OpenAIModel

        return OpenAIModel(url, name, api_key=os.environ.get(API_KEY_ENV))
    from runtime.kit import load_model

    return load_model(settings, name, ByteProgress(), on_loading=(lambda _m: None) if quiet else info)


@click.command()
@click.argument("source", metavar="SUITE|QUESTIONS.jsonl")
@teacher_option
@teacher_url_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Trajectories JSONL; an existing file is resumed.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Questions to run (a seeded sample).")
@click.option(
    "--split",
    type=click.Choice(["train", "test"]),
    default="train",
    show_default=True,
    help="Which rows of a suite (game24 and molar-mass have a training split).",
)
@click.option("--checker", type=click.Choice(list(CHECKERS)), help="Judge a QUESTIONS.jsonl file's `gold` answers.")
@click.option("--seed", type=int, help="Seed for the sample (default: RUNTIME_SEED or 0).")
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Try a question the teacher failed again, this many times (sampled, asked for a general function).",
)
@click.option(
    "--sag",
    type=click.IntRange(min=1, max=MAX_CANDIDATES),
    help="Candidate actions per teacher step, voted on by their results (default: RUNTIME_SAG or 1).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def teach(
    source: str,
    teacher: str | None,
    teacher_url: str | None,
    output: Path,
    limit: int | None,
    split: str,
    checker: str | None,
    seed: int | None,
    retries: int,
    sag: int | None,
    as_json: bool,
    quiet: bool,
) -> None:
    """Let a teacher agent solve SUITE's questions (or a QUESTIONS.jsonl of {"question": ...} lines)
    while writing reusable functions, and record its trajectories for `runtime box distill`."""
    from runtime.distill.teach import load_teaching, summary
    from runtime.distill.teach import teach as run_teaching
    from runtime.kit import agent_options

    settings = Settings()
    teaching = load_teaching(source, split, checker, limit, settings.seed if seed is None else seed)  # type: ignore[arg-type]
    model = open_teacher(settings, teacher, teacher_url, quiet)
    if not quiet:
        info(f"teaching {len(teaching.items)} questions of {teaching.name} ({teaching.split}) with {model.name}")

    def progress(trajectory: Trajectory, done: int, total: int) -> None:
        if not quiet:
            verdict = "correct" if trajectory.correct else trajectory.reason
            again = f" (attempt {trajectory.attempt})" if trajectory.attempt > 1 else ""
            info(
                f"[{done}/{total}] {trajectory.id}{again}: {verdict} "
                f"({len(trajectory.trace.steps)} steps, {trajectory.trace.wall_s:.0f} s)"
            )

    options = agent_options(settings, sag=sag)
    trajectories = run_teaching(teaching, model, settings, output, progress, retries, options)
    counts = summary(trajectories)
    if as_json:
        click.echo(json.dumps({**counts, "output": str(output)}, indent=2))
        return
    correct = ""
    if counts["correct"] is not None:
        correct = (
            f", {counts['correct']} correct ({counts['success_rate']:.0%}; "
            f"{counts['correct_first_try']} at the first try, {counts['attempts']} attempts)"
        )
    click.echo(
        f"{counts['questions']} questions{correct}, {counts['succeeded']} usable trajectories, "
        f"{counts['with_functions']} with functions; trajectories: {output}"
    )
    if not quiet:
        info(f"next: runtime box distill {output} -o DIR --teacher {teacher or model.name}")
