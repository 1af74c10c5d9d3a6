"""The saved prompt states on disk: one file per cached prompt prefix, capped in total size.

A state is tens of MB (the KV of ~1,000 tokens of a 1.5B model), and every new tool selection
adds one, so the folder is kept under `RUNTIME_PREFIX_CACHE_MB`: loading a state marks it used
(its mtime), and saving one evicts the least recently used until the rest fit.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from runtime.config import Settings

STATE_SUFFIX = ".state"


class CacheSummary(BaseModel):
    """What `runtime cache` shows."""

    folder: Path
    states: int
    bytes: int
    limit_bytes: int


class PrefixStates:
    """The folder of saved prompt states, least recently used evicted first beyond `limit_bytes`."""

    def __init__(self, folder: Path, limit_bytes: int) -> None:
        self.folder = folder
        self.limit_bytes = limit_bytes

    @classmethod
    def of(cls, settings: Settings) -> PrefixStates:
        return cls(settings.cache_dir / "prefix", settings.prefix_cache_mb << 20)

    def path(self, key: str) -> Path:
        return self.folder / f"{key}{STATE_SUFFIX}"

    def _states(self) -> list[Path]:
        """Most recently used first."""
        if not self.folder.is_dir():
            return []
        return sorted(self.folder.glob(f"*{STATE_SUFFIX}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)

    def used(self, file: Path) -> None:
        """`file` was just loaded: it is now the last to be evicted."""
        os.utime(file)

    def evict(self) -> list[Path]:
        """Delete the least recently used states until the rest fit the limit; returns the deleted.

        A state larger than the whole limit is deleted too: the limit is a promise about disk use.
        """
        kept, deleted = 0, []
        for state in self._states():
            size = state.stat().st_size
            if kept + size <= self.limit_bytes:
                kept += size
            else:
                state.unlink(missing_ok=True)
                deleted.append(state)
        return deleted

    def summary(self) -> CacheSummary:
        states = self._states()
        return CacheSummary(
            folder=self.folder,
            states=len(states),
            bytes=sum(s.stat().st_size for s in states),
            limit_bytes=self.limit_bytes,
        )

    def clear(self) -> CacheSummary:
        """Delete every state, and the partial files of saves that were interrupted; returns what was there."""
        before = self.summary()
        for file in self.folder.glob("*") if self.folder.is_dir() else []:
            if file.is_file() and (file.suffix == STATE_SUFFIX or ".tmp" in file.suffix):
                file.unlink(missing_ok=True)
        return before
