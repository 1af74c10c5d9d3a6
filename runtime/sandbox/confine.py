"""OS limits the worker puts on itself before it runs any sandboxed code.

Part of the second wall, with runtime/sandbox/oslayer.py (seccomp, Landlock, uid): should code
ever get past the guards, it still finds no environment, no inherited descriptors, and bounded
memory, CPU and file size. The process limit is a backstop for kernels without the fork gate;
the worker's own code lifts it to fork its state.
"""

from __future__ import annotations

import os
import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from runtime.sandbox.policy import SandboxPolicy

_MB = 1024 * 1024
_OPEN_FILES = 32
_CPU_LIFETIME_FACTOR = 60
"""The hard CPU limit is this many actions' worth; past it the kernel kills the worker."""


def close_inherited_fds(keep: int) -> None:
    """Close every descriptor but stdio and the channel, whatever the parent leaked."""
    os.closerange(3, keep)
    os.closerange(keep + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def confine(policy: SandboxPolicy) -> None:
    limit_resources(policy)
    _set(resource.RLIMIT_CPU, policy.cpu_s * _CPU_LIFETIME_FACTOR)
    _, nproc_hard = resource.getrlimit(resource.RLIMIT_NPROC)
    resource.setrlimit(resource.RLIMIT_NPROC, (0, nproc_hard))


def limit_resources(policy: SandboxPolicy) -> None:
    """Memory, file size, core dumps, open files, environment: the limits a long-lived server
    (an isolated box) shares with the worker; it has no per-action CPU budget and needs threads."""
    _set(resource.RLIMIT_AS, policy.memory_mb * _MB)
    _set(resource.RLIMIT_FSIZE, policy.file_size_mb * _MB)
    _set(resource.RLIMIT_CORE, 0)
    _set(resource.RLIMIT_NOFILE, _OPEN_FILES)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an oversized write fails instead of killing us
    os.environ.clear()


def limit_action_cpu(cpu_s: int) -> None:
    """RLIMIT_CPU counts the whole life of the process; give this action `cpu_s` more seconds."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = int(usage.ru_utime + usage.ru_stime) + cpu_s + 1
    resource.setrlimit(resource.RLIMIT_CPU, (soft if hard == resource.RLIM_INFINITY else min(soft, hard), hard))


@contextmanager
def forking_allowed() -> Iterator[None]:
    """Lift the process limit for the worker's own os.fork() of its state, then restore it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NPROC)
    resource.setrlimit(resource.RLIMIT_NPROC, (hard, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NPROC, (0, hard))


def _set(limit: int, value: int) -> None:
    _, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    resource.setrlimit(limit, (value, value))
