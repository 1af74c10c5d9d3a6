"""Answer checkers: exact, principled and strict, so that a score means what it says.

- numeric: asdiv's number comparison for a gold that must be a number (a user's file).
- exact: nq's normalized match, for a user's file whose gold is a text or a list of texts.
- game24: the expression is parsed with `ast` (never evaluated by Python), may use only + - * /,
  parentheses and the puzzle's integers, each exactly once, and must equal 24 in exact fractions.
- asdiv: numbers compared with their units stripped; answers that are expressions go through
  math-verify; non-numeric answers (names, yes/no, times, ratios) by normalized text.
- nq: normalized exact match (lower case, no punctuation or articles) against any gold answer.
- approx: a measured quantity (a molar mass): the answer's last number within 0.1 % of the gold, so a
  rounded 75.11 for 75.10966 passes and one atom of hydrogen too many in a 400 g/mol compound does not.
- yesno: the label the answer gives (yes/true, no/false, maybe), read from its first word or from a
  short answer that names one label only; a passage or a count is not an answer.
"""

from __future__ import annotations

import ast
import json
import operator
import re
import string
import threading
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel

from runtime.errors import RuntimeUserError

CheckerName = Literal["numeric", "exact", "game24", "asdiv", "nq", "yesno", "approx"]
_MAX_ANSWER_CHARS = 300
_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation})


def normalize_text(text: str) -> str:
    """SQuAD/NQ normalization: lower case, no punctuation, no articles, single spaces."""
    return " ".join(_ARTICLES.sub(" ", text.lower().translate(_PUNCTUATION)).split())


class Verdict(BaseModel):
    correct: bool
    read_as: str | None = None
    reason: str = ""


def answer_text(answer: Any) -> str | None:
    """The agent's final value (any JSON value) or the CoT answer line, as text."""
    match answer:
        case None:
            return None
        case bool():
            return "yes" if answer else "no"
        case str():
            return answer.strip()
        case list() | tuple():
            return "; ".join(filter(None, (answer_text(a) for a in answer)))
        case _:
            return json.dumps(answer) if isinstance(answer, dict) else str(answer)


# ---------------------------------------------------------------- game24

_OPERATORS: dict[type[ast.operator], Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_SYMBOLS = str.maketrans({"×": "*", "÷": "/", "−": "-", "–": "-", "[": "(", "]": ")", "{": "(", "}": ")"})


class _Rejected(ValueError):
    """The expression breaks a rule of the game."""


def _evaluate(node: ast.expr, used: list[int]) -> Fraction:
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left, used), _evaluate(node.right, used)
        if isinstance(node.op, ast.Div) and right == 0:
            raise _Rejected("division by zero")
        return _OPERATORS[type(node.op)](left, right)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        used.append(node.value)
        return Fraction(node.value)
    raise _Rejected(f"not allowed in the game: {ast.unparse(node)!r}")


def game24_expression(text: str) -> str:
    """The expression part of an answer such as '(4 + 8) * (6 - 4) = 24' or '`4*6`'."""
    text = text.translate(_SYMBOLS).replace("\\times", "*").replace("\\div", "/").strip().strip("`$ .")
    sides = [side.strip() for side in text.split("=")]
    return next((side for side in sides if side and side != "24"), sides[0])


def check_game24(numbers: list[int], answer: Any) -> Verdict:
    text = answer_text(answer)
    if not text:
        return Verdict(correct=False, reason="no answer")
    expression = game24_expression(text)
    if len(expression) > _MAX_ANSWER_CHARS:
        return Verdict(correct=False, read_as=expression[:_MAX_ANSWER_CHARS], reason="expression too long")
    try:
        tree = ast.parse(expression, mode="eval")
    except (SyntaxError, ValueError):
        return Verdict(correct=False, read_as=expression, reason="not an arithmetic expression")
    used: list[int] = []
    try:
        value = _evaluate(tree.body, used)
    except _Rejected as exc:
        return Verdict(correct=False, read_as=expression, reason=str(exc))
    if sorted(used) != sorted(numbers):
        return Verdict(
            correct=False, read_as=expression, reason=f"uses {sorted(used)}, not each of {sorted(numbers)} once"
        )
    if value != 24:
        return Verdict(correct=False, read_as=expression, reason=f"equals {value}, not 24")
    return Verdict(correct=True, read_as=expression, reason="uses each number once and equals 24")


# ---------------------------------------------------------------- asdiv

_NUMBER = r"[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?"
_GOLD_NUMBER = re.compile(rf"^\s*\$?\s*(?P<num>{_NUMBER})(?:\s*/\s*(?P<den>\d+))?\s*%?(?P<unit>[^\d:]*)$")
_ANY_NUMBER = re.compile(r"(?<![\w.])(?P<num>-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+)(?:\s*/\s*(?P<den>\d+))?")
_CLOCK = re.compile(r"\b([ap])\.\s?m\.?", re.I)
_EXPRESSION_HINT = re.compile(r"\\|\^|sqrt|frac|[*/+()]")


