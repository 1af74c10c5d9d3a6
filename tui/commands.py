"""Slash commands: one table that the input, `/help` and the command palette all read."""

from __future__ import annotations

from typing import NamedTuple


class SlashCommand(NamedTuple):
    name: str
    usage: str
    help: str
    takes_argument: bool = False


SLASH_COMMANDS: tuple[SlashCommand, ...] = (
    SlashCommand("model", "/model NAME", "Load another model (registry name or .gguf path).", takes_argument=True),
    SlashCommand("boxes", "/boxes", "Turn the boxes' tools on or off."),
    SlashCommand(
        "collection",
        "/collection [NAME]",
        "Search this retrieval collection; no name turns it off.",
        takes_argument=True,
    ),
    SlashCommand(
        "sag", "/sag N", "Self-consistent actions: N candidates per step (1 turns it off).", takes_argument=True
    ),
    SlashCommand("clear", "/clear", "Start a new conversation (the current one stays saved)."),
    SlashCommand("save", "/save [TITLE]", "Name this session; it is saved as you go."),
    SlashCommand("help", "/help", "Show commands and keys."),
)


class ParsedCommand(NamedTuple):
    name: str
    argument: str


def parse_command(text: str) -> ParsedCommand | None:
    """`/sag 3` → ("sag", "3"); None when the text is a question, not a command."""
    if not text.startswith("/"):
        return None
    name, _, argument = text[1:].partition(" ")
    return ParsedCommand(name.strip().lower(), argument.strip())
