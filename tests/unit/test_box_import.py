"""Importing boxes: every bad bundle is refused with its own error and leaves the store as it was;
good bundles install, re-import as a no-op, upgrade, remove and round-trip through export."""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from runtime import __version__ as RUNTIME_VERSION
from runtime.boxes.bundle import open_bundle, write_archive
from runtime.boxes.errors import (
    BoxConflict,
    BoxError,
    BoxLoadError,
    BoxNotFound,
    BundleLimitExceeded,
    IntegrityError,
    ManifestError,
    SelfTestFailed,
    UnsafeBundle,
)
from runtime.boxes.scaffold import box_fields, new_box, seal, write_box
from runtime.boxes.store import BoxStore
from runtime.config import Settings

DOUBLE = '''
from fastmcp import FastMCP

mcp = FastMCP("demo")


@mcp.tool
def double(x: int) -> int:
    """Twice x."""
    return 2 * x
'''


def make_box(
    parent: Path,
    name: str = "demo",
    version: str = "1.0.0",
    modules: dict[str, str] | None = None,
    examples: dict | None = None,
) -> Path:
    """A sealed box folder with the given module sources and examples."""
    modules = modules or {"tools.py": DOUBLE}
    examples = {"double": [{"args": {"x": 4}, "expect": 8}]} if examples is None else examples
    files = {path: text.encode() for path, text in modules.items()}
    files["examples.json"] = json.dumps(examples).encode()
    folder = parent / f"{name}-{version}"
    write_box(folder, box_fields(name, version, files, description="A demo box.", authors=["Tester"]), files)
    return folder


def snapshot(root: Path) -> dict[str, str]:
    """Every path under the store with its content hash: equal snapshots mean an untouched store."""
    if not root.exists():
        return {}
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
        for p in sorted(root.rglob("*"))
    }


@pytest.fixture
def store(home) -> BoxStore:
    return BoxStore(Settings())


@pytest.fixture
def populated(store: BoxStore, tmp_path: Path) -> BoxStore:
    """A store that already holds one box, so 'unchanged' means more than 'still empty'."""
    store.install(open_bundle(make_box(tmp_path / "src", name="keeper")))
    return store


