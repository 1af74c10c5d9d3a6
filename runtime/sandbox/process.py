"""The parent's handle on one worker process (the session's worker or a fork): start, talk, stop."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any, Literal

import runtime
from runtime.sandbox.oslayer import ForkGate, Protections
from runtime.sandbox.policy import SandboxPolicy
from runtime.sandbox.protocol import Channel, ChannelClosed
from runtime.sandbox.proxy import ToolStub

_SEND_TIMEOUT_S = 30.0
_EXIT_WAIT_S = 2.0
ToolAnswerer = Callable[[dict[str, Any]], dict[str, Any]]


class WorkerStopped(Exception):
    """The worker did not answer: it passed its deadline, died, or could not be reached."""

    def __init__(self, reason: Literal["timeout", "died"], detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class WorkerProcess:
    """One worker process and its channel. Forks are not our children, so they are signalled
    through a pidfd, which cannot hit an unrelated process that reused the pid.

    `gate` answers the clone calls of the worker and all its forks (runtime/sandbox/oslayer.py):
    while we wait on a worker, a clone is let through only when we asked that worker to fork."""

    def __init__(
        self,
        channel: Channel,
        pid: int,
        pgid: int,
        popen: subprocess.Popen[bytes] | None = None,
        gate: ForkGate | None = None,
        protections: Protections | None = None,
    ) -> None:
        self.channel = channel
        self.pid = pid
        self.pgid = pgid
        self.popen = popen
        self.ready = popen is None
        self.gate = gate
        self.protections = protections or Protections()
        self._pidfd: int | None = os.pidfd_open(pid)

    @classmethod
    def spawn(
        cls, policy: SandboxPolicy, tools: list[ToolStub], workdir: Path, log: Path, language_guard: bool = True
    ) -> WorkerProcess:
        """Start a worker without waiting for it; `wait_ready` collects its greeting."""
        ours, theirs = socket.socketpair()
        env = {
            "PATH": os.defpath,
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONPATH": str(Path(runtime.__file__).resolve().parent.parent),
            "PYTHONDONTWRITEBYTECODE": "1",
        }
        with open(log, "ab") as stderr:
            popen = subprocess.Popen(
                [sys.executable, "-m", "runtime.sandbox.worker", str(theirs.fileno())],
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                cwd=workdir,
                env=env,
                start_new_session=True,  # its own process group, so one killpg takes its forks too
            )
        theirs.close()
        channel = Channel(ours, send_timeout=_SEND_TIMEOUT_S)
        channel.send(
            {
                "op": "init",
                "policy": policy.model_dump(mode="json"),
                "tools": [t.model_dump() for t in tools],
                "language_guard": language_guard,
            }
        )
        return cls(channel, popen.pid, pgid=popen.pid, popen=popen)

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        try:
            message = self.channel.recv(timeout)
        except (TimeoutError, ChannelClosed) as exc:
            raise WorkerStopped("died", f"no greeting from the worker ({exc or 'timeout'})") from exc
        if message.get("op") != "ready":
            raise WorkerStopped("died", f"unexpected greeting {message.get('op')!r}")
        try:
            self.protections = Protections.model_validate(message.get("protections", {}))
            if message.get("gate"):
                self.gate = ForkGate(self.channel.recv_fd(timeout, b"G"))
        except (ValueError, ChannelClosed) as exc:
            raise WorkerStopped("died", f"bad greeting from the worker ({exc})") from exc
        self.ready = True

    def execute(self, code: str, timeout: float, answer: ToolAnswerer) -> dict[str, Any]:
        """Run one action, answering its tool calls, and return the worker's result message.

        Time spent inside tools is added to the deadline: it is the parent's time, not the
        action's, and the worker's own alarm still counts it."""
        deadline = time.monotonic() + timeout
        try:
            self.channel.send({"op": "run", "code": code})
            while True:
                message = self._recv(deadline)
                if message.get("op") == "result":
                    return message
                if message.get("op") != "tool":
                    raise WorkerStopped("died", f"unexpected message {message.get('op')!r}")
                started = time.monotonic()
                self.channel.send(answer(message))
                deadline += time.monotonic() - started
        except TimeoutError:
            raise WorkerStopped("timeout") from None
        except ChannelClosed as exc:
            raise WorkerStopped("died", str(exc)) from None

    def fork(self, timeout: float) -> WorkerProcess:
        try:
            with self.gate.permit(self.pid) if self.gate else nullcontext():
                self.channel.send({"op": "fork"})
                message = self._recv(time.monotonic() + timeout)
            if message.get("op") != "forked":
                raise WorkerStopped("died", f"fork failed: {message.get('error', message.get('op'))}")
            sock = self.channel.recv_socket(timeout)
        except (TimeoutError, ChannelClosed) as exc:
            raise WorkerStopped("died", f"fork failed: {exc or 'timeout'}") from exc
        channel = Channel(sock, send_timeout=_SEND_TIMEOUT_S)
        return WorkerProcess(channel, int(message["pid"]), self.pgid, gate=self.gate, protections=self.protections)

    def _recv(self, deadline: float) -> dict[str, Any]:
        """The worker's next message, answering clone calls meanwhile (only a permitted fork passes)."""
        while self.gate is not None:
            try:
                readable, _, _ = select.select(
                    [self.channel.sock, self.gate], [], [], max(0.0, deadline - time.monotonic())
                )
            except (OSError, ValueError) as exc:  # the gate was closed: the sandbox restarted
                raise ChannelClosed(str(exc)) from exc
            if not readable:
                raise TimeoutError
            if self.channel.sock in readable:
                break
            self.gate.answer_pending()
        return self.channel.recv(max(0.0, deadline - time.monotonic()))

    def alive(self) -> bool:
        if self._pidfd is None:
            return False
        readable, _, _ = select.select([self._pidfd], [], [], 0)  # a pidfd turns readable on exit
        return not readable

    def exit_signal(self) -> signal.Signals | None:
        """The signal that ended the worker, when it is our child and has ended by one."""
        if self.popen is None:
            return None
        try:
            code = self.popen.wait(timeout=1.0)
        except subprocess.TimeoutExpired:
            return None
        try:
            return signal.Signals(-code) if code < 0 else None
        except ValueError:
            return None

    def kill(self) -> None:
        """Stop this process only (its forks live on). Safe to call twice."""
        if self._pidfd is not None:
            try:
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
            except ProcessLookupError:
                pass
            select.select([self._pidfd], [], [], _EXIT_WAIT_S)  # readable once it has exited
            os.close(self._pidfd)
            self._pidfd = None
        self._reap()

    def kill_group(self) -> None:
        """Stop this process and everything in its process group: forks, and anything it started
        (the OS layer keeps them from leaving the group)."""
        try:
            os.killpg(self.pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.kill()
        if self.gate is not None:
            self.gate.close()

    def _reap(self) -> None:
        if self.popen is not None:
            self.popen.wait()
        self.channel.close()
