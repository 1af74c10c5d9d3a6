"""Checks on a final answer before the run returns it: the form the task asks for, and what the
run's own tools already said about it.

Small models turn a fitting tool's result into a wrong answer in a few recurring ways (issue 27,
docs/agent.md): they answer the target number a puzzle gave (`final_answer(24)` for "make 24"),
a value where the task asks for an expression, a float where it asks for a fraction, or an
expression that their own `check_24` call had just rejected. Each is refused with the reason, and
the model gets another step; a refuted answer is never returned as if it were right.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from pydantic import BaseModel

from runtime.retrieval.models import DOC_CLOSE, DOC_OPEN
from runtime.tools import ToolCall


class Refusal(BaseModel):
    """Why a final answer is not accepted; `firm`: never, however often the model insists."""

    reason: str
    firm: bool = False

_TARGET = re.compile(
    r"\b(?:make|makes|making|get|gets|reach|reaches|obtain|equal|equals|total)\s+(?:exactly\s+)?(-?\d+)\b", re.I
)
_ASKS_EXPRESSION = re.compile(r"\bexpression\b", re.I)
_NUMBERS_GIVEN = re.compile(r"\d+\s*,?\s+(?:and\s+)?\d+\s*,?\s+(?:and\s+)?\d+", re.I)
"""Three or more numbers listed in a row ("4 7 8 8", "4, 7, 8 and 8"): a puzzle's inputs."""
_SECOND_QUESTION = re.compile(r"[,;]\s*and\s+(?:what|which|who|whom|when|where|how)\b|\?\s+(?:what|which|who|when|where|how)\b", re.I)
"""A second question in the task ("Which planet ..., and who wrote ...?")."""
_ASKS_FRACTION = re.compile(r"\b(?:as|in)\s+(?:a|an)\s+(?:exact\s+|simplified\s+|reduced\s+)?fraction\b", re.I)


def _number(value: Any) -> Fraction | None:
    """The answer as an exact number if it is one (42, 42.0, "42"), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return Fraction(value)
        except (ValueError, OverflowError):
            return None
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*", value):
        return Fraction(value.strip())
    return None


def _atoms(value: Any) -> list[str]:
    """The scalar values inside a JSON value, as text."""
    if isinstance(value, dict):
        return [a for v in value.values() for a in _atoms(v)]
    if isinstance(value, list | tuple):
        return [a for v in value for a in _atoms(v)]
    return [str(value)]


def foreign_values(question: str, arguments: dict[str, Any]) -> list[str]:
    """The numbers in the arguments that the question does not write, when others are the task's
    (the 0.5B model asked `solve_24([4, 4, 9, 12], 30)` for a puzzle that makes 24); a call with
    none of the task's numbers (`retrieve(query, k=3)`) is not judged."""
    words = set(re.findall(r"\d+(?:\.\d+)?|\w+", question.lower()))  # "24." at a sentence's end is 24
    numbers = [atom for atom in _atoms(arguments) if _number(atom) is not None]
    foreign = [atom for atom in numbers if atom.lower() not in words]
    return foreign if len(foreign) < len(numbers) else []


def uses_task_values(question: str, arguments: dict[str, Any]) -> bool:
    """Every number in the arguments is written in the question, and there is one (a call made
    for this task's values, not a search phrased by the model)."""
    words = set(re.findall(r"\d+(?:\.\d+)?|\w+", question.lower()))
    numbers = [atom for atom in _atoms(arguments) if _number(atom) is not None]
    return bool(numbers) and all(atom.lower() in words for atom in numbers)


def copied_example(question: str, example_args: dict[str, Any], calls: list[ToolCall], tool: str) -> ToolCall | None:
    """A call of `tool` with exactly the demonstration's arguments although the task does not
    contain them: the 0.5B model copied `solve_24(numbers=[1, 2, 3, 5])` from the hint and
    answered that puzzle's expression."""
    if uses_task_values(question, example_args):
        return None
    return next((c for c in calls if c.name == tool and c.arguments == example_args), None)


