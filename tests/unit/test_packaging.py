"""What the install claims: one top-level package, `runtime`, with tui/, boxes/ and models/ mapped
into it (pyproject's package-dir), and every package on disk listed, so none is left out of a wheel."""

import shutil
import tomllib
from pathlib import Path

from tests.layout import mapped_folders, misplaced

ROOT = Path(__file__).resolve().parents[2]


def setuptools_config() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def packages_on_disk() -> set[str]:
    """Every folder with an __init__.py under `runtime/` and the mapped folders, by installed name."""
    found = set()
    for name, folder in mapped_folders(ROOT).items():
        for init in folder.rglob("__init__.py"):
            parts = init.parent.relative_to(folder).parts
            found.add(".".join((name, *parts)))
    return found


def test_the_install_claims_no_top_level_name_but_runtime():
    config = setuptools_config()
    names = [*config["packages"], *config["package-dir"], *config["package-data"]]
    assert {name.split(".")[0] for name in names} == {"runtime"}
    assert set(config["package-dir"]) | set(config["package-data"]) <= set(config["packages"])


def test_every_package_on_disk_is_listed_and_every_listed_one_exists():
    listed = set(setuptools_config()["packages"])
    assert packages_on_disk() - listed == set(), "add them to [tool.setuptools] packages in pyproject.toml"
    assert listed - packages_on_disk() == set()


def test_the_shipped_data_the_runtime_reads_is_package_data():
    data = setuptools_config()["package-data"]
    assert "*.tcss" in data["runtime.tui"] and list((ROOT / "tui").glob("*.tcss"))
    assert "*.toml" in data["runtime.model.manifests"] and list((ROOT / "models").glob("*.toml"))
    assert {"**/*.toml", "**/*.json", "**/*.py"} <= set(data["runtime.boxes.shipped"])


def test_the_tests_import_this_checkout_and_the_check_sees_another(tmp_path):
    assert misplaced(ROOT) == []
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    assert [line.split(":")[0] for line in misplaced(tmp_path)] == list(mapped_folders(tmp_path))
