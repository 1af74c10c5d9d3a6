"""Extract: the functions a teacher defined in successful trajectories, with its calls as test cases.

Definitions come from the code actions with `ast` (never by running them here). The calls and
their inputs and outputs are recorded by replaying the trajectory's actions in the sandbox with
every call of a teacher-defined function routed through a recorder, so a call like
`solve(numbers)` is caught with the value `numbers` really had. Each function is then written
out self-contained: the imports, literal constants and helper functions it uses, then its def.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from runtime.distill.records import Candidate, Case, Trajectory, digest
from runtime.sandbox import Sandbox, SandboxPolicy

MAX_CASES = 8
"""Cases kept per function: enough to pin its behaviour, few enough to keep the checks quick."""

_RECORDS_PER_FUNCTION = 200
_MAX_RECORD_CHARS = 4000

_RECORDER = f"""
import json as distill_json
distill_calls = []
distill_seen = {{}}
distill_at = [0, 0]

def distill_record(distill_name, distill_fn, *args, **kwargs):
    try:
        before = distill_json.dumps([list(args), kwargs])
    except Exception:
        before = None
    distill_at[1] += 1
    try:
        result = distill_fn(*args, **kwargs)
    finally:
        distill_at[1] -= 1
    count = distill_seen.get(distill_name, 0)
    if before is not None and count < {_RECORDS_PER_FUNCTION}:
        try:
            after = distill_json.dumps(result)
        except Exception:
            after = None
        if after is not None and len(before) + len(after) < {_MAX_RECORD_CHARS}:
            distill_seen[distill_name] = count + 1
            distill_calls.append([distill_name, distill_at[0], distill_at[1], before, after])
    return result
