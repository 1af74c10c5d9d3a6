"""The sandbox worker: a child process that runs restricted code and answers over one socket.

Started by the parent as `python -m runtime.sandbox.worker FD`. It imports everything it will
offer, confines itself, then serves `run` and `fork` requests until its socket closes. A `fork`
copies the whole interpreter with os.fork, which is how candidate actions share one state cheaply.
"""

from __future__ import annotations

import builtins
import importlib
import json
import os
import signal
import socket
import sys
import types
from pathlib import Path
from typing import Any

from runtime.sandbox.confine import close_inherited_fds, confine, forking_allowed, limit_action_cpu
from runtime.sandbox.guards import FILENAME, CompileFailed, Guards, compile_action, split_last_expression
from runtime.sandbox.oslayer import harden
from runtime.sandbox.output import OutputLimitExceeded, Printer, summarize, truncate
from runtime.sandbox.policy import SandboxPolicy
from runtime.sandbox.protocol import Channel, ChannelClosed
from runtime.sandbox.proxy import ToolStub, make_tool_function
from runtime.sandbox.refusals import Refused
from runtime.tools import ToolError

MAX_ANSWER_CHARS = 100_000
_NO_ANSWER = object()
_PRELOADED = ("_strptime",)
"""Modules the allowed ones import lazily (datetime.strptime), loaded before the OS layer hides files."""
_UNGUARDED_PRELOADED = ("subprocess",)
"""For tests of the OS layer alone: loaded first, so that the test reaches the syscalls."""


class ActionTimeout(BaseException):
    """Raised by SIGALRM at the action's deadline; `except Exception` in user code cannot stop it."""


class FinalAnswer(BaseException):
    """Raised by final_answer() to end the action."""


