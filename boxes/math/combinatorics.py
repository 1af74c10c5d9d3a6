"""Counting: factorials, permutations, combinations, multinomials, exactly and with size caps."""

from __future__ import annotations

import itertools
import math

from fastmcp import FastMCP

mcp = FastMCP("math.combinatorics")

MAX_N = 1_000_000
MAX_BITS = 10_000  # about 3000 digits: past that an answer is no use to read


def _checked(value: int) -> int:
    if value.bit_length() > MAX_BITS:
        raise ValueError(f"the result has about {int(value.bit_length() * 0.30103)} digits; too large to return")
    return value


def _check_n_k(n: int, k: int) -> None:
    if not 0 <= n <= MAX_N:
        raise ValueError(f"n must be between 0 and {MAX_N}")
    if k < 0:
        raise ValueError("k must not be negative")


def _refuse_huge(log2_estimate: float) -> None:
    """Refuse before computing: building a 300000-digit number just to reject it takes seconds."""
    if log2_estimate > MAX_BITS + 64:
        raise ValueError(f"the result has about {int(log2_estimate * 0.30103)} digits; too large to return")


def _log2_comb(n: int, k: int) -> float:
    if k > n:
        return 0.0
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)) / math.log(2)


@mcp.tool
def factorial(n: int) -> int:
    """The factorial n! of a whole number: the product 1 * 2 * ... * n, which counts the ways to put n different things in order. factorial(5) gives 120.

    Args:
        n: An integer from 0 to 3000.
    """
    if not 0 <= n <= 3000:
        raise ValueError("n must be between 0 and 3000")
    return _checked(math.factorial(n))


@mcp.tool
def combinations(n: int, k: int, repetition: bool = False) -> int:
    """Ways to choose k of n items when order does not matter ("n choose k").

    combinations(5, 2) gives 10; with repetition=True (multisets) combinations(5, 2, True) gives 15.

    Args:
        n: Number of distinct items.
        k: How many are chosen.
        repetition: Whether an item may be chosen more than once.
    """
    _check_n_k(n, k)
    if repetition:
        if n == 0:
            return int(k == 0)
        n = n + k - 1
    _refuse_huge(_log2_comb(n, k))
    return _checked(math.comb(n, k))


@mcp.tool
def permutations(n: int, k: int | None = None, repetition: bool = False) -> int:
    """Ways to arrange k of n items in order (k defaults to n: all of them).

    permutations(5, 2) gives 20; permutations(4) gives 24; with repetition=True it is n**k,
    e.g. permutations(10, 4, True) gives 10000 four-digit codes.

    Args:
        n: Number of distinct items.
        k: How many are placed in order; default n.
        repetition: Whether an item may be used more than once.
    """
    k = n if k is None else k
    _check_n_k(n, k)
    if repetition:
        _refuse_huge(k * math.log2(max(n, 1)))
        return _checked(n**k)
    _refuse_huge(0.0 if k > n else (math.lgamma(n + 1) - math.lgamma(n - k + 1)) / math.log(2))
    return _checked(math.perm(n, k))


@mcp.tool
def multinomial(counts: list[int]) -> int:
    """Distinct orderings of a multiset: (sum of counts)! / (count1! * count2! * ...).

    The letters of "MISSISSIPPI" (M 1, I 4, S 4, P 2) give multinomial([1, 4, 4, 2]) = 34650.

    Args:
        counts: How many copies of each distinct item.
    """
    if not 1 <= len(counts) <= 1000 or any(c < 0 for c in counts) or sum(counts) > MAX_N:
        raise ValueError(f"give 1 to 1000 non-negative counts with a total up to {MAX_N}")
    _refuse_huge(sum(_log2_comb(t, c) for t, c in zip(itertools.accumulate(counts), counts)))
    result, total = 1, 0
    for c in counts:
        total += c
        result *= math.comb(total, c)
    return _checked(result)