def _normal(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("×", "*").replace("÷", "/")


def refuted_by(answer: Any, calls: list[ToolCall]) -> ToolCall | None:
    """A check made in this run that rejected this very answer: a tool call that was given the
    answer (as a string argument) and returned `{"ok": False, ...}`."""
    if not isinstance(answer, str) or not answer.strip():
        return None
    for call in reversed(calls):
        result = call.result
        if not isinstance(result, dict) or result.get("ok") is not False:
            continue
        if any(isinstance(v, str) and _normal(v) == _normal(answer) for v in call.arguments.values()):
            return call
    return None


def form_problem(question: str, answer: Any) -> str | None:
    """Why `answer` is not in the form `question` asks for, or None when it may be."""
    value = _number(answer)
    if value is not None and _NUMBERS_GIVEN.search(question):
        if value in {Fraction(m) for m in _TARGET.findall(question)}:
            return (
                f"{answer} is the target the task gives, not an answer: the task asks how to make it, so "
                "answer with the expression (a string) that your code found, e.g. final_answer(result)"
            )
        if _ASKS_EXPRESSION.search(question) or _TARGET.search(question):
            return "the task asks for an expression; pass the expression your code found as a string"
    if _SECOND_QUESTION.search(question) and not isinstance(answer, list | dict):
        return "the task asks more than one thing: answer every part, e.g. final_answer(first, second)"
    if isinstance(answer, float) and _ASKS_FRACTION.search(question):
        return (
            f"{answer} is a decimal but the task asks for a fraction; compute it with fractions.Fraction "
            "and answer with str(the_fraction), e.g. final_answer(str(Fraction(5, 36)))"
        )
    return None


def is_passage(answer: Any) -> bool:
    """The answer holds retrieved text still between its quote tags: the model answered with the
    passages (or a slice of one) instead of what they say (an own-documents run answered the whole
    `retrieve` result)."""
    return any(DOC_OPEN in atom or DOC_CLOSE in atom for atom in _atoms(answer))


def whole_result(question: str, answer: Any, calls: list[ToolCall]) -> ToolCall | None:
    """The call whose whole structured result the answer is, when the task asks one thing: the
    1.5B model answered ASDiv's "how much money ...?" with `evaluate`'s
    `{'exact': '139', 'decimal': '139'}`, which a user (and the checker) cannot read as 139."""
    if not isinstance(answer, dict) or not answer or _SECOND_QUESTION.search(question):
        return None
    return next((c for c in reversed(calls) if c.error is None and c.result == answer), None)


def copied_from_examples(answer: Any, shown: str, question: str, worked: str = "") -> bool:
    """The answer is one the prompt's examples give and the task does not mention it: small models
    answer it when they have nothing better (`runtime solve ""` answered the worked example's 2431;
    a docstring's "8 / (3 - 8 / 3)" was answered for another puzzle). A number counts only when it
    is the worked example's answer `worked`: numbers such as 100 or 105 in a tool's docstring, or
    the `100` in the example's `range(10, 100)`, were right answers to ASDiv problems."""
    if isinstance(answer, bool) or not isinstance(answer, str | int | float):
        return False
    text = str(answer).strip()
    if len(text) < 3 or text in question:
        return False
    number = _number(answer)
    if number is not None:
        return number == _number(worked)
    return text in shown


def answer_problem(
    question: str, answer: Any, calls: list[ToolCall], shown: str = "", worked: str = ""
) -> Refusal | None:
    """The reason to refuse a final answer, or None to accept it. `shown`: the text the model was
    shown (its system prompt and tool demonstration); `worked`: the worked example's answer."""
    call = refuted_by(answer, calls)
    if call is not None:
        assert isinstance(call.result, dict)
        reason = call.result.get("reason") or "it is wrong"
        return Refusal(
            reason=f"your own {call.name} call rejected {answer!r} ({reason}); do not answer it, find one that passes",
            firm=True,
        )
    if answer is None or (isinstance(answer, str) and not answer.strip()):  # never returned: the run ends without one (exit 3)
        return Refusal(reason=f"final_answer({answer!r}) gives no answer: your code found nothing yet; try another way", firm=True)
    if is_passage(answer):
        return Refusal(
            reason="that is retrieved text, not an answer: read the passages and answer the question in a few words "
            "with what they say, e.g. final_answer(\"the name, number or date they give\")"
        )
    whole = whole_result(question, answer, calls)
    if whole is not None:
        key = "decimal" if "decimal" in answer else next(iter(answer))
        return Refusal(
            reason=f"that is {whole.name}'s whole result; answer with the one value the question asks for, "
            f"e.g. final_answer(r[{key!r}]) where r is that result"
        )
    computed = any(c.error is None and c.result == answer for c in calls)  # "3 3 8 8" is solve_24's own example
    if copied_from_examples(answer, shown, question, worked) and not computed:
        return Refusal(reason=f"{answer!r} is the answer of an example you were shown, not of this task")
    problem = form_problem(question, answer)
    if problem is None:
        return None
    return Refusal(reason=problem, firm=problem.startswith(f"{answer} is the target"))
