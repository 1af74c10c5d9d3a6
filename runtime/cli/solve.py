"""`runtime solve QUESTION`: steps live on stderr, the answer on stdout (or the trace with --json)."""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import click

from runtime import __version__
from runtime import kit as agent_kit
from runtime.agent import AgentOptions
from runtime.agent import events as ev
from runtime.agent.summary import format_answer, vote_lines
from runtime.cli._output import ByteProgress, TokenProgress, info
from runtime.config import MAX_CANDIDATES, Settings, load_settings

EXIT_NO_ANSWER = 3
CHARS_PER_TOKEN = 3
"""A question longer than n_ctx * 3 characters cannot fit with the prompt (about 4 characters a
token in English, and the prompt and a step take over a quarter of the context): refused at once,
not after a minute of reading it."""


def checked_question(question: str, settings: Settings) -> str:
    """The question without surrounding blanks; a usage error when it is empty or cannot fit."""
    question = question.strip()
    if not question:
        raise click.BadParameter("the question is empty", param_hint="QUESTION")
    limit = settings.n_ctx * CHARS_PER_TOKEN
    if len(question) > limit:
        raise click.BadParameter(
            f"the question is {len(question):,} characters; a context of {settings.n_ctx} tokens holds about "
            f"{limit:,} (raise RUNTIME_N_CTX)",
            param_hint="QUESTION",
        )
    return question


def json_record(trace: ev.RunTrace, settings: Settings, options: AgentOptions) -> dict[str, Any]:
    """The trace, plus what produced it: the runtime version, the settings and the agent options."""
    return trace.model_dump(mode="json") | {
        "runtime": {
            "version": __version__,
            "settings": settings.model_dump(mode="json"),
            "options": options.model_dump(mode="json"),
        }
    }


