"""The llama.cpp backend: load once, chat template from the GGUF, streaming, KV-cache reuse.

Prompt processing dominates on a CPU, so two caches matter:
- within a process, llama-cpp-python keeps the KV cache of the last prompt and only evaluates the
  tokens after the longest common prefix, so each agent step pays only for its new tokens;
- across processes, the KV state of the fixed prompt prefix (system prompt, tools, example) is
  saved to disk keyed by (model sha256, context size, prefix tokens) and loaded instead of
  recomputed (runtime.model.prefix_cache keeps the folder under its size limit);
- after `sample_n`, the candidates' sequences are kept, and the next prompt takes over the KV of
  the one it continues (the winner), so the winner's tokens are not evaluated again.
"""

from __future__ import annotations

import codecs
import contextlib
import ctypes
import hashlib
import os
import time
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Literal

import numpy as np

from runtime.config import MAX_CANDIDATES, Settings
from runtime.errors import ModelLoadError
from runtime.model.base import (
    Capability,
    ChatMessage,
    ContextFull,
    Generation,
    PrefillProgress,
    PrefixInfo,
    Prompt,
    Sampling,
    StopEarly,
    Until,
    candidate_seed,
    checkpoint_lengths,
    first_stop,
    held_back,
    system_cuts,
)
from runtime.model.batch import (
    Branches,
    Limits,
    TreeDecoder,
    allow_sequences,
)
from runtime.model.draft import Drafter, PromptLookup
from runtime.model.prefix_cache import PrefixStates
from runtime.model.registry import ModelManifest
from runtime.model.sampler import GrammarState, TokenSampler

_BATCH_INVARIANT = {"flash_attn": True, "type_k": 8}  # 8 = GGML_TYPE_Q8_0
"""The context that drafting needs: each token's logits the same whether it is evaluated alone or
in a batch of drafted tokens, so that drafting cannot change a greedy choice. Without flash
attention, the attention of a batch is computed differently from a single token's; with it and
an f16 K cache, a single token's attention over 512 or more cells is split across the threads
and summed in another order. A q8_0 K cache keeps every row of a batch under 64 tokens on the
same per-row path as a single token, on any number of threads; with batches of at most
MAX_DRAFT + 1 tokens the weights' matmuls are per row too (measured: logits equal to the bit).
It changes the numbers slightly, so it is only used where drafting is on."""

