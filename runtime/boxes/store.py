"""The box store: installed boxes under `Settings.boxes_dir`, beside the shipped ones (`runtime.boxes.shipped`).

Layout: `boxes_dir/<name>/` holds exactly the files of one installed version. Writes go to a
dot-prefixed staging folder and are swapped in with renames under a lock, so a reader sees the
old box or the new one, and a crash leaves nothing half-written (see `_recover`). Beside it,
`boxes_dir/.<name>.install.json` keeps the user's choices at install (an `InstallRecord`):
they are not the author's to seal, so they stay out of the box's own files.
"""

from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

import runtime.boxes.shipped as shipped_package
from runtime.atomic import write_atomic
from runtime.boxes.bundle import Bundle, open_bundle, write_folder
from runtime.boxes.errors import BoxConflict, BoxError, BoxNotFound
from runtime.boxes.manifest import MANIFEST_NAMES, Manifest, parse_manifest, version_key
from runtime.config import Settings
from runtime.tools import ToolSpec

Source = Literal["shipped", "installed"]


class InstallRecord(BaseModel):
    """What the user chose when installing a box."""

    isolated: bool = False
    """Its tools run in a confined child process (`runtime box import --isolated`), not in-process."""


class BoxEntry(BaseModel):
    """A box available to load, and where it comes from."""

    manifest: Manifest
    source: Source
    path: Path
    overrides: str | None = None  # the shipped version an installed box of the same name hides
    isolated: bool = False  # from its InstallRecord; shipped boxes are trusted and run in-process


class InstallResult(BaseModel):
    name: str
    version: str
    status: Literal["installed", "upgraded", "downgraded", "unchanged", "isolated"]
    previous: str | None = None
    tools: list[ToolSpec] = []
    isolated: bool = False


def shipped_dir() -> Path:
    """Where the shipped boxes live: `runtime.boxes.shipped`, the repo's `boxes/` folder, in a checkout or installed."""
    return Path(shipped_package.__file__).parent


def _read_entries(root: Path, source: Source) -> dict[str, BoxEntry]:
    entries: dict[str, BoxEntry] = {}
    if not root.is_dir():
        return entries
    for folder in sorted(root.iterdir()):
        if folder.name.startswith((".", "_")) or not folder.is_dir() or folder.is_symlink():
            continue
        for name in MANIFEST_NAMES:
            if (folder / name).is_file():
                manifest = parse_manifest(f"{folder}/{name}", (folder / name).read_bytes())
                entries[manifest.name] = BoxEntry(manifest=manifest, source=source, path=folder)
                break
    return entries


