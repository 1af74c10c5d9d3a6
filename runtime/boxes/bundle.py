"""Read a box bundle (folder, .zip, .tar.gz) into memory, check it statically, and write it back.

Everything here works on bytes in memory: a bundle is fully read, size-limited and verified
before any of it touches the store, and no box code runs here (see `loader` for that).
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel

from runtime import __version__ as RUNTIME_VERSION
from runtime.atomic import write_atomic
from runtime.boxes.errors import (
    BoxError,
    BoxLoadError,
    BundleLimitExceeded,
    IntegrityError,
    ManifestError,
    UnsafeBundle,
)
from runtime.boxes.manifest import (
    MANIFEST_NAMES,
    Example,
    Manifest,
    parse_examples,
    parse_manifest,
    render_manifest,
    safe_relative_path,
    version_key,
)


class Limits(BaseModel):
    """Caps that keep a hostile bundle from exhausting memory or disk; checked before reading."""

    max_files: int = 1000
    max_file_bytes: int = 2 * 1024 * 1024
    max_total_bytes: int = 16 * 1024 * 1024


class DeclaredTool(BaseModel):
    """A tool as its source declares it (`@mcp.tool` on a function), read without running it."""

    name: str
    module: str
    summary: str


class ModuleInfo(BaseModel):
    path: str
    sha256: str
    imports: list[str]
    tools: list[DeclaredTool]


class BundleSummary(BaseModel):
    """What an import shows the user before anything runs or is written."""

    name: str
    version: str
    description: str
    license: str
    authors: list[str]
    min_runtime_version: str
    modules: list[ModuleInfo]
    files: dict[str, str]


@dataclass(frozen=True)
class Bundle:
    """A statically valid box held in memory: manifest, verified files, examples."""

    source: str
    manifest_name: str
    manifest: Manifest
    files: dict[str, bytes]
    examples: dict[str, list[Example]]

    @property
    def name(self) -> str:
        return self.manifest.name

    def module_source(self, path: str) -> str:
        return self.files[path].decode("utf-8")

    def summary(self) -> BundleSummary:
        modules = [_module_info(self, path) for path in self.manifest.modules]
        return BundleSummary(
            **self.manifest.model_dump(include={"name", "version", "description", "license", "authors"}),
            min_runtime_version=self.manifest.min_runtime_version,
            modules=modules,
            files=dict(sorted(self.manifest.files.items())),
        )

    def declared_tools(self) -> list[DeclaredTool]:
        return [tool for path in self.manifest.modules for tool in _module_info(self, path).tools]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class _Reader:
    """Collects entries while enforcing the limits, so a bomb is refused before it is read."""

    def __init__(self, source: str, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self.entries: dict[str, bytes] = {}
        self.count = 0
        self.total = 0

    def admit(self, raw_path: str, size: int) -> str:
        path = safe_relative_path(raw_path)
        self.count += 1
        if self.count > self.limits.max_files:
            raise BundleLimitExceeded(f"{self.source}: more than {self.limits.max_files} files")
        if size > self.limits.max_file_bytes:
            raise BundleLimitExceeded(
                f"{self.source}: {path} is {size} bytes, over the {self.limits.max_file_bytes}-byte limit per file"
            )
        self.total += size
        if self.total > self.limits.max_total_bytes:
            raise BundleLimitExceeded(f"{self.source}: over {self.limits.max_total_bytes} bytes in all")
        if path in self.entries:
            raise UnsafeBundle(f"{self.source}: {path} appears twice")
        return path

    def add(self, path: str, size: int, read: Callable[[int], bytes]) -> None:
        data = read(size + 1)  # one byte more than declared catches a header that lies
        if len(data) != size:
            raise UnsafeBundle(f"{self.source}: {path} is not the size its header declares")
        self.entries[path] = data


def _read_folder(root: Path, reader: _Reader) -> None:
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in [*dirnames, *sorted(filenames)]:
            full = Path(dirpath, name)
            rel = full.relative_to(root).as_posix()
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                raise UnsafeBundle(f"{reader.source}: {rel} is a symbolic link; links are not allowed")
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                raise UnsafeBundle(
                    f"{reader.source}: {rel} is a device, pipe or socket; only regular files are allowed"
                )
            path = reader.admit(rel, info.st_size)
            fd = os.open(full, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as handle:
                if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                    raise UnsafeBundle(f"{reader.source}: {rel} changed while being read")
                reader.add(path, info.st_size, handle.read)


def _read_zip(file: Path, reader: _Reader) -> None:
    with zipfile.ZipFile(file) as archive:
        infos = archive.infolist()
        if len(infos) > reader.limits.max_files:
            raise BundleLimitExceeded(
                f"{reader.source}: {len(infos)} entries, over the limit of {reader.limits.max_files}"
            )
        for info in infos:
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise UnsafeBundle(f"{reader.source}: {info.filename} is a symbolic link; links are not allowed")
            if info.is_dir():
                safe_relative_path(info.filename)
                continue
            if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # 0: the archiver recorded no type
                raise UnsafeBundle(f"{reader.source}: {info.filename} is not a regular file")
            if info.flag_bits & 0x1:
                raise UnsafeBundle(f"{reader.source}: {info.filename} is encrypted")
            path = reader.admit(info.filename, info.file_size)
            with archive.open(info) as handle:
                reader.add(path, info.file_size, handle.read)


def _read_tar(file: Path, reader: _Reader) -> None:
    with tarfile.open(file, "r:*") as archive:
        for member in archive:
            if member.issym() or member.islnk():
                raise UnsafeBundle(f"{reader.source}: {member.name} is a link; links are not allowed")
            if member.isdir():
                safe_relative_path(member.name)
                continue
            if not member.isreg():
                raise UnsafeBundle(
                    f"{reader.source}: {member.name} is a device or special file; only regular files are allowed"
                )
            path = reader.admit(member.name, member.size)
            handle = archive.extractfile(member)
            assert handle is not None  # a regular member always has data
            reader.add(path, member.size, handle.read)


def read_entries(path: Path, limits: Limits) -> dict[str, bytes]:
    """Every file of a folder or archive as {relative path: bytes}, with the safety checks."""
    source = path.name or str(path)
    reader = _Reader(source, limits)
    try:
        if path.is_dir():
            _read_folder(path, reader)
        elif not path.is_file():
            raise BoxError(f"{path}: no such folder or file")
        elif zipfile.is_zipfile(path):
            _read_zip(path, reader)
        elif tarfile.is_tarfile(path):
            _read_tar(path, reader)
        else:
            raise BoxError(f"{path}: not a box folder, .zip or .tar.gz")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, gzip.BadGzipFile, OSError) as exc:
        raise UnsafeBundle(f"{source}: cannot read: {exc}") from None
    return reader.entries


def _strip_single_root(entries: dict[str, bytes]) -> dict[str, bytes]:
    """Accept `name-1.0/box.toml` as well as `box.toml`: archives of a folder usually nest."""
    if any(name in entries for name in MANIFEST_NAMES):
        return entries
    roots = {path.split("/", 1)[0] for path in entries}
    if len(roots) != 1 or any("/" not in path for path in entries):
        return entries
    prefix = roots.pop() + "/"
    return {path.removeprefix(prefix): data for path, data in entries.items()}


def _check_hashes(source: str, manifest: Manifest, files: dict[str, bytes]) -> None:
    for path, expected in manifest.files.items():
        if path not in files:
            raise IntegrityError(f"{source}: {path} is listed in the manifest but missing from the bundle")
        actual = sha256(files[path])
        if actual != expected:
            raise IntegrityError(
                f"{source}: sha256 mismatch for {path}: manifest says {expected[:12]}..., file is {actual[:12]}..."
            )
    unlisted = sorted(set(files) - set(manifest.files))
    if unlisted:
        raise IntegrityError(f"{source}: {unlisted[0]} is not listed in the manifest's files")


def _compile_module(bundle_name: str, path: str, data: bytes) -> ast.Module:
    """Parse a module (no execution) so syntax errors and relative imports fail early and clearly."""
    try:
        tree = ast.parse(data.decode("utf-8"), filename=f"{bundle_name}/{path}")
        compile(tree, f"{bundle_name}/{path}", "exec", dont_inherit=True)
    except UnicodeDecodeError:
        raise BoxLoadError(f"{bundle_name}/{path} is not UTF-8 text") from None
    except SyntaxError as exc:
        raise BoxLoadError(f"{bundle_name}/{path} line {exc.lineno}: syntax error: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            raise BoxLoadError(f"{bundle_name}/{path} line {node.lineno}: relative imports are not supported")
    return tree


def open_bundle(path: Path, limits: Limits | None = None) -> Bundle:
    """Read and statically validate a bundle: paths, links, limits, manifest, hashes, syntax."""
    entries = _strip_single_root(read_entries(path, limits or Limits()))
    source = path.name or str(path)
    present = [name for name in MANIFEST_NAMES if name in entries]
    if not present:
        raise ManifestError(f"{source}: no box.toml or box.json at the top of the bundle")
    if len(present) > 1:
        raise ManifestError(f"{source}: has both box.toml and box.json; keep one")
    manifest_name = present[0]
    manifest = parse_manifest(manifest_name, entries.pop(manifest_name))
    if version_key(manifest.min_runtime_version) > version_key(RUNTIME_VERSION):
        raise ManifestError(
            f"{manifest.name} needs runtime >= {manifest.min_runtime_version}; this is {RUNTIME_VERSION}"
        )
    _check_hashes(source, manifest, entries)
    for module in manifest.modules:
        _compile_module(manifest.name, module, entries[module])
    examples = parse_examples(manifest.examples, entries[manifest.examples]) if manifest.examples else {}
    return Bundle(source, manifest_name, manifest, entries, examples)


def _is_tool_decorator(node: ast.expr) -> bool:
    target = node.func if isinstance(node, ast.Call) else node
    return (
        isinstance(target, ast.Attribute)
        and target.attr == "tool"
        and isinstance(target.value, ast.Name)
        and target.value.id == "mcp"
    )


def _declared_name(function: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    for decorator in function.decorator_list:
        if isinstance(decorator, ast.Call):
            for keyword in decorator.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return function.name


def _module_info(bundle: Bundle, path: str) -> ModuleInfo:
    tree = ast.parse(bundle.files[path])
    imports: set[str] = set()
    tools: list[DeclaredTool] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imports.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imports.add(node.module.split(".")[0])
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            _is_tool_decorator(d) for d in node.decorator_list
        ):
            doc = (ast.get_docstring(node) or "").strip()
            tools.append(DeclaredTool(name=_declared_name(node), module=path, summary=doc.split("\n", 1)[0]))
    imports.discard("__future__")
    return ModuleInfo(path=path, sha256=bundle.manifest.files[path], imports=sorted(imports), tools=tools)


def _entries_for_export(bundle: Bundle) -> Iterator[tuple[str, bytes]]:
    yield bundle.manifest_name, render_manifest(bundle.manifest, bundle.manifest_name)
    for path in sorted(bundle.files):
        yield path, bundle.files[path]


def write_folder(bundle: Bundle, dest: Path) -> None:
    """Write the bundle as a folder (which must not exist yet), every file flushed to disk."""
    dest.mkdir(mode=0o755)
    for rel, data in _entries_for_export(bundle):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        with open(target, "xb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())


def write_archive(bundle: Bundle, out: Path) -> None:
    """Write a reproducible .zip or .tar.gz (fixed times and modes) via a temp file and a rename."""
    name = out.name.lower()
    if not name.endswith((".zip", ".tar.gz", ".tgz")):
        raise BoxError(f"{out}: export to a .zip, .tar.gz or .tgz file")
    prefix = f"{bundle.manifest.name}-{bundle.manifest.version}/"
    buffer = io.BytesIO()
    if name.endswith(".zip"):
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for rel, data in _entries_for_export(bundle):
                info = zipfile.ZipInfo(prefix + rel, date_time=(1980, 1, 1, 0, 0, 0))
                info.external_attr = (stat.S_IFREG | 0o644) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, data)
    else:
        with (
            gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped,
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.PAX_FORMAT) as archive,
        ):
            for rel, data in _entries_for_export(bundle):
                info = tarfile.TarInfo(prefix + rel)
                info.size, info.mode, info.mtime = len(data), 0o644, 0
                archive.addfile(info, io.BytesIO(data))
    write_atomic(out, buffer.getvalue())
