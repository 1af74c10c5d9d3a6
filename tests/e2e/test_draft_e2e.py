"""Prompt-lookup drafting leaves the agent's output unchanged, token for token, on real models.

The agent runs real questions (shipped boxes, tool pick, step grammar, stop strings, the
complete-block callback) through a model that decodes every step twice from the same cached
prompt, drafting off and on, and asserts the text, the log-probabilities and the tokens left in
the KV cache are the same, on 2 threads and prompts over 512 tokens (where llama.cpp's
flash attention splits a single token's work across the threads). The prompt is put into the KV cache first, so both decodings start
from the same state: llama.cpp's logits for a prompt evaluated in one big batch differ in the
last bits from those of the same prompt mostly cached, and that is not drafting's doing.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from runtime import kit as agent_kit
from runtime.agent import events as ev
from runtime.model.backend import LlamaModel
from runtime.model.base import Generation, Prompt, Sampling, Until
from runtime.model.store import resolve

pytestmark = pytest.mark.e2e

QUESTIONS = [
    "Use the numbers 4, 7, 8 and 8 with + - * / to make 24.",
    "Tom has 3 boxes of 12 pencils and gives away 7 pencils. How many pencils does he have left?",
    "What day of the week was 14 March 2021?",
]
DRAFT = 2


class Twin:
    """A model for the agent that decodes each greedy step without and with drafting, and keeps both."""

    def __init__(self, model: LlamaModel) -> None:
        self.model = model
        self.name, self.end_of_turn, self.capabilities = model.name, model.end_of_turn, model.capabilities
        self.pairs: list[tuple[tuple[list, list[int]], tuple[list, list[int]]]] = []

    def warm_prefix(self, *args, **kwargs):
        return self.model.warm_prefix(*args, **kwargs)

    def _decode(self, prompt: Prompt, sampling: Sampling, until: Until | None, draft: int) -> tuple[list, list[int]]:
        self.model.draft = draft
        pieces = list(self.model.stream(prompt, sampling, until))
        llm = self.model.llm
        return pieces, list(llm.input_ids[: llm.n_tokens])

    def stream(self, prompt: Prompt, sampling: Sampling, until: Until | None = None) -> Iterator[str | Generation]:
        self._decode(prompt, sampling.model_copy(update={"max_tokens": 1}), None, 0)  # the prompt into the KV cache
        off = self._decode(prompt, sampling, until, 0)
        on = self._decode(prompt, sampling, until, DRAFT)
        self.pairs.append((off, on))
        yield from off[0]


@pytest.fixture(scope="module")
def tools(e2e_settings):
    return agent_kit.open_tools(e2e_settings, agent_kit.ToolChoice(retrieval=False))


@pytest.mark.parametrize("name", ["smollm2-135m", "qwen2.5-coder-0.5b"])
def test_drafting_gives_the_agent_the_same_tokens(e2e_settings, tools, name):
    settings = e2e_settings.model_copy(update={"max_steps": 2, "draft": DRAFT})
    twin = Twin(LlamaModel(*resolve(settings, name), settings))
    assert twin.model.llm.context_params.flash_attn_type == 1 and twin.model.llm.context_params.type_k == 8
    kit = agent_kit.AgentKit(settings, twin, tools)
    for question in QUESTIONS:
        events = list(kit.run(question))
        assert isinstance(events[-1], ev.RunFinished) and events[-1].trace.steps, question
    assert len(twin.pairs) >= len(QUESTIONS)
    drafted = accepted = 0
    for (off_pieces, off_tokens), (on_pieces, on_tokens) in twin.pairs:
        *off_text, off = off_pieces
        *on_text, on = on_pieces
        assert on.text == off.text and on_text == off_text
        assert on_tokens == off_tokens
        assert (on.completion_tokens, on.finish, on.mean_logprob) == (off.completion_tokens, off.finish, off.mean_logprob)
        assert off.drafted_tokens == 0
        drafted += on.drafted_tokens
        accepted += on.accepted_tokens
    assert 0 < accepted <= drafted  # the drafts were checked, and some were taken


def test_sampled_decoding_does_not_draft(e2e_settings):
    settings = e2e_settings.model_copy(update={"draft": DRAFT})
    model = LlamaModel(*resolve(settings, "smollm2-135m"), settings)
    prompt = Prompt(messages=[{"role": "user", "content": "Repeat: 1 2 3 1 2 3 1 2 3 1 2 3"}])
    *_, sampled = model.stream(prompt, Sampling(max_tokens=24, temperature=0.7, seed=1))
    *_, greedy = model.stream(prompt, Sampling(max_tokens=24))
    assert sampled.drafted_tokens == 0 and sampled.completion_tokens > 0
    assert greedy.drafted_tokens > 0
