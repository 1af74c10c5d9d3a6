"""Checkers on real data and on crafted answers: right, wrong, rule-breaking, and oddly formatted."""

from fractions import Fraction
from itertools import permutations

import pytest

from runtime.eval.checkers import answer_text, check, check_asdiv, check_game24, check_nq, game24_expression
from runtime.eval.suites import load_suite


def solve_24(numbers: list[int]) -> str | None:
    """A brute-force reference solver, so real puzzles get real, independently found answers."""

    def combine(items: list[tuple[Fraction, str]]) -> str | None:
        if len(items) == 1:
            return items[0][1] if items[0][0] == 24 else None
        for i, j in permutations(range(len(items)), 2):
            (a, ea), (b, eb) = items[i], items[j]
            rest = [items[k] for k in range(len(items)) if k not in (i, j)]
            options = [(a + b, f"({ea} + {eb})"), (a - b, f"({ea} - {eb})"), (a * b, f"({ea} * {eb})")]
            if b != 0:
                options.append((a / b, f"({ea} / {eb})"))
            for value, text in options:
                found = combine(rest + [(value, text)])
                if found:
                    return found
        return None

    return combine([(Fraction(n), str(n)) for n in numbers])


def test_game24_accepts_independent_solutions_of_real_test_puzzles():
    items = load_suite("game24").items[:8]
    for item in items:
        solution = solve_24(item.gold)
        assert solution is not None
        verdict = check("game24", item.gold, solution)
        assert verdict.correct, (item.gold, solution, verdict)


@pytest.mark.parametrize(
    ("numbers", "answer", "correct", "reason"),
    [
        ([4, 5, 6, 10], "(5 * (10 - 6)) + 4", True, "equals 24"),
        ([4, 5, 6, 10], "(5*(10-6)+4) = 24", True, "equals 24"),
        ([3, 3, 8, 8], "8 / (3 - 8 / 3)", True, "equals 24"),  # needs exact fractions
        ([1, 1, 4, 6], "4 × 6 × 1 ÷ 1", True, "equals 24"),
        ([1, 1, 4, 6], "`(1 + 1 + 4) * 6`", False, "equals 36"),
        ([1, 1, 4, 6], "4 * 6", False, "not each of"),
        ([1, 1, 4, 6], "4 * 6 * 1 * 1 * 1", False, "not each of"),  # a number used twice
        ([4, 5, 6, 10], "(10 - 4) * (5 - 1)", False, "not each of"),  # a number not in the puzzle
        ([1, 1, 4, 6], "6 / (1 - 1) + 4", False, "division by zero"),
        ([1, 1, 4, 6], "-(1 - 1 - 4 * 6)", False, "not allowed"),  # unary minus is not a game operation
        ([1, 1, 4, 6], "4 ** 1 * 6 * 1", False, "not allowed"),
        ([1, 1, 4, 6], "4.0 * 6 * 1 * 1", False, "not allowed"),
        ([1, 1, 4, 6], "__import__('os').system('echo hi')", False, "not allowed"),
        ([1, 1, 4, 6], "24", False, "not each of"),
        ([1, 1, 4, 6], "(1 + 1", False, "not an arithmetic expression"),
        ([1, 1, 4, 6], None, False, "no answer"),
        ([1, 1, 4, 6], "(" * 500 + "1" + ")" * 500, False, "too long"),
    ],
)
def test_game24_rules(numbers, answer, correct, reason):
    verdict = check_game24(numbers, answer)
    assert verdict.correct is correct
    assert reason in verdict.reason


def test_game24_expression_takes_the_side_that_is_not_24():
    assert game24_expression("24 = (2 + 2) * 6") == "(2 + 2) * 6"
    assert game24_expression("$(2+2)*6$.") == "(2+2)*6"


def test_every_real_asdiv_gold_answer_checks_against_itself():
    items = load_suite("asdiv").items
    assert all(check_asdiv(item.gold, item.gold).correct for item in items)