def _fraction(num: str, den: str | None) -> Fraction:
    value = Fraction(num.replace(",", ""))
    return value / int(den) if den and int(den) else value


def _show(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{float(value):g}"


def gold_numbers(gold: str) -> list[tuple[Fraction, int]] | None:
    """(value, decimals written) of each ';'-separated part, or None when a part is not a number."""
    parts: list[tuple[Fraction, int]] = []
    for part in gold.split(";"):
        match = _GOLD_NUMBER.match(part)
        if not match or not re.search(r"\d", match["num"]):
            return None
        decimals = len(match["num"].partition(".")[2])
        parts.append((_fraction(match["num"], match["den"]), decimals))
    return parts


def _same_number(predicted: Fraction, gold: Fraction, decimals: int) -> bool:
    """Exact, or equal up to float noise, or rounded to the gold's 2+ written decimals (gold '3.333')."""
    if predicted == gold or abs(predicted - gold) <= Fraction(1, 10**6) * max(Fraction(1), abs(gold)):
        return True
    return decimals >= 2 and round(predicted, decimals) == gold


def _math_verify(gold: str, predicted: str) -> bool:
    """math-verify for expression answers; its signal-based timeout works only on the main thread."""
    from math_verify import parse, verify

    timeout = 5 if threading.current_thread() is threading.main_thread() else None
    gold_parsed = parse(gold, parsing_timeout=timeout)
    predicted_parsed = parse(predicted, parsing_timeout=timeout)
    return bool(gold_parsed and predicted_parsed and verify(gold_parsed, predicted_parsed, timeout_seconds=timeout))


def _clock_text(text: str) -> str:
    return normalize_text(_CLOCK.sub(lambda m: f"{m[1].lower()}m", text))


def check_asdiv(gold: str, answer: Any) -> Verdict:
    text = answer_text(answer)
    if not text:
        return Verdict(correct=False, reason="no answer")
    text = text[:_MAX_ANSWER_CHARS]
    expected = gold_numbers(gold)
    if expected is None:
        same = _clock_text(text) == _clock_text(gold)
        return Verdict(correct=same, read_as=text, reason="text match" if same else "text differs")
    found = [_fraction(m["num"], m["den"]) for m in _ANY_NUMBER.finditer(text)]
    if len(found) == len(expected):
        same = all(_same_number(p, g, d) for p, (g, d) in zip(found, expected))
        read_as = "; ".join(_show(p) for p in found)
        return Verdict(correct=same, read_as=read_as, reason="numbers match" if same else "numbers differ")
    if len(expected) == 1 and _EXPRESSION_HINT.search(text) and _math_verify(gold.split(";")[0], text):
        return Verdict(correct=True, read_as=text, reason="math-verify: equivalent expression")
    return Verdict(correct=False, read_as=text, reason=f"found {len(found)} numbers, expected {len(expected)}")


# ---------------------------------------------------------------- nq


def check_nq(golds: list[str], answer: Any) -> Verdict:
    candidates = [answer_text(a) for a in answer] if isinstance(answer, list) else [answer_text(answer)]
    predicted = {normalize_text(c[:_MAX_ANSWER_CHARS]) for c in candidates if c}
    if not predicted:
        return Verdict(correct=False, reason="no answer")
    hit = next((g for g in golds if normalize_text(g) in predicted), None)
    return Verdict(
        correct=hit is not None,
        read_as=" | ".join(sorted(predicted)),
        reason=f"matches {hit!r}" if hit is not None else "matches no gold answer",
    )


# ---------------------------------------------------------------- yesno

_LABELS = {
    "yes": "yes", "true": "yes", "correct": "yes",
    "no": "no", "false": "no", "incorrect": "no",
    "maybe": "maybe", "uncertain": "maybe", "unclear": "maybe", "possibly": "maybe", "perhaps": "maybe",
}  # fmt: skip
_SHORT_ANSWER_WORDS = 8


def yesno_label(answer: Any) -> str | None:
    """'yes', 'no' or 'maybe' from 'Yes.', True, 'False', 'No, it is not.', 'It is true': the first
    word when it is a label, else the one label a short answer names; None for a passage or a number."""
    text = answer_text(answer)
    words = normalize_text(text[:_MAX_ANSWER_CHARS]).split() if text else []
    if words and words[0] in _LABELS:
        return _LABELS[words[0]]
    found = {_LABELS[w] for w in words if w in _LABELS}
    return found.pop() if len(words) <= _SHORT_ANSWER_WORDS and len(found) == 1 else None


def check_yesno(gold: str, answer: Any) -> Verdict:
    label = yesno_label(answer)
    if label is None:
        text = answer_text(answer)
        return Verdict(correct=False, read_as=text[:80] if text else None, reason="not a yes/no/maybe answer")
    same = label == gold
    return Verdict(correct=same, read_as=label, reason="label matches" if same else f"label {label!r}, gold {gold!r}")


def check_numeric(gold: str, answer: Any) -> Verdict:
    """The asdiv number comparison, for a gold that `file_gold` made sure is a number."""
    if gold_numbers(gold) is None:
        return Verdict(correct=False, reason=f"gold {gold!r} is not a number")
    return check_asdiv(gold, answer)


APPROX_TOLERANCE = Fraction(1, 1000)


def check_approx(gold: float | str, answer: Any) -> Verdict:
    """The answer's last written number ('75.11 g/mol', 'C3H9NO: 75.11') within 0.1 % of the gold;
    a formula's counts are not numbers of their own ('C3' is a word)."""
    text = answer_text(answer)
    found = list(_ANY_NUMBER.finditer(text[:_MAX_ANSWER_CHARS])) if text else []
    if not found:
        return Verdict(correct=False, read_as=text[:80] if text else None, reason="no number in the answer")
    parts = gold_numbers(gold) if isinstance(gold, str) else [(Fraction(repr(gold)), 0)]
    if not parts or len(parts) != 1:
        return Verdict(correct=False, reason=f"gold {gold!r} is not one number")
    predicted, expected = _fraction(found[-1]["num"], found[-1]["den"]), parts[0][0]
    close = abs(predicted - expected) <= APPROX_TOLERANCE * abs(expected)
    reason = "within 0.1 %" if close else "off by more than 0.1 %"
    return Verdict(correct=close, read_as=_show(predicted), reason=reason)


CHECKERS: dict[CheckerName, Callable[[Any, Any], Verdict]] = {
    "numeric": check_numeric,
    "exact": check_nq,
    "game24": check_game24,
    "asdiv": check_asdiv,
    "nq": check_nq,
    "yesno": check_yesno,
    "approx": check_approx,
}


def check(checker: CheckerName, gold: Any, answer: Any) -> Verdict:
    return CHECKERS[checker](gold, answer)


class CheckerNotFound(RuntimeUserError):
    """No checker of that name."""


def checker_named(name: str) -> CheckerName:
    """The checker a user named (`--checker`), or one error line listing the names there are."""
    for checker in CHECKERS:
        if checker == name:
            return checker
    raise CheckerNotFound(f"unknown checker {name!r}; choose one of: {', '.join(CHECKERS)}")


CHECKER_HELP: dict[CheckerName, str] = {
    "numeric": "the number, units and thousands commas ignored (42, '3.5 kg')",
    "exact": "the text after lower-casing and dropping punctuation and articles; a list: any of them",
    "game24": "an expression that makes 24 from the row's four numbers, each used once",
    "asdiv": "numbers as numeric does, other answers as text (ASDiv's mixed answers)",
    "nq": "as exact, against a list of accepted answers (Natural Questions)",
    "yesno": "the label yes, no or maybe (true/false count as yes/no)",
    "approx": "the answer's last number within 0.1 % of the gold number (a measured quantity)",
}
"""One line per checker, for `--help`: what a gold must be and what counts as the same answer."""


def _texts(value: Any) -> list[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str | int | float) and not isinstance(v, bool) for v in values):
        raise ValueError(f"answer {value!r} is not a text, a number or a list of them")
    return [str(v) for v in values]


