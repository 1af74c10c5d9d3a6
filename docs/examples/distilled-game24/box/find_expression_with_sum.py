"""distilled.find_expression_with_sum: distilled by `runtime box distill` from a teacher's trajectories."""

from fastmcp import FastMCP

mcp = FastMCP("distilled.find_expression_with_sum")

import itertools
from typing import List, Dict, Union

@mcp.tool
def find_expression_with_sum(numbers: List[int], target: int=24) -> Union[str, None]:
    """Find an expression that evaluates to the target, or None."""
    for a, b, c, d in itertools.permutations(numbers, 4):
        for ops in itertools.product(['+', '-', '*', '/'], repeat=3):
            try:
                if eval(f'({a} {ops[0]} {b}) {ops[1]} ({c} {ops[2]} {d})') == target:
                    return f'({a} {ops[0]} {b}) {ops[1]} ({c} {ops[2]} {d})'
            except ZeroDivisionError:
                continue
    return None
