"""Counting and extraction in text: statistics, occurrences, word frequencies, patterns, numbers."""

from __future__ import annotations

import re
from collections import Counter

from fastmcp import FastMCP

mcp = FastMCP("text.analysis")

MAX_TEXT = 1_000_000
MAX_PATTERN = 300
MAX_MATCHES = 1000
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
NUMBER = re.compile(r"(?<![\w.])[-+]?(?>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?>\.\d+)?(?>[eE][-+]?\d+)?|(?<![\w.])[-+]?\.\d+")


def _check(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise ValueError(f"text longer than {MAX_TEXT} characters")


@mcp.tool
def text_stats(text: str) -> dict[str, int]:
    """Count characters, letters, digits, words, sentences, lines and paragraphs of a text.

    text_stats("Hi there. Bye!") gives characters 14, characters_no_spaces 12, letters 10,
    digits 0, words 3, sentences 2, lines 1, paragraphs 1.

    Args:
        text: The text to measure.
    """
    _check(text)
    stripped = text.strip()
    return {
        "characters": len(text),
        "characters_no_spaces": sum(not c.isspace() for c in text),
        "letters": sum(c.isalpha() for c in text),
        "digits": sum(c.isdigit() for c in text),
        "words": len(WORD.findall(text)),
        "sentences": len(re.findall(r"[^.!?]*[^\s.!?][^.!?]*(?:[.!?]+|$)", stripped)),
        "lines": len(stripped.splitlines()) if stripped else 0,
        "paragraphs": len([p for p in re.split(r"\n\s*\n", stripped) if p.strip()]),
    }


@mcp.tool
def count_occurrences(
    text: str, substring: str, case_sensitive: bool = False, whole_word: bool = False, overlapping: bool = False
) -> int:
    """How many times a letter, word or phrase occurs in a text.

    count_occurrences("strawberry", "r") gives 3; count_occurrences("banana", "ana") gives 1,
    and 2 with overlapping=True; count_occurrences("The cat scattered", "cat", whole_word=True) gives 1.

    Args:
        text: The text to search.
        substring: What to count (plain text, not a pattern).
        case_sensitive: Whether "A" and "a" differ.
        whole_word: Count only matches that are whole words.
        overlapping: Whether matches may overlap.
    """
    _check(text)
    if not substring:
        raise ValueError("substring must not be empty")
    body = re.escape(substring)
    if whole_word:
        body = rf"(?<!\w){body}(?!\w)"
    pattern = re.compile(f"(?=({body}))" if overlapping else body, 0 if case_sensitive else re.IGNORECASE)
    return sum(1 for _ in pattern.finditer(text))


@mcp.tool
def word_frequencies(text: str, top: int = 10, case_sensitive: bool = False) -> list[tuple[str, int]]:
    """The most frequent words of a text with their counts, most frequent first (ties alphabetical).

    word_frequencies("the cat and the hat", 2) gives [["the", 2], ["and", 1]].

    Args:
        text: The text to analyse.
        top: How many words to return (1 to 1000).
        case_sensitive: Whether "The" and "the" are different words.
    """
    _check(text)
    if not 1 <= top <= 1000:
        raise ValueError("top must be between 1 and 1000")
    words = WORD.findall(text if case_sensitive else text.lower())
    return sorted(Counter(words).items(), key=lambda kv: (-kv[1], kv[0]))[:top]


@mcp.tool
def extract_pattern(text: str, pattern: str, group: int = 0, ignore_case: bool = False) -> list[str]:
    """Every match of a regular expression in a text, in order (at most 1000).

    extract_pattern("mail a@x.org or b@y.com", r"[\\w.]+@[\\w.]+") gives ["a@x.org", "b@y.com"];
    with group=1 each result is the first parenthesised group instead of the whole match.

    Args:
        text: The text to search.
        pattern: A Python regular expression (at most 300 characters).
        group: 0 for the whole match, n for the n-th capture group.
        ignore_case: Whether matching ignores case.
    """
    _check(text)
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"pattern longer than {MAX_PATTERN} characters")
    try:
        compiled = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise ValueError(f"bad regular expression: {exc}") from None
    if not 0 <= group <= compiled.groups:
        raise ValueError(f"group {group} does not exist; the pattern has {compiled.groups} groups")
    found = []
    for match in compiled.finditer(text):
        found.append(match.group(group) or "")
        if len(found) == MAX_MATCHES:
            break
    return found


@mcp.tool
def extract_numbers(text: str) -> list[int | float]:
    """Every number written in a text, in order, as int or float ("1,234" is 1234, "-2.5" is -2.5).

    extract_numbers("Tom had 3 apples, bought 12 more for $4.50, total 1,200 grams") gives
    [3, 12, 4.5, 1200].

    Args:
        text: The text to read numbers from.
    """
    _check(text)
    numbers: list[int | float] = []
    for token in NUMBER.findall(text)[:MAX_MATCHES]:
        plain = token.replace(",", "")
        numbers.append(int(plain) if re.fullmatch(r"[-+]?\d+", plain) else float(plain))
    return numbers
