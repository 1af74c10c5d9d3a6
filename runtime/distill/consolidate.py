"""Consolidate: each cluster becomes one tool, written by the teacher to cover every member.

The merged tool must pass every member's recorded cases (called by parameter name, or by
position when the names differ). When it does not, or there is no teacher, the cluster keeps
its best single member: the one that passes most of the cluster's cases, which then also
carries the other members' cases it passes as extra examples.
"""

from __future__ import annotations

import ast
import json

from runtime.distill.abstract import (
    SHOWN_CASES,
    TOOL_RULES,
    ToolForm,
    ask,
    call_text,
    check_form,
    code_block,
    params_of,
    tool_def,
    verify,
    without_prints,
)
from runtime.distill.cluster import fit_inputs, required_params
from runtime.distill.emit import renamed_in
from runtime.distill.extract import MAX_CASES
from runtime.distill.records import Case, Cluster, DistilledTool, digest
from runtime.distill.validate import open_runner, same_json
from runtime.model.base import Model
from runtime.sandbox import SandboxPolicy

PROMPT_VERSION = 1

CONSOLIDATE_SYSTEM = (
    "You merge several tools that do the same kind of job into one general tool.\n"
    "Write one function that can replace every one of them:\n"
    "- where the tools share a parameter, keep its name; where they differ, add a parameter with a\n"
    "  default, so that each tool's calls still give the same results;\n" + TOOL_RULES
)


def consolidate_prompt(members: list[DistilledTool]) -> str:
    parts = []
    for n, tool in enumerate(members, start=1):
        calls = "\n".join(call_text(tool.name, c) for c in tool.cases[:SHOWN_CASES])
        parts.append(f"Tool {n}:\n```python\n{tool.code.strip()}\n```\nRecorded calls:\n{calls}")
    return "\n\n".join(parts)


def as_case(case: Case, own: list[str], params: list[str], required: set[str]) -> Case | None:
    """A member's case as a call of `params` (None when it does not fit), with inputs by name."""
    args = fit_inputs(case.inputs, own, params, required)
    if args is None:
        return None
    inputs = args if isinstance(args, dict) else dict(zip(params, args))
    return case.model_copy(update={"inputs": inputs})


def cluster_cases(members: list[DistilledTool], params: list[str], required: set[str]) -> list[Case] | None:
    """Every member's cases as calls of one signature, or None when some case does not fit it."""
    cases = [as_case(c, m.params, params, required) for m in members for c in m.cases]
    if any(c is None for c in cases):
        return None
    unique = {json.dumps(c.inputs, sort_keys=True): c for c in cases if c is not None}
    return list(unique.values())


def merge(members: list[DistilledTool], reply: str, policy: SandboxPolicy) -> DistilledTool:
    """The teacher's merged tool if it passes every member's cases; ToolForm saying why otherwise."""
    try:
        tree = without_prints(ast.parse(code_block(reply)))
    except SyntaxError as exc:
        raise ToolForm(f"the merge does not parse: {exc.msg} (line {exc.lineno})") from None
    node = tool_def(tree)
    check_form(node)
    draft = DistilledTool(
        key="",
        name=node.name,
        params=params_of(node),
        code=ast.unparse(tree) + "\n",
        cases=[],
        how="merged",
        sources=[m.name for m in members],
    )
    cases = cluster_cases(members, draft.params, required_params(draft))
    if cases is None:
        raise ToolForm(f"{node.name}({ast.unparse(node.args)}) cannot take every member's arguments")
    tool = draft.model_copy(update={"cases": cases})
    problem = verify(tool, policy)
    if problem is not None:
        raise ToolForm(problem)
    return tool.model_copy(update={"cases": cases[:MAX_CASES]})


