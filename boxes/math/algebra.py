"""Exact evaluation, simplification and equation solving.

Expressions are parsed with Python's `ast` into SymPy objects node by node: no `eval`, no
`sympify` of strings, so an argument can only ever be arithmetic. Sizes are capped so that
`9**9**9` fails fast instead of hanging the process.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from typing import Any, Literal

from fastmcp import FastMCP

mcp = FastMCP("math.algebra")

MAX_LENGTH = 1000
MAX_RESULT_BITS = 100_000
MAX_FACTORIAL = 2000
FUNCTIONS = {
    "sqrt": "sqrt",
    "cbrt": "cbrt",
    "root": "root",
    "abs": "Abs",
    "exp": "exp",
    "log": "log",
    "ln": "log",
    "sin": "sin",
    "cos": "cos",
    "tan": "tan",
    "asin": "asin",
    "acos": "acos",
    "atan": "atan",
    "sinh": "sinh",
    "cosh": "cosh",
    "tanh": "tanh",
    "floor": "floor",
    "ceil": "ceiling",
    "ceiling": "ceiling",
    "factorial": "factorial",
    "gcd": "gcd",
    "lcm": "lcm",
    "binomial": "binomial",
    "min": "Min",
    "max": "Max",
}
CONSTANTS = {"pi": "pi", "e": "E", "E": "E", "I": "I", "i": "I", "oo": "oo", "inf": "oo"}


def _implied_product(previous: tokenize.TokenInfo, token: tokenize.TokenInfo) -> bool:
    """A number before a name or '(', ')' before a value, or a non-function name before '('."""
    if previous.type == tokenize.NUMBER:
        return token.type == tokenize.NAME or token.string == "("
    if previous.string == ")":
        return token.type in (tokenize.NAME, tokenize.NUMBER) or token.string == "("
    return previous.type == tokenize.NAME and previous.string not in FUNCTIONS and token.string == "("


def _with_explicit_products(text: str) -> str:
    """'2x(x+1)' -> '2 * x * (x + 1)': small models write products the way textbooks do."""
    out: list[str] = []
    previous: tokenize.TokenInfo | None = None
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(text).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        raise ValueError(f"cannot parse {text!r}: {exc}") from None
    for token in tokens:
        if token.type in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER):
            continue
        if previous is not None and _implied_product(previous, token):
            out.append("*")
        out.append(token.string)
        previous = token
    return " ".join(out)


def _normalise(text: str) -> str:
    if len(text) > MAX_LENGTH:
        raise ValueError(f"expression longer than {MAX_LENGTH} characters")
    for old, new in (("^", "**"), ("×", "*"), ("÷", "/"), ("−", "-"), ("·", "*")):
        text = text.replace(old, new)
    text = re.sub(r"(\d+)\s*!(?!=)", r"factorial(\1)", text)  # 5! -> factorial(5)
    return _with_explicit_products(text.strip())


def _bits(value: Any) -> float:
    if value.is_Integer:
        return float(abs(int(value)).bit_length())
    if value.is_Rational:
        return float(max(abs(int(value.p)).bit_length(), abs(int(value.q)).bit_length()))
    return 0.0


def _power(base: Any, exponent: Any) -> Any:
    import sympy

    if exponent.is_Number and base.is_Number:
        if abs(float(exponent)) * max(_bits(base), 1.0) > MAX_RESULT_BITS:
            raise ValueError("power too large to compute exactly")
    elif exponent.is_Integer and abs(int(exponent)) > 10_000:
        raise ValueError("exponent too large")
    return sympy.Pow(base, exponent)


def _build(node: ast.AST, symbols: bool) -> Any:
    """One AST node as a SymPy object; anything but arithmetic is refused."""
    import sympy

    if isinstance(node, ast.Constant) and isinstance(node.value, bool | complex):
        raise ValueError(f"unsupported value {node.value!r}")
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return sympy.Integer(node.value)
    if isinstance(node, ast.Constant) and isinstance(node.value, float):
        return sympy.Rational(repr(node.value))  # 0.1 means exactly 1/10
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _build(node.operand, symbols)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _build(node.left, symbols), _build(node.right, symbols)
        match node.op:
            case ast.Add():
                return left + right
            case ast.Sub():
                return left - right
            case ast.Mult():
                return left * right
            case ast.Div():
                if right == 0:
                    raise ValueError("division by zero")
                return left / right
            case ast.FloorDiv():
                return sympy.floor(left / right)
            case ast.Mod():
                return sympy.Mod(left, right)
            case ast.Pow():
                return _power(left, right)
    if isinstance(node, ast.Name):
        if node.id in CONSTANTS:
            return getattr(sympy, CONSTANTS[node.id])
        if not symbols:
            raise ValueError(f"unknown name {node.id!r}; use solve_equation for equations with unknowns")
        return sympy.Symbol(node.id)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS:
        if node.keywords:
            raise ValueError(f"{node.func.id}() takes no keyword arguments")
        args = [_build(arg, symbols) for arg in node.args]
        if node.func.id == "factorial" and args and args[0].is_Number and args[0] > MAX_FACTORIAL:
            raise ValueError(f"factorial argument above {MAX_FACTORIAL}")
        return getattr(sympy, FUNCTIONS[node.func.id])(*args)
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else "this call"
        raise ValueError(f"unknown function {name!r}; known: {', '.join(sorted(FUNCTIONS))}")
    raise ValueError(f"unsupported syntax: {ast.unparse(node)!r}")


def parse(text: str, symbols: bool = True) -> Any:
    """Parse arithmetic text ('2x^2 + 1/3', 'sqrt(8)') into a SymPy expression."""
    source = _normalise(text)
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"cannot parse {text!r}: {exc.msg}") from None
    return _build(tree.body, symbols)


def _side_difference(equation: str) -> Any:
    """'lhs = rhs' (or '==') as lhs - rhs; a bare expression means expression = 0."""
    parts = equation.replace("==", "=").split("=")
    if len(parts) > 2:
        raise ValueError(f"{equation!r} has more than one '='")
    if len(parts) == 1:
        return parse(parts[0])
    return parse(parts[0]) - parse(parts[1])


def _decimal(value: Any, digits: int) -> str:
    import sympy

    if value.is_Integer:
        return str(value)
    text = str(sympy.N(value, digits))
    return text.rstrip("0").rstrip(".") if "." in text and "e" not in text and "I" not in text else text


def _numeric_order(value: Any) -> tuple:
    """Real numbers in increasing order first, then the rest by their text."""
    if value.is_number and value.is_real:
        return (0, float(value), "")
    return (1, 0.0, str(value))


@mcp.tool
def evaluate(expression: str, digits: int = 15) -> dict[str, str]:
    """Evaluate an arithmetic expression exactly, with fractions, roots and constants.

    Supports + - * / ^ (or **), //, %, parentheses, decimals (0.1 is exactly 1/10), pi, e,
    sqrt, cbrt, root, abs, exp, log, ln, sin, cos, tan, floor, ceil, factorial, gcd, lcm,
    binomial, min, max. Returns the exact value and a decimal: evaluate("1/3 + 1/6") gives
    {"exact": "1/2", "decimal": "0.5"}.

    Args:
        expression: The arithmetic to evaluate, with no unknowns.
        digits: Significant digits of the decimal approximation.
    """
    import sympy

    if not 1 <= digits <= 100:
        raise ValueError("digits must be between 1 and 100")
    value = sympy.simplify(parse(expression, symbols=False))
    if value.has(sympy.zoo, sympy.nan):
        raise ValueError(f"{expression!r} is undefined")
    return {"exact": str(value), "decimal": _decimal(value, digits)}


@mcp.tool
def simplify_expression(expression: str, mode: Literal["simplify", "expand", "factor"] = "simplify") -> str:
    """Simplify, expand or factor an algebraic expression in any variables.

    simplify_expression("(x**2 - 1)/(x - 1)") gives "x + 1";
    simplify_expression("(x + 1)**2", "expand") gives "x**2 + 2*x + 1".

    Args:
        expression: The expression, e.g. "(x**2 - 1)/(x - 1)".
        mode: "simplify", "expand" or "factor".
    """
    import sympy

    transform = {"simplify": sympy.simplify, "expand": sympy.expand, "factor": sympy.factor}[mode]
    return str(transform(parse(expression)))


@mcp.tool
def solve_equation(equation: str, variable: str = "x", domain: Literal["real", "complex"] = "real") -> list[str]:
    """Solve one equation for one variable exactly; returns every solution as text.

    solve_equation("x**2 - 5x + 6 = 0") gives ["2", "3"]; solve_equation("2y + 3 = 11", "y")
    gives ["4"]. Other letters stay symbolic: solve_equation("a*x + b = 0") gives ["-b/a"].
    Periodic equations give their principal solutions. Use evaluate() on a solution for its decimal value.

    Args:
        equation: "left = right", or an expression meaning "expression = 0".
        variable: The unknown to solve for.
        domain: "real" keeps real solutions only; "complex" keeps all.
    """
    import sympy

    if not variable.isidentifier():
        raise ValueError(f"variable {variable!r} is not a name")
    difference = _side_difference(equation)
    unknown = sympy.Symbol(variable, real=True) if domain == "real" else sympy.Symbol(variable)
    difference = difference.subs(sympy.Symbol(variable), unknown)
    if not difference.has(unknown):
        raise ValueError(f"{equation!r} does not depend on {variable!r} once both sides are subtracted")
    solutions = sympy.solve(difference, unknown)
    return [str(s) for s in sorted(solutions, key=_numeric_order)]


@mcp.tool
def solve_system(equations: list[str], variables: list[str] | None = None) -> list[dict[str, str]]:
    """Solve a system of equations (linear or not) exactly; one dict per solution.

    solve_system(["x + y = 10", "x - y = 2"]) gives [{"x": "6", "y": "4"}]. An empty list
    means no solution; a variable missing from a solution is free.

    Args:
        equations: Each "left = right" (or an expression meaning "= 0").
        variables: The unknowns to solve for; default: every name in the equations.
    """
    import sympy

    if not 1 <= len(equations) <= 20:
        raise ValueError("give between 1 and 20 equations")
    differences = [_side_difference(e) for e in equations]
    names = variables or sorted({str(s) for d in differences for s in d.free_symbols})
    unknowns = [sympy.Symbol(name) for name in names]
    solutions = sympy.solve(differences, unknowns, dict=True)
    return [{str(k): str(v) for k, v in sorted(s.items(), key=lambda kv: str(kv[0]))} for s in solutions]
