"""The chat's sandbox: opened on first use, kept across questions, replaced after a stop or a failure."""

from __future__ import annotations

import threading

from runtime import kit
from runtime.config import Settings
from runtime.sandbox import Sandbox
from runtime.tools import Toolset


class SandboxSlot:
    """Holds at most one open sandbox. `get` runs in the agent's worker thread (starting a worker
    process takes a moment); `discard` may come from the UI thread, to stop a running action."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._sandbox: Sandbox | None = None
        self._toolset: Toolset | None = None
        self._lock = threading.Lock()

    def get(self, toolset: Toolset | None) -> Sandbox:
        """The open sandbox if it was made with these tools, else a new one (tool stubs are fixed at start)."""
        with self._lock:
            if self._sandbox is not None and toolset is self._toolset:
                return self._sandbox
            stale, self._sandbox = self._sandbox, None
        if stale is not None:
            stale.close()
        sandbox = kit.open_sandbox(self._settings, toolset)
        with self._lock:
            self._sandbox, self._toolset = sandbox, toolset
        return sandbox

    def discard(self) -> None:
        """Kill the sandbox's worker process now (a running action ends); the next `get` opens a new one.

        Closing happens on a helper thread so the UI never waits for a process to be reaped."""
        with self._lock:
            sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            threading.Thread(target=_close_racing_run, args=(sandbox,), name="sandbox-close", daemon=True).start()

    def close(self) -> None:
        """On exit: close in this thread, so no worker process outlives the app."""
        with self._lock:
            sandbox, self._sandbox = self._sandbox, None
        if sandbox is not None:
            _close_racing_run(sandbox)


def _close_racing_run(sandbox: Sandbox) -> None:
    """Close a sandbox whose `run` may be executing in the agent's thread.

    `Sandbox` is not thread-safe: its `run` reacts to the killed worker by restarting it, and that
    cleanup can collide with ours and raise in either thread. The worker is dead either way, and
    the agent's thread has been told to stop, so the collision is harmless here and is not shown.
    A thread-safe `Sandbox.interrupt()` would remove the need for this.
    """
    try:
        sandbox.close()
    except Exception:  # noqa: BLE001, S110 - see above: the race, not a failure the user can act on
        pass