class BoxStore:
    """Installed and shipped boxes; install, upgrade and remove are atomic."""

    def __init__(self, settings: Settings, shipped: Path | None = None) -> None:
        self.root = settings.boxes_dir
        self.shipped = shipped_dir() if shipped is None else shipped
        self.timeout_s = settings.action_timeout_s

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes; also finishes what a crashed writer left."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            self._recover()
            yield

    def _recover(self) -> None:
        for leftover in self.root.iterdir():
            kind, _, rest = leftover.name.partition("-")
            name = rest.rsplit("-", 1)[0]
            if kind == ".retired" and not (self.root / name).exists():
                os.rename(leftover, self.root / name)  # crashed mid-upgrade: the old box comes back
            elif kind in (".staging", ".retired", ".removing"):
                shutil.rmtree(leftover)

    def _record_path(self, name: str) -> Path:
        return self.root / f".{name}.install.json"

    def _record(self, name: str) -> InstallRecord:
        path = self._record_path(name)
        return InstallRecord.model_validate_json(path.read_bytes()) if path.is_file() else InstallRecord()

    def installed(self) -> list[BoxEntry]:
        return [
            entry.model_copy(update={"isolated": self._record(name).isolated})
            for name, entry in _read_entries(self.root, "installed").items()
        ]

    def available(self) -> list[BoxEntry]:
        """Every loadable box by name; an installed box hides a shipped one of the same name."""
        entries = _read_entries(self.shipped, "shipped")
        for entry in self.installed():
            hidden = entries.get(entry.manifest.name)
            update = {"overrides": hidden.manifest.version if hidden else None}
            entries[entry.manifest.name] = entry.model_copy(update=update)
        return [entries[name] for name in sorted(entries)]

    def find(self, name: str) -> BoxEntry:
        available = self.available()
        for entry in available:
            if entry.manifest.name == name:
                return entry
        names = ", ".join(sorted(e.manifest.name for e in available)) or "none"
        raise BoxNotFound(f"no box named {name!r}; available: {names}")

    def open(self, name: str) -> Bundle:
        """Read an available box back, verifying every hash again."""
        return open_bundle(self.find(name).path)

    def plan(self, bundle: Bundle) -> InstallResult:
        """What installing would do, decided without running any box code."""
        current = next((e for e in self.available() if e.manifest.name == bundle.name), None)
        new = bundle.manifest
        if current is None:
            return InstallResult(name=new.name, version=new.version, status="installed")
        old = current.manifest
        if old.version == new.version:
            if old != new:
                raise BoxConflict(
                    f"{new.name} {new.version} is already {current.source} with a different manifest or files; "
                    "bump the version to replace it"
                )
            return InstallResult(name=new.name, version=new.version, status="unchanged", previous=old.version)
        if current.source == "shipped":
            status = "installed"
        else:
            status = "upgraded" if version_key(new.version) > version_key(old.version) else "downgraded"
        return InstallResult(name=new.name, version=new.version, status=status, previous=old.version)

    def install(self, bundle: Bundle, isolated: bool = False) -> InstallResult:
        """Load and self-test the bundle, then swap it into the store; a no-op for the same version.

        `isolated`: its code runs only in a confined child process, the self-test included. The
        same version installed again with `isolated` becomes isolated; without, it stays as it is
        (only a new install, after the user saw the preview, can bring a box back in-process)."""
        plan = self.plan(bundle)
        if plan.status == "unchanged":
            return self._keep(bundle, plan, isolated)
        specs = self._check(bundle, isolated)
        with self._locked():
            plan = self.plan(bundle)  # another process may have installed meanwhile
            if plan.status == "unchanged":
                return self._keep(bundle, plan, isolated)
            if isolated:  # written first: a crash before the swap leaves the old box isolated, not the new one open
                write_atomic(self._record_path(bundle.name), InstallRecord(isolated=True).model_dump_json().encode())
            token = secrets.token_hex(4)
            staging = self.root / f".staging-{bundle.name}-{token}"
            try:
                write_folder(bundle, staging)
            except OSError as exc:
                shutil.rmtree(staging, ignore_errors=True)
                raise BoxError(f"could not write {bundle.name} into {self.root}: {exc}") from None
            target = self.root / bundle.name
            if target.exists():
                retired = self.root / f".retired-{bundle.name}-{token}"
                os.rename(target, retired)
                os.rename(staging, target)
                shutil.rmtree(retired)
            else:
                os.rename(staging, target)
            if not isolated:
                self._record_path(bundle.name).unlink(missing_ok=True)
            _fsync_dir(self.root)
        return plan.model_copy(update={"tools": specs, "isolated": isolated})

    def _check(self, bundle: Bundle, isolated: bool) -> list[ToolSpec]:
        """The self-test; an isolated box's child reads the bundle from a private copy of it."""
        from runtime.boxes.loader import check_bundle  # FastMCP: only when a box is installed or checked

        if not isolated:
            return check_bundle(bundle, self.timeout_s)
        with tempfile.TemporaryDirectory(prefix="runtime-box-check-") as scratch:
            folder = Path(scratch) / bundle.name
            write_folder(bundle, folder)
            return check_bundle(bundle, self.timeout_s, isolated_from=folder)

    def _keep(self, bundle: Bundle, plan: InstallResult, isolated: bool) -> InstallResult:
        """The same version again: nothing to install, but `isolated` can still confine it."""
        entry = self.find(bundle.name)
        if isolated and not entry.isolated:
            if entry.source == "shipped":
                raise BoxError(
                    f"{bundle.name} is shipped with the runtime and runs in-process; --isolated is for installed boxes"
                )
            with self._locked():
                write_atomic(self._record_path(bundle.name), InstallRecord(isolated=True).model_dump_json().encode())
                _fsync_dir(self.root)
            return plan.model_copy(update={"isolated": True, "status": "isolated"})
        return plan.model_copy(update={"isolated": entry.isolated})

    def remove(self, name: str) -> BoxEntry:
        """Remove an installed box (a shipped one of the same name becomes active again)."""
        with self._locked():
            entry = next((e for e in self.installed() if e.manifest.name == name), None)
            if entry is None:
                if any(e.manifest.name == name for e in self.available()):
                    raise BoxError(
                        f"{name} is shipped with the runtime and cannot be removed; leave it out of a run instead"
                    )
                raise BoxNotFound(f"no installed box named {name!r}")
            doomed = self.root / f".removing-{entry.path.name}-{secrets.token_hex(4)}"
            os.rename(entry.path, doomed)
            self._record_path(name).unlink(missing_ok=True)
            _fsync_dir(self.root)
            shutil.rmtree(doomed)
        return entry


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
