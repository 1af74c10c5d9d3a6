"""The step grammar, checked by llama.cpp's own grammar engine over a real vocabulary (SmolLM2's,
loaded without weights): real model steps pass, each kind of malformed step is refused."""

from __future__ import annotations

import json
from pathlib import Path

import llama_cpp
import pytest

from runtime.agent.grammar import step_grammar
from runtime.agent.parse import THOUGHT, parse_step
from runtime.model.sampler import GrammarState
from runtime.model.store import resolve

REAL_STEPS = json.loads((Path(__file__).parent / "test_grammar_data" / "real_steps.json").read_text())["steps"]
GOOD = "Thought: I will add them.\n```python\nprint(2 + 7)\n```"


@pytest.fixture(scope="module")
def vocab(e2e_settings):
    _, path = resolve(e2e_settings, "smollm2-135m")
    llm = llama_cpp.Llama(str(path), vocab_only=True, verbose=False)
    yield llm, llama_cpp.llama_model_get_vocab(llm.model)
    llm.close()


def accepts(vocab, step: str, final: bool = False, opening: str | None = None) -> bool:
    """Whether the grammar lets a model write `step` after the prefilled "Thought: " and then end its turn."""
    llm, handle = vocab
    assert step.startswith(f"{THOUGHT} ")
    grammar = GrammarState(handle, step_grammar(final=final, opening=opening))
    for token in llm.tokenize(step[len(THOUGHT) + 1 :].encode(), add_bos=False, special=False):
        if not grammar.allows(token):
            return False
        grammar.accept(token)
    return grammar.allows(llm.token_eos())


@pytest.mark.parametrize("step", REAL_STEPS, ids=range(len(REAL_STEPS)))
def test_real_well_formed_steps_are_accepted(vocab, step):
    parse_step(step)  # well formed by the parser's standard too
    assert accepts(vocab, step)


def test_the_closing_fence_may_carry_its_newline_and_a_blank_line_may_precede_the_code(vocab):
    assert accepts(vocab, GOOD + "\n")
    assert accepts(vocab, GOOD.replace("\n```python", "\n\n```python"))


@pytest.mark.parametrize(
    ("kind", "step"),
    [
        ("no code block", "Thought: 2 + 7 = 9, so the answer is 9."),
        ("no fence", "Thought: I will add them.\nprint(2 + 7)"),
        ("fence never closed", "Thought: I will add them.\n```python\nprint(2 + 7)\n"),
        ("prose after the code", GOOD + "\nThe answer is 9."),
        ("an invented observation", GOOD + "\nObservation: 9"),
        ("a second code block", GOOD + "\n```python\nfinal_answer(9)\n```"),
        ("a second paragraph of thought", "Thought: 1 + 3 * 5 / 9 = 24.\n\nExpression: (1 + 3 * 5 / 9) = 24.\n```python\nprint(1)\n```"),
        ("a thought that never ends", "Thought: " + "I will also keep track of the number of attempts. " * 10 + "\n```python\nprint(1)\n```"),
        ("backticks in the thought", "Thought: I will call `solve_24`.\n```python\nprint(1)\n```"),
        ("another language", "Thought: I will add them.\n```js\nconsole.log(9)\n```"),
    ],
)
def test_malformed_steps_are_refused(vocab, kind, step):
    assert not accepts(vocab, step), kind


def test_the_answer_only_grammar_admits_a_final_answer_call_and_nothing_else(vocab):
    def final(step: str) -> bool:
        return accepts(vocab, step, final=True)

    assert final("Thought: The result is 8.\n```python\nfinal_answer(8)\n```")
    assert final("Thought: Done.\n```python\nfinal_answer(\"8 * (4 + 7 - 8)\")\n```\n")
    assert not final(GOOD)
    assert final("Thought: Done.\n```python\nfinal_answer(round((12 - 3) * (2 + 1), 2))\n```")
    assert not final("Thought: Done.\n```python\nfinal_answer(8)\nprint(8)\n```")
    assert not final("Thought: Done.\n```python\nfinal_answer(8)  # the answer\n```")  # nothing after the call


def test_guided_grammars_open_the_call_and_pass_the_result_on_unchanged(vocab):
    call = "result = solve_24("
    assert accepts(vocab, "Thought: The solver fits.\n```python\nresult = solve_24([2, 4, 8, 9])\nprint(result)\n```", opening=call)
    assert not accepts(vocab, "Thought: By hand.\n```python\nprint(8 * 3)\n```", opening=call)
    answer = "final_answer(result"
    assert accepts(vocab, "Thought: Done.\n```python\nfinal_answer(result)\n```", final=True, opening=answer)
    assert accepts(vocab, 'Thought: Done.\n```python\nfinal_answer(result["value"])\n```', final=True, opening=answer)
    assert not accepts(vocab, "Thought: Done.\n```python\nfinal_answer(result * 4)\n```", final=True, opening=answer)
