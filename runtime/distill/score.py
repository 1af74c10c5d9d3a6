"""Score: every candidate tool is measured on held-out questions, and the box keeps what solves most.

Reproducing its own recorded calls shows a function is deterministic, not that it generalises:
the first distillation's `find_expression` passed every case and found an answer for only 19
of 100 test puzzles. So each version of a tool (the teacher's original, its rewrite, a cluster's
merge) is called on training questions the teacher never saw, with arguments made by *transfer*:
a recorded call's values that the task wrote are swapped, by their place in the task's text, for
the values the held-out task writes in the same places (`numbers=[4, 7, 8, 8], target=24` for
"Use 4 7 8 8 ... to make 24" becomes `numbers=[1, 5, 6, 10], target=24` for "Use 1 5 6 10 ...
to make 24"), and a word the task writes by aligning the two tasks' words (a formula for a
formula). The suite's checker judges what the tool returns. That needs tasks of one template (a
suite's rows); a case whose task writes a different count of numbers is not transferred.

A value the teacher worked out from the task ({'C': 9, 'H': 15, 'N': 1} for "C9H15N") is not
written in it, so no alignment can remake it. With a teacher model, such a call is *remade* by
the model from the example call (`Remaker`), as a student reading the tool's example would; one
remade call per question and shape of arguments serves every tool that takes such values.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from difflib import SequenceMatcher
from typing import Any

from pydantic import BaseModel, Field, computed_field

from runtime.distill.records import Case, DistilledTool, DistillError, digest
from runtime.distill.validate import open_runner
from runtime.eval.checkers import CheckerName, check
from runtime.eval.suites import SuiteItem
from runtime.model.base import ChatMessage, Generation, Model, Prompt, Sampling
from runtime.sandbox import SandboxPolicy

MAX_VERIFIED = 2
"""Held-out calls the checker accepted, added to a kept tool's examples (its self-test and the
demonstration a student's prompt can show)."""

MAX_DESCRIPTION = 500
"""The manifest's limit."""

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w)")
_WORD = re.compile(r"\w+(?:[-.'/+]\w+)*|[^\w\s]")
"""A word as a task writes it ('C2H4Cl2', '2-dichloroethane', 'g/mol') or one punctuation mark,
which anchors the alignment: '(' before a formula lines the two formulas up."""


class HeldOut(BaseModel):
    """Questions to score tools on (never taught on) and the checker that judges a tool's result."""

    name: str
    checker: CheckerName
    items: list[SuiteItem]


class Score(BaseModel):
    """How one version of a tool did on the held-out questions (score.jsonl)."""

    key: str
    name: str
    how: str
    tried: int = Field(description="Held-out questions a recorded call could be transferred to.")
    total: int
    solved_ids: list[str] = Field(default_factory=list, description="The held-out questions it solved.")
    verified: list[Case] = Field(default_factory=list, description="A few calls the checker accepted.")

    @computed_field  # type: ignore[prop-decorator]
    @property
    def solved(self) -> int:
        return len(self.solved_ids)


def task_numbers(text: str) -> list[str]:
    """The numbers a task writes, in order, as written ('24.' at a sentence's end is 24)."""
    return _NUMBER.findall(text)


def _as_value(written: str, like: Any) -> Any:
    number = float(written)
    return int(number) if isinstance(like, int) and number.is_integer() else number


class _Unaligned(Exception):
    """A call holds a number its task wrote, and the other task is of another template."""


def changed_words(source: str, target: str) -> dict[str, str]:
    """What `target` writes in place of each word or phrase of `source` that differs, found by
    aligning the two tasks' words ('chloroacetaldehyde (C2H3ClO)' against '1,2-dichloroethane
    (C2H4Cl2)' maps C2H3ClO to C2H4Cl2 and the one name to the other)."""
    old, new = list(_WORD.finditer(source)), list(_WORD.finditer(target))
    matcher = SequenceMatcher(None, [w.group() for w in old], [w.group() for w in new], autojunk=False)
    changed: dict[str, str] = {}
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op != "replace":
            continue
        if i2 - i1 == j2 - j1:
            changed.update((old[i].group(), new[j].group()) for i, j in zip(range(i1, i2), range(j1, j2)))
        changed[source[old[i1].start() : old[i2 - 1].end()]] = target[new[j1].start() : new[j2 - 1].end()]
    return changed


