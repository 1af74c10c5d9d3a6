"""Sample N continuations of one prompt together, as a tree of llama.cpp sequences.

Candidates for one agent step mostly agree token by token (low temperature), so decoding them as
N independent sequences pays N times for the same tokens. Here candidates that have sampled the
same tokens so far share one KV sequence; where their next tokens differ, the sequence is copied
(`llama_memory_seq_cp` shares the cells, nothing is recomputed) and each branch goes on alone.
All live branches advance in one `llama_decode` per step. At temperature 0 every candidate picks
the greedy token, so only one sequence is ever decoded.

Sequence 0 is the conversation (llama-cpp-python's own bookkeeping); branches use 1..n. They are
kept after sampling so the next prompt, which continues the winning candidate, can take over that
branch's KV instead of evaluating its tokens again.
"""

from __future__ import annotations

import codecs
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

import llama_cpp
import numpy as np
from llama_cpp import _internals

from runtime.model.sampler import TokenSampler

Finish = Literal["stop", "length", "callback"]


def allow_sequences(llm: llama_cpp.Llama, n_seq_max: int) -> None:
    """Recreate `llm`'s context so it accepts `n_seq_max` sequences sharing one KV buffer.

    `Llama()` has no argument for it and creates a one-sequence context in `__init__`. A unified
    buffer makes `seq_cp` share cells instead of copying them, and keeps each sequence's room at
    the full context size.
    """
    params = llm.context_params
    params.n_seq_max = n_seq_max
    params.kv_unified = True
    llm._ctx.close()
    llm._ctx = llm._stack.enter_context(
        contextlib.closing(_internals.LlamaContext(model=llm._model, params=params, verbose=False))
    )


