"""Retrieval end to end: a collection of real shipped Wikipedia summaries, the real model calls `retrieve`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from runtime.model.store import resolve
from runtime.retrieval.wiki import wiki_path
from tests.e2e.test_solve import solve

pytestmark = pytest.mark.e2e

ARTICLES = ["Gustave Eiffel", "Eiffel Tower", "Statue of Liberty", "Paris", "Bridge", "Viaduct", "Railway"]
DISTRACTORS = 40


def index_add(home, *args):
    env = {**os.environ, "RUNTIME_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", "index", "add", *args],
        capture_output=True, text=True, env=env, timeout=600,
    )


@pytest.fixture
def wiki_home(e2e_settings, tmp_path):
    """A home whose `wiki` collection holds real summaries: the answer's article among neighbours and
    distractors (the whole corpus takes an hour to embed), sharing the e2e models."""
    resolve(e2e_settings, None)  # the default model, assembled once for every e2e test
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(e2e_settings.models_dir, target_is_directory=True)
    summaries = list(json.loads(wiki_path().read_text(encoding="utf-8")).values())
    chosen = [s for s in summaries if s["title"] in ARTICLES] + summaries[:DISTRACTORS]
    assert {s["title"] for s in chosen} >= {"Gustave Eiffel", "Eiffel Tower"}
    corpus = tmp_path / "wiki-sample.jsonl"
    corpus.write_text("".join(json.dumps({"title": s["title"], "text": s["extract"]}) + "\n" for s in chosen))
    added = index_add(home, str(corpus), "--collection", "wiki", "--json")
    assert added.returncode == 0, added.stderr
    return home


def test_the_default_model_looks_a_fact_up_and_reads_the_passage(wiki_home):
    # The Garabit Viaduct is named only in the "Gustave Eiffel" summary; the model has to retrieve it.
    # Whether it then answers "Garabit Viaduct" is the model's accuracy, which the nq-wiki eval measures:
    # the same greedy run answered it on one machine and printed the article's title on another.
    proc = solve(wiki_home, "--collection", "wiki", "--json", "Which railway viaduct made Gustave Eiffel's name?")
    assert proc.returncode == 0, proc.stderr
    trace = json.loads(proc.stdout)
    assert trace["status"] == "answered" and str(trace["answer"]).strip()
    lookups = [step for step in trace["steps"] if "retrieve(" in (step["code"] or "") and step["ok"]]
    assert lookups, trace["steps"]
    assert "Garabit Viaduct" in lookups[0]["observation"]  # the passage that holds the answer reached the model
