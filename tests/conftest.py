"""Shared fixtures: an isolated RUNTIME_HOME, and the real models for the e2e tests."""

from __future__ import annotations

import pytest

from runtime.config import Settings


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
