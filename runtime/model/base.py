"""What the agent needs from a model, as schemas and a protocol, so backends and a scripted fake can stand in.

A backend takes chat messages, not prompt text: the llama.cpp backend renders them with the GGUF's
chat template, a server applies its own. What only some backends can do is a capability they
declare (`Model.capabilities`), which callers check instead of passing arguments others ignore.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from typing import Literal, Protocol

from pydantic import BaseModel, Field

from runtime.errors import RuntimeUserError

Until = Callable[[str], bool]
"""Asked with the text generated so far: True ends the generation there (e.g. a code block closed)."""
StopEarly = Callable[[], bool]
"""Asked while candidates decode: True ends `sample_n`, and the candidates still running are dropped."""

Capability = Literal["grammar", "prefix_cache"]
"""`grammar`: `Sampling.grammar` (GBNF) constrains the output; `prefix_cache`: `warm_prefix` keeps
the fixed start of the prompt computed, in memory and on disk."""


class ContextFull(RuntimeUserError):
    """The conversation outgrew the model's context window."""


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class Prompt(BaseModel):
    """A conversation to continue: its messages, and the start of the assistant's reply, if any."""

    messages: list[ChatMessage]
    continue_assistant: str = ""


class Sampling(BaseModel):
    """How one completion is sampled: the same value for every backend."""

    max_tokens: int = Field(gt=0)
    temperature: float = Field(default=0.0, ge=0)
    top_p: float = Field(default=1.0, gt=0, le=1)
    seed: int = 0
    stop: list[str] = []
    grammar: str | None = Field(default=None, description="GBNF; only for a backend with the `grammar` capability.")


class Generation(BaseModel):
    """One completion and what it cost."""

    text: str
    prompt_tokens: int
    cached_tokens: int
    completion_tokens: int
    prefill_s: float
    decode_s: float
    finish: Literal["stop", "length", "callback"]
    mean_logprob: float = 0.0
    drafted_tokens: int = Field(default=0, description="Tokens guessed ahead and verified in a batch (llama.cpp, greedy).")
    accepted_tokens: int = Field(default=0, description="Drafted tokens that were the model's own choice.")

    @property
    def decode_tok_s(self) -> float:
        return self.completion_tokens / self.decode_s if self.decode_s > 0 else 0.0


PrefillProgress = Callable[[int, int], None]
"""Called as (tokens done, tokens to compute) while a prompt prefix is evaluated."""


class PrefixInfo(BaseModel):
    """How the fixed prompt prefix got into the KV cache: `cached_tokens` came from memory or a
    saved state, `computed_tokens` had to be evaluated now; they add up to `tokens`."""

    tokens: int
    source: Literal["memory", "disk", "computed"]
    seconds: float
    cached_tokens: int = 0
    computed_tokens: int = 0


def checkpoint_lengths(
    tokenize: Callable[[str], list[int]], prompt: str, tokens: list[int], cuts: list[int]
) -> list[int]:
    """How many of `prompt`'s `tokens` each cacheable start `prompt[:cut]` keeps, increasing.

    Each is where the tokens of `prompt[:cut]` alone stop agreeing with `tokens`: a prefix
    tokenized on its own can end on a token the whole prompt merges across the cut (Qwen's "```"
    before "\n\n"), and a state saved for those tokens would never match the prompt. Cut on
    the prompt's own token list, the state always does.
    """
    lengths: list[int] = []
    for cut in sorted(cuts):
        alone = tokenize(prompt[:cut])
        n = next((i for i, (a, b) in enumerate(zip(alone, tokens)) if a != b), min(len(alone), len(tokens)))
        if n and (not lengths or n > lengths[-1]):
            lengths.append(n)
    return lengths


class Model(Protocol):
    """A chat model the agent can drive: the llama.cpp backend, an OpenAI-compatible server, a fake in tests."""

    name: str
    end_of_turn: str
    capabilities: frozenset[Capability]

    def warm_prefix(
        self, messages: list[ChatMessage], system_parts: list[str], progress: PrefillProgress | None = None
    ) -> PrefixInfo | None:
        """Get the start of `messages` (a conversation's first prompt) ready: its system message
        begins with each of `system_parts` in turn (each a prefix of the next, the last the whole
        system message), and each of those starts, then the start of the user's turn, is worth
        keeping. `progress(done, total)` hears the tokens computed. None where the backend has no
        `prefix_cache`."""
        ...

    def stream(self, prompt: Prompt, sampling: Sampling, until: Until | None = None) -> Iterator[str | Generation]:
        """Text pieces as they are generated, then one Generation with the totals.

        `until(text_so_far)` returning True ends generation early (e.g. a code block closed). Text
        that might begin a stop string is held back until it is known not to be one.
        """
        ...

    def sample_n(
        self, prompt: Prompt, n: int, sampling: Sampling, until: Until | None = None, stop_early: StopEarly | None = None
    ) -> Generator[Generation, None, None]:
        """`n` independent samples of the continuation of `prompt`, each yielded as soon as it ends
        (so its code can run while the others are decoded); none after `stop_early()` is True."""
        ...


def candidate_seed(seed: int, index: int) -> int:
    """A seed per candidate that does not collide with the next step's (`seed + 1`) candidates."""
    import numpy as np  # not at module level: the CLI imports this module and starts faster without it

    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0])


def system_cuts(render: Callable[[list[ChatMessage]], str], system_parts: list[str], prompt: str) -> list[int]:
    """Where in `prompt` (`render`'s text of a conversation whose system message is
    `system_parts[-1]`) the cacheable starts end: after each of `system_parts`, the last where the
    user's turn starts. Character offsets, for `checkpoint_lengths` to cut the prompt's own tokens at."""
    marker = "\x00CUT\x00"
    full = system_parts[-1]
    marked, start = "", 0
    for part in system_parts[:-1]:
        marked += full[start : len(part)] + marker
        start = len(part)
    rendered = render([ChatMessage(role="system", content=marked + full[start:]), ChatMessage(role="user", content=marker)])
    pieces = rendered.split(marker)[:-1]
    return sorted({len(os.path.commonprefix([prompt, "".join(pieces[: i + 1])])) for i in range(len(pieces))})


def first_stop(text: str, stop: list[str]) -> int | None:
    """Where the first of the stop strings starts in `text`, if any does."""
    hits = [i for s in stop if s and (i := text.find(s)) >= 0]
    return min(hits) if hits else None


def held_back(text: str, stop: list[str]) -> int:
    """Length of the longest end of `text` that is the start of some stop string."""
    best = 0
    for s in stop:
        for n in range(min(len(s) - 1, len(text)), best, -1):
            if text.endswith(s[:n]):
                best = n
                break
    return best
