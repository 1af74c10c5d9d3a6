"""Sandbox: one agent session's code execution — run, fork, commit — with timeouts and restarts.

Code never runs in this process. A worker process holds the session's variables; the wall-clock
limit is enforced here by killing it, after which a fresh worker is started and the result says
that the variables are gone. Forks are os.fork() copies of the worker, so trying several candidate
actions from the same state costs a few milliseconds each.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
import weakref
from pathlib import Path
from types import TracebackType
from typing import Any

from pydantic import ValidationError

from runtime.sandbox.oslayer import Protections
from runtime.sandbox.policy import ErrorKind, ExecResult, SandboxPolicy
from runtime.sandbox.process import WorkerProcess, WorkerStopped
from runtime.sandbox.proxy import ToolStub, answer_tool_call
from runtime.tools import Toolset

_START_TIMEOUT_S = 60.0
_FORK_TIMEOUT_S = 10.0
_LOG_TAIL_CHARS = 2000
_RESTARTED = "The sandbox was restarted; variables from earlier steps are lost."
_DISCARDED = "This candidate was discarded; the session's variables are unchanged."
_RESULT_FIELDS = ("ok", "stdout", "value", "error", "error_kind", "final", "answer")
_NEARLY_FULL = 0.5
"""After a MemoryError, a worker using more than this share of its limit is replaced."""
_KEPT = "Variables from earlier steps are kept."


class SandboxError(RuntimeError):
    """The sandbox itself failed (its worker would not start) or was used wrongly."""


class SandboxFork:
    """A copy of the session's state at fork time; run candidate actions in it, then commit one."""

    def __init__(self, sandbox: Sandbox, worker: WorkerProcess, state_lost: bool) -> None:
        self._sandbox = sandbox
        self._worker: WorkerProcess | None = worker
        self._state_lost = state_lost
        self.open = True

    def run(self, code: str) -> ExecResult:
        return self._sandbox._run_fork(self, code)

    @property
    def pid(self) -> int | None:
        """Its worker process; None once the fork was stopped, committed or discarded."""
        return self._worker.pid if self._worker else None

    def close(self) -> None:
        """Discard this fork without committing it."""
        self._sandbox._discard(self)

    def _stop_worker(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None


class Sandbox:
    """A session's code executor. Variables persist across run() calls. Not thread-safe."""

    def __init__(
        self, policy: SandboxPolicy | None = None, toolset: Toolset | None = None, *, language_guard: bool = True
    ) -> None:
        """`language_guard=False` runs plain Python with only the OS layer around it: for tests of
        that layer, never for model code."""
        self.policy = policy or SandboxPolicy()
        self._language_guard = language_guard
        self._toolset = toolset
        self._tools = [ToolStub.from_spec(spec) for spec in toolset.specs()] if toolset else []
        self._dir = Path(tempfile.mkdtemp(prefix="runtime-sandbox-"))
        self._dir.chmod(0o711)  # a worker that dropped root to nobody still reaches work/
        (self._dir / "work").mkdir()
        self._remove_dir = weakref.finalize(self, shutil.rmtree, self._dir, True)
        self._forks: list[SandboxFork] = []
        self._state_lost = False  # a restart that no result has reported yet
        self._closed = False
        self._worker = self._spawn()

    @property
    def pid(self) -> int:
        """The worker process that holds the session's state."""
        return self._worker.pid

    @property
    def protections(self) -> Protections:
        """The OS protections the worker has in force (it reports them when it starts)."""
        return self._ready_worker().protections

    @property
    def toolset(self) -> Toolset | None:
        """The tools the sandboxed code can call; their calls are answered in this process."""
        return self._toolset

    def run(self, code: str) -> ExecResult:
        worker = self._ready_worker()
        started = time.monotonic()
        try:
            result, replace = self._execute(worker, code, started)
        except WorkerStopped as stop:
            kind, what = self._why_stopped(worker, stop)
            self._restart()
            self._state_lost = False
            return _stopped(kind, f"{what} {_RESTARTED}", state_lost=True, started=started)
        if replace:
            self._restart()
            result.error = f"{result.error} {_RESTARTED}"
        if self._state_lost:
            result.state_lost, self._state_lost = True, False
        return result

    def fork(self) -> SandboxFork:
        try:
            child = self._ready_worker().fork(_FORK_TIMEOUT_S)
        except WorkerStopped as exc:
            self._restart()  # the channel may be out of step; the next result will say state was lost
            raise SandboxError(f"could not fork the sandbox: {exc}") from exc
        fork = SandboxFork(self, child, state_lost=self._state_lost)
        self._forks.append(fork)
        return fork

    def commit(self, fork: SandboxFork) -> None:
        """Make `fork`'s state the session's; every other open fork is discarded."""
        if fork not in self._forks:
            raise SandboxError("commit() needs an open fork of this sandbox")
        for other in [f for f in self._forks if f is not fork]:
            self._discard(other)
        self._forks.clear()
        fork.open = False
        if fork._worker is None:  # its action was stopped; the session keeps the state it had
            return
        previous, self._worker = self._worker, fork._worker
        fork._worker = None
        previous.kill()
        self._state_lost = False

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for fork in list(self._forks):
            self._discard(fork)
        self._worker.kill_group()
        self._remove_dir()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- internals -----------------------------------------------------------------------------

    def _spawn(self) -> WorkerProcess:
        return WorkerProcess.spawn(
            self.policy, self._tools, self._dir / "work", self._dir / "worker.log", self._language_guard
        )

    def _ready_worker(self) -> WorkerProcess:
        if self._closed:
            raise SandboxError("the sandbox is closed")
        if not self._worker.alive():  # killed between actions (by the system, or a person)
            self._restart()
        try:
            self._worker.wait_ready(_START_TIMEOUT_S)
        except WorkerStopped as exc:
            raise SandboxError(f"the sandbox worker did not start: {exc}\n{self._log_tail()}") from exc
        return self._worker

    def _restart(self) -> None:
        """Kill the worker with its process group (open forks die with it) and start a fresh one."""
        self._worker.kill_group()
        for fork in self._forks:
            fork._worker = None
        self._state_lost = True
        self._worker = self._spawn()

    def _run_fork(self, fork: SandboxFork, code: str) -> ExecResult:
        if not fork.open or fork not in self._forks:
            raise SandboxError("this fork was committed or discarded")
        started = time.monotonic()
        if fork._worker is None:
            return _stopped("crash", "This candidate's sandbox was stopped by an earlier action; fork again.",
                            state_lost=False, started=started)
        worker = fork._worker
        try:
            result, replace = self._execute(worker, code, started)
        except WorkerStopped as stop:
            kind, what = self._why_stopped(worker, stop)
            fork._stop_worker()
            return _stopped(kind, f"{what} {_DISCARDED}", state_lost=False, started=started)
        if replace:
            fork._stop_worker()
            result.error = f"{result.error} {_DISCARDED}"
        if fork._state_lost:
            result.state_lost, fork._state_lost = True, False
        return result

    def _discard(self, fork: SandboxFork) -> None:
        fork._stop_worker()
        fork.open = False
        if fork in self._forks:
            self._forks.remove(fork)

    def _execute(self, worker: WorkerProcess, code: str, started: float) -> tuple[ExecResult, bool]:
        """The action's result, and whether the worker asked to be replaced (memory nearly full)."""
        reply = worker.execute(code, self.policy.timeout_s + self._grace_s(), self._answer_tool)
        try:
            fields = {k: reply[k] for k in _RESULT_FIELDS if k in reply}
            result = ExecResult(**fields, duration_s=time.monotonic() - started)
        except ValidationError as exc:
            raise WorkerStopped("died", f"malformed result: {exc.error_count()} errors") from None
        if result.error_kind != "memory":
            return result, False
        if self._memory_nearly_full(worker):
            # Kept variables hold the memory, and CPython is unreliable this close to its limit.
            return result, True
        result.error = f"{result.error} {_KEPT}"
        return result, False

    def _memory_nearly_full(self, worker: WorkerProcess) -> bool:
        try:
            pages = int(Path(f"/proc/{worker.pid}/statm").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return True
        return pages * os.sysconf("SC_PAGE_SIZE") > self.policy.memory_mb * 1024 * 1024 * _NEARLY_FULL

    def _answer_tool(self, message: dict[str, Any]) -> dict[str, Any]:
        return answer_tool_call(self._toolset, message)

    def _grace_s(self) -> float:
        """How long past the limit the worker's own alarm gets to stop the code without a kill."""
        return min(1.0, 0.1 + self.policy.timeout_s / 2)

    def _why_stopped(self, worker: WorkerProcess, stop: WorkerStopped) -> tuple[ErrorKind, str]:
        if stop.reason == "timeout":
            return "timeout", f"Action stopped after {self.policy.timeout_s:g} s (wall-clock limit)."
        signum = worker.exit_signal()
        if signum is not None and signum.name == "SIGXCPU":
            return "timeout", f"Action stopped after using {self.policy.cpu_s} s of CPU time (CPU limit)."
        if signum is not None and signum.name == "SIGKILL":
            return "memory", "The action was killed by the system, most likely for using too much memory."
        how = f"killed by {signum.name}" if signum else stop.detail or "no reason given"
        return "crash", f"The sandbox process stopped unexpectedly ({how})."

    def _log_tail(self) -> str:
        try:
            return (self._dir / "worker.log").read_text(errors="replace")[-_LOG_TAIL_CHARS:]
        except OSError:
            return ""


def _stopped(kind: ErrorKind, message: str, *, state_lost: bool, started: float) -> ExecResult:
    return ExecResult(
        ok=False, error=message, error_kind=kind, state_lost=state_lost, duration_s=time.monotonic() - started
    )
