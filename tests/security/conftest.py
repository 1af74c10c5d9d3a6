"""Fixtures the isolation tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def home_secret(request: pytest.FixtureRequest) -> Iterator[Path]:
    """A file in the real home folder holding "hunter2": confined code must not read it."""
    path = Path.home() / f".runtime-secret-{request.module.__name__.rpartition('.')[2]}"
    path.write_text("hunter2")
    try:
        yield path
    finally:
        path.unlink()
