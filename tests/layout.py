"""Which checkout the tests import: the repo's `runtime/` plus the folders pyproject maps into it.

`tui/`, `boxes/` and `models/` import as `runtime.tui`, `runtime.boxes.shipped` and
`runtime.model.manifests` only through an install of the checkout (pyproject's package-dir): with
`PYTHONPATH=<checkout>` and another checkout installed editable, `runtime` would come from one
checkout and those three packages from the other, and the tests would pass or fail on a mix.
"""

from __future__ import annotations

import importlib.util
import sys
import tomllib
from pathlib import Path


def mapped_folders(root: Path) -> dict[str, Path]:
    """Each installed package name whose code lives in its own folder of the checkout."""
    mapping = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    return {"runtime": root / "runtime"} | {name: root / folder for name, folder in mapping.items()}


def find_folder(name: str) -> Path | None:
    """Where `name` imports from, without running its parent packages (runtime.boxes loads FastMCP):
    the finders are asked as the import system asks them, with the parent's folder under `runtime`."""
    runtime = importlib.util.find_spec("runtime")
    if runtime is None or runtime.origin is None:
        return None
    if name == "runtime":
        return Path(runtime.origin).parent
    parent = Path(runtime.origin).parent.joinpath(*name.split(".")[1:-1])
    for finder in sys.meta_path:
        spec = finder.find_spec(name, [str(parent)]) if hasattr(finder, "find_spec") else None
        if spec is not None:
            return Path(spec.origin).parent if spec.origin else None
    return None


def misplaced(root: Path) -> list[str]:
    """The packages that do not import from `root`, each as 'name: where it imports from'."""
    wrong = []
    for name, folder in mapped_folders(root).items():
        where = find_folder(name)
        if where != folder:
            wrong.append(f"{name}: {where or 'not importable'} (this checkout has it in {folder})")
    return wrong
