"""`runtime warm`: compute ahead the prompt state a user's first question needs.

Processing the prompt's fixed start (instructions, example, the tool list: ~1,200 tokens) takes
15-30 s on a 2-core CPU. Once saved it loads in well under a second (docs/performance.md), so
`./install.sh` runs this for the default model: the first `runtime solve` after install starts at
once for every question that no tool clearly fits, which is most of them.
"""

from __future__ import annotations

import json
import time

import click

from runtime import kit as agent_kit
from runtime.cli._output import ByteProgress, TokenProgress, info
from runtime.config import load_settings


@click.command()
@click.option("--model", "-m", "model_name", metavar="NAME|PATH|URL", help="Model to prepare (default: the default model).")
@click.option("--no-boxes", is_flag=True, help="Prepare the prompt without box tools (as `solve --no-boxes`).")
@click.option("--json", "as_json", is_flag=True, help="Print what was prepared as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress on stderr.")
def warm(model_name: str | None, no_boxes: bool, as_json: bool, quiet: bool) -> None:
    """Save the prompt state that `runtime solve` and `runtime chat` need, before the first question.

    The state is the one of every question that no tool clearly fits, with the tools and the
    collection `solve` would offer by default. Run it again after installing boxes or adding a
    collection; it is quick when the state is already saved.
    """
    settings = load_settings()
    say = (lambda _message: None) if quiet else info
    tools = agent_kit.open_tools(settings, agent_kit.ToolChoice(boxes=[] if no_boxes else None))
    model = agent_kit.load_model(settings, model_name, ByteProgress(), on_loading=say)
    started = time.perf_counter()
    kit = agent_kit.AgentKit(settings, model, tools, prefill_progress=None if quiet else TokenProgress("reading the prompt"))
    prefix = kit.warm()
    record = {
        "model": model.name,
        "tools": [spec.name for spec in kit.tools.unfitted().listed] if kit.tools is not None else [],
        "prefix": prefix.model_dump() if prefix is not None else None,
        "seconds": round(time.perf_counter() - started, 2),
    }
    if as_json:
        click.echo(json.dumps(record, indent=2))
    elif prefix is None:
        click.echo(f"{model.name}: nothing to prepare (the model keeps no prompt state)")
    else:
        where = "was already saved" if prefix.source != "computed" else f"computed in {prefix.seconds:.1f} s and saved"
        click.echo(f"{model.name}: prompt state of {prefix.tokens} tokens ({len(record['tools'])} tools) {where}")