def transfer(inputs: dict[str, Any], source: str, target: str) -> dict[str, Any] | None:
    """The call recorded for task `source` remade for task `target`: every value `source` writes is
    replaced by what `target` writes in the same place (numbers by their order, a text by aligning
    the two tasks' words); other values stay. None when the call holds a number the task wrote but
    the tasks write different counts of numbers (not the same template)."""
    old, new = task_numbers(source), task_numbers(target)
    words = changed_words(source, target)
    aligned = bool(old) and len(old) == len(new)
    used: set[int] = set()

    def take(value: float) -> str | None:
        """What `target` writes where `source` first writes `value` (each place taken once)."""
        at = next((i for i, w in enumerate(old) if i not in used and float(w) == value), None)
        if at is None:
            return None
        if not aligned:
            raise _Unaligned
        used.add(at)
        return new[at]

    def swap(value: Any) -> Any:
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int | float):
            written = take(value)
            return value if written is None else _as_value(written, value)
        if isinstance(value, str):
            if value.strip() in words:
                return words[value.strip()]
            return _NUMBER.sub(lambda m: take(float(m.group())) or m.group(), value)
        if isinstance(value, list):
            return [swap(v) for v in value]
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        return value

    try:
        return {name: swap(value) for name, value in inputs.items()}
    except _Unaligned:
        return None


REMAKE_SYSTEM = (
    "You rewrite a function call for another task of the same kind: the same function and parameters, "
    "with the values of the new task in place of those of the first task, in the same form. "
    "Write the call only, on one line."
)
REMAKE_MAX_TOKENS = 200


def value_shape(value: Any) -> str:
    """A value's kind, with the kinds inside it: {'C': 9, 'H': 15} is 'dict[int]', a table of
    weights {'C': 12.01} 'dict[float]'."""
    if isinstance(value, dict):
        return f"dict[{'|'.join(sorted({value_shape(v) for v in value.values()}))}]"
    if isinstance(value, list | tuple):
        return f"list[{'|'.join(sorted({value_shape(v) for v in value}))}]"
    return type(value).__name__


class Remaker:
    """Remakes a recorded call for a held-out question with a model, once per question and shape of
    arguments: the versions of a tool, and tools that take the same kind of values under other
    names (`compound`, `molecule`: both element counts), share it, and greedy decoding gives one
    answer. The values are kept by position and named after the asking call's parameters."""

    def __init__(self, model: Model) -> None:
        self.model = model
        self.made: dict[tuple[tuple[str, ...], str], list[Any] | None] = {}

    def __call__(self, case: Case, question: str) -> dict[str, Any] | None:
        key = (tuple(value_shape(v) for v in case.inputs.values()), question)
        if key not in self.made:
            inputs = self._ask(case, question)
            complete = inputs is not None and set(inputs) == set(case.inputs)
            self.made[key] = [inputs[name] for name in case.inputs] if inputs and complete else None
        values = self.made[key]
        return dict(zip(case.inputs, values)) if values is not None else None

    def _ask(self, case: Case, question: str) -> dict[str, Any] | None:
        args = ", ".join(f"{name}={value!r}" for name, value in case.inputs.items())
        user = f"Task: {case.question}\nCall: tool({args})\n\nTask: {question}\nCall: tool(...) with its values"
        prompt = Prompt(
            messages=[ChatMessage(role="system", content=REMAKE_SYSTEM), ChatMessage(role="user", content=user)],
            continue_assistant="tool(",
        )
        text = ""
        for item in self.model.stream(prompt, Sampling(max_tokens=REMAKE_MAX_TOKENS, stop=["\n"])):
            if isinstance(item, Generation):
                text = item.text
        return call_inputs("tool(" + text, list(case.inputs))


def call_inputs(call: str, params: list[str]) -> dict[str, Any] | None:
    """The arguments of a written call `tool(...)` as a dict of plain values (positional ones named
    by `params`), or None when it is not one call of literals. A call that names every argument
    but under other names (`chemical=` for `compound=`, as small models write) is read by position."""
    try:
        tree = ast.parse(call.strip().rstrip(";"), mode="eval").body
    except SyntaxError:
        return None
    if not isinstance(tree, ast.Call) or len(tree.args) > len(params):
        return None
    try:
        inputs = {name: ast.literal_eval(arg) for name, arg in zip(params, tree.args)}
        named = {kw.arg: ast.literal_eval(kw.value) for kw in tree.keywords if kw.arg}
    except ValueError:
        return None
    if not set(named) <= set(params) and len(inputs) + len(named) == len(params):
        return inputs | dict(zip(params[len(inputs) :], named.values()))
    inputs |= named
    return inputs if set(inputs) <= set(params) else None


def score_key(tool: DistilledTool, held_out: HeldOut, remaker: str | None = None) -> str:
    """What a score depends on: the tool, the questions, and the model that remakes calls (if any)."""
    ids = [item.id for item in held_out.items]
    cases = [c.model_dump() for c in tool.cases]
    return digest("score", tool.code, tool.name, cases, held_out.checker, ids, *([remaker] if remaker else []))


