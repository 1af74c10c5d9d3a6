"""Number theory on exact integers: primes, factorization, divisors, gcd/lcm, modular arithmetic."""

from __future__ import annotations

import itertools
import math
import random

from fastmcp import FastMCP

mcp = FastMCP("math.number_theory")

MAX_DIGITS = 40
MAX_SPAN = 1_000_000
MAX_NTH = 200_000
SIEVE_ROOT = 1_000_000
_WITNESSES = (2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41)


def _check_size(n: int) -> None:
    if abs(n) >= 10**MAX_DIGITS:
        raise ValueError(f"numbers up to {MAX_DIGITS} digits are supported")


def _is_prime(n: int) -> bool:
    """Miller-Rabin with the first 13 prime bases: exact below 3.3e24, overwhelmingly likely above."""
    if n < 2:
        return False
    for p in _WITNESSES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d, s = d // 2, s + 1
    for a in _WITNESSES:
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _pollard_rho(n: int, rng: random.Random) -> int:
    if n % 2 == 0:
        return 2
    while True:
        x = y = rng.randrange(2, n)
        c, d = rng.randrange(1, n), 1
        while d == 1:
            x = (x * x + c) % n
            y = (y * y + c) % n
            y = (y * y + c) % n
            d = math.gcd(abs(x - y), n)
        if d != n:
            return d


