"""Parsing of small-model output: odd fences, missing closers, invented observations."""

import pytest

from runtime.agent.parse import FORMAT_HELP, ParseError, has_complete_block, parse_step


def test_standard_step():
    step = parse_step("Thought: add them.\n```python\nprint(1 + 2)\n```")
    assert step.thought == "add them."
    assert step.code == "print(1 + 2)"


@pytest.mark.parametrize("fence", ["```python", "```py", "```Python", "```", "``` python"])
def test_fence_variants(fence):
    step = parse_step(f"Thought: x\n{fence}\nx = 1\nprint(x)\n```\n")
    assert step.code == "x = 1\nprint(x)"


def test_takes_first_complete_block():
    text = "Thought: two blocks\n```python\na = 1\n```\nand then\n```python\nb = 2\n```"
    assert parse_step(text).code == "a = 1"


def test_unclosed_fence_that_compiles_is_accepted():
    assert parse_step("Thought: t\n```python\nprint(6 * 7)\n").code == "print(6 * 7)"


def test_unclosed_fence_that_does_not_compile_is_rejected():
    with pytest.raises(ParseError):
        parse_step("Thought: t\n```python\nprint(6 *\n")


def test_invented_observation_is_cut_before_parsing():
    text = "Thought: t\n```python\nprint(2)\n```\nObservation: 2\nThought: done\n```python\nfinal_answer(2)\n```"
    assert parse_step(text).code == "print(2)"


def test_invented_observation_before_any_code_leaves_nothing():
    with pytest.raises(ParseError):
        parse_step("Thought: I know it.\nObservation: 4\n```python\nfinal_answer(4)\n```")


def test_no_code_explains_the_format():
    with pytest.raises(ParseError) as err:
        parse_step("The answer is 42.")
    assert str(err.value) == FORMAT_HELP
    assert "```python" in FORMAT_HELP and "final_answer" in FORMAT_HELP


def test_empty_block_is_not_code():
    with pytest.raises(ParseError):
        parse_step("Thought: t\n```python\n```")


def test_code_on_the_fence_line_is_kept_when_closed_inline():
    # some small models write the closing fence right after the code on the same line
    assert parse_step("Thought: t\n```python\nprint(5)```").code == "print(5)"


def test_complete_block_detection_for_early_stop():
    assert not has_complete_block("Thought: t\n```python\nprint(1)\n")
    assert not has_complete_block("Thought: t\n```python\nprint(1)\n``")
    assert has_complete_block("Thought: t\n```python\nprint(1)\n```")