"""


@dataclass
class Definition:
    name: str
    step: int
    node: ast.FunctionDef
    source: str


@dataclass
class StepFacts:
    """What one code action defines at its top level."""

    defs: list[Definition] = field(default_factory=list)
    imports: list[tuple[set[str], str]] = field(default_factory=list)
    constants: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    name: str
    step: int
    depth: int
    args: list[Any]
    kwargs: dict[str, Any]
    output: Any


def _toolable(node: ast.FunctionDef) -> bool:
    """A plain function a box could serve: no decorators, no *args/**kwargs/positional-only, no final_answer."""
    a = node.args
    if node.decorator_list or a.vararg or a.kwarg or a.posonlyargs:
        return False
    return "final_answer" not in _names(node)


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def free_names(node: ast.FunctionDef) -> set[str]:
    """Names the function reads but neither takes as a parameter nor binds itself: what it needs
    from the module (close enough to Python's scoping for teacher-sized functions)."""
    params = {a.arg for a in ast.walk(node.args) if isinstance(a, ast.arg)}
    bound = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {n.name for n in ast.walk(node) if isinstance(n, ast.FunctionDef | ast.ClassDef) and n is not node}
    bound |= {name for n in ast.walk(node) if isinstance(n, ast.Import | ast.ImportFrom) for name in _bound_names(n)}
    return _names(node) - params - bound


def _bound_names(node: ast.Import | ast.ImportFrom) -> set[str]:
    return {(alias.asname or alias.name).split(".")[0] for alias in node.names}


def step_facts(code: str, step: int) -> StepFacts:
    """Top-level defs, imports and literal constants of one action (an unparsable action has none)."""
    facts = StepFacts()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return facts
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and _toolable(node):
            source = ast.get_source_segment(code, node) or ast.unparse(node)
            facts.defs.append(Definition(node.name, step, node, source))
        elif isinstance(node, (ast.Import, ast.ImportFrom)) and not (isinstance(node, ast.ImportFrom) and node.level):
            facts.imports.append((_bound_names(node), ast.get_source_segment(code, node) or ast.unparse(node)))
        elif isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            try:
                ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
                continue
            facts.constants[node.targets[0].id] = ast.get_source_segment(code, node) or ast.unparse(node)
    return facts


class _RouteCalls(ast.NodeTransformer):
    """`f(a, b=c)` becomes `distill_record('f', f, a, b=c)` for every teacher-defined f."""

    def __init__(self, names: set[str]) -> None:
        self.names = names

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in self.names:
            return ast.Call(
                func=ast.Name("distill_record", ast.Load()),
                args=[ast.Constant(node.func.id), node.func, *node.args],
                keywords=node.keywords,
            )
        return node


def replay_code(code: str, step: int, names: set[str]) -> str:
    """One action rewritten to record calls, tagged with its step number."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return code  # it failed for the teacher too; run it as it was
    tree = ast.fix_missing_locations(_RouteCalls(names).visit(tree))
    return f"distill_at[0] = {step}\n{ast.unparse(tree)}"


def record_calls(codes: list[str], names: set[str], policy: SandboxPolicy) -> list[Call]:
    """Replay the actions in a fresh sandbox and return every recorded call (capped per function)."""
    with Sandbox(policy) as sandbox:
        sandbox.run(_RECORDER)
        for step, code in enumerate(codes):
            sandbox.run(replay_code(code, step, names))
        dumped = sandbox.run("final_answer(distill_calls)")
    calls = []
    for name, step, depth, before, after in dumped.answer if isinstance(dumped.answer, list) else []:
        args, kwargs = json.loads(before)
        calls.append(Call(name, step, depth, args, kwargs, json.loads(after)))
    return calls


def bind(node: ast.FunctionDef, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The call's arguments by parameter name, or None when they do not fit the signature."""
    positional = [p.arg for p in node.args.args]
    if len(args) > len(positional):
        return None
    inputs = dict(zip(positional, args))
    allowed = set(positional) | {p.arg for p in node.args.kwonlyargs}
    for key, value in kwargs.items():
        if key not in allowed or key in inputs:
            return None
        inputs[key] = value
    return inputs


def _latest(defs: list[Definition], name: str, step: int) -> Definition | None:
    """The definition of `name` in effect at `step` (the last one made at or before it)."""
    found = [d for d in defs if d.name == name and d.step <= step]
    return found[-1] if found else None


def assemble(target: Definition, facts: list[StepFacts], as_of: int, modules: tuple[str, ...] = ()) -> str:
    """The function with what it uses: imports, literal constants, helper defs (as they were at `as_of`).
    An allowed module it uses without importing (the sandbox has them imported) gets its import."""
    defs = [d for f in facts[: as_of + 1] for d in f.defs]
    constants = {k: v for f in facts[: as_of + 1] for k, v in f.constants.items()}
    helpers: dict[str, Definition] = {}
    pending = [target]
    while pending:
        used = free_names(pending.pop().node)
        for name in sorted(used - helpers.keys() - {target.name}):
            helper = _latest(defs, name, as_of)
            if helper is not None:
                helpers[name] = helper
                pending.append(helper)
    used = free_names(target.node).union(*(free_names(h.node) for h in helpers.values()))
    imports = dict.fromkeys(text for f in facts[: as_of + 1] for bound, text in f.imports if bound & used)
    imported = {name for f in facts[: as_of + 1] for bound, _ in f.imports for name in bound}
    local = imported | constants.keys() | helpers.keys()
    imports.update(dict.fromkeys(f"import {m}" for m in sorted(used - local) if m in modules and "." not in m))
    parts = [
        "\n".join(imports),
        "\n".join(constants[n] for n in sorted(used & constants.keys() - helpers.keys())),
        *(helpers[n].source for n in sorted(helpers)),
        target.source,
    ]
    return "\n\n".join(p for p in parts if p) + "\n"


def _cases(calls: list[Call], target: Definition, question: str) -> list[Case]:
    """Distinct calls made by the teacher's own top-level code: a helper that only other functions
    call is part of their code, not a tool, and a recursion's inner calls are not uses."""
    cases: dict[str, Case] = {}
    for call in calls:
        inputs = bind(target.node, call.args, call.kwargs) if call.depth == 0 else None
        if inputs is not None:
            case = Case(inputs=inputs, output=call.output, question=question)
            cases.setdefault(json.dumps(inputs, sort_keys=True), case)
    return list(cases.values())[:MAX_CASES]


def extract_trajectory(trajectory: Trajectory, policy: SandboxPolicy) -> list[Candidate]:
    """Every toolable function of one trajectory, each version with the calls made while it was in effect."""
    codes = [step.code for step in trajectory.trace.steps if step.code]
    facts = [step_facts(code, i) for i, code in enumerate(codes)]
    defs = [d for f in facts for d in f.defs]
    if not defs:
        return []
    calls = record_calls(codes, {d.name for d in defs}, policy)
    by_version: dict[int, list[Call]] = defaultdict(list)
    for call in calls:
        version = _latest(defs, call.name, call.step)
        if version is not None:
            by_version[id(version)].append(call)
    candidates = []
    for target in defs:
        mine = by_version.get(id(target), [])
        as_of = max([target.step, *(c.step for c in mine)])
        code = assemble(target, facts, as_of, policy.allowed_modules)
        params = [p.arg for p in [*target.node.args.args, *target.node.args.kwonlyargs]]
        candidates.append(
            Candidate(
                key=digest(ast.dump(ast.parse(code))),
                name=target.name,
                params=params,
                code=code,
                origins=[trajectory.id],
                task=trajectory.question,
                cases=_cases(mine, target, trajectory.question),
            )
        )
    return candidates


def merge(candidates: list[Candidate]) -> list[Candidate]:
    """Identical functions from different trajectories become one, with all their cases."""
    merged: dict[str, Candidate] = {}
    for candidate in candidates:
        known = merged.get(candidate.key)
        if known is None:
            merged[candidate.key] = candidate.model_copy(deep=True)
            continue
        known.origins = list(dict.fromkeys([*known.origins, *candidate.origins]))
        seen = {json.dumps(c.inputs, sort_keys=True) for c in known.cases}
        extra = [c for c in candidate.cases if json.dumps(c.inputs, sort_keys=True) not in seen]
        known.cases = [*known.cases, *extra][:MAX_CASES]
    return list(merged.values())


def extract(trajectories: list[Trajectory], policy: SandboxPolicy) -> list[Candidate]:
    """Candidates from the successful trajectories only: a failed run's helpers taught nothing."""
    found = [c for t in trajectories if t.succeeded for c in extract_trajectory(t, policy)]
    return merge(found)