@pytest.mark.parametrize(
    ("gold", "answer", "correct"),
    [
        ("9 apples", 9, True),
        ("9 apples", "9", True),
        ("9 apples", 9.0, True),
        ("15 balls", "Ellen has 15 balls.", True),
        ("1000 dollars", "$1,000", True),
        ("9 apples", "10 apples", False),
        ("9 apples", "nine", False),
        ("9 apples", "9 or 10", False),
        ("3.333 minutes", 10 / 3, True),  # gold rounded to 3 decimals
        ("2.5 cups", 2.54, False),  # one written decimal: exact only
        ("-1/3", -1 / 3, True),
        ("-1/3", "-\\frac{1}{3}", True),  # an expression: math-verify
        ("5/2", "2.5", True),
        ("12 dollars", "3 * 4", True),
        ("12 dollars", "3 * 5", False),
        ("5 years old; 15 years old; 20 years old", [5, 15, 20], True),
        ("5 years old; 15 years old; 20 years old", "5, 15 and 20", True),
        ("5 years old; 15 years old; 20 years old", [5, 20, 15], False),
        ("Yes", True, True),
        ("No", "yes", False),
        ("Mrs. Hilt", "mrs hilt", True),
        ("3:30 p.m.", "3:30 pm", True),
        ("5:6", "5:6", True),
        ("5:6", "6:5", False),
        ("9 apples", None, False),
    ],
)
def test_asdiv_numbers_with_units_stripped(gold, answer, correct):
    assert check_asdiv(gold, answer).correct is correct


def test_nq_is_a_normalized_exact_match_against_any_gold_answer():
    golds = ["Boston Red Sox", "the Red Sox"]
    assert check_nq(golds, "the boston red sox.").correct
    assert check_nq(golds, "Red Sox").correct
    assert check_nq(golds, ["Yankees", "Red Sox"]).correct
    assert not check_nq(golds, "The Red Sox won").correct
    assert not check_nq(["Nine"], 9).correct
    assert not check_nq(golds, None).correct


def test_answer_text_reads_any_json_value():
    assert answer_text([1, "a", None]) == "1; a"
    assert answer_text({"x": 1}) == '{"x": 1}'
    assert answer_text(False) == "no"
    assert answer_text("  7 ") == "7"


@pytest.mark.parametrize(
    ("gold", "answer", "correct", "read_as"),
    [
        ("yes", "yes", True, "yes"),
        ("yes", "Yes.", True, "yes"),
        ("yes", True, True, "yes"),
        ("yes", "True", True, "yes"),
        ("no", "False", True, "no"),
        ("no", False, True, "no"),
        ("no", "No, it is not.", True, "no"),
        ("no", "It is false", True, "no"),
        ("maybe", "maybe", True, "maybe"),
        ("maybe", "The answer is maybe", True, "maybe"),
        ("no", "yes", False, "yes"),
        ("maybe", "no", False, "no"),
    ],
)
def test_yesno_reads_the_label_in_any_usual_form(gold, answer, correct, read_as):
    verdict = check("yesno", gold, answer)
    assert (verdict.correct, verdict.read_as) == (correct, read_as)


@pytest.mark.parametrize(
    "answer",
    [
        None,
        3,
        "It is yes and no",
        "The Danube is the second-longest river in Europe and there is no doubt that it flows into the Black Sea.",
    ],
)
def test_yesno_refuses_a_passage_a_count_or_two_labels(answer):
    verdict = check("yesno", "yes", answer)
    assert not verdict.correct and verdict.reason == "not a yes/no/maybe answer"


@pytest.mark.parametrize(
    ("answer", "correct"),
    [
        ("75.11 g/mol", True),
        (75.10966, True),
        ("C3H9NO: 75.11", True),  # a formula's counts are words, not numbers
        ("The molar mass of C3H9NO is about 75.1 g/mol.", True),
        ("75.2", False),  # 0.12 % off
        ("76.12", False),  # one hydrogen too many
        ("12 + 63.11 = 75.11", True),  # the last number is the result
        ("no idea", False),
        (None, False),
    ],
)
def test_approx_takes_the_last_number_within_a_thousandth(answer, correct):
    assert check("approx", 75.10966, answer).correct is correct


def test_every_real_molar_mass_gold_checks_against_itself_rounded_to_two_decimals():
    items = load_suite("molar-mass").items
    assert all(check("approx", item.gold, f"{item.gold:.2f} g/mol").correct for item in items)
    assert check("approx", "75.10966", "75.1").correct  # a file's gold is text
