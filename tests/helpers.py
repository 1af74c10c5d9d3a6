"""Code and corpora that tests in more than one folder use."""

from __future__ import annotations

STUBBORN_LOOP = """
n = 0
while True:
    try:
        while True:
            n = n + 1
    except BaseException:
        pass
"""
"""Swallows the worker's own interrupt, so only the parent's kill can stop it."""
