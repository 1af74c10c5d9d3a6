"""Shared fixtures: an isolated RUNTIME_HOME, and the real models for the e2e tests; a check that the
tests import this checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.config import Settings
from tests.layout import misplaced


def pytest_configure(config):
    """Refuse to run this checkout's tests against another checkout's tui/, boxes/ or models/."""
    root = Path(__file__).resolve().parents[1]
    if wrong := misplaced(root):
        raise pytest.UsageError(
            "these packages do not import from this checkout:\n  " + "\n  ".join(wrong)
            + f"\ninstall it in the python that runs the tests: python -m pip install --no-deps -e {root}"
        )


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A private RUNTIME_HOME for one test."""
    monkeypatch.setenv("RUNTIME_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture(scope="session")
def e2e_home(tmp_path_factory):
    """One RUNTIME_HOME for the e2e tests, so the GGUFs are assembled once per test session."""
    return tmp_path_factory.mktemp("e2e-home")


@pytest.fixture(scope="session")
def e2e_settings(e2e_home):
    return Settings(home=e2e_home, threads=2)