def zip_of(entries: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return path


def folder_entries(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def tar_of(path: Path, member: tarfile.TarInfo, data: bytes = b"") -> Path:
    """An archive (gzipped for a .gz path) holding just `member`, with `data` as its content."""
    with tarfile.open(path, "w:gz" if path.suffix == ".gz" else "w") as archive:
        archive.addfile(member, io.BytesIO(data))
    return path


def edited_box(tmp: Path, edit: Callable[[Path], object]) -> Path:
    """A sealed box folder with one thing about it changed afterwards by `edit`."""
    folder = make_box(tmp)
    edit(folder)
    return folder


def edited_manifest(tmp: Path, change: Callable[[str], str]) -> Path:
    """A sealed box folder whose box.toml text was then passed through `change`."""

    def rewrite(folder: Path) -> None:
        (folder / "box.toml").write_text(change((folder / "box.toml").read_text()))

    return edited_box(tmp, rewrite)


# Each case builds a bad bundle under tmp and names the error it must get.


def zip_slip(tmp: Path) -> Path:
    entries = folder_entries(make_box(tmp))
    entries["../evil.py"] = b"print('escaped')"
    return zip_of(entries, tmp / "slip.zip")


def absolute_path(tmp: Path) -> Path:
    entries = folder_entries(make_box(tmp))
    entries["/etc/evil.py"] = b"x = 1"
    return zip_of(entries, tmp / "abs.zip")


def tar_absolute(tmp: Path) -> Path:
    info = tarfile.TarInfo("/tmp/evil.py")
    info.size = 1
    return tar_of(tmp / "abs.tar.gz", info, b"x")


def symlink_in_folder(tmp: Path) -> Path:
    return edited_box(tmp, lambda folder: (folder / "passwd").symlink_to("/etc/passwd"))


def symlink_in_tar(tmp: Path) -> Path:
    folder = make_box(tmp)
    path = tmp / "link.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(folder, arcname="demo")
        link = tarfile.TarInfo("demo/passwd")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    return path


def symlink_in_zip(tmp: Path) -> Path:
    entries = folder_entries(make_box(tmp))
    path = zip_of(entries, tmp / "link.zip")
    with zipfile.ZipFile(path, "a") as archive:
        info = zipfile.ZipInfo("passwd")
        info.external_attr = (0o120777) << 16
        archive.writestr(info, "/etc/passwd")
    return path


def hard_link_in_tar(tmp: Path) -> Path:
    link = tarfile.TarInfo("tools.py")
    link.type, link.linkname = tarfile.LNKTYPE, "/etc/passwd"
    return tar_of(tmp / "hard.tar", link)


def fifo_in_folder(tmp: Path) -> Path:
    return edited_box(tmp, lambda folder: os.mkfifo(folder / "pipe"))


def device_in_tar(tmp: Path) -> Path:
    device = tarfile.TarInfo("null")
    device.type, device.devmajor, device.devminor = tarfile.CHRTYPE, 1, 3
    return tar_of(tmp / "dev.tar.gz", device)


def hash_mismatch(tmp: Path) -> Path:
    return edited_box(tmp, lambda folder: (folder / "tools.py").write_text(DOUBLE.replace("2 * x", "3 * x")))


def unlisted_file(tmp: Path) -> Path:
    return edited_box(tmp, lambda folder: (folder / "extra.py").write_text("x = 1"))


def missing_file(tmp: Path) -> Path:
    return edited_box(tmp, lambda folder: (folder / "examples.json").unlink())


def missing_manifest(tmp: Path) -> Path:
    return edited_box(tmp, lambda folder: (folder / "box.toml").unlink())


def wrong_schema(tmp: Path) -> Path:
    return edited_manifest(tmp, lambda text: text.replace('version = "1.0.0"', 'version = "1.0"'))


def unknown_field(tmp: Path) -> Path:
    return edited_manifest(tmp, lambda text: 'homepage = "x"\n' + text)


def not_toml(tmp: Path) -> Path:
    return edited_manifest(tmp, lambda _text: "name = [unclosed\n")


def newer_runtime(tmp: Path) -> Path:
    required = f'min_runtime_version = "{RUNTIME_VERSION}"'
    return edited_manifest(tmp, lambda text: text.replace(required, 'min_runtime_version = "99.0.0"'))


def syntax_error(tmp: Path) -> Path:
    return make_box(tmp, modules={"tools.py": DOUBLE + "\ndef broken(:\n"})


def raises_at_import(tmp: Path) -> Path:
    return make_box(tmp, modules={"tools.py": DOUBLE + "\nraise RuntimeError('no network here')\n"})


def missing_dependency(tmp: Path) -> Path:
    return make_box(tmp, modules={"tools.py": "import not_a_real_package\n" + DOUBLE})


def no_server(tmp: Path) -> Path:
    return make_box(tmp, modules={"tools.py": "def double(x: int) -> int:\n    return 2 * x\n"}, examples={})


def duplicate_tool_names(tmp: Path) -> Path:
    return make_box(tmp, modules={"a.py": DOUBLE, "b.py": DOUBLE})


def duplicate_archive_entries(tmp: Path) -> Path:
    entries = folder_entries(make_box(tmp))
    path = zip_of(entries, tmp / "dup.zip")
    with zipfile.ZipFile(path, "a") as archive, pytest.warns(UserWarning):
        archive.writestr("tools.py", b"x = 1")
    return path


def no_docstring(tmp: Path) -> Path:
    return make_box(tmp, modules={"tools.py": DOUBLE.replace('    """Twice x."""\n', "")})


def untyped_parameter(tmp: Path) -> Path:
    return make_box(tmp, modules={"tools.py": DOUBLE.replace("x: int) -> int", "x)")})


def hidden_tool(tmp: Path) -> Path:
    hidden = DOUBLE + '\n\ndef _triple(x: int) -> int:\n    """Thrice x."""\n    return 3 * x\n\n\nmcp.tool(_triple)\n'
    return make_box(tmp, modules={"tools.py": hidden})


def relative_import(tmp: Path) -> Path:
    return make_box(tmp, modules={"tools.py": "from . import helpers\n" + DOUBLE})


def failing_self_test(tmp: Path) -> Path:
    return make_box(tmp, examples={"double": [{"args": {"x": 4}, "expect": 9}]})


def example_of_unknown_tool(tmp: Path) -> Path:
    return make_box(tmp, examples={"triple": [{"args": {"x": 1}, "expect": 3}]})


def ten_thousand_files(tmp: Path) -> Path:
    entries = folder_entries(make_box(tmp))
    entries.update({f"data/{i}.txt": b"" for i in range(10_000)})
    return zip_of(entries, tmp / "many.zip")


def sparse_two_gigabytes(tmp: Path) -> Path:
    folder = make_box(tmp)
    with open(folder / "weights.bin", "wb") as handle:
        handle.truncate(2 * 1024**3)
    return folder


def not_an_archive(tmp: Path) -> Path:
    path = tmp / "box.rar"
    path.write_bytes(b"Rar!\x1a\x07\x00 not supported")
    return path


BAD_BUNDLES: list[tuple[Callable[[Path], Path], type[BoxError], str]] = [
    (zip_slip, UnsafeBundle, "climbs out of the box"),
    (absolute_path, UnsafeBundle, "absolute path '/etc/evil.py'"),
    (tar_absolute, UnsafeBundle, "absolute path '/tmp/evil.py'"),
    (symlink_in_folder, UnsafeBundle, "demo-1.0.0: passwd is a symbolic link"),
    (symlink_in_tar, UnsafeBundle, "demo/passwd is a link"),
    (symlink_in_zip, UnsafeBundle, "link.zip: passwd is a symbolic link"),
    (hard_link_in_tar, UnsafeBundle, "tools.py is a link"),
    (fifo_in_folder, UnsafeBundle, "pipe is a device, pipe or socket"),
    (device_in_tar, UnsafeBundle, "null is a device or special file"),
    (hash_mismatch, IntegrityError, "sha256 mismatch for tools.py"),
    (unlisted_file, IntegrityError, "extra.py is not listed"),
    (missing_file, IntegrityError, "examples.json is listed in the manifest but missing"),
    (missing_manifest, ManifestError, "no box.toml or box.json"),
    (wrong_schema, ManifestError, "version: '1.0' is not a semantic version"),
    (unknown_field, ManifestError, "homepage: Extra inputs are not permitted"),
    (not_toml, ManifestError, "box.toml is not valid TOML"),
    (newer_runtime, ManifestError, "needs runtime >= 99.0.0"),
    (syntax_error, BoxLoadError, "demo/tools.py line 12: syntax error"),
    (raises_at_import, BoxLoadError, "raised at import: RuntimeError: no network here"),
    (missing_dependency, BoxLoadError, "ModuleNotFoundError: No module named 'not_a_real_package'"),
    (no_server, BoxLoadError, "defines no module-level `mcp = FastMCP(...)`"),
    (duplicate_tool_names, BoxLoadError, "duplicate tool name 'double' in a.py and b.py"),
    (duplicate_archive_entries, UnsafeBundle, "tools.py appears twice"),
    (no_docstring, BoxLoadError, "tool 'double' has no docstring"),
    (untyped_parameter, BoxLoadError, "parameter 'x' of 'double' has no type annotation"),
    (hidden_tool, BoxLoadError, "decorated with @mcp.tool; these differ: tools.py:_triple"),
    (relative_import, BoxLoadError, "relative imports are not supported"),
    (failing_self_test, SelfTestFailed, "demo.double(x=4) gave 8, expected 9"),
    (example_of_unknown_tool, SelfTestFailed, "examples name unknown tool 'triple'"),
    (ten_thousand_files, BundleLimitExceeded, "10003 entries, over the limit of 1000"),
    (sparse_two_gigabytes, BundleLimitExceeded, "weights.bin is 2147483648 bytes"),
    (not_an_archive, BoxError, "not a box folder, .zip or .tar.gz"),
]


@pytest.mark.parametrize(("build", "error", "message"), BAD_BUNDLES, ids=[c[0].__name__ for c in BAD_BUNDLES])
def test_bad_bundle_is_refused_with_its_own_error_and_store_unchanged(
    populated: BoxStore, tmp_path: Path, build: Callable[[Path], Path], error: type[BoxError], message: str
) -> None:
    before = snapshot(populated.root)
    (tmp_path / "bad").mkdir()
    bundle_path = build(tmp_path / "bad")
    with pytest.raises(error) as caught:
        populated.install(open_bundle(bundle_path))
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert snapshot(populated.root) == before


def test_errors_are_distinct_for_each_kind_of_problem() -> None:
    messages = [message for _, _, message in BAD_BUNDLES]
    assert len(set(messages)) == len(messages)


def test_good_import_installs_atomically(store: BoxStore, tmp_path: Path) -> None:
    result = store.install(open_bundle(make_box(tmp_path)))
    assert (result.status, result.version, result.previous) == ("installed", "1.0.0", None)
    assert [t.qualified_name for t in result.tools] == ["demo.double"]
    assert sorted(os.listdir(store.root)) == [".lock", "demo"]
    assert sorted(os.listdir(store.root / "demo")) == ["box.toml", "examples.json", "tools.py"]
    assert [e.manifest.name for e in store.installed()] == ["demo"]


def test_reimport_of_the_same_version_is_a_no_op(store: BoxStore, tmp_path: Path) -> None:
    folder = make_box(tmp_path)
    store.install(open_bundle(folder))
    before = snapshot(store.root)
    result = store.install(open_bundle(folder))
    assert result.status == "unchanged"
    assert snapshot(store.root) == before


def test_same_version_with_other_files_is_a_conflict(store: BoxStore, tmp_path: Path) -> None:
    store.install(open_bundle(make_box(tmp_path / "a")))
    other = make_box(tmp_path / "b", modules={"tools.py": DOUBLE.replace("Twice x.", "Two times x.")})
    with pytest.raises(BoxConflict, match="bump the version"):
        store.install(open_bundle(other))


def test_another_version_upgrades_and_downgrades(store: BoxStore, tmp_path: Path) -> None:
    store.install(open_bundle(make_box(tmp_path, version="1.0.0")))
    upgraded = store.install(open_bundle(make_box(tmp_path, version="1.1.0")))
    assert (upgraded.status, upgraded.previous) == ("upgraded", "1.0.0")
    assert store.find("demo").manifest.version == "1.1.0"
    downgraded = store.install(open_bundle(make_box(tmp_path, version="1.0.1-rc.1")))
    assert (downgraded.status, downgraded.previous) == ("downgraded", "1.1.0")
    assert sorted(os.listdir(store.root)) == [".lock", "demo"]  # no staging or retired leftovers


def test_failed_upgrade_keeps_the_old_version(store: BoxStore, tmp_path: Path) -> None:
    store.install(open_bundle(make_box(tmp_path / "a")))
    before = snapshot(store.root)
    broken = make_box(tmp_path / "b", version="2.0.0", examples={"double": [{"args": {"x": 1}, "expect": 3}]})
    with pytest.raises(SelfTestFailed):
        store.install(open_bundle(broken))
    assert snapshot(store.root) == before


def test_crash_mid_upgrade_is_recovered(store: BoxStore, tmp_path: Path) -> None:
    store.install(open_bundle(make_box(tmp_path)))
    os.rename(store.root / "demo", store.root / ".retired-demo-0000")  # old moved aside, new never arrived
    (store.root / ".staging-demo-0000").mkdir()
    store.install(open_bundle(make_box(tmp_path, version="1.0.1")))
    assert sorted(os.listdir(store.root)) == [".lock", "demo"]
    assert store.find("demo").manifest.version == "1.0.1"


def test_remove(store: BoxStore, tmp_path: Path) -> None:
    store.install(open_bundle(make_box(tmp_path)))
    removed = store.remove("demo")
    assert removed.manifest.version == "1.0.0"
    assert store.installed() == []
    with pytest.raises(BoxNotFound, match="no installed box named 'demo'"):
        store.remove("demo")
    with pytest.raises(BoxError, match="math is shipped with the runtime"):
        store.remove("math")


def test_installed_box_hides_the_shipped_one_until_removed(store: BoxStore, tmp_path: Path) -> None:
    store.install(open_bundle(make_box(tmp_path, name="math", version="9.0.0")))
    entry = store.find("math")
    assert (entry.source, entry.manifest.version, entry.overrides) == ("installed", "9.0.0", "1.0.0")
    store.remove("math")
    assert store.find("math").source == "shipped"


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_export_then_import_round_trips(store: BoxStore, tmp_path: Path, suffix: str) -> None:
    store.install(open_bundle(make_box(tmp_path)))
    archive = tmp_path / f"demo{suffix}"
    write_archive(store.open("demo"), archive)
    first = archive.read_bytes()
    write_archive(store.open("demo"), archive)
    assert archive.read_bytes() == first  # reproducible: same box, same bytes
    store.remove("demo")
    result = store.install(open_bundle(archive))
    assert result.status == "installed"
    assert store.find("demo").manifest == open_bundle(tmp_path / "demo-1.0.0").manifest


def test_export_refuses_other_formats(store: BoxStore, tmp_path: Path) -> None:
    with pytest.raises(BoxError, match="export to a .zip, .tar.gz or .tgz"):
        write_archive(store.open("math"), tmp_path / "math.rar")


def test_new_scaffold_imports_cleanly(store: BoxStore, tmp_path: Path) -> None:
    folder = new_box("my_tools", tmp_path)
    result = store.install(open_bundle(folder))
    assert [t.name for t in result.tools] == ["scale_values"]
    with pytest.raises(ManifestError, match="lowercase identifier"):
        new_box("My-Tools", tmp_path)
    with pytest.raises(BoxError, match="already exists"):
        new_box("my_tools", tmp_path)


def test_seal_records_edits(tmp_path: Path) -> None:
    folder = make_box(tmp_path)
    (folder / "tools.py").write_text(DOUBLE.replace("Twice x.", "Double x."))
    with pytest.raises(IntegrityError):
        open_bundle(folder)
    seal(folder)
    assert (
        open_bundle(folder).manifest.files["tools.py"] == hashlib.sha256((folder / "tools.py").read_bytes()).hexdigest()
    )


def test_box_json_manifest_is_accepted(store: BoxStore, tmp_path: Path) -> None:
    files = {"tools.py": DOUBLE.encode()}
    fields = box_fields("jsonbox", "0.1.0", files, description="A demo box.", authors=["Tester"])
    write_box(tmp_path / "jsonbox", fields, files, manifest_name="box.json")
    assert store.install(open_bundle(tmp_path / "jsonbox")).status == "installed"


def test_archive_with_a_top_folder_is_accepted(tmp_path: Path) -> None:
    entries = {f"demo-1.0.0/{k}": v for k, v in folder_entries(make_box(tmp_path)).items()}
    assert open_bundle(zip_of(entries, tmp_path / "nested.zip")).name == "demo"
