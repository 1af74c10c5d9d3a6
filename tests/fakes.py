"""A scripted stand-in for the model's text; everything else in the tests is real."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Generator, Iterator

from runtime.model.base import ChatMessage, Generation, PrefillProgress, PrefixInfo, checkpoint_lengths

Candidate = str | tuple[str, float]
"""A scripted candidate action: its text, or its text and mean token log-probability."""


class ScriptedModel:
    """Replies with the given texts in order, streamed in small pieces, honouring stop and `until`.

    For `sample_n`, a reply that is a list gives the candidates of that step in the order they
    finish decoding; a plain string is every candidate. `decode_s` is how long each candidate
    takes to "decode", during which `stop_early` is polled as the real model does.
    """

    name = "scripted"
    end_of_turn = "<|im_end|>"

    def __init__(self, replies: list[str | list[Candidate]], decode_s: float = 0.0) -> None:
        self.replies = list(replies)
        self.decode_s = decode_s
        self.prompts: list[str] = []
        self.prefixes: list[list[str]] = []
        self.checkpoints: list[list[list[int]]] = []
        self._vocab: dict[str, int] = {}
        self.grammars: list[str | None] = []
        self.temperatures: list[float] = []

    def render(self, messages: list[ChatMessage], continue_assistant: str = "") -> str:
        turns = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages)
        return f"{turns}<|im_start|>assistant\n{continue_assistant}"

    def tokenize(self, text: str) -> list[int]:
        """A toy tokenizer that, like Qwen's, merges text across a checkpoint's end: a token is a
        run of non-space characters with the whitespace after it ("```" + "\n\n" is one token)."""
        return [self._vocab.setdefault(piece, len(self._vocab)) for piece in re.findall(r"\s+|\S+\s*", text)]

    def warm_prefix(self, prompt: str, cuts: list[int], progress: PrefillProgress | None = None) -> PrefixInfo:
        tokens = self.tokenize(prompt)
        lengths = checkpoint_lengths(self.tokenize, prompt, tokens, cuts)
        self.prefixes.append([prompt[:cut] for cut in sorted(cuts)])
        self.checkpoints.append([tokens[:n] for n in lengths])
        n = lengths[-1] if lengths else 0
        if progress:  # as the real model reports a prefix it computes: at the start, then as it goes
            progress(0, n)
            progress(n, n)
        return PrefixInfo(tokens=n, source="computed", seconds=0.0, computed_tokens=n)

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
    ) -> Iterator[str | Generation]:
        self.prompts.append(prompt)
        self.grammars.append(grammar)
        self.temperatures.append(temperature)
        reply = self.replies.pop(0) if self.replies else "I have nothing more to say."
        assert isinstance(reply, str), "a list of candidates was scripted for a single-candidate step"
        reply = _cut(reply, stop)
        text = ""
        for i in range(0, len(reply), 7):
            piece = reply[i : i + 7]
            text += piece
            yield piece
            if until is not None and until(text):
                break
        yield Generation(
            text=text,
            prompt_tokens=len(prompt.split()),
            cached_tokens=0,
            completion_tokens=len(text.split()),
            prefill_s=0.0,
            decode_s=0.001,
            finish="stop",
        )

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
        self.prompts.append(prompt)
        self.grammars.append(grammar)
        reply = self.replies.pop(0) if self.replies else "I have nothing more to say."
        candidates = reply if isinstance(reply, list) else [reply] * n
        assert len(candidates) == n, f"{len(candidates)} candidates scripted, {n} asked for"
        for candidate in candidates:
            text, logprob = candidate if isinstance(candidate, tuple) else (candidate, -1.0)
            if _decoding_stopped(self.decode_s, stop_early):
                return
            text = _until(_cut(text, stop), until)
            yield Generation(
                text=text,
                prompt_tokens=len(prompt.split()),
                cached_tokens=0,
                completion_tokens=len(text.split()),
                prefill_s=0.0,
                decode_s=self.decode_s,
                finish="stop",
                mean_logprob=logprob,
            )


def _cut(text: str, stop: list[str]) -> str:
    cuts = [text.index(s) for s in stop if s in text]
    return text[: min(cuts)] if cuts else text


def _until(text: str, until: Callable[[str], bool] | None) -> str:
    """The text up to where `until` stops it, checked every 7 characters as `stream` does."""
    for end in range(7, len(text) + 7, 7):
        if until is not None and until(text[:end]):
            return text[:end]
    return text


def _decoding_stopped(seconds: float, stop_early: Callable[[], bool] | None) -> bool:
    """Wait `seconds` as if decoding, polling `stop_early` like the real decode loop does every step."""
    deadline = time.monotonic() + seconds
    while True:
        if stop_early is not None and stop_early():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.005)