def best_member(members: list[DistilledTool], policy: SandboxPolicy) -> DistilledTool:
    """The member that passes most of the cluster's cases (then: more own cases, shorter code)."""
    scored = []
    for tool in members:
        passing: list[Case] = []
        required = required_params(tool)
        with open_runner(tool.code, policy) as runner:
            for other in members:
                for case in other.cases if other is not tool else []:
                    fitted = as_case(case, other.params, tool.params, required)
                    if fitted is None:
                        continue
                    got = runner.call(tool.name, fitted.inputs)
                    if got.ok and same_json(got.output, case.output):
                        passing.append(fitted)
        scored.append((len(passing), len(tool.cases), -len(tool.code), tool, passing))
    _, _, _, tool, passing = max(scored, key=lambda s: s[:3])
    seen = {json.dumps(c.inputs, sort_keys=True) for c in tool.cases}
    extra = [c for c in passing if json.dumps(c.inputs, sort_keys=True) not in seen]
    return tool.model_copy(update={"cases": [*tool.cases, *extra][:MAX_CASES], "how": "best_member"})


def _own_names(tree: ast.Module) -> set[str]:
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return names


def call_shape(tool: DistilledTool) -> list[str] | None:
    """The JSON kinds of the arguments of the tool's first recorded call, in order: two tools of one
    shape take the same values (`counts` and `molecule`, both an element-count dict)."""
    return [type(value).__name__ for value in tool.cases[0].inputs.values()] if tool.cases else None


def chained(tools: list[DistilledTool]) -> DistilledTool | None:
    """One tool that asks each of `tools` in turn and returns the first result that is not None (an
    error counts as none): the merge of searches that each find part of the answers, or of
    tables that each know part of the keys (atomic weights). Their outputs differ where both find
    one, so clustering never joins them, and the teacher cannot merge what it did not write
    together. The versions are called with the first tool's arguments by position. None unless
    the tools take arguments of the same shape."""
    shape = (len(tools[0].params), call_shape(tools[0])) if tools else None
    if len(tools) < 2 or any((len(t.params), call_shape(t)) != shape for t in tools):
        return None
    first = tools[0]
    parts: list[str] = []
    for n, tool in enumerate(tools, start=1):
        tree = ast.parse(tool.code)
        parts.append(ast.unparse(renamed_in(tree, {name: f"_v{n}_{name}" for name in _own_names(tree)})))
    node = [n for n in ast.parse(first.code).body if isinstance(n, ast.FunctionDef) and n.name == first.name][-1]
    signature = ast.unparse(node.args)
    returns = f" -> {ast.unparse(node.returns)}" if node.returns else ""
    doc = (ast.get_docstring(node) or "").replace("\n", "\n    ")
    called = ", ".join(first.params)
    versions = ", ".join(f"_v{n}_{t.name}" for n, t in enumerate(tools, start=1))
    body = (
        f"def {first.name}({signature}){returns}:\n"
        f"    {json.dumps(doc + chr(10) + '    ')}\n"
        f"    for version in ({versions},):\n"
        f"        try:\n"
        f"            found = version({called})\n"
        f"        except Exception:\n"
        f"            continue\n"
        f"        if found is not None:\n"
        f"            return found\n"
        f"    return None\n"
    )
    return DistilledTool(
        key="",
        name=first.name,
        params=first.params,
        code=ast.unparse(ast.parse("\n\n".join([*parts, body]))) + "\n",
        cases=first.cases,
        how="chained",
        sources=[t.name for t in tools],
        note=f"asks {', '.join(t.name for t in tools)} in turn",
    )


def consolidate_key(group: Cluster, teacher: str | None) -> str:
    return digest("consolidate", PROMPT_VERSION, group.members, teacher)


def consolidate(
    group: Cluster, members: list[DistilledTool], teacher: Model | None, modules: list[str], policy: SandboxPolicy
) -> DistilledTool:
    """One tool for the cluster: a single member as it is, the teacher's merge, or the best member."""
    key = consolidate_key(group, teacher.name if teacher else None)
    if len(members) == 1:
        return members[0].model_copy(update={"key": key, "how": "single"})
    note = "no teacher given"
    if teacher is not None:
        reply = ask(teacher, CONSOLIDATE_SYSTEM.format(modules=", ".join(modules)), consolidate_prompt(members))
        try:
            return merge(members, reply, policy).model_copy(update={"key": key})
        except ToolForm as exc:
            note = f"teacher merge rejected: {exc}"[:600]
    best = best_member(members, policy)
    return best.model_copy(update={"key": key, "sources": [m.name for m in members], "note": note})
