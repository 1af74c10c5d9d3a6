"""`runtime chat`: the terminal UI. textual is imported only here, so other commands start fast."""

from __future__ import annotations

import click

from runtime.config import Settings, load_settings


@click.command()
@click.option("--model", "-m", "model_name", metavar="NAME|PATH|URL", help="Registry name, .gguf path, or OpenAI-compatible server URL (http://host:port/v1).")
@click.option(
    "--resume",
    metavar="[ID]",
    is_flag=False,
    flag_value="",
    default=None,
    help="Continue a saved session: by id, or pick one from a list when no id is given.",
)
@click.option("--box", "boxes", multiple=True, metavar="NAME", help="Offer only this box's tools (repeatable).")
@click.option("--no-boxes", is_flag=True, help="No box tools (/boxes turns them on).")
@click.option("--collection", metavar="NAME", help="Let the agent retrieve from this index collection "
              "(default: the only collection, if there is exactly one, as for solve).")
@click.option("--no-retrieval", is_flag=True, help="No retrieve tool (/collection NAME turns it on).")
def chat(
    model_name: str | None,
    resume: str | None,
    boxes: tuple[str, ...],
    no_boxes: bool,
    collection: str | None,
    no_retrieval: bool,
) -> None:
    """Talk to the local agent in a terminal app, offline, and watch it work.

    The agent and its tools are those of `runtime solve`: every box, with the tools that fit each
    question picked and hinted, and the only index collection, unless the flags say otherwise.

    Each answer shows the agent's steps: its thought, the code it ran and what came back. Sessions
    are saved as you go under RUNTIME_HOME/sessions. Esc stops an answer; /help lists commands;
    Ctrl+Q quits.
    """
    settings = load_settings()
    tools = tool_options(settings, boxes, no_boxes, collection, no_retrieval)
    from runtime.tui.app import ChatApp
    from runtime.tui.sessions import SessionStore

    if resume:
        SessionStore(settings).open(resume)  # a wrong id is one clear line here, before the screen opens
    ChatApp(settings, model=model_name, resume=resume or None, pick=resume == "", tools=tools).run()


def tool_options(
    settings: Settings, boxes: tuple[str, ...], no_boxes: bool, collection: str | None, no_retrieval: bool
) -> dict[str, object]:
    """The chat options the flags set, as `solve` takes them; a wrong box or collection name is
    one line here, before the screen opens."""
    if no_boxes and boxes:
        raise click.UsageError("--box and --no-boxes contradict each other")
    if no_retrieval and collection:
        raise click.UsageError("--collection and --no-retrieval contradict each other")
    chosen: dict[str, object] = {}
    if boxes:
        from runtime.boxes.store import BoxStore

        store = BoxStore(settings)
        for name in boxes:
            store.find(name)
        chosen.update(boxes=True, box_names=list(dict.fromkeys(boxes)))
    elif no_boxes:
        chosen["boxes"] = False
    if collection:
        from runtime.retrieval.store import Store

        Store(settings).open(collection)
        chosen.update(collection=collection, retrieval=True)
    elif no_retrieval:
        chosen.update(collection=None, retrieval=False)
    return chosen
