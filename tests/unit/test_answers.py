"""Final answers are checked against the form the task asks for and what the run's checks said."""

from fractions import Fraction

import pytest

from runtime.agent.answers import answer_problem, form_problem, refuted_by
from runtime.tools import ToolCall

GAME = "Use the numbers 4 7 8 8 and + - * / to make 24. Answer with the expression only."


@pytest.mark.parametrize(
    "question",
    [
        GAME,
        "can you get 24 from 3 3 8 8?",
        "Use 4, 7, 8 and 8 once each with + - * / to reach 24",
        "My kid asked me this: with the numbers 1, 5, 5 and 5, how do you make 24 using + - * /?",
    ],
)
def test_the_target_a_puzzle_gives_is_not_its_answer(question):
    problem = form_problem(question, 24)
    assert problem is not None and "target" in problem
    assert form_problem(question, "24") is not None and form_problem(question, 24.0) is not None
    assert form_problem(question, "8 * (4 + 7 - 8)") is None


def test_a_number_that_only_appears_in_a_word_problem_is_accepted():
    question = "Tom has 24 apples and gives 3 to each of his 8 friends. How many apples are left?"
    assert form_problem(question, 0) is None
    assert form_problem(question, 24) is None  # no expression is asked for: a plain count may equal a given number


def test_a_decimal_where_a_fraction_is_asked_for_is_refused_once():
    question = "What is the probability that two dice sum to 8, as a fraction?"
    assert "fraction" in (form_problem(question, 0.1388888888888889) or "")
    assert form_problem(question, "5/36") is None
    assert form_problem("What is 5 divided by 36?", 0.1388888888888889) is None


def test_an_answer_a_check_in_the_same_run_rejected_is_refuted():
    calls = [
        ToolCall(name="check_24", arguments={"expression": "(4 + 7) * 8 / 8", "numbers": [4, 7, 8, 8]},
                 result={"ok": False, "value": "11", "reason": "equals 11, not 24"}),
        ToolCall(name="check_24", arguments={"expression": "8*(4+7-8)", "numbers": [4, 7, 8, 8]},
                 result={"ok": True, "value": "24", "reason": "correct"}),
    ]
    assert refuted_by("(4+7)*8/8", calls) is calls[0]  # spacing does not matter
    assert refuted_by("8 * (4 + 7 - 8)", calls) is None  # the check passed it
    refusal = answer_problem(GAME, "(4 + 7) * 8 / 8", calls)
    assert refusal is not None and refusal.firm and "equals 11, not 24" in refusal.reason
    target = answer_problem(GAME, 24, [])
    assert target is not None and target.firm  # the target is never the answer, however often given
    question = "What is the probability that two dice sum to 8, as a fraction?"
    form = answer_problem(question, 0.1388888888888889, [])
    assert form is not None and not form.firm  # a decimal is refused once; a model that insists is believed


def test_exact_numbers_compare_as_numbers():
    assert form_problem(GAME, Fraction(24).numerator) is not None


def test_an_answer_copied_from_the_prompts_examples_is_refused_once():
    worked = "2431"
    shown = "Example: range(10, 100) ... [11, 13, 17] 2431 ... final_answer(product) ... solve_24([3, 3, 8, 8]) gives '8 / (3 - 8 / 3)' ... is_prime(97) ... 105"
    assert answer_problem("", 2431, [], shown, worked) is not None
    assert answer_problem("How many pies in all?", 105, [], shown, worked) is None  # a docstring's number may be right
    assert answer_problem("can you get 24 from 1 3 4 5?", "8 / (3 - 8 / 3)", [], shown, worked) is not None
    assert answer_problem("What is 2431 + 0?", 2431, [], shown, worked) is None  # the task itself names it
    assert answer_problem("What is 2 + 2?", 4, [], shown, worked) is None
    assert answer_problem("How many trees were planted?", 100, [], shown, worked) is None  # range(10, 100)
    assert answer_problem("How many books?", 2431.0, [], shown, worked) is not None
    # the docstring's puzzle itself: the tool's answer for this task's numbers is not a copy
    solved = ToolCall(name="solve_24", arguments={"numbers": [3, 3, 8, 8]}, result="8 / (3 - 8 / 3)")
    assert answer_problem("can you get 24 from 3 3 8 8?", "8 / (3 - 8 / 3)", [solved], shown, worked) is None


