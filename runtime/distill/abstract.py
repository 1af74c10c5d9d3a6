"""Abstract: the teacher rewrites each validated function into a general, documented, typed tool.

Task-specific constants become parameters with defaults, the name and docstring say what the tool
is for, every parameter gets a JSON type. The rewrite must still reproduce every recorded case,
in the sandbox and through FastMCP; when it does not (or there is no teacher), the function is
kept as the teacher first wrote it, with types inferred from its cases and a generated docstring.
"""

from __future__ import annotations

import ast
import json
import re
from typing import Any

from runtime.distill.emit import serve_check
from runtime.distill.records import Candidate, Case, DistilledTool, digest
from runtime.distill.validate import check_cases, open_runner
from runtime.model.base import ChatMessage, Generation, Model, Prompt, Sampling
from runtime.sandbox import SandboxPolicy

PROMPT_VERSION = 1
MAX_TOKENS = 1024
SHOWN_CASES = 3

_FENCE = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:```|\Z)", re.DOTALL)

TOOL_RULES = """- its name is a clear snake_case phrase that says what it does;
- every parameter and the return value have type hints built from int, float, str, bool, None,
  list[...] and dict[str, ...];
- its docstring starts with one sentence saying what the tool is for, then one example line
  "name(arguments) gives result.", then an "Args:" section with one line per parameter;
- it returns its result and never prints;
- it imports only these modules: {modules}.
Reply with one ```python block: the imports, any helper functions, and the tool's function last."""

ABSTRACT_SYSTEM = (
    "You turn a helper function into a general tool that other tasks of the same kind can reuse.\n"
    "Rewrite the function so that:\n"
    "- it keeps its parameters in the same order (you may rename them), and every task-specific\n"
    "  constant in its body becomes a new parameter at the end, with the current value as default;\n"
    "- it behaves exactly as before: the same arguments give the same result;\n" + TOOL_RULES
)


class ToolForm(ValueError):
    """The teacher's code is not a usable tool; the message says why (recorded in the artifact)."""


def ask(model: Model, system: str, user: str, seed: int = 0) -> str:
    """One greedy chat turn, outside the agent loop: the teacher writes code, nothing runs it here."""
    prompt = Prompt(messages=[ChatMessage(role="system", content=system), ChatMessage(role="user", content=user)])
    text = ""
    for item in model.stream(prompt, Sampling(max_tokens=MAX_TOKENS, seed=seed, stop=[model.end_of_turn])):
        if isinstance(item, Generation):
            text = item.text
    return text


def code_block(reply: str) -> str:
    """The first fenced block of a reply, else the reply itself (some models skip the fence)."""
    match = _FENCE.search(reply)
    return (match.group(1) if match else reply).strip() + "\n"


def call_text(name: str, case: Case) -> str:
    args = ", ".join(f"{k}={json.dumps(v)}" for k, v in case.inputs.items())
    return f"{name}({args}) returned {json.dumps(case.output)}"[:400]


def tool_def(tree: ast.Module) -> ast.FunctionDef:
    """The tool in a block of code: the last top-level function no other function there calls."""
    defs = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    if not defs:
        raise ToolForm("the reply defines no function")
    called = {n.id for d in defs for n in ast.walk(d) if isinstance(n, ast.Name) and n.id != d.name}
    roots = [d for d in defs if d.name not in called]
    return (roots or defs)[-1]


def params_of(node: ast.FunctionDef) -> list[str]:
    return [p.arg for p in [*node.args.args, *node.args.kwonlyargs]]


def check_form(node: ast.FunctionDef, at_least: int | None = None) -> None:
    """What the box format needs (typed, documented) and, for a rewrite of a function with
    `at_least` parameters, what mapping its cases needs: those first, any new ones defaulted."""
    a = node.args
    if a.vararg or a.kwarg or a.posonlyargs:
        raise ToolForm(f"{node.name} takes *args, **kwargs or positional-only parameters")
    untyped = [p.arg for p in [*a.args, *a.kwonlyargs] if p.annotation is None]
    if untyped or node.returns is None:
        raise ToolForm(f"{node.name} lacks type hints for {', '.join(untyped) or 'its return value'}")
    if not (ast.get_docstring(node) or "").strip():
        raise ToolForm(f"{node.name} has no docstring")
    if at_least is None:
        return
    if len(a.args) < at_least:
        raise ToolForm(f"{node.name} has fewer parameters than the function it rewrites")
    required = len(a.args) - len(a.defaults)
    if required > at_least:
        raise ToolForm(f"{node.name}'s new parameters need defaults")


