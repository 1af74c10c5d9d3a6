"""constraints.txt (scripts/lock.py) stays in step with pyproject.toml, which install.sh relies on."""

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]


def pins() -> dict[str, str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return {canonicalize_name(n): v for n, _, v in (line.partition("==") for line in lines if line and not line.startswith("#"))}


def test_every_requirement_of_the_project_and_its_extras_is_pinned_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    requirements = [Requirement(line) for line in project["dependencies"] + [r for extra in extras.values() for r in extra]]
    pinned = pins()
    for requirement in requirements:
        name = canonicalize_name(requirement.name)
        if name == "llama-cpp-python":
            assert name not in pinned  # install.sh builds it at the version pyproject pins
            continue
        assert name in pinned, f"{name} is not in constraints.txt: run python scripts/lock.py"
        assert requirement.specifier.contains(pinned[name], prereleases=True), f"{name}=={pinned[name]} is outside {requirement}"

