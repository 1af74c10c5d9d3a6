"""distilled.calculate_molar_mass: distilled by `runtime box distill` from a teacher's trajectories."""

from fastmcp import FastMCP

mcp = FastMCP("distilled.calculate_molar_mass")

def _v1_calculate_molar_mass(molecule: dict) -> float | None:
    """The molar mass of the molecule, in g/mol.

    calculate_molar_mass({"C": 3, "H": 7, "Cl": 1, "O": 2}) gives 110.55000000000001.

    Args:
        molecule: For example {"C": 3, "H": 7, "Cl": 1, "O": 2}.
    """
    atomic_masses = {'C': 12.01, 'H': 1.01, 'Cl': 35.45, 'O': 16.0}
    molar_mass = sum((atomic_masses[element] * count for element, count in molecule.items()))
    return molar_mass
from typing import Dict, Any, List, Union
import math
import cmath
import fractions
import decimal
import numbers
import statistics
import random
import itertools
import functools
import operator
import collections
import collections.abc
import heapq
import bisect
import copy
import re
import json
import string
import textwrap
import unicodedata
import datetime
import calendar
import typing
from dataclasses import dataclass

@dataclass
class Element:
    symbol: str
    mass: float

def _v2_calculate_molar_mass(elements: Dict[str, int]) -> float:
    """The molar mass of the given elements in grams per mole."""
    element_masses = {'C': 12.01, 'H': 1.01, 'N': 14.01, 'O': 16.0}
    return sum((element_masses[e] * n for e, n in elements.items()))

def _v3_molar_mass(compound: dict) -> float | None:
    """The molar mass of the compound in g/mol.

    molar_mass({"C": 9, "H": 10, "O": 4}) gives 182.19.

    Args:
        compound: For example {"C": 9, "H": 10, "O": 4}.
    """
    atomic_masses = {'C': 12.01, 'H': 1.01, 'O': 16.0}
    _v3_molar_mass = sum((atomic_masses[element] * count for element, count in compound.items()))
    return _v3_molar_mass

def _v4_calculate_molar_mass(compound: dict) -> float | None:
    """The molar mass of the compound, in g/mol.

    calculate_molar_mass({"C": 8, "H": 8, "O": 2}) gives 136.152.

    Args:
        compound: For example {"C": 8, "H": 8, "O": 2}.
    """
    molar_masses = {'C': 12.011, 'H': 1.008, 'O': 16.0}
    total_mass = 0
    for atom, count in compound.items():
        total_mass += count * molar_masses[atom]
    return total_mass

def _v5_calculate_molar_mass(formula: dict) -> float | None:
    """The molar mass of the given chemical formula.

    calculate_molar_mass({"C": 6, "H": 16, "O": 3, "S": 1, "Si": 1}) gives 196.38.

    Args:
        formula: For example {"C": 6, "H": 16, "O": 3, "S": 1, "Si": 1}.
    """
    atomic_masses = {'C': 12.01, 'H': 1.01, 'O': 16.0, 'S': 32.07, 'Si': 28.09}
    molar_mass = 0
    for element, count in formula.items():
        molar_mass += atomic_masses[element] * count
    return molar_mass

def _v6_molar_mass(compound: dict) -> float | None:
    """The molar mass of the compound in g/mol.

    molar_mass({"C": 9, "H": 15, "N": 1}) gives 137.25.

    Args:
        compound: For example {"C": 9, "H": 15, "N": 1}.
    """
    atomic_masses = {'C': 12.01, 'H': 1.01, 'N': 14.01}
    _v6_molar_mass = sum((atomic_masses[element] * count for element, count in compound.items()))
    return _v6_molar_mass
_v7_atomic_weights = {'C': 12.011, 'H': 1.008}

def _v7_calculate_molar_mass(compound: dict) -> float | None:
    """The molar mass of the compound in g/mol.

    calculate_molar_mass({"C": 12, "H": 22}) gives 166.308.

    Args:
        compound: For example {"C": 12, "H": 22}.
    """
    molar_mass = 0
    for element, count in compound.items():
        atomic_mass = _v7_atomic_weights[element]
        molar_mass += atomic_mass * count
    return molar_mass

@mcp.tool
def calculate_molar_mass(molecule: dict) -> float | None:
    """The molar mass of the molecule, in g/mol.
    
    calculate_molar_mass({"C": 3, "H": 7, "Cl": 1, "O": 2}) gives 110.55000000000001.
    
    Args:
        molecule: For example {"C": 3, "H": 7, "Cl": 1, "O": 2}.
    """
    for version in (_v1_calculate_molar_mass, _v2_calculate_molar_mass, _v3_molar_mass, _v4_calculate_molar_mass, _v5_calculate_molar_mass, _v6_molar_mass, _v7_calculate_molar_mass):
        try:
            found = version(molecule)
        except Exception:
            continue
        if found is not None:
            return found
    return None