def test_a_bare_number_for_a_make_n_puzzle_is_refused():
    assert form_problem("can you get 24 from 1 3 4 5?", 15) is not None


def test_values_at_the_end_of_a_sentence_count_as_the_tasks():
    from runtime.agent.answers import uses_task_values

    question = "Use the numbers 2 4 8 9 and + - * / to make 24. Use each number once."
    assert uses_task_values(question, {"numbers": [2, 4, 8, 9], "target": 24})
    assert not uses_task_values(question, {"numbers": [1, 2, 3, 5]})
    assert uses_task_values("What is 2.5 times 4?", {"x": 2.5, "y": 4})


def test_one_value_for_a_two_part_question_is_refused_once():
    question = "Which planet has the most moons, and who wrote Pride and Prejudice?"
    assert "every part" in (form_problem(question, "Jane Austen") or "")
    assert form_problem(question, ["Saturn", "Jane Austen"]) is None
    assert form_problem("How many apples and pears are there in all?", 12) is None


def test_none_is_no_answer_and_values_the_task_never_gives_are_named():
    from runtime.agent.answers import foreign_values

    none = answer_problem("What is 2 + 2?", None, [])
    assert none is not None and none.firm and "no answer" in none.reason
    question = "Use the numbers 4 4 9 12 and + - * / to make 24."
    assert foreign_values(question, {"numbers": [4, 4, 9, 12], "target": 30}) == ["30"]
    assert foreign_values(question, {"numbers": [4, 4, 9, 12], "target": 24}) == []


def test_a_search_is_not_a_call_with_the_tasks_values():
    from runtime.agent.answers import foreign_values, uses_task_values

    question = "What is the capital of Portugal?"
    assert not uses_task_values(question, {"query": "capital of Portugal", "k": 3})  # no number of the task's
    assert foreign_values(question, {"query": "capital of Portugal", "k": 3}) == []  # none of the task's: not judged


@pytest.mark.parametrize("empty", [None, "", "  \n"])
def test_no_value_is_never_an_answer(empty):
    # an e2e run answered final_answer('') after reading the passage that held the answer
    refusal = answer_problem("At what time do the gates open?", empty, [])
    assert refusal is not None and refusal.firm and "gives no answer" in refusal.reason


@pytest.mark.parametrize(
    "passages",
    [
        [{"title": "Garden › Opening hours", "text": "<document>\nThe gates open at 6:45.\n</document>", "score": 0.93}],
        "6:45 every Saturday and close at dusk.\n</document>",
    ],
)
def test_retrieved_text_is_not_an_answer(passages):
    # own-documents runs answered the whole retrieve() result, and a split that kept the closing tag
    refusal = answer_problem("At what time do the gates open?", passages, [])
    assert refusal is not None and "retrieved text" in refusal.reason and not refusal.firm
    assert answer_problem("At what time do the gates open?", "6:45", []) is None


def test_a_tools_whole_result_is_not_an_answer_to_one_question():
    result = {"exact": "139", "decimal": "139"}
    evaluate = ToolCall(name="evaluate", arguments={"expression": "700 - 561"}, result=result)
    question = "He spent a total of $700.00 and the gifts cost $561.00. How much did he spend on wrapping?"
    refusal = answer_problem(question, dict(result), [evaluate])
    assert refusal is not None and not refusal.firm
    assert "evaluate's whole result" in refusal.reason and "r['decimal']" in refusal.reason
    assert answer_problem(question, "139", [evaluate]) is None
    assert answer_problem(question, {"total": 139}, [evaluate]) is None  # a dict the model built itself
    two_part = "Which planet is largest, and who wrote Hamlet?"
    assert answer_problem(two_part, dict(result), [evaluate]) is None