class _NoPrints(ast.NodeTransformer):
    """Box tools run inside the runtime's process, where a print would land on the user's stdout."""

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        call = node.value
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "print":
            return ast.Pass()
        return node


def without_prints(tree: ast.Module) -> ast.Module:
    return ast.fix_missing_locations(_NoPrints().visit(tree))


def renamed_cases(cases: list[Case], old: list[str], new: list[str]) -> list[Case]:
    """Recorded inputs under the new parameter names (parameters keep their positions)."""
    names = dict(zip(old, new))
    return [c.model_copy(update={"inputs": {names[k]: v for k, v in c.inputs.items()}}) for c in cases]


def verify(tool: DistilledTool, policy: SandboxPolicy) -> str | None:
    """Why the tool fails its cases in the sandbox or through FastMCP, or None when it passes both."""
    with open_runner(tool.code, policy) as runner:
        passed, reasons = check_cases(runner, tool.name, tool.cases)
    if passed < len(tool.cases):
        return "; ".join(reasons) or "cases fail"
    return serve_check([tool], policy.timeout_s)


# ---------------------------------------------------------------- without the teacher


def _type_of(value: Any) -> str:
    match value:
        case None:
            return "None"
        case bool():
            return "bool"
        case int():
            return "int"
        case float():
            return "float"
        case str():
            return "str"
        case list():
            return f"list[{json_type(value)}]" if value else "list"
        case _:
            return "dict"


def json_type(values: list[Any]) -> str:
    """The annotation that fits every value seen: 'int', 'list[int | float]', 'str | None'."""
    kinds = list(dict.fromkeys(_type_of(v) for v in values))
    if sum(k.startswith("list") for k in kinds) > 1:
        kinds = [k for k in kinds if not k.startswith("list")] + ["list"]
    return " | ".join(kinds) or "str"


_UNSET = object()


def _with_defaults(args: ast.arguments) -> list[tuple[ast.arg, ast.expr | None]]:
    padded = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
    return [*zip(args.args, padded), *zip(args.kwonlyargs, args.kw_defaults)]


def settled_defaults(tool: DistilledTool) -> DistilledTool:
    """The tool with a default for each trailing parameter that every recorded call (two or more)
    gave the same plain value: Game of 24's `target`, always 24. A small student made to write it
    wrote a number from its own thought instead (31, the sum of the puzzle's numbers)."""
    if len(tool.cases) < 2:
        return tool
    tree = ast.parse(tool.code)
    node = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == tool.name][-1]
    args = node.args.args
    settled: list[ast.expr] = []
    for arg in reversed(args[1 : len(args) - len(node.args.defaults)]):  # the first stays the caller's to give
        values = [c.inputs.get(arg.arg, _UNSET) for c in tool.cases]
        first = values[0]
        plain = isinstance(first, int | float | str | bool)
        if not plain or any(type(v) is not type(first) or v != first for v in values):
            break
        settled.insert(0, ast.Constant(first))
    if not settled:
        return tool
    node.args.defaults = [*settled, *node.args.defaults]
    return tool.model_copy(update={"code": ast.unparse(ast.fix_missing_locations(tree)) + "\n"})


def _literal_values(default: ast.expr | None) -> list[Any]:
    """A never-passed parameter's type comes from its default, when that is a literal."""
    try:
        return [ast.literal_eval(default)] if default is not None else []
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return []


