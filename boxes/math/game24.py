"""Game of 24 and Countdown: reach a target from given numbers with + - * / and exact fractions."""

from __future__ import annotations

import ast
import math
from fractions import Fraction

from fastmcp import FastMCP

mcp = FastMCP("math.game24")

MAX_NUMBERS = 6
# Values are reduced (numerator, denominator) pairs: exact like Fraction, about ten times faster.
Q = tuple[int, int]
# A node is (value, op, left, right); a leaf has op "". Text is rendered only for the answer.
Node = tuple[Q, str, "Node | None", "Node | None"]
PRECEDENCE = {"": 3, "*": 2, "/": 2, "+": 1, "-": 1}


def _q(numerator: int, denominator: int) -> Q:
    if denominator < 0:
        numerator, denominator = -numerator, -denominator
    g = math.gcd(numerator, denominator)
    return (numerator // g, denominator // g)


def _render(node: Node) -> str:
    """The expression with only the parentheses it needs."""
    value, op, left, right = node
    if not op:
        return str(value[0]) if value[0] >= 0 else f"({value[0]})"
    assert left is not None and right is not None
    level = PRECEDENCE[op]
    left_text = _render(left) if PRECEDENCE[left[1]] >= level else f"({_render(left)})"
    tight = level + (op in "-/")  # a - (b + c) and a / (b * c) need them on the right
    right_text = _render(right) if PRECEDENCE[right[1]] >= tight else f"({_render(right)})"
    return f"{left_text} {op} {right_text}"


def _outcomes(x: Q, y: Q) -> list[tuple[Q, str, bool]]:
    """(value, op, swapped) for every way to join x and y with one operation."""
    (a, b), (c, d) = x, y
    out = [
        (_q(a * d + c * b, b * d), "+", False),
        (_q(a * c, b * d), "*", False),
        (_q(a * d - c * b, b * d), "-", False),
        (_q(c * b - a * d, b * d), "-", True),
    ]
    if c:
        out.append((_q(a * d, b * c), "/", False))
    if a:
        out.append((_q(c * b, d * a), "/", True))
    return out


def _search(nodes: list[Node], target: Q, use_all: bool, failed: set[tuple[Q, ...]]) -> Node | None:
    """Depth-first over pairs; `failed` remembers value multisets that cannot reach the target."""
    if not use_all:
        hit = next((n for n in nodes if n[0] == target), None)
        if hit is not None:
            return hit
    if len(nodes) == 1:
        return nodes[0] if nodes[0][0] == target else None
    key = tuple(sorted(n[0] for n in nodes))
    if key in failed:
        return None
    tried: set[tuple[Q, Q]] = set()
    for i in range(len(nodes)):
        for j in range(i + 1, len(nodes)):
            left, right = nodes[i], nodes[j]
            if (left[0], right[0]) in tried:  # equal numbers give equal outcomes: try them once
                continue
            tried.add((left[0], right[0]))
            rest = [n for k, n in enumerate(nodes) if k != i and k != j]
            for value, op, swapped in _outcomes(left[0], right[0]):
                if len(rest) == 0 and value != target:
                    continue  # the last join: skip building nodes that cannot be the answer
                joined: Node = (value, op, right, left) if swapped else (value, op, left, right)
                found = _search([*rest, joined], target, use_all, failed)
                if found is not None:
                    return found
    failed.add(key)
    return None


@mcp.tool
def solve_24(numbers: list[int], target: int = 24, use_all: bool = True) -> str | None:
    """Solve a Game of 24 puzzle: how to make 24 (or another target) from given numbers with + - * / and parentheses, each number used once. Returns the expression that answers it.

    Exact fractions; for Countdown, where not every number must be used, pass use_all=False.
    solve_24([3, 3, 8, 8]) gives "8 / (3 - 8 / 3)"; returns None when no expression exists.

    Args:
        numbers: One to six integers.
        target: The value to reach.
        use_all: Whether every number must be used (True for the Game of 24).
    """
    if not 1 <= len(numbers) <= MAX_NUMBERS:
        raise ValueError(f"give 1 to {MAX_NUMBERS} numbers")
    leaves: list[Node] = [((n, 1), "", None, None) for n in numbers]
    found = _search(leaves, (target, 1), use_all, set())
    return None if found is None else _render(found)


def _evaluate(node: ast.AST, used: list[int]) -> Fraction:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant):
        node = ast.Constant(-node.operand.value)  # a negative number given in `numbers`
    if isinstance(node, ast.Constant) and type(node.value) is int:
        used.append(node.value)
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
        left, right = _evaluate(node.left, used), _evaluate(node.right, used)
        if isinstance(node.op, ast.Div):
            if right == 0:
                raise ZeroDivisionError("division by zero")
            return left / right
        return {ast.Add: left + right, ast.Sub: left - right, ast.Mult: left * right}[type(node.op)]
    raise ValueError(f"only integers, + - * / and parentheses are allowed, not {ast.unparse(node)!r}")


@mcp.tool
def check_24(expression: str, numbers: list[int], target: int = 24) -> dict[str, bool | str]:
    """Verify an expression that someone already wrote for a Game of 24 puzzle: is it correct, does it equal the target and use each number once.

    check_24("(3 - 2) * 4 * 6", [2, 3, 4, 6]) gives {"ok": True, "value": "24", "reason": "correct"}.

    Args:
        expression: The proposed arithmetic, e.g. "(7 - 8 / 8) * 4" (x and ÷ are accepted).
        numbers: The numbers that must each be used exactly once.
        target: The value the expression must equal.
    """
    text = expression.replace("×", "*").replace("x", "*").replace("÷", "/").replace("−", "-")
    used: list[int] = []
    try:
        value = _evaluate(ast.parse(text, mode="eval").body, used)
    except SyntaxError:
        return {"ok": False, "value": "", "reason": f"cannot parse {expression!r}"}
    except (ValueError, ZeroDivisionError) as exc:
        return {"ok": False, "value": "", "reason": str(exc)}
    shown = str(value)
    if sorted(used) != sorted(numbers):
        return {"ok": False, "value": shown, "reason": f"uses {sorted(used)}, must use {sorted(numbers)} once each"}
    if value != target:
        return {"ok": False, "value": shown, "reason": f"equals {shown}, not {target}"}
    return {"ok": True, "value": shown, "reason": "correct"}
