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
    """How the fixed prompt prefix got into the KV cache, and how many tokens had to be evaluated."""

    tokens: int
    source: Literal["memory", "disk", "computed"]
    seconds: float
    computed_tokens: int = 0


class Model(Protocol):
    """A chat model the agent can drive: the llama.cpp backend, or a fake in tests."""

    name: str
    end_of_turn: str

    def render(self, messages: list[ChatMessage], continue_assistant: str = "") -> str: ...

    def warm_prefix(self, checkpoints: list[str], progress: PrefillProgress | None = None) -> PrefixInfo: ...

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
