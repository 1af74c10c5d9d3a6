"""Cluster: group tools that do the same job, so each group can become one parameterized tool.

Two signals: how alike the tools describe themselves (an E5 embedding of name, docstring summary
and signature) and whether they agree when called on each other's recorded inputs. Agreement
decides when it can be measured: tools that give different outputs on the same inputs are never
merged (no single tool could pass both sets of cases), and tools that agree everywhere count as
alike even when their descriptions differ. Groups form by average linkage above a threshold.
"""

from __future__ import annotations

import ast
import itertools
from typing import Any, Protocol

import numpy as np
from pydantic import BaseModel, Field

from runtime.distill.records import Cluster, DistilledTool, Link, digest
from runtime.distill.validate import FunctionRunner, open_runner, same_json
from runtime.sandbox import SandboxPolicy


class Embedder(Protocol):
    """Retrieval's E5Embedder satisfies this: unit-length passage vectors."""

    def passages(self, texts: list[str]) -> np.ndarray: ...


class ClusterOptions(BaseModel):
    threshold: float = Field(default=0.92, ge=0, le=1, description="Average score two groups need to merge.")
    min_agreement: float = Field(
        default=1.0, ge=0, le=1, description="Share of shared inputs two tools must agree on to be merged."
    )


def tool_node(tool: DistilledTool) -> ast.FunctionDef:
    return [n for n in ast.parse(tool.code).body if isinstance(n, ast.FunctionDef) and n.name == tool.name][-1]


def describe(tool: DistilledTool) -> str:
    """What the embedding sees: the name's words, the docstring's first paragraph, the signature."""
    node = tool_node(tool)
    summary = (ast.get_docstring(node) or "").strip().split("\n\n")[0]
    signature = ast.unparse(node.args) + (f" -> {ast.unparse(node.returns)}" if node.returns else "")
    return f"{tool.name.replace('_', ' ')}: {' '.join(summary.split())} ({signature})"


def required_params(tool: DistilledTool) -> set[str]:
    """Parameters without a default: a call must supply each of them."""
    a = tool_node(tool).args
    positional = a.args[: len(a.args) - len(a.defaults)]
    return {p.arg for p in positional} | {p.arg for p, d in zip(a.kwonlyargs, a.kw_defaults) if d is None}


def fit_inputs(
    inputs: dict[str, Any], own: list[str], other: list[str], required: set[str]
) -> dict[str, Any] | list[Any] | None:
    """A case's inputs as a call of another signature: by name when all names exist there, else by
    position when they are a leading run of the case's own parameters; None when neither fits or
    a required parameter would be missing."""
    if set(inputs) <= set(other):
        return inputs if required <= set(inputs) else None
    leading = own[: len(inputs)]
    if set(inputs) == set(leading) and len(inputs) <= len(other) and required <= set(other[: len(inputs)]):
        return [inputs[p] for p in leading]
    return None


def cross_agreement(runner: FunctionRunner, tool: DistilledTool, other: DistilledTool) -> tuple[int, int]:
    """(shared, agreed): how many of `other`'s cases `tool` can be called on, and gives the same output."""
    shared = agreed = 0
    if runner.load_error:
        return 0, 0
    required = required_params(tool)
    for case in other.cases:
        args = fit_inputs(case.inputs, other.params, tool.params, required)
        if args is None:
            continue
        shared += 1
        got = runner.call(tool.name, args)
        agreed += int(got.ok and same_json(got.output, case.output))
    return shared, agreed


def agreement_matrix(tools: list[DistilledTool], policy: SandboxPolicy) -> tuple[np.ndarray, np.ndarray]:
    """shared[i, j], agreed[i, j]: tool i called on tool j's cases (one sandbox per tool i)."""
    n = len(tools)
    shared, agreed = np.zeros((n, n), dtype=int), np.zeros((n, n), dtype=int)
    for i, tool in enumerate(tools):
        with open_runner(tool.code, policy) as runner:
            for j, other in enumerate(tools):
                if i != j:
                    shared[i, j], agreed[i, j] = cross_agreement(runner, tool, other)
    return shared, agreed


def links(
    tools: list[DistilledTool], cosine: np.ndarray, shared: np.ndarray, agreed: np.ndarray, options: ClusterOptions
) -> dict[tuple[int, int], Link]:
    """Every pair's evidence and score: the cosine, averaged with the agreement where there is some."""
    pairs = {}
    for i, j in itertools.combinations(range(len(tools)), 2):
        both_shared, both_agreed = int(shared[i, j] + shared[j, i]), int(agreed[i, j] + agreed[j, i])
        cos = float(cosine[i, j])
        agreement = both_agreed / both_shared if both_shared else None
        score = cos if agreement is None else (cos + agreement) / 2
        vetoed = agreement is not None and agreement < options.min_agreement
        pairs[(i, j)] = Link(
            a=tools[i].key,
            b=tools[j].key,
            cosine=round(cos, 4),
            shared=both_shared,
            agreed=both_agreed,
            score=round(score, 4),
            linked=score >= options.threshold and not vetoed,
        )
    return pairs


def _vetoed(link: Link, options: ClusterOptions) -> bool:
    return link.shared > 0 and link.agreed / link.shared < options.min_agreement


def group(count: int, pairs: dict[tuple[int, int], Link], options: ClusterOptions) -> list[list[int]]:
    """Average linkage: merge the two closest groups while their mean score reaches the threshold and
    no pair across them disagrees on shared inputs."""
    groups = [[i] for i in range(count)]
    while True:
        best: tuple[float, int, int] | None = None
        for a, b in itertools.combinations(range(len(groups)), 2):
            across = [pairs[(min(i, j), max(i, j))] for i in groups[a] for j in groups[b]]
            if any(_vetoed(link, options) for link in across):
                continue
            mean = sum(link.score for link in across) / len(across)
            if mean >= options.threshold and (best is None or mean > best[0]):
                best = (mean, a, b)
        if best is None:
            return groups
        _, a, b = best
        groups[a] = sorted(groups[a] + groups[b])
        del groups[b]


def cluster_key(tools: list[DistilledTool], options: ClusterOptions) -> str:
    return digest("cluster", sorted(t.key for t in tools), options.model_dump())


def cluster(
    tools: list[DistilledTool], embedder: Embedder, policy: SandboxPolicy, options: ClusterOptions
) -> list[Cluster]:
    """The tools in groups (singletons included), largest first, each with the links inside it."""
    if not tools:
        return []
    vectors = embedder.passages([describe(t) for t in tools])
    cosine = np.asarray(vectors) @ np.asarray(vectors).T
    shared, agreed = agreement_matrix(tools, policy)
    pairs = links(tools, cosine, shared, agreed, options)
    groups = sorted(group(len(tools), pairs, options), key=lambda g: (-len(g), g))
    key = cluster_key(tools, options)
    return [
        Cluster(
            key=key,
            id=n,
            members=[tools[i].key for i in members],
            names=[tools[i].name for i in members],
            links=[pairs[(i, j)] for i, j in itertools.combinations(members, 2)],
        )
        for n, members in enumerate(groups, start=1)
    ]
