"""Prompt-lookup drafting: the n-gram proposer and the draft length's adaptation (pure logic;
tests/e2e/test_draft_e2e.py checks on real models that drafting leaves the output unchanged)."""

import pytest

from runtime.model.draft import PromptLookup, next_length


def test_proposes_what_followed_the_longest_matching_tail():
    # tail (7, 8) occurred before, followed by 9 10 11; the 1-gram (8,) alone was last followed by 5
    lookup = PromptLookup([7, 8, 9, 10, 11, 4, 8, 5, 6, 7, 8])
    assert lookup.propose(3) == [9, 10, 11]


def test_the_latest_occurrence_wins():
    lookup = PromptLookup([1, 2, 3, 1, 2, 4, 1, 2])
    assert lookup.propose(1) == [4]


def test_falls_back_to_shorter_tails():
    lookup = PromptLookup([5, 6, 9, 1, 2, 3, 6])
    assert lookup.propose(2) == [9, 1]  # neither (2, 3, 6) nor (3, 6) occurred before; (6,) did


def test_no_match_proposes_nothing():
    assert PromptLookup([1, 2, 3, 4]).propose(5) == []
    assert PromptLookup([]).propose(5) == []
    assert PromptLookup([1]).propose(5) == []


def test_proposal_is_cut_at_k_and_at_the_end_of_the_text():
    lookup = PromptLookup([1, 2, 3, 4, 5, 6, 1, 2])
    assert lookup.propose(2) == [3, 4]
    assert lookup.propose(100) == [3, 4, 5, 6, 1, 2]
    assert lookup.propose(0) == []


def test_appended_tokens_are_looked_up_too():
    lookup = PromptLookup([10, 11, 12])
    assert lookup.propose(4) == []
    lookup.extend([13, 10, 11])
    assert lookup.propose(4) == [12, 13, 10, 11]
    lookup.append(12)
    assert lookup.propose(2) == [13, 10]


def test_a_repeated_token_proposes_its_repetition():
    assert PromptLookup([0, 0, 0, 0]).propose(3) == [0]


def test_min_ngram_ignores_short_tails():
    tokens = [5, 6, 9, 1, 2, 3, 6]
    assert PromptLookup(tokens, min_ngram=2).propose(2) == []
    assert PromptLookup([1, 2, 3, 9, 1, 2], max_ngram=2, min_ngram=2).propose(2) == [3, 9]
    with pytest.raises(ValueError):
        PromptLookup([], max_ngram=2, min_ngram=3)


def test_proposer_agrees_with_a_plain_scan():
    """The dictionary index gives what scanning the whole text for each tail would."""

    def scan(tokens, k, max_n=3):
        for n in range(min(max_n, len(tokens)), 0, -1):
            tail = tokens[-n:]
            for start in range(len(tokens) - n - 1, -1, -1):
                if tokens[start : start + n] == tail:
                    return tokens[start + n : start + n + k]
        return []

    text = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3, 8, 4, 6, 2, 6, 4, 3, 3, 8, 3, 2, 7, 9, 5]
    lookup = PromptLookup()
    for i, token in enumerate(text):
        lookup.append(token)
        assert lookup.propose(4) == scan(text[: i + 1], 4), i


def test_draft_length_doubles_after_a_whole_draft_and_shrinks_after_a_miss():
    assert next_length(2, 2, whole=True, size=8) == 4
    assert next_length(8, 8, whole=True, size=8) == 8
    assert next_length(8, 3, whole=False, size=8) == 4
    assert next_length(8, 0, whole=False, size=8) == 1
    assert next_length(1, 0, whole=False, size=8) == 1