def _factor(n: int) -> dict[int, int]:
    factors: dict[int, int] = {}
    for p in (2, 3, 5, 7, 11, 13):
        while n % p == 0:
            factors[p] = factors.get(p, 0) + 1
            n //= p
    rng = random.Random(n)  # seeded by the input: the same answer every time
    stack = [n] if n > 1 else []
    while stack:
        m = stack.pop()
        if _is_prime(m):
            factors[m] = factors.get(m, 0) + 1
        else:
            d = _pollard_rho(m, rng)
            stack += [d, m // d]
    return dict(sorted(factors.items()))


def _sieve(limit: int) -> bytearray:
    flags = bytearray([1]) * (limit + 1)
    flags[: min(2, limit + 1)] = bytearray(min(2, limit + 1))
    for p in range(2, math.isqrt(limit) + 1):
        if flags[p]:
            flags[p * p :: p] = bytearray(len(range(p * p, limit + 1, p)))
    return flags


def _segment_primes(low: int, high: int, root: int) -> list[int]:
    """Primes in [low, high] by crossing out multiples of the primes up to sqrt(high)."""
    segment = bytearray([1]) * (high - low + 1)
    for p in itertools.compress(range(root + 1), _sieve(root)):
        start = max(p * p, (low + p - 1) // p * p)
        segment[start - low :: p] = bytearray(len(range(start, high + 1, p)))
    return list(itertools.compress(range(low, high + 1), segment))


@mcp.tool
def is_prime(n: int) -> bool:
    """Whether n is a prime number. is_prime(97) gives True, is_prime(91) gives False (7 * 13).

    Args:
        n: The integer to test (up to 40 digits).
    """
    _check_size(n)
    return _is_prime(n)


@mcp.tool
def prime_factors(n: int) -> list[list[int]]:
    """Prime factorization of n as [prime, exponent] pairs, smallest prime first.

    prime_factors(360) gives [[2, 3], [3, 2], [5, 1]], i.e. 360 = 2^3 * 3^2 * 5.

    Args:
        n: An integer >= 2 (up to 40 digits).
    """
    _check_size(n)
    if n < 2:
        raise ValueError("n must be at least 2")
    return [[p, e] for p, e in _factor(n).items()]


@mcp.tool
def divisors(n: int) -> list[int]:
    """All positive divisors of n in increasing order. divisors(12) gives [1, 2, 3, 4, 6, 12].

    Args:
        n: A positive integer (up to 40 digits, with at most 10000 divisors).
    """
    _check_size(n)
    if n < 1:
        raise ValueError("n must be positive")
    found = [1]
    for p, e in _factor(n).items():
        found = [d * p**k for d in found for k in range(e + 1)]
        if len(found) > 10_000:
            raise ValueError("n has more than 10000 divisors")
    return sorted(found)


@mcp.tool
def primes_between(low: int, high: int) -> list[int]:
    """Every prime p with low <= p <= high, in order. primes_between(10, 30) gives [11, 13, 17, 19, 23, 29].

    Args:
        low: Smallest number to consider.
        high: Largest number to consider (high - low at most 1000000; 10000 above 10^12).
    """
    _check_size(high)
    if high - low > MAX_SPAN:
        raise ValueError(f"the range may span at most {MAX_SPAN} numbers")
    low = max(low, 2)
    if high < low:
        return []
    root = math.isqrt(high)
    if root <= SIEVE_ROOT:
        primes = _segment_primes(low, high, root)
    elif high - low <= 10_000:
        primes = [p for p in range(low, high + 1) if _is_prime(p)]
    else:
        raise ValueError("above 10^12 the range may span at most 10000 numbers")
    if len(primes) > 10_000:
        raise ValueError(f"{len(primes)} primes in that range; ask for a narrower one (at most 10000)")
    return primes


@mcp.tool
def nth_prime(n: int) -> int:
    """The n-th prime, counting 2 as the first. nth_prime(10) gives 29.

    Args:
        n: Position, from 1 to 200000.
    """
    if not 1 <= n <= MAX_NTH:
        raise ValueError(f"n must be between 1 and {MAX_NTH}")
    limit = 15 if n < 6 else int(n * (math.log(n) + math.log(math.log(n)))) + 1
    primes = itertools.compress(range(limit + 1), _sieve(limit))
    return next(itertools.islice(primes, n - 1, None))


@mcp.tool
def gcd_lcm(numbers: list[int]) -> dict[str, int]:
    """Greatest common divisor and least common multiple of integers.

    gcd_lcm([12, 18, 30]) gives {"gcd": 6, "lcm": 180}.

    Args:
        numbers: Two or more integers.
    """
    if len(numbers) < 2:
        raise ValueError("give at least two numbers")
    for n in numbers:
        _check_size(n)
    return {"gcd": math.gcd(*numbers), "lcm": math.lcm(*numbers)}


@mcp.tool
def mod_pow(base: int, exponent: int, modulus: int) -> int:
    """base ** exponent mod modulus, computed fast; exponent -1 gives the modular inverse.

    mod_pow(3, 200, 7) gives 2; mod_pow(3, -1, 7) gives 5 because 3 * 5 = 15 = 1 (mod 7).

    Args:
        base: Any integer.
        exponent: Any integer; negative needs base invertible modulo modulus.
        modulus: An integer >= 1.
    """
    for n in (base, exponent, modulus):
        _check_size(n)
    if modulus < 1:
        raise ValueError("modulus must be at least 1")
    try:
        return pow(base, exponent, modulus)
    except ValueError:
        raise ValueError(f"{base} has no inverse modulo {modulus} (they share a factor)") from None


@mcp.tool
def chinese_remainder(remainders: list[int], moduli: list[int]) -> dict[str, int] | None:
    """Smallest x >= 0 with x = remainders[i] (mod moduli[i]) for all i; moduli need not be coprime.

    chinese_remainder([2, 3, 2], [3, 5, 7]) gives {"x": 23, "modulus": 105}: every solution is
    23 + 105k. Returns None when the congruences contradict each other.

    Args:
        remainders: The required remainders.
        moduli: The moduli, each >= 1, as many as remainders.
    """
    if len(remainders) != len(moduli) or not moduli:
        raise ValueError("give as many remainders as moduli, at least one")
    x, m = 0, 1
    for r, n in zip(remainders, moduli):
        _check_size(n)
        if n < 1:
            raise ValueError("moduli must be at least 1")
        g = math.gcd(m, n)
        if (r - x) % g:
            return None
        step = ((r - x) // g * pow(m // g, -1, n // g)) % (n // g) if n // g > 1 else 0
        x, m = x + m * step, m * n // g
        x %= m
    return {"x": x, "modulus": m}
