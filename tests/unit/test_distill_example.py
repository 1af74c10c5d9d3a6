"""The distilled boxes committed as examples (docs/distill-results.md) still import."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtime.boxes.bundle import open_bundle
from runtime.boxes.loader import check_bundle

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parents[2] / "docs" / "examples"
EXAMPLE = EXAMPLES / "distilled-game24" / "box"


def test_the_example_box_passes_its_self_test_and_says_its_measured_rate():
    bundle = open_bundle(EXAMPLE)  # hashes and manifest, as `runtime box import` checks them
    [spec] = check_bundle(bundle)
    assert spec.name == "find_expression_with_sum"
    assert "solved 72 of 100 held-out questions" in bundle.manifest.description


def test_the_molar_mass_example_chains_the_teachers_tables_and_says_its_measured_rate():
    bundle = open_bundle(EXAMPLES / "distilled-molar-mass" / "box")
    [spec] = check_bundle(bundle)
    assert spec.name == "calculate_molar_mass"
    assert "solved 26 of 40 held-out questions" in bundle.manifest.description
