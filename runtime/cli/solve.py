"""`runtime solve QUESTION`: steps live on stderr, the answer on stdout (or the trace with --json)."""

from __future__ import annotations

import sys
import time

import click

from runtime import assembly
from runtime.agent import events as ev
from runtime.agent.summary import format_answer, vote_lines
from runtime.cli._output import ByteProgress, info
from runtime.config import Settings
from runtime.model.base import MAX_CANDIDATES

EXIT_NO_ANSWER = 3
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
@click.argument("question")
@click.option("--model", "-m", "model_name", metavar="NAME|PATH|URL", help="Registry name, .gguf path, or OpenAI-compatible server URL (http://host:port/v1).")
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
    boxes: tuple[str, ...],
    no_boxes: bool,
    collection: str | None,
    no_retrieval: bool,
    quiet: bool,
) -> None:
    """Answer QUESTION with the local student agent.

    The model thinks, writes Python that runs in a sandbox, reads the output, and repeats until it
    calls final_answer(...). Exit status: 0 answered, 3 no answer within the step limit, 1 error.
    """
    settings = Settings(**({"threads": threads} if threads else {}))
    started = time.perf_counter()
    model = assembly.load_model(settings, model_name, ByteProgress(), on_loading=info if not quiet else lambda _m: None)
    if not quiet:
        info(f"model ready in {time.perf_counter() - started:.1f} s")
    options = assembly.agent_options(
        settings,
        max_steps=max_steps,
        temperature=temperature,
        seed=seed,
        grammar=grammar,
        sag=sag,
        sag_temperature=sag_temperature,
        first_thought=first_thought,
        compute_first=compute_first,
    )
    if no_boxes and boxes:
        raise click.UsageError("--box and --no-boxes contradict each other")
    toolset = assembly.load_tools(settings, [] if no_boxes else (list(boxes) or None))
    tools = assembly.pick_tools(settings, toolset, question, assembly.tool_selector(settings), named=bool(boxes))
    if no_retrieval and collection:
        raise click.UsageError("--collection and --no-retrieval contradict each other")
    retrieve = None if no_retrieval else assembly.add_retrieval(settings, toolset, collection)
    if retrieve is not None:
        tools.listed.append(retrieve)
        if collection:  # asked for by name: point the model at it, as at a box tool that fits
            tools.hinted.insert(0, retrieve.name)
    printer = StepPrinter(quiet)
    trace: ev.RunTrace | None = None
    with assembly.open_sandbox(settings, toolset=toolset) as sandbox:
        agent = assembly.make_agent(model, sandbox, tools, options)
        for event in agent.run(question):
            printer(event)
            if isinstance(event, ev.RunFinished):
                trace = event.trace
    assert trace is not None
    if as_json:
        click.echo(trace.model_dump_json(indent=2))
    elif trace.status == "answered":
        click.echo(format_answer(trace.answer))
    sys.exit(0 if trace.status == "answered" else EXIT_NO_ANSWER)