def _number_text(value: Any) -> str:
    """'0.00001' for 1e-05: the checker reads written numbers, not Python's float notation."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return format(Decimal(repr(value)), "f")
    if isinstance(value, str) and gold_numbers(value) is not None:
        return value
    raise ValueError(f"answer {value!r} is not a number")


def _puzzle(value: Any) -> list[int]:
    numbers = value.replace(",", " ").split() if isinstance(value, str) else value
    try:
        puzzle = [int(n) for n in numbers] if isinstance(numbers, list) else []
    except (TypeError, ValueError):
        puzzle = []
    if len(puzzle) != 4:
        raise ValueError(f"answer {value!r} is not four whole numbers")
    return puzzle


def _label(value: Any) -> str:
    label = _LABELS.get(normalize_text(answer_text(value) or ""))
    if label is None:
        raise ValueError(f"answer {value!r} is not yes, no or maybe")
    return label


def file_gold(checker: CheckerName, value: Any) -> Any:
    """A user's file answer in the form `checker` compares, or ValueError saying why it cannot be:
    a typo in the gold should stop the run before the model loads, not score as a wrong answer."""
    match checker:
        case "numeric" | "approx":
            return _number_text(value)
        case "exact" | "nq":
            return _texts(value)
        case "asdiv":
            return "; ".join(_texts(value))
        case "game24":
            return _puzzle(value)
        case "yesno":
            return _label(value)