_PROGRESS_PIECE = 128
"""Tokens evaluated between two progress reports while a prefix is computed (a few seconds on 2 cores)."""


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """llama.cpp prints load chatter to fd 2 even with verbose=False; keep the user's terminal clean."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    with open(os.devnull, "w") as devnull:
        os.dup2(devnull.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


class LlamaModel:
    """A GGUF loaded through llama-cpp-python, with the chat template the GGUF carries."""

    capabilities: frozenset[Capability] = frozenset({"grammar", "prefix_cache"})

    def __init__(self, manifest: ModelManifest, path: Path, settings: Settings) -> None:
        import llama_cpp
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        self.manifest = manifest
        self.name = manifest.name
        self.path = path
        self.settings = settings
        self.draft = settings.draft
        """Tokens drafted ahead by prompt lookup in greedy decoding (`runtime.model.draft`); 0 = off.
        Only a model loaded with `settings.draft` has the batch-invariant context that keeps the
        output the same with it on; benchmarks set it to 0 there to compare."""
        self._llama_cpp = llama_cpp
        n_ctx = min(settings.n_ctx, manifest.context_length)
        started = time.perf_counter()
        try:
            with _quiet_stderr():
                self.llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=n_ctx,
                    n_batch=512,
                    n_threads=settings.threads,
                    n_threads_batch=settings.threads,
                    seed=settings.seed,
                    verbose=False,
                    **(_BATCH_INVARIANT if settings.draft else {}),
                )
                allow_sequences(self.llm, MAX_CANDIDATES + 1)
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelLoadError(f"llama.cpp could not load {path}: {exc}") from exc
        self.load_s = time.perf_counter() - started
        template = self.llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelLoadError(f"{path.name} has no chat template in its metadata (not an instruct model?)")
        model = self.llm._model
        eos, bos = self.llm.token_eos(), self.llm.token_bos()
        self._formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
        )
        self.end_of_turn = self._formatter.eos_token
        self._branches = Branches(self.llm, MAX_CANDIDATES)
        self._states = PrefixStates.of(settings)
        self._vocab = llama_cpp.llama_model_get_vocab(model.model)
        self._n_vocab = self.llm.n_vocab()
        self._control = np.array(
            [
                t
                for t in range(self._n_vocab)
                if llama_cpp.llama_vocab_is_control(self._vocab, t) and not llama_cpp.llama_vocab_is_eog(self._vocab, t)
            ],
            dtype=np.int64,
        )

    @property
    def n_ctx(self) -> int:
        return self.llm.n_ctx()

    def render(self, messages: list[ChatMessage], continue_assistant: str = "") -> str:
        """The prompt text for `messages`, opened for the assistant's turn (continuing `continue_assistant`)."""
        result = self._formatter(messages=[m.model_dump() for m in messages])
        return result.prompt + continue_assistant

    def tokenize(self, text: str) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)

    def count_tokens(self, text: str) -> int:
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _cached_prefix(self, tokens: list[int]) -> int:
        n = 0
        for a, b in zip(self.llm._input_ids, tokens[:-1]):
            if a != b:
                break
            n += 1
        return n

    def warm_prefix(
        self, messages: list[ChatMessage], system_parts: list[str], progress: PrefillProgress | None = None
    ) -> PrefixInfo:
        """Make the KV cache hold the start of `messages`' prompt up to the user's turn, for a
        system message that starts with each of `system_parts` in turn (see `Model.warm_prefix`)."""
        prompt = self.render(messages)
        return self.warm_checkpoints(prompt, system_cuts(self.render, system_parts, prompt), progress)

    def warm_checkpoints(self, prompt: str, cuts: list[int], progress: PrefillProgress | None = None) -> PrefixInfo:
        """Make the KV cache hold `prompt` up to the last of `cuts` (character offsets), cut on its own tokens.

        `prompt` is tokenized once and each checkpoint is a start of that token list (see
        `checkpoint_lengths`), so every state matches the prompt that follows. From memory if the
        KV holds it; else the longest checkpoint saved on disk is loaded and only the rest is
        evaluated, and every checkpoint computed is saved for the next process. So a new tool
        selection costs only its own tokens, and a repeated one costs nothing.
        `progress(done, total)` is called as the tokens to compute are evaluated (up to a minute).
        """
        started = time.perf_counter()
        self.drop_branches()  # a saved state must hold the prefix only
        tokens = self.tokenize(prompt)
        token_lists = [tokens[:n] for n in checkpoint_lengths(self.tokenize, prompt, tokens, cuts)]
        if not token_lists:
            return PrefixInfo(tokens=0, source="memory", seconds=0.0)
        full = token_lists[-1]
        self._check_prefix_fits(len(full))
        if self._cached_prefix(full + [0]) >= len(full):
            return PrefixInfo(tokens=len(full), source="memory", seconds=0.0, cached_tokens=len(full))
        loaded = next(
            (toks for toks in reversed(token_lists) if (f := self._state_file(toks)).is_file() and self._load_state(f, toks)),
            None,
        )
        if loaded is None:
            self.llm.reset()
        computed = 0
        total = len(full) - self._cached_prefix(full + [0])
        if progress and total:
            progress(0, total)
        for toks in token_lists:
            common = self._cached_prefix(toks + [0])
            if common < len(toks):
                self.llm.n_tokens = common
                for start in range(common, len(toks), _PROGRESS_PIECE):
                    end = min(start + _PROGRESS_PIECE, len(toks))
                    self.llm.eval(toks[start:end])
                    if progress:
                        progress(min(computed + end - common, total), total)
                computed += len(toks) - common
                self._save_state(self._state_file(toks), toks)
        return PrefixInfo(
            tokens=len(full),
            source="computed" if computed else "disk",
            seconds=time.perf_counter() - started,
            cached_tokens=len(full) - computed,
            computed_tokens=computed,
        )

    def _check_prefix_fits(self, tokens: int) -> None:
        """A prompt longer than the context would fail inside llama.cpp (llama_decode returned 1)."""
        if tokens + self.settings.max_tokens_per_step > self.n_ctx:
            needed = -(-(tokens + self.settings.max_tokens_per_step + 256) // 512) * 512
            raise ContextFull(
                f"the prompt ({tokens} tokens before the question) and a step ({self.settings.max_tokens_per_step} "
                f"tokens) do not fit the context of {self.n_ctx} tokens; set RUNTIME_N_CTX to at least {needed}"
            )

    def _state_file(self, tokens: list[int]) -> Path:
        key = hashlib.sha256()
        key.update(self.manifest.sha256.encode())
        invariant = "|fa-q8k" if self.settings.draft else ""
        key.update(f"|{self.n_ctx}|{self._llama_cpp.__version__}|seq{MAX_CANDIDATES + 1}{invariant}|".encode())
        key.update(",".join(map(str, tokens)).encode())
        return self._states.path(key.hexdigest()[:32])

    def _save_state(self, file: Path, tokens: list[int]) -> None:
        file.parent.mkdir(parents=True, exist_ok=True)
        tmp = file.with_suffix(f".tmp{os.getpid()}")
        arr = (self._llama_cpp.llama_token * len(tokens))(*tokens)
        if self._llama_cpp.llama_state_save_file(self.llm._ctx.ctx, str(tmp).encode(), arr, len(tokens)):
            tmp.replace(file)
        else:
            tmp.unlink(missing_ok=True)
        self._states.evict()

    def _load_state(self, file: Path, tokens: list[int]) -> bool:
        cap = len(tokens) + 1
        arr = (self._llama_cpp.llama_token * cap)()
        count = ctypes.c_size_t(0)
        ok = self._llama_cpp.llama_state_load_file(
            self.llm._ctx.ctx, str(file).encode(), arr, cap, ctypes.byref(count)
        )
        if not ok or list(arr[: count.value]) != tokens:
            self.llm.reset()
            return False
        self.llm.input_ids[: len(tokens)] = tokens
        self.llm.n_tokens = len(tokens)
        self._states.used(file)
        return True

    def stream(self, prompt: Prompt, sampling: Sampling, until: Until | None = None) -> Iterator[str | Generation]:
        """Yield text pieces as they are generated, then one Generation with the totals.

        Only the tokens after the longest common prefix with the previous prompt are evaluated.
        `until(text_so_far)` returning True ends generation early (e.g. a code block closed);
        `sampling.grammar` (GBNF) constrains the output. Text that might begin a stop string is
        held back until it is known not to, so a consumer never sees part of a stop string.
        """
        tokens = self.tokenize(self.render(prompt.messages, prompt.continue_assistant))
        max_tokens, stop = sampling.max_tokens, sampling.stop
        started = time.perf_counter()
        cached, room = self._prefill(tokens)
        prefilled = time.perf_counter()
        sampler = self._sampler(sampling)
        drafter = self._drafter(tokens, sampling)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        text, shown, logprobs = "", 0, []
        finish: Literal["stop", "length", "callback"] = "length"
        for _ in range(min(max_tokens, room)):
            token, logprob = sampler.pick(drafter.logits())
            if self._llama_cpp.llama_vocab_is_eog(self._vocab, token):
                finish = "stop"
                break
            logprobs.append(logprob)
            text += decoder.decode(self.llm.detokenize([token]))
            cut = first_stop(text, stop)
            if cut is not None:
                text, finish = text[:cut], "stop"
                break
            safe = len(text) - held_back(text, stop)
            if safe > shown:
                yield text[shown:safe]
                shown = safe
            if until is not None and until(text):
                finish = "callback"
                break
            drafter.feed(token)
        drafter.settle()
        if len(text) > shown:
            yield text[shown:]
        ended = time.perf_counter()
        yield Generation(
            text=text,
            prompt_tokens=len(tokens),
            cached_tokens=cached,
            completion_tokens=len(logprobs),
            prefill_s=prefilled - started,
            decode_s=ended - prefilled,
            finish=finish,
            mean_logprob=sum(logprobs) / len(logprobs) if logprobs else 0.0,
            drafted_tokens=drafter.drafted,
            accepted_tokens=drafter.accepted,
        )

    def sample_n(
        self, prompt: Prompt, n: int, sampling: Sampling, until: Until | None = None, stop_early: StopEarly | None = None
    ) -> Generator[Generation, None, None]:
        """`n` samples of the continuation of `prompt`, each yielded as soon as it ends.

        The prompt is evaluated once and the candidates decoded together as a tree of sequences
        (see runtime.model.batch); each has its own seed and grammar state, so each is a valid
        sample on its own. `stop_early()` returning True ends sampling early: candidates still
        running are not yielded.
        """
        if not 1 <= n <= MAX_CANDIDATES:
            raise ValueError(f"n must be between 1 and {MAX_CANDIDATES}, not {n}")
        tokens = self.tokenize(self.render(prompt.messages, prompt.continue_assistant))
        started = time.perf_counter()
        cached, room = self._prefill(tokens)
        prefill_s = time.perf_counter() - started
        base = self._sampler(sampling)
        samplers = [base.fork(candidate_seed(sampling.seed, i)) for i in range(n)]
        decoder = TreeDecoder(self.llm, self._branches, self._vocab)
        limits = Limits(min(sampling.max_tokens, room), sampling.stop, until)
        for sample in decoder.run(tokens, samplers, limits, stop_early):
            yield Generation(
                text=sample.text,
                prompt_tokens=len(tokens),
                cached_tokens=cached,
                completion_tokens=len(sample.logprobs),
                prefill_s=prefill_s,
                decode_s=sample.seconds,
                finish=sample.finish,
                mean_logprob=sum(sample.logprobs) / len(sample.logprobs) if sample.logprobs else 0.0,
            )

    def drop_branches(self) -> None:
        """Forget the last `sample_n`'s sequences: the next prompt evaluates whatever it needs."""
        self._branches.release()

    def _prefill(self, tokens: list[int]) -> tuple[int, int]:
        """Evaluate `tokens` in sequence 0, reusing the longest cached prefix; (cached tokens, room left)."""
        room = self.n_ctx - len(tokens)
        if room < 16:
            raise ContextFull(
                f"the conversation ({len(tokens)} tokens) no longer fits the context ({self.n_ctx}); "
                "raise RUNTIME_N_CTX or lower the step limit"
            )
        self._branches.adopt_best(tokens)
        cached = self._cached_prefix(tokens)
        self.llm.n_tokens = cached
        self.llm.eval(tokens[cached:])
        return cached, room

    def _sampler(self, sampling: Sampling) -> TokenSampler:
        return TokenSampler(
            sampling,
            GrammarState(self._vocab, sampling.grammar) if sampling.grammar else None,
            banned=self._control,
        )

    def _drafter(self, tokens: list[int], sampling: Sampling) -> Drafter:
        """Drafting only where it cannot change the output: greedy decoding picks the same token
        from the same logits whatever was drafted; a sampled token would need the draft's
        probabilities too (and SAG's candidates are decoded by `sample_n`)."""
        drafts = self.draft > 0 and sampling.temperature <= 0
        return Drafter(self.llm, PromptLookup(tokens) if drafts else None, self.draft)
