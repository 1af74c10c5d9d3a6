"""The batched tree sampler on a real (tiny) GGUF: its candidates are valid samples."""

import pytest

from runtime.agent.grammar import step_grammar
from runtime.agent.parse import has_complete_block
from runtime.config import Settings
from runtime.model.backend import LlamaModel
from runtime.model.base import ChatMessage, Generation, Prompt, Sampling
from runtime.model.sampler import GrammarState
from runtime.model.store import resolve

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    settings = Settings(home=tmp_path_factory.mktemp("sag-home"), threads=2)
    return LlamaModel(*resolve(settings, "smollm2-135m"), settings)


QUESTION = ChatMessage(role="user", content="Write Python code that prints the sum of the numbers from 1 to 10.")


@pytest.fixture(scope="module")
def prompt():
    return Prompt(messages=[QUESTION], continue_assistant="Thought: ")


def greedy(model, prompt, until=None, **kw):
    *_, generation = model.stream(prompt, Sampling(temperature=0.0, top_p=1.0, seed=0, **kw), until)
    assert isinstance(generation, Generation)
    return generation


def sample(model, prompt, n, until=None, stop_early=None, **kw):
    return list(model.sample_n(prompt, n, Sampling(**kw), until, stop_early))


def test_at_temperature_zero_every_candidate_is_the_greedy_output(model, prompt):
    kw = {"max_tokens": 48, "stop": ["\nObservation:"], "until": has_complete_block, "grammar": step_grammar()}
    expected = greedy(model, prompt, **kw)
    candidates = sample(model, prompt, 4, temperature=0.0, top_p=1.0, seed=3, **kw)
    assert [c.text for c in candidates] == [expected.text] * 4
    assert [c.completion_tokens for c in candidates] == [expected.completion_tokens] * 4
    assert candidates[0].mean_logprob == pytest.approx(expected.mean_logprob, abs=1e-4)


def test_at_temperature_one_candidates_differ_and_each_is_valid_under_the_grammar(model, prompt):
    candidates = sample(model, prompt, 6, max_tokens=32, temperature=1.0, top_p=0.95, seed=1, stop=[], grammar=step_grammar())
    assert len(candidates) == 6
    assert len({c.text for c in candidates}) > 1
    for candidate in candidates:
        grammar = GrammarState(model._vocab, step_grammar())
        for token in model.llm.tokenize(candidate.text.encode(), add_bos=False, special=False):
            assert grammar.allows(token), candidate.text
            grammar.accept(token)
        assert candidate.mean_logprob < 0 and 0 < candidate.completion_tokens <= 32


def test_the_next_prompt_continues_a_candidate_from_its_kv_cache(model, prompt):
    candidates = sample(model, prompt, 3, max_tokens=24, temperature=0.8, top_p=0.95, seed=5, stop=[])
    answered = ChatMessage(role="assistant", content="Thought: " + candidates[1].text)
    follow_up = Prompt(messages=[QUESTION, answered, ChatMessage(role="user", content="And now?")])
    reused = greedy(model, follow_up, max_tokens=12, stop=[])
    rendered = model.render(prompt.messages, prompt.continue_assistant)
    assert reused.cached_tokens > model.count_tokens(rendered) + candidates[1].completion_tokens - 4
    model.drop_branches()
    model.llm.reset()
    assert greedy(model, follow_up, max_tokens=12, stop=[]).text == reused.text


def test_stop_early_ends_sampling_and_the_rest_are_not_returned(model, prompt):
    candidates = sample(model, prompt, 5, max_tokens=24, temperature=1.0, top_p=1.0, seed=2, stop=[], stop_early=lambda: True)
    assert len(candidates) < 5


def test_more_candidates_than_sequences_is_refused(model, prompt):
    with pytest.raises(ValueError):
        sample(model, prompt, 17, max_tokens=4, temperature=1.0, top_p=1.0, seed=0, stop=[])
