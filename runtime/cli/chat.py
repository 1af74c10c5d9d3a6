"""`runtime chat`: the terminal UI. textual is imported only here, so other commands start fast."""

from __future__ import annotations

import click

from runtime.config import Settings


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
def chat(model_name: str | None, resume: str | None) -> None:
    """Talk to the local agent in a terminal app, offline, and watch it work.

    Each answer shows the agent's steps: its thought, the code it ran and what came back. Sessions
    are saved as you go under RUNTIME_HOME/sessions. Esc stops an answer; /help lists commands.
    """
    from tui.app import ChatApp
    from tui.sessions import SessionStore

    settings = Settings()
    if resume:
        SessionStore(settings).open(resume)  # a wrong id is one clear line here, before the screen opens
    ChatApp(settings, model=model_name, resume=resume or None, pick=resume == "").run()
