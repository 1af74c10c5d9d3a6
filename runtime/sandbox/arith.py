"""`eval()` in the sandbox: arithmetic on numbers only, evaluated by walking its syntax tree.

Small models build expressions as strings and `eval` them (a Game of 24 search tries
`eval(f"({a} {op} {b}) {op2} {c}")`); refusing every eval made the 1.5B teacher rewrite its
search without it, wrongly. Python's eval cannot be made safe, so this evaluates the parsed tree
itself and admits only number literals, + - * / // % **, unary signs and parentheses. Hand-written
rather than a library (simpleeval) because this tiny whitelist is easier to audit than a general
expression language with names, attributes and functions that would then need refusing.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable
from typing import Any

from runtime.sandbox.refusals import RefusedCall

MAX_CHARS = 10_000
"""Longer strings are refused before parsing (deeply nested parentheses exhaust the parser)."""
MAX_POWER_BITS = 1_000_000
"""`**` whose integer result would exceed this many bits is refused instead of computed for minutes."""

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_ONLY = "eval() in the sandbox evaluates arithmetic on numbers only (+ - * / // % ** and parentheses)"


def arithmetic_eval(expression: Any, globals: Any = None, locals: Any = None) -> int | float:
    """Python's value of an arithmetic expression string, e.g. arithmetic_eval('(1 + 2) * 3') == 9."""
    if globals is not None or locals is not None:
        raise RefusedCall(f"{_ONLY}; it takes no namespaces")
    if not isinstance(expression, str):
        raise RefusedCall(f"{_ONLY}; give it a string such as '(1 + 2) * 3'")
    if len(expression) > MAX_CHARS:
        raise RefusedCall(f"{_ONLY}; this expression is longer than {MAX_CHARS} characters")
    tree = ast.parse(expression.strip(), mode="eval")
    return _value(tree.body)


def _value(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_value(node.operand))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Pow):
        return _power(_value(node.left), _value(node.right))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_value(node.left), _value(node.right))
    raise RefusedCall(f"{_ONLY}, not {ast.unparse(node)!r}")


def _power(base: Any, exponent: Any) -> Any:
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0:
        if abs(base) > 1 and exponent * abs(base).bit_length() > MAX_POWER_BITS:
            raise RefusedCall(f"{base} ** {exponent} is too large to compute in the sandbox")
    return operator.pow(base, exponent)