class StepPrinter:
    """Shows the run as it happens: streamed thought and code, then each observation."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self._streaming = False
        self._streamed = False  # this step's text was shown as it was generated

    def _out(self, text: str, nl: bool = True, **style: object) -> None:
        if not self.quiet:
            click.echo(click.style(text, **style) if style else text, err=True, nl=nl)

    def __call__(self, event: ev.Event) -> None:
        match event:
            case ev.PrefixReady(source="computed", tokens=n, computed_tokens=c, seconds=s):
                self._out(f"prompt prefix: {c} of {n} tokens processed in {s:.1f} s (saved for next time)", dim=True)
            case ev.PrefixReady(source="disk", tokens=n, seconds=s):
                self._out(f"prompt prefix: {n} tokens loaded from cache in {s:.2f} s", dim=True)
            case ev.FirstThought(text=text, seconds=s):
                self._out(f"first thought ({s:.1f} s): {text}", dim=True)
            case ev.StepStarted(step=step):
                self._streamed = False
                self._out(f"\n── step {step} ──", bold=True)
            case ev.TextDelta(text=text):
                self._streaming = self._streamed = True
                self._out(text, nl=False)
            case ev.Vote() as vote:
                for line in vote_lines(vote):
                    self._out(line, fg="cyan")
            case ev.ParseFailed(message=message):
                self._end_stream()
                self._out(f"(no code: {message})", fg="yellow")
            case ev.ActionParsed(thought=thought, code=code):
                self._end_stream()
                if not self._streamed:  # a voted step: show the winner
                    self._out(f"Thought: {thought}\n```python\n{code}\n```")
            case ev.ObservationEvent(text=text, ok=ok):
                self._out(f"Observation: {text}", fg=None if ok else "red", dim=ok)
            case ev.StepFinished(record=record):
                t = record.timings
                self._out(
                    f"[{t.completion_tokens} tokens, prefill {t.prefill_s:.1f} s, decode {t.decode_s:.1f} s, "
                    f"action {t.action_s * 1000:.0f} ms]",
                    dim=True,
                )
            case ev.RunFinished(trace=trace) if trace.status != "answered":
                self._out(f"\nno answer: {trace.status.replace('_', ' ')} after {len(trace.steps)} steps", fg="yellow")

    def _end_stream(self) -> None:
        if self._streaming:
            self._out("")
            self._streaming = False


@click.command()
@click.argument("question")  # "-": read it from stdin
@click.option(
    "--model",
    "-m",
    "model_name",
    metavar="NAME|PATH|URL",
    help="Registry name, .gguf path, or OpenAI-compatible server URL (http://host:port/v1).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the whole trace as one JSON document on stdout.")
@click.option("--max-steps", type=click.IntRange(1, 50), help="Stop after this many steps.")
@click.option("--temperature", type=click.FloatRange(0, 2), help="Sampling temperature (0 = greedy).")
@click.option("--seed", type=int, help="Sampling seed.")
@click.option("--threads", type=click.IntRange(1, 256), help="CPU threads for llama.cpp.")
@click.option("--grammar/--no-grammar", default=None, help="Constrain each step to the Thought + code format (default on).")
@click.option("--sag", type=click.IntRange(1, MAX_CANDIDATES), metavar="N",
              help="Sample N candidate actions per step, run each, keep one the majority agrees with (1 = off).")
@click.option("--sag-temperature", type=click.FloatRange(0, 2), help="Sampling temperature of the candidates.")
@click.option("--first-thought/--no-first-thought", default=None,
              help="Start the first Thought with the plan of a chain-of-thought answer.")
@click.option("--compute-first/--no-compute-first", default=None,
              help="Refuse a bare final_answer(literal) until a step has run: answers come from results.")
@click.option("--guided-call/--no-guided-call", default=None,
              help="Open the first step's code with a call of the tool that fits the question.")
@click.option("--box", "boxes", multiple=True, metavar="NAME", help="Use only this box's tools (repeatable).")
@click.option("--no-boxes", is_flag=True, help="No box tools at all.")
@click.option("--collection", metavar="NAME", help="Let the agent retrieve from this index collection "
              "(default: the only collection, if there is exactly one).")
@click.option("--no-retrieval", is_flag=True, help="No retrieve tool, even if a collection exists.")
@click.option("--quiet", "-q", is_flag=True, help="Do not print the steps on stderr.")
def solve(
    question: str,
    model_name: str | None,
    as_json: bool,
    max_steps: int | None,
    temperature: float | None,
    seed: int | None,
    threads: int | None,
    grammar: bool | None,
    sag: int | None,
    sag_temperature: float | None,
    first_thought: bool | None,
    compute_first: bool | None,
    guided_call: bool | None,
    boxes: tuple[str, ...],
    no_boxes: bool,
    collection: str | None,
    no_retrieval: bool,
    quiet: bool,
) -> None:
    """Answer QUESTION (or, for -, the text on stdin) with the local student agent.

    The model thinks, writes Python that runs in a sandbox, reads the output, and repeats until it
    calls final_answer(...). Exit status: 0 answered, 3 no answer within the step limit, 1 error
    (a setting, model, box or collection), 2 a bad option or question.
    """
    settings = load_settings(**({"threads": threads} if threads else {}))
    if no_boxes and boxes:
        raise click.UsageError("--box and --no-boxes contradict each other")
    if no_retrieval and collection:
        raise click.UsageError("--collection and --no-retrieval contradict each other")
    question = checked_question(sys.stdin.read() if question == "-" else question, settings)
    # what a user can get wrong is checked before the model loads (seconds, a minute when cold), or while it does
    choice = agent_kit.ToolChoice(
        boxes=[] if no_boxes else (list(boxes) or None), collection=collection, retrieval=not no_retrieval
    )
    started = time.perf_counter()
    tools, model = agent_kit.open_tools_and_model(  # a missing box or collection is still the error shown
        settings, choice, model_name, ByteProgress(), on_loading=info if not quiet else lambda _m: None
    )
    if not quiet:
        info(f"model ready in {time.perf_counter() - started:.1f} s")
    options = agent_kit.agent_options(
        settings,
        max_steps=max_steps,
        temperature=temperature,
        seed=seed,
        grammar=grammar,
        sag=sag,
        sag_temperature=sag_temperature,
        first_thought=first_thought,
        compute_first=compute_first,
        guided_call=guided_call,
    )
    progress = None if quiet else TokenProgress("reading the prompt")
    kit = agent_kit.AgentKit(settings, model, tools, options, prefill_progress=progress)
    printer = StepPrinter(quiet)
    trace: ev.RunTrace | None = None
    for event in kit.run(question):
        printer(event)
        if isinstance(event, ev.RunFinished):
            trace = event.trace
    assert trace is not None
    if as_json:
        click.echo(json.dumps(json_record(trace, settings, options), indent=2, ensure_ascii=False))
    elif trace.status == "answered":
        click.echo(format_answer(trace.answer))
    sys.exit(0 if trace.status == "answered" else EXIT_NO_ANSWER)

