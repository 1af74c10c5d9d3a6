"""The eval package's modules import each other in one direction, and the settings import no layer above them.

Read from the source with `ast`, so an import inside a function (the usual way to hide a circle)
counts as much as one at the top of a module.
"""

import ast
from pathlib import Path

import runtime

ROOT = Path(runtime.__file__).parent


def module_name(file: Path) -> str:
    parts = file.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(file: Path) -> set[str]:
    """Every runtime module `file` imports, anywhere in it; `from runtime.x import y` names runtime.x.y
    when that is a module, else runtime.x."""
    found = set()
    for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found |= {f"{node.module}.{alias.name}" for alias in node.names} | {node.module}
    return {name for name in found if name.startswith("runtime")}


def graph(package: str) -> dict[str, set[str]]:
    files = {module_name(f): f for f in ROOT.rglob("*.py")}
    inside = {name for name in files if name.startswith(package + ".")}
    return {name: imported(files[name]) & inside for name in inside}


def cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """One import circle as [a, b, ..., a], or None: a depth-first search for an edge back onto the path."""
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> list[str] | None:
        if node in path:
            return path[path.index(node) :] + [node]
        if node in done:
            return None
        for target in sorted(edges.get(node, ())):
            if found := visit(target, [*path, node]):
                return found
        done.add(node)
        return None

    return next((c for start in sorted(edges) if (c := visit(start, []))), None)


def test_the_eval_modules_import_each_other_without_a_circle():
    edges = graph("runtime.eval")
    assert {"runtime.eval.runner", "runtime.eval.records", "runtime.eval.store", "runtime.eval.workers"} <= set(edges)
    assert cycle(edges) is None


def test_the_cycle_search_finds_a_circle():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_settings_import_no_layer_above_them():
    assert imported(ROOT / "config.py") <= {"runtime.errors", "runtime.errors.ConfigError"}