def call_for(
    tool: DistilledTool, question: str, remake: Callable[[Case, str], dict[str, Any] | None] | None
) -> dict[str, Any] | None:
    """The tool's first recorded call remade for `question`: by transfer, or, where transfer
    cannot remake it (a number of the task's in a task of another template) or leaves its values
    unchanged for another task (values the teacher worked out), by `remake`."""
    for case in tool.cases:
        if not case.question:
            continue
        inputs = transfer(case.inputs, case.question, question)
        if remake is not None and case.inputs and inputs in (None, case.inputs):
            inputs = remake(case, question)
        if inputs is not None:
            return inputs
    return None


def score(
    tool: DistilledTool,
    held_out: HeldOut,
    policy: SandboxPolicy,
    remake: Callable[[Case, str], dict[str, Any] | None] | None = None,
) -> Score:
    """Call the tool on each held-out question (its first recorded call that fits, remade for it)."""
    tried = 0
    solved: list[str] = []
    verified: list[Case] = []
    with open_runner(tool.code, policy) as runner:
        for item in held_out.items:
            inputs = call_for(tool, item.question, remake)
            if inputs is None or runner.load_error:
                continue
            tried += 1
            got = runner.call(tool.name, inputs)
            if got.ok and got.output is not None and check(held_out.checker, item.gold, got.output).correct:
                solved.append(item.id)
                if len(verified) < MAX_VERIFIED:
                    verified.append(Case(inputs=inputs, output=got.output, question=item.question))
    return Score(
        key=score_key(tool, held_out, remake.model.name if isinstance(remake, Remaker) else None),
        name=tool.name,
        how=tool.how,
        tried=tried,
        total=len(held_out.items),
        solved_ids=solved,
        verified=verified,
    )


def describe(kept: list[tuple[DistilledTool, Score]], held_out: HeldOut) -> str:
    """The box's description: what each tool measurably does, so an importer sees it before trusting it."""
    parts = "; ".join(f"{tool.name} solved {found.solved} of {found.total} held-out questions" for tool, found in kept)
    text = (
        f"Tools distilled from a teacher's trajectories by `runtime box distill`, kept by measurement on "
        f"{held_out.name} questions the teacher never saw: {parts}."
    )
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 3] + "..."


def best_version(scored: list[tuple[DistilledTool, Score]]) -> tuple[DistilledTool, Score]:
    """The version that solves most; on a tie the earlier one (merged, then rewritten, then original)."""
    ranked = max(enumerate(scored), key=lambda item: (item[1][1].solved, -item[0]))
    return ranked[1]


def covering(best: list[tuple[DistilledTool, Score]], keep: int) -> list[tuple[DistilledTool, Score]]:
    """Tools in the order of what they add: the one that solves most, then each that solves the most
    questions the ones before it do not, while it adds at least one in twenty (and one). Two tools
    that solve the same questions are one tool twice, and a student given both picks either."""
    chosen: list[tuple[DistilledTool, Score]] = []
    covered: set[str] = set()
    rest = list(best)
    while rest and len(chosen) < keep:
        gain = [len(set(found.solved_ids) - covered) for _, found in rest]
        top = max(range(len(rest)), key=lambda i: (gain[i], rest[i][1].solved, -i))
        if gain[top] < max(1, rest[top][1].total // 20):
            break
        chosen.append(rest.pop(top))
        covered |= set(chosen[-1][1].solved_ids)
    return chosen


def with_verified(tool: DistilledTool, found: Score) -> DistilledTool:
    """The tool with its accepted held-out calls as extra examples: real uses, checked right."""
    known = {json.dumps(c.inputs, sort_keys=True) for c in tool.cases}
    new = [c for c in found.verified if json.dumps(c.inputs, sort_keys=True) not in known]
    return tool.model_copy(update={"cases": [*tool.cases, *new]})


def load_held_out(
    source: str, split: str, checker: CheckerName | None, limit: int, seed: int, taught: set[str]
) -> HeldOut:
    """`limit` questions of `source` (a suite's split or a QUESTIONS.jsonl) that are not among the
    `taught` ids, in a seeded order; they need a checker, since a tool's result is judged."""
    from runtime.distill.teach import load_teaching

    teaching = load_teaching(source, split, checker, None, seed)
    if teaching.checker is None:
        raise DistillError(f"scoring on {source} needs a checker to judge the tools' results: pass --checker")
    items = [item for item in teaching.items if item.id not in taught][:limit]
    if not items:
        raise DistillError(f"{source} has no questions left that the teacher was not taught on")
    return HeldOut(name=f"{teaching.name} ({teaching.split})", checker=teaching.checker, items=items)
