"""Search modes: vectors (default), BM25 and both fused; both indexes kept in step on change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from runtime.config import Settings
from runtime.retrieval.ingest import ingest, read_sources
from runtime.retrieval.lexical import match_expression
from runtime.retrieval.store import IndexCollection, fuse
from tests.corpora import index_passages

PARTS = [
    {"title": "Pump manual", "text": "Replace the seal kit QX-7734 every two years to keep the pump watertight."},
    {"title": "Valve manual", "text": "The valve housing is cast iron and needs no regular maintenance."},
    {"title": "Garden", "text": "Water the tomatoes in the evening so the leaves dry overnight."},
    {"title": "Bread", "text": "Sourdough bread rises slowly because wild yeast ferments the dough."},
]


@pytest.fixture
def collection(tmp_path: Path) -> tuple[IndexCollection, Path]:
    corpus = tmp_path / "parts.jsonl"
    return index_passages(Settings(home=tmp_path / "home"), "parts", PARTS, corpus), corpus


def test_match_expression_keeps_content_words_quoted():
    assert match_expression('Who made "QX-7734" AND the NEAR(pump)?') == '"made" OR "7734" OR "near" OR "pump" OR "qx"'
    words = ["b", "cc", "ddd", "eeee", "fffff", "gggggg", "hhhhhhh", "iiiiiiii", "jjjjjjjjj"]
    assert match_expression(" ".join(words)) == " OR ".join(f'"{w}"' for w in reversed(words[1:])), "the 8 longest"
    assert match_expression("who is it?") == ""


def test_fusion_rewards_agreement_between_rankings():
    assert fuse(["a", "b"], ["b", "x"]) == ["b", "a", "x"]
    assert fuse(["a"], []) == ["a"]


def test_the_part_number_is_found_by_bm25_alone_and_fused(collection):
    col, _ = collection
    for mode in ("lexical", "hybrid"):
        assert col.query("QX-7734", 1, mode=mode)[0].title == "Pump manual", mode
    assert col.query("QX-7734 seal", 4, mode="lexical")[0].text.startswith("Replace the seal kit")


def test_the_default_search_is_by_meaning(collection):
    col, _ = collection
    assert col.query("which part keeps the pump from leaking?", 1)[0].title == "Pump manual"
    assert col.query("why does sourdough rise slowly", 1)[0].title == "Bread"
    scores = [h.score for h in col.query("baking with yeast", 4)]
    assert scores == sorted(scores, reverse=True)


def test_a_query_of_only_function_words_falls_back_to_vectors(collection):
    col, _ = collection
    assert col.query("what is it", 3, mode="lexical") == []
    assert len(col.query("what is it", 3, mode="hybrid")) == 3


def test_adding_again_does_not_double_lexical_rows(collection):
    col, corpus = collection
    (hit,) = col.query("QX-7734", 1, mode="lexical")
    ingest(col, read_sources([corpus]))
    col.add([], col.embedder.passages([]))
    assert [h.text for h in col.query("QX-7734 seal", 4, mode="lexical")].count(hit.text) == 1


def test_a_changed_file_leaves_no_stale_words_in_either_index(collection):
    col, corpus = collection
    corpus.write_text(
        json.dumps({"title": "Pump manual", "text": "The pump needs seal kit ZR-1100 now."}), encoding="utf-8"
    )
    report = ingest(col, read_sources([corpus]))
    assert report.chunks_removed == 4 and col.count() == 1
    assert col.query("QX-7734", 3, mode="lexical") == []
    assert col.query("sourdough", 3, mode="lexical") == []
    assert col.query("ZR-1100", 1)[0].text.endswith("ZR-1100 now.")
