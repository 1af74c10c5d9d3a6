"""The llama.cpp backend on real GGUFs: decoding, KV reuse, the on-disk prefix state."""

from __future__ import annotations

import pytest

from runtime.model.backend import LlamaModel
from runtime.model.base import ChatMessage, Generation, Prompt, Sampling
from runtime.model.store import resolve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def small(e2e_settings):
    manifest, path = resolve(e2e_settings, "smollm2-135m")
    return LlamaModel(manifest, path, e2e_settings)


def collect(model, prompt, **kw):
    until = kw.pop("until", None)
    pieces = list(model.stream(prompt, Sampling(max_tokens=kw.pop("max_tokens", 24), **kw), until))
    generation = pieces[-1]
    assert isinstance(generation, Generation)
    assert "".join(pieces[:-1]) == generation.text
    return generation


def ask(text: str, system: str | None = None) -> Prompt:
    head = [ChatMessage(role="system", content=system)] if system else []
    return Prompt(messages=[*head, ChatMessage(role="user", content=text)])


def test_decodes_real_tokens_with_the_gguf_chat_template(small):
    prompt = ask("Say hello.")
    assert "<|im_start|>user\nSay hello.<|im_end|>" in small.render(prompt.messages)
    generation = collect(small, prompt)
    assert generation.completion_tokens > 0 and generation.text.strip()


def test_greedy_decoding_is_deterministic(small):
    prompt = ask("Count from one to five.")
    assert collect(small, prompt).text == collect(small, prompt).text


def test_second_prompt_reuses_the_kv_cache_of_the_first(small):
    base = ask("Name a colour.")
    first = collect(small, base)
    follow = base.messages + [ChatMessage(role="assistant", content=first.text), ChatMessage(role="user", content="Another one.")]
    second = collect(small, Prompt(messages=follow))
    assert second.cached_tokens >= first.prompt_tokens - 1


def test_until_callback_stops_generation(small):
    generation = collect(small, ask("Write a long story about a cat."), max_tokens=200, until=lambda text: len(text) > 20)
    assert generation.finish == "callback"
    assert len(generation.text) < 80


def test_prefix_state_is_saved_and_loaded_by_a_new_model_instance(small, e2e_settings):
    system = "You are terse. " * 20
    prompt = ask("What is 2+2?", system)
    assert small.warm_prefix(prompt.messages, [system]).source in ("computed", "disk")
    assert small.warm_prefix(prompt.messages, [system]).source == "memory"
    fresh = LlamaModel(small.manifest, small.path, e2e_settings)
    loaded = fresh.warm_prefix(prompt.messages, [system])
    assert loaded.source == "disk" and loaded.computed_tokens == 0 and loaded.cached_tokens == loaded.tokens
    # the loaded state is really used: continuing from it gives the same text as computing it
    from_disk = collect(fresh, prompt)
    assert from_disk.cached_tokens == loaded.tokens
    small.llm.reset()
    assert collect(small, prompt).text == from_disk.text


def test_a_longer_prefix_computes_only_its_new_tokens(small, e2e_settings):
    base = ("Answer in one word. " * 10).strip()
    brief = base + " Be brief."
    small.warm_prefix(ask("Hi.", brief).messages, [base, brief])
    fresh = LlamaModel(small.manifest, small.path, e2e_settings)
    extended = base + " Also be polite."
    info = fresh.warm_prefix(ask("Hi.", extended).messages, [base, extended])
    assert info.source == "computed"
    assert 0 < info.computed_tokens < 16  # the base came from disk; the rest is the extension and the user's turn
    again = LlamaModel(small.manifest, small.path, e2e_settings).warm_prefix(ask("Hi.", extended).messages, [base, extended])
    assert again.source == "disk" and again.computed_tokens == 0
