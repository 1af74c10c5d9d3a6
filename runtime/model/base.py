"""What the agent needs from a model, as schemas and a protocol, so a scripted fake can stand in."""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from typing import Literal, Protocol

from pydantic import BaseModel

from runtime.errors import RuntimeUserError


MAX_CANDIDATES = 16
"""The most continuations one `sample_n` call decodes together."""


class ContextFull(RuntimeUserError):
    """The conversation outgrew the model's context window."""


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


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
    """A chat model the agent can drive: the llama.cpp backend, or a fake in tests."""

    name: str
    end_of_turn: str

    def render(self, messages: list[ChatMessage], continue_assistant: str = "") -> str: ...

    def warm_prefix(self, prompt: str, cuts: list[int], progress: PrefillProgress | None = None) -> PrefixInfo:
        """Make the KV cache hold `prompt` up to its last cut (character offsets, each the end of a
        part worth caching), cut on `prompt`'s own tokens (see `checkpoint_lengths`)."""
        ...

    def stream(
        self,
        prompt: str,
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
        stop: list[str],
        until: Callable[[str], bool] | None = None,
        grammar: str | None = None,
    ) -> Iterator[str | Generation]: ...

    def sample_n(
        self,
        prompt: str,
        n: int,
        *,
        max_tokens: int,
        temperature: float,
        top_p: float,
        seed: int,
        stop: list[str],
        until: Callable[[str], bool] | None = None,
        grammar: str | None = None,
        stop_early: Callable[[], bool] | None = None,
    ) -> Generator[Generation, None, None]:
        """`n` independent samples of the continuation of `prompt`, each yielded as soon as it ends
        (so its code can run while the others are decoded); none after `stop_early()` is True."""
        ...