def annotate(candidate: Candidate, note: str = "") -> DistilledTool:
    """The teacher's own function made servable: types from its cases, a docstring that says where it came from."""
    tree = without_prints(ast.parse(candidate.code))
    node = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == candidate.name][-1]
    for param, default in _with_defaults(node.args):
        seen = [c.inputs[param.arg] for c in candidate.cases if param.arg in c.inputs] or _literal_values(default)
        param.annotation = ast.parse(json_type(seen), mode="eval").body
    returns = json_type([c.output for c in candidate.cases])
    node.returns = ast.parse(returns if "None" in returns else f"{returns} | None", mode="eval").body
    first = candidate.cases[0]
    summary = (ast.get_docstring(node) or "").strip().split("\n\n")[0] or (
        f"{candidate.name.replace('_', ' ').capitalize()}: a helper the teacher wrote for tasks like "
        f'"{" ".join(candidate.task.split())[:160]}"'
    )
    params = params_of(node)
    leading = params[: len(first.inputs)] == list(first.inputs)  # positional unless a parameter is skipped
    args = ", ".join(json.dumps(v) if leading else f"{k}={json.dumps(v)}" for k, v in first.inputs.items())
    lines = [f"        {p}: For example {json.dumps(first.inputs[p])[:60]}." for p in params if p in first.inputs]
    example = f"{candidate.name}({args}) gives {json.dumps(first.output)[:200]}."
    doc = f"{summary}\n\n    {example}\n\n    Args:\n" + "\n".join(lines) + "\n    "
    body = node.body[1:] if ast.get_docstring(node) is not None else node.body
    node.body = [ast.Expr(ast.Constant(doc)), *body] if body else [ast.Expr(ast.Constant(doc)), ast.Pass()]
    return DistilledTool(
        key="",
        name=candidate.name,
        params=params_of(node),
        code=ast.unparse(ast.fix_missing_locations(tree)) + "\n",
        cases=candidate.cases,
        how="annotated",
        sources=[candidate.name],
        note=note,
    )


# ---------------------------------------------------------------- with the teacher


def abstract_prompt(candidate: Candidate) -> str:
    calls = "\n".join(call_text(candidate.name, c) for c in candidate.cases[:SHOWN_CASES])
    return f"The function:\n```python\n{candidate.code.strip()}\n```\nRecorded calls:\n{calls}"


def rewrite(candidate: Candidate, reply: str) -> DistilledTool:
    """The teacher's reply as a tool, its cases renamed to its parameters; ToolForm if it cannot be one."""
    try:
        tree = without_prints(ast.parse(code_block(reply)))
    except SyntaxError as exc:
        raise ToolForm(f"the rewrite does not parse: {exc.msg} (line {exc.lineno})") from None
    node = tool_def(tree)
    check_form(node, len(candidate.params))
    params = params_of(node)
    positional = [p.arg for p in node.args.args]
    mapping = positional[: len(candidate.params)]
    return DistilledTool(
        key="",
        name=node.name,
        params=params,
        code=ast.unparse(tree) + "\n",
        cases=renamed_cases(candidate.cases, candidate.params, mapping),
        how="rewritten",
        sources=[candidate.name],
    )


def abstract_key(candidate: Candidate, teacher: str | None) -> str:
    """Everything the rewrite depends on: the prompt, the code, its cases and task, the teacher."""
    return digest("abstract", PROMPT_VERSION, candidate.model_dump(exclude={"origins"}), teacher)


def abstract(candidate: Candidate, teacher: Model | None, modules: list[str], policy: SandboxPolicy) -> DistilledTool:
    """The teacher's rewrite if it reproduces every case, else the annotated original (its reason in `note`)."""
    key = abstract_key(candidate, teacher.name if teacher else None)
    note = "no teacher given"
    if teacher is not None:
        reply = ask(teacher, ABSTRACT_SYSTEM.format(modules=", ".join(modules)), abstract_prompt(candidate))
        try:
            tool = rewrite(candidate, reply)
        except ToolForm as exc:
            note = f"teacher rewrite rejected: {exc}"
        else:
            problem = verify(tool, policy)
            if problem is None:
                return tool.model_copy(update={"key": key})
            note = f"teacher rewrite rejected: {problem}"[:600]
    fallback = annotate(candidate, note).model_copy(update={"key": key})
    problem = verify(fallback, policy)
    if problem is not None:
        return fallback.model_copy(update={"note": f"{note}; not servable: {problem}"[:600], "ok": False})
    return fallback