def _common(a: list[int] | np.ndarray, b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class Branches:
    """Sequence ids 1..size for candidate branches, and the tokens whose KV each one holds."""

    def __init__(self, llm: llama_cpp.Llama, size: int) -> None:
        self.llm = llm
        self.size = size
        self.held: dict[int, list[int]] = {}

    @property
    def _memory(self) -> llama_cpp.llama_memory_t:
        return llama_cpp.llama_get_memory(self.llm._ctx.ctx)

    def open(self, source: int, tokens: list[int]) -> int:
        """A free sequence holding a copy of `source`'s KV (which holds `tokens`)."""
        seq = next(s for s in range(1, self.size + 1) if s not in self.held)
        llama_cpp.llama_memory_seq_cp(self._memory, source, seq, -1, -1)
        self.held[seq] = tokens
        return seq

    def adopt_best(self, tokens: list[int]) -> None:
        """Make sequence 0 the branch that shares the most of `tokens`, if it beats sequence 0; drop the rest.

        The last token is left out of the match: its logits are needed, so it is always evaluated.
        """
        target = tokens[:-1]
        best, best_len = 0, _common(self.llm.input_ids[: self.llm.n_tokens], target)
        for seq, held in self.held.items():
            if (n := _common(held, target)) > best_len:
                best, best_len = seq, n
        if best:
            memory, held = self._memory, self.held[best]
            llama_cpp.llama_memory_seq_rm(memory, 0, -1, -1)
            llama_cpp.llama_memory_seq_cp(memory, best, 0, -1, -1)
            self.llm.input_ids[: len(held)] = held
            self.llm.n_tokens = len(held)
        self.release()

    def release(self) -> None:
        """Free every branch's cells (sequence 0 keeps its own)."""
        memory = self._memory
        for seq in self.held:
            llama_cpp.llama_memory_seq_rm(memory, seq, -1, -1)
        self.held.clear()


@dataclass
class Limits:
    """When a candidate stops: a stop string, `until(text)`, end of turn, or `max_tokens`."""

    max_tokens: int
    stop: list[str]
    until: Callable[[str], bool] | None = None


@dataclass
class Sample:
    """One finished candidate: its text, log-probabilities, why it ended and when (seconds after the prompt)."""

    index: int
    text: str
    logprobs: list[float]
    finish: Finish
    seconds: float


@dataclass
class _Candidate:
    index: int
    sampler: TokenSampler
    decoder: codecs.IncrementalDecoder = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")("replace"))
    text: str = ""
    logprobs: list[float] = field(default_factory=list)


@dataclass
class _Branch:
    seq: int
    tokens: list[int]
    members: list[_Candidate]
    row: int = -1
    """Its row in the last batch (where its logits are), -1 for the prompt's last token."""


class TreeDecoder:
    """Decodes candidates as a tree of sequences, one `llama_decode` per step for all live branches."""

    def __init__(self, llm: llama_cpp.Llama, branches: Branches, vocab: llama_cpp.llama_vocab_p) -> None:
        self.llm = llm
        self.branches = branches
        self.vocab = vocab
        self.n_vocab = llm.n_vocab()

    def run(
        self,
        prompt: list[int],
        samplers: list[TokenSampler],
        limits: Limits,
        stop_early: Callable[[], bool] | None = None,
    ) -> Iterator[Sample]:
        """Yield each candidate as it finishes. The prompt must be evaluated in sequence 0 already.

        `stop_early()` is asked after every step: True ends sampling, and the candidates still
        running are not yielded. Cells run out → the running candidates end with "length".
        """
        started = time.perf_counter()
        free_cells = self.llm.n_ctx() - len(prompt)
        candidates = [_Candidate(i, s) for i, s in enumerate(samplers)]
        root = list(prompt)
        live = [_Branch(self.branches.open(0, root), root, candidates)]
        batch = llama_cpp.llama_batch_init(len(samplers), 0, 1)
        try:
            while live:
                rows: list[tuple[_Branch, int]] = []
                finished: list[Sample] = []
                for branch in live:
                    rows += self._advance(branch, limits, finished, started)
                yield from finished
                if not rows or (stop_early is not None and stop_early()):
                    return
                if len(rows) > free_cells or not self._decode(batch, rows):
                    yield from self._cut(rows, started)
                    return
                free_cells -= len(rows)
                live = [branch for branch, _ in rows]
        finally:
            llama_cpp.llama_batch_free(batch)

    def _advance(
        self, branch: _Branch, limits: Limits, finished: list[Sample], started: float
    ) -> list[tuple[_Branch, int]]:
        """Each member picks its next token; members that picked the same one stay together.

        Returns (branch, token) for every branch that goes on: this one for the first token
        picked, a copy of it for each other.
        """
        ptr = llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, branch.row)
        logits = np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))
        groups: dict[int, list[_Candidate]] = {}
        for member in branch.members:
            token, logprob = member.sampler.pick(logits)
            if llama_cpp.llama_vocab_is_eog(self.vocab, token):
                finished.append(self._sample(member, "stop", started))
                continue
            member.logprobs.append(logprob)
            member.text += member.decoder.decode(self.llm.detokenize([token]))
            finish = self._finish(member, limits)
            if finish is not None:
                finished.append(self._sample(member, finish, started))
            else:
                groups.setdefault(token, []).append(member)
        out: list[tuple[_Branch, int]] = []
        for i, (token, members) in enumerate(groups.items()):
            if i == 0:
                branch.members = members
                out.append((branch, token))
            else:
                tokens = list(branch.tokens)
                out.append((_Branch(self.branches.open(branch.seq, tokens), tokens, members), token))
        return out

    @staticmethod
    def _finish(member: _Candidate, limits: Limits) -> Finish | None:
        hits = [i for s in limits.stop if s and (i := member.text.find(s)) >= 0]
        if hits:
            member.text = member.text[: min(hits)]
            return "stop"
        if limits.until is not None and limits.until(member.text):
            return "callback"
        if len(member.logprobs) >= limits.max_tokens:
            return "length"
        return None

    @staticmethod
    def _sample(member: _Candidate, finish: Finish, started: float) -> Sample:
        return Sample(member.index, member.text, member.logprobs, finish, time.perf_counter() - started)

    def _decode(self, batch: llama_cpp.llama_batch, rows: list[tuple[_Branch, int]]) -> bool:
        """Evaluate each branch's new token in its own sequence; False when the cache has no room."""
        batch.n_tokens = len(rows)
        for i, (branch, token) in enumerate(rows):
            batch.token[i] = token
            batch.pos[i] = len(branch.tokens)  # type: ignore[call-overload]  # llama_pos stub is off
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = branch.seq
            batch.logits[i] = True
        if llama_cpp.llama_decode(self.llm._ctx.ctx, batch) != 0:
            return False
        for i, (branch, token) in enumerate(rows):
            branch.tokens.append(token)
            branch.row = i
        return True

    def _cut(self, rows: list[tuple[_Branch, int]], started: float) -> Iterator[Sample]:
        for branch, _ in rows:
            for member in branch.members:
                yield self._sample(member, "length", started)
