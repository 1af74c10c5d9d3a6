"""Prompt-lookup drafting: guess the next tokens by finding the tail of the text earlier on.

An agent's code copies the task's numbers and names, and its later steps repeat the earlier
ones', so the tokens that followed the last earlier occurrence of the last few tokens are often
the next ones. Verifying such a guess costs one batched `llama_decode` for all its tokens; the
backend keeps only the tokens the model would have chosen anyway (see `LlamaModel.stream`).
"""

from __future__ import annotations

from collections.abc import Iterable

import llama_cpp
import numpy as np

MAX_NGRAM = 3
"""The longest tail looked up: longer ones rarely find a match that a 3-token tail misses."""


class PromptLookup:
    """The tokens of a prompt and its continuation, indexed by every n-gram (n ≤ `max_ngram`)
    that has a following token, so that a lookup costs a few dictionary probes, not a scan."""

    def __init__(self, tokens: Iterable[int] = (), max_ngram: int = MAX_NGRAM, min_ngram: int = 1) -> None:
        if not 1 <= min_ngram <= max_ngram:
            raise ValueError(f"need 1 <= min_ngram <= max_ngram, not {min_ngram}, {max_ngram}")
        self.max_ngram = max_ngram
        self.min_ngram = min_ngram
        self.tokens: list[int] = []
        self._next: dict[tuple[int, ...], int] = {}
        """n-gram → where the tokens after its latest occurrence start."""
        self.extend(tokens)

    def append(self, token: int) -> None:
        end = len(self.tokens)
        for n in range(self.min_ngram, min(self.max_ngram, end) + 1):
            self._next[tuple(self.tokens[end - n : end])] = end
        self.tokens.append(token)

    def extend(self, tokens: Iterable[int]) -> None:
        for token in tokens:
            self.append(token)

    def propose(self, k: int) -> list[int]:
        """Up to `k` tokens that followed the latest earlier occurrence of the longest tail
        (`max_ngram` tokens down to `min_ngram`) found; [] when no tail occurred before."""
        end = len(self.tokens)
        if k <= 0:
            return []
        for n in range(min(self.max_ngram, end), self.min_ngram - 1, -1):
            start = self._next.get(tuple(self.tokens[end - n :]))
            if start is not None:
                return self.tokens[start : start + k]
        return []


class Drafter:
    """Evaluates each chosen token in sequence 0, together with the tokens prompt lookup guesses
    will follow it, in one `llama_decode` with logits for every row.

    The caller chooses every token itself, from `logits()`, exactly as without drafting; a drafted
    token is only a bet that its KV and the logits after it will be needed. When the choice equals
    the next drafted token, its row already holds the logits of the token after it: no decode.
    Otherwise the rest of the draft is dropped from the KV cache and the choice evaluated with a
    new draft. The KV cache thus ends (`settle`) holding what the undrafted loop evaluates.
    On a memory-bound CPU a batch of a few tokens costs little more than one, but not nothing:
    the draft's length adapts, doubling (up to `size`) after a draft taken whole and falling to
    one more than the tokens taken after a miss, so text that copies nothing costs little.
    """

    def __init__(self, llm: llama_cpp.Llama, lookup: PromptLookup | None, size: int) -> None:
        """`lookup`: the prompt's tokens (None = no drafting); `size`: the most tokens drafted at once."""
        self.llm = llm
        self.lookup = lookup
        self.size = size
        self.ahead: list[int] = []
        """Drafted tokens in the KV after the last chosen token, not yet chosen."""
        self.row = -1
        """The row of the last batch that holds the next token's logits (-1: its last row)."""
        self.length = size
        """How many tokens the next draft may have."""
        self.drafted = 0
        self.accepted = 0
        self._taken: int | None = None
        """Tokens of the last draft chosen so far; None when no draft is being checked."""
        self._n_vocab = llm.n_vocab()

    def logits(self) -> np.ndarray:
        ptr = llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, self.row)
        return np.ctypeslib.as_array(ptr, shape=(self._n_vocab,)).copy()

    def feed(self, token: int) -> None:
        """`token` was chosen: move on to its row if it was drafted, else evaluate it (with a new draft)."""
        if self.lookup is not None:
            self.lookup.append(token)
        if self.ahead and self.ahead[0] == token:
            self.ahead.pop(0)
            self.row += 1
            self.accepted += 1
            self._taken = (self._taken or 0) + 1
            return
        if self._taken is not None:
            self.length = next_length(self.length, self._taken, whole=not self.ahead, size=self.size)
            self._taken = None
        self.settle()
        room = self.llm.n_ctx() - self.llm.n_tokens - 1
        draft = self.lookup.propose(min(self.length, room)) if self.lookup is not None else []
        if not draft:
            self.llm.eval([token])
            self.row = -1
            return
        batch, start = [token, *draft], self.llm.n_tokens
        self.llm._batch.set_batch(batch=batch, n_past=start, logits_all=True)
        self.llm._ctx.decode(self.llm._batch)
        self.llm.input_ids[start : start + len(batch)] = batch
        self.llm.n_tokens = start + len(batch)
        self.ahead, self.row = draft, 0
        self.drafted += len(draft)
        self._taken = 0

    def settle(self) -> None:
        """Drop the drafted tokens not chosen, from the KV cache and from llama-cpp-python's record."""
        if self.ahead:
            self.llm.n_tokens -= len(self.ahead)
            self.llm._ctx.kv_cache_seq_rm(0, self.llm.n_tokens, -1)
            self.ahead = []


def next_length(length: int, taken: int, whole: bool, size: int) -> int:
    """The next draft's length after one of `length` whose first `taken` tokens were chosen
    (`whole`: all of them): double after a whole one, else one more than were taken."""
    return min(size, 2 * length) if whole else max(1, min(size, taken + 1))