class Worker:
    """Runs actions in one persistent namespace and serves the parent's requests."""

    def __init__(
        self, channel: Channel, policy: SandboxPolicy, tools: list[ToolStub], language_guard: bool = True
    ) -> None:
        self.channel = channel
        self.policy = policy
        self.printer = Printer(policy.max_output_chars, policy.output_stop_chars)
        extras: dict[str, Any] = {"final_answer": self._answer_function(), "ToolError": ToolError}
        extras.update({stub.name: make_tool_function(stub, self._call_tool) for stub in tools})
        self._reserved = frozenset({"final_answer", *(stub.name for stub in tools)})
        self.guards: Guards | None = None
        if language_guard:
            self.guards = Guards(policy.allowed_modules)
            self.namespace = self.guards.namespace(extras, self.printer)
        else:  # tests of the OS layer alone: plain Python, real builtins
            self.namespace = {"__builtins__": builtins, "__name__": "__main__", **extras}
        for module in _PRELOADED + (() if language_guard else _UNGUARDED_PRELOADED):
            importlib.import_module(module)
        self._answer: Any = _NO_ANSWER
        self._armed = False
        self._calls = 0
        signal.signal(signal.SIGALRM, self._on_alarm)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forks are reaped by the kernel

    def serve(self) -> None:
        """Answer requests until the parent closes the channel (or goes away)."""
        try:
            while True:
                message = self.channel.recv()
                if message.get("op") == "run":
                    self.channel.send(self.run(str(message.get("code", ""))))
                elif message.get("op") == "fork":
                    self.fork()
                # anything else (a tool result for an interrupted call) is stale and dropped
        except ChannelClosed:
            return

    def run(self, code: str) -> dict[str, Any]:
        self.printer.reset()
        self._answer = _NO_ANSWER
        self._arm()
        try:
            outcome = self._attempt(code)
        finally:
            self._disarm()
        if self._answer is not _NO_ANSWER:
            outcome.update(final=True, answer=self._answer)
        return {"op": "result", "stdout": self.printer.text(), **outcome}

    def fork(self) -> None:
        """Copy this process; the copy serves a new socket, which goes to the parent."""
        child_end, parent_end = socket.socketpair()
        try:
            with forking_allowed():
                pid = os.fork()
        except OSError as exc:
            child_end.close()
            parent_end.close()
            self.channel.send({"op": "fork_failed", "error": str(exc)})
            return
        if pid == 0:
            parent_end.close()
            self.channel.close()
            self.channel = Channel(child_end)
            return
        child_end.close()
        self.channel.send({"op": "forked", "pid": pid})
        self.channel.send_socket(parent_end)
        parent_end.close()

    # -- one action ----------------------------------------------------------------------------

    def _attempt(self, code: str) -> dict[str, Any]:
        try:
            value = self._execute(code)
        except FinalAnswer:
            return {"ok": True}
        except CompileFailed as exc:
            return _failure(exc.kind, exc.message)
        except BaseException as exc:  # everything the code can raise, SystemExit included
            try:
                return self._describe(exc)
            except BaseException:  # describing runs user code (__str__) and may itself fail
                return _failure("runtime", type(exc).__name__)
        return {"ok": True, "value": value}

    def _execute(self, code: str) -> str | None:
        if self.guards is None:
            body, last = split_last_expression(code)
        else:
            body, last = compile_action(code, self._reserved)
            self.guards.reassert()
        exec(body, self.namespace)
        if last is None:
            return None
        value = eval(last, self.namespace)
        return None if value is None else summarize(value, self.policy.max_output_chars)

    def _describe(self, exc: BaseException) -> dict[str, Any]:
        policy = self.policy
        if isinstance(exc, ActionTimeout):
            return _failure(
                "timeout",
                f"Action stopped after {policy.timeout_s:g} s (wall-clock limit). Variables from earlier "
                "steps are kept; changes this action made before it was stopped may remain.",
            )
        if isinstance(exc, OutputLimitExceeded):
            return _failure(
                "output",
                f"Action stopped: it printed more than {policy.output_stop_chars:,} characters. "
                "Print a summary instead (a count, or the first few items).",
            )
        line = _user_line(exc.__traceback__)
        where = f" (line {line})" if line else ""
        if isinstance(exc, MemoryError):
            # The parent reads our memory use and decides whether to replace us (the OS layer
            # hides /proc from this process).
            text = f"MemoryError: the action needed more memory than the sandbox allows ({policy.memory_mb} MB){where}."
            return _failure("memory", text)
        name = _public_class_name(exc)
        message = str(exc)
        text = f"{name}: {message}" if message else name
        kind = "policy" if isinstance(exc, Refused) else "runtime"
        return _failure(kind, truncate(text, policy.max_output_chars) + where)

    def _answer_function(self) -> Any:
        """`final_answer(answer)` for the code; a plain function, so a wrong call reads
        "final_answer() takes ..." rather than naming this class's method. Several values
        (`final_answer(planet, author)`) are one answer of several parts, kept as a list."""

        def final_answer(*answers: Any, answer: Any = None) -> None:
            parts = [*answers, *([] if answer is None else [answer])]
            value = parts[0] if len(parts) == 1 else parts or None
            self._answer = _jsonable(value, self.policy.max_output_chars)
            raise FinalAnswer

        final_answer.__qualname__ = "final_answer"
        return final_answer

    def _call_tool(self, name: str, arguments: dict[str, Any]) -> Any:
        """Ask the parent; the alarm is held off meanwhile so the channel is never left mid-message."""
        self._calls += 1
        call_id = self._calls
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        try:
            self.channel.send({"op": "tool", "id": call_id, "name": name, "args": arguments})
            reply = self.channel.recv()
            while reply.get("op") != "tool_result" or reply.get("id") != call_id:
                reply = self.channel.recv()
        except ChannelClosed:
            os._exit(0)  # the parent is gone
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if reply.get("ok"):
            return reply.get("value")
        raise ToolError(str(reply.get("error")))

    def _arm(self) -> None:
        limit_action_cpu(self.policy.cpu_s)
        self._armed = True
        signal.setitimer(signal.ITIMER_REAL, self.policy.timeout_s)

    def _disarm(self) -> None:
        signal.setitimer(signal.ITIMER_REAL, 0)
        self._armed = False

    def _on_alarm(self, signum: int, frame: types.FrameType | None) -> None:
        if self._armed:
            self._armed = False  # once: handlers and finally blocks of the code may then run
            raise ActionTimeout


def _failure(kind: str, message: str) -> dict[str, Any]:
    return {"ok": False, "error_kind": kind, "error": message}


def _user_line(tb: types.TracebackType | None) -> int | None:
    """The innermost line of the action itself (not of the guards or the standard library)."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _public_class_name(exc: BaseException) -> str:
    """A refusal is reported as the built-in error it behaves like (AttributeError, ImportError...)."""
    if isinstance(exc, Refused):
        return next(c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins")
    return type(exc).__name__


def _jsonable(value: Any, limit: int) -> Any:
    """JSON data as such (tuples become lists), anything else as its str()."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError, RecursionError):
        try:
            return truncate(str(value), MAX_ANSWER_CHARS)
        except ValueError:
            return summarize(value, limit)
    if len(text) > MAX_ANSWER_CHARS:
        return truncate(text, MAX_ANSWER_CHARS)
    return json.loads(text)


def main() -> None:
    fd = int(sys.argv[1])
    close_inherited_fds(keep=fd)
    channel = Channel(socket.socket(fileno=fd))
    init = channel.recv()
    policy = SandboxPolicy.model_validate(init["policy"])
    tools = [ToolStub.model_validate(t) for t in init["tools"]]
    worker = Worker(channel, policy, tools, language_guard=init.get("language_guard") is not False)
    confine(policy)
    protections, gate = harden(Path.cwd())
    channel.send({"op": "ready", "protections": protections.model_dump(), "gate": gate is not None})
    if gate is not None:
        channel.send_fd(gate, b"G")
        os.close(gate)  # only the parent may answer our clones
    worker.serve()
    os._exit(0)


if __name__ == "__main__":
    main()
