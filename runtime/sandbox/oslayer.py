"""The OS layer under the language guard: what the kernel refuses the worker, whatever code it runs.

Applied by the worker to itself once it has imported everything it offers, in this order:
no_new_privs; Landlock (read: the Python install and the runtime's code; write: only the work
folder; no TCP; no signals or abstract sockets outside the sandbox); when root, a switch to an
unprivileged uid (nobody), which also drops every capability, so no hard limit can be raised;
last a seccomp filter (it forbids further filters) that refuses new sockets, exec, ptrace,
namespaces, io_uring, leaving the session (setsid) and process creation.

Process creation is the one thing the worker itself needs: a fork is how candidate actions share
a state. A filter alone cannot tell the worker's fork from the code's (same syscall, same flags,
same process), and a filter can only ever be tightened. So clone is not decided in the worker at
all: it goes to the parent as a seccomp user notification (ForkGate), and the parent lets exactly
one through, from the process it has just asked to fork; any other is refused with EPERM.

A box marked untrusted runs as a long-lived FastMCP server in a child process with the same layer
(`harden(..., server=True)`): its threads are let through by the filter itself (clone with
CLONE_THREAD), any other process creation is refused, and as root it keeps only
CAP_DAC_READ_SEARCH, so it can still import from a Python install only root can enter while
Landlock bounds what it reads.

Each mechanism is used where the kernel has it; `Protections` says which are active.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import platform
import pwd
import select
import struct
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, Field

import runtime

# -- prctl / seccomp / Landlock constants (linux/prctl.h, linux/seccomp.h, linux/landlock.h) --------
_PR_SET_NO_NEW_PRIVS = 38
_PR_SET_KEEPCAPS = 8
_CAP_VERSION_3 = 0x20080522
_CAP_DAC_READ_SEARCH = 2
_CLONE_THREAD = 0x00010000
_PR_SET_SECCOMP = 22
_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3
_RET_KILL_PROCESS = 0x80000000
_RET_USER_NOTIF = 0x7FC00000
_RET_ALLOW = 0x7FFF0000
_RET_ERRNO = 0x00050000
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_RET = 0x06  # BPF_RET | BPF_K
_NOTIF_RECV = 0xC0502100  # SECCOMP_IOCTL_NOTIF_RECV: _IOWR('!', 0, struct seccomp_notif)
_NOTIF_SEND = 0xC0182101  # SECCOMP_IOCTL_NOTIF_SEND: _IOWR('!', 1, struct seccomp_notif_resp)
_NOTIF_FLAG_CONTINUE = 1
_NOTIF = struct.Struct("=QII i I Q 6Q")  # id, pid, flags, then seccomp_data: nr, arch, ip, args
_NOTIF_RESP = struct.Struct("=Qqi I")  # id, val, error, flags

_LANDLOCK_CREATE_RULESET, _LANDLOCK_ADD_RULE, _LANDLOCK_RESTRICT_SELF = 444, 445, 446
_LANDLOCK_VERSION = 1
_RULE_PATH_BENEATH = 1
_FS_READ = 0x4 | 0x8  # READ_FILE | READ_DIR
_FS_ALL = {1: 0x1FFF, 2: 0x3FFF, 3: 0x7FFF, 4: 0x7FFF, 5: 0xFFFF}
_NET_TCP = 0x1 | 0x2  # BIND_TCP | CONNECT_TCP
_SCOPE_ALL = 0x1 | 0x2  # ABSTRACT_UNIX_SOCKET | SIGNAL

_AF_UNIX = 1
_NOBODY = 65534


class _Arch(BaseModel):
    audit: int
    seccomp: int
    x32_base: int | None = None
    denied: dict[str, int]
    forks: tuple[int, ...]
    clone3: int = 435
    socketpair: int


_DENIED_SYSCALLS = {  # name: (number on x86_64, number on aarch64)
    "socket": (41, 198), "connect": (42, 203), "accept": (43, 202), "bind": (49, 200), "listen": (50, 201),
    "accept4": (288, 242), "execve": (59, 221), "execveat": (322, 281), "ptrace": (101, 117), "setsid": (112, 157),
    "setpgid": (109, 154), "unshare": (272, 97), "setns": (308, 268), "mount": (165, 40), "chroot": (161, 51),
    "pivot_root": (155, 41), "bpf": (321, 280), "userfaultfd": (323, 282), "perf_event_open": (298, 241),
    "process_vm_readv": (310, 270), "process_vm_writev": (311, 271), "keyctl": (250, 219), "add_key": (248, 217),
    "request_key": (249, 218), "open_by_handle_at": (304, 265), "seccomp": (317, 277),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
}
"""One row a syscall, so that a call denied on one architecture cannot be forgotten on the other."""
_ARCHES = {
    "x86_64": _Arch(
        audit=0xC000003E, seccomp=317, x32_base=0x40000000, socketpair=53, forks=(56, 57, 58),
        denied={name: numbers[0] for name, numbers in _DENIED_SYSCALLS.items()},
    ),
    "aarch64": _Arch(
        audit=0xC00000B7, seccomp=277, socketpair=199, forks=(220,),
        denied={name: numbers[1] for name, numbers in _DENIED_SYSCALLS.items()},
    ),
}


class Protections(BaseModel):
    """Which OS protections a worker has in force; `line()` is what `runtime doctor` prints."""

    no_new_privs: bool = False
    landlock_abi: int = Field(default=0, description="0: no Landlock (files are not confined).")
    uid: int = Field(default=-1, description="The uid the worker runs as.")
    seccomp: bool = Field(default=False, description="No new sockets, exec, ptrace, namespaces or setsid.")
    fork_gate: bool = Field(default=False, description="Processes are created only when the parent asks.")
    rlimits: bool = True

    def line(self) -> str:
        def mark(on: bool, text: str) -> str:
            return f"{text} {'on' if on else 'OFF'}"

        landlock = f"landlock ABI {self.landlock_abi} on" if self.landlock_abi else "landlock OFF (files not confined)"
        user = f"uid {self.uid}" + (" (root!)" if self.uid == 0 else "")
        parts = [
            mark(self.seccomp, "seccomp (sockets, exec)"), mark(self.fork_gate, "fork gate"), landlock,
            mark(self.no_new_privs, "no_new_privs"), user, mark(self.rlimits, "rlimits"),
        ]
        return "sandbox OS layer: " + ", ".join(parts)


def harden(workdir: Path, *, server: bool = False, reads: Sequence[Path] = ()) -> tuple[Protections, int | None]:
    """Confine this process for good; returns what is in force and the fork gate's listener fd
    (to be sent to the parent and closed here), or None where the kernel has no user notification.

    `server`: a long-lived server (an isolated box) that needs threads but never a process, and
    no parent answering a fork gate. `reads`: folders readable besides the Python install."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    protections = Protections()
    unprivileged = _unprivileged_ids()  # before Landlock, which hides /etc/passwd
    protections.no_new_privs = libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
    if protections.no_new_privs:
        protections.landlock_abi = _landlock(libc, workdir, reads)
    protections.uid = _drop_root(libc, workdir, *unprivileged, keep_read_search=server)
    arch = _ARCHES.get(platform.machine())
    listener = None
    if arch is not None and protections.no_new_privs:
        gate = not server and _has_fork_gate()
        result = _install_filter(libc, arch, gate, threads_only=server)
        protections.seccomp = result is not None
        if result is not None and gate:
            listener, protections.fork_gate = result, True
    return protections, listener


# -- Landlock --------------------------------------------------------------------------------------


def read_roots() -> list[Path]:
    """What the worker may read: the Python install, its site-packages and the runtime's code."""
    roots = {Path(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    roots |= {Path(p) for p in sys.path if p.endswith(("site-packages", "dist-packages"))}
    roots.add(Path(runtime.__file__).resolve().parent)
    return sorted(p for p in roots if p.is_dir())


def _landlock(libc: ctypes.CDLL, workdir: Path, reads: Sequence[Path] = ()) -> int:
    abi = libc.syscall(_LANDLOCK_CREATE_RULESET, None, 0, _LANDLOCK_VERSION)
    if abi < 1:
        return 0
    fs_all = _FS_ALL[min(abi, 5)]
    attr = struct.pack("=QQQ", fs_all, _NET_TCP if abi >= 4 else 0, _SCOPE_ALL if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(_LANDLOCK_CREATE_RULESET, ctypes.c_char_p(attr), size, 0)
    if ruleset < 0:
        return 0
    try:
        rules = [(root, _FS_READ) for root in [*read_roots(), *reads]] + [(workdir, fs_all)]
        for path, access in rules:
            _add_rule(libc, ruleset, path, access)
        if libc.syscall(_LANDLOCK_RESTRICT_SELF, ruleset, 0) != 0:
            return 0
    except OSError:
        return 0
    finally:
        os.close(ruleset)
    return abi


def _add_rule(libc: ctypes.CDLL, ruleset: int, path: Path, access: int) -> None:
    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    try:
        attr = struct.pack("=Qi", access, fd)  # struct landlock_path_beneath_attr is packed
        if libc.syscall(_LANDLOCK_ADD_RULE, ruleset, _RULE_PATH_BENEATH, ctypes.c_char_p(attr), 0) != 0:
            raise OSError(ctypes.get_errno(), f"landlock rule for {path}")
    finally:
        os.close(fd)


# -- uid -------------------------------------------------------------------------------------------


def _unprivileged_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return _NOBODY, _NOBODY
    return entry.pw_uid, entry.pw_gid


def _drop_root(libc: ctypes.CDLL, workdir: Path, uid: int, gid: int, keep_read_search: bool = False) -> int:
    """As root: hand the work folder to nobody and become nobody (all capabilities go with root,
    except CAP_DAC_READ_SEARCH with `keep_read_search`: Landlock, not file modes, bounds reads)."""
    if os.geteuid() != 0:
        return os.geteuid()
    os.chown(workdir, uid, gid)
    if keep_read_search and libc.prctl(_PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_KEEPCAPS)")
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
    if keep_read_search:
        _keep_only(libc, _CAP_DAC_READ_SEARCH)
    return os.geteuid()


def _keep_only(libc: ctypes.CDLL, capability: int) -> None:
    """capset: this one capability effective and permitted, none inheritable, all others gone."""
    header = struct.pack("=Ii", _CAP_VERSION_3, 0)
    bit = 1 << capability
    data = struct.pack("=6I", bit, bit, 0, 0, 0, 0)  # two u32 words of (effective, permitted, inheritable)
    if libc.capset(ctypes.c_char_p(header), ctypes.c_char_p(data)) != 0:
        raise OSError(ctypes.get_errno(), "capset")


# -- seccomp ---------------------------------------------------------------------------------------


def _has_fork_gate() -> bool:
    """User notifications that can let a call continue: Linux 5.5."""
    try:
        major, minor = (int(part) for part in platform.release().split(".")[:2])
    except ValueError:
        return False
    return (major, minor) >= (5, 5)


def _filter(arch: _Arch, gate: bool, threads_only: bool = False) -> list[tuple[int, int, int, int]]:
    eperm = _RET_ERRNO | errno.EPERM
    program = [(_LD_ABS, 0, 0, 4), (_JEQ, 1, 0, arch.audit), (_RET, 0, 0, _RET_KILL_PROCESS), (_LD_ABS, 0, 0, 0)]
    if arch.x32_base is not None:
        program += [(_JGE, 0, 1, arch.x32_base), (_RET, 0, 0, eperm)]
    for nr in arch.denied.values():
        program += [(_JEQ, 0, 1, nr), (_RET, 0, 0, eperm)]
    program += [(_JEQ, 0, 1, arch.clone3), (_RET, 0, 0, _RET_ERRNO | errno.ENOSYS)]  # glibc falls back to clone
    if threads_only:  # clone (first of `forks`) only with CLONE_THREAD: a thread, never a process
        clone, *others = arch.forks
        program += [(_JEQ, 0, 4, clone), (_LD_ABS, 0, 0, 16), (_JSET, 1, 0, _CLONE_THREAD)]
        program += [(_RET, 0, 0, eperm), (_RET, 0, 0, _RET_ALLOW), (_LD_ABS, 0, 0, 0)]
        program += [insn for nr in others for insn in ((_JEQ, 0, 1, nr), (_RET, 0, 0, eperm))]
    else:
        for nr in arch.forks:
            program += [(_JEQ, 0, 1, nr), (_RET, 0, 0, _RET_USER_NOTIF if gate else _RET_ALLOW)]
    # prctl(PR_SET_SECCOMP): no further filters (a newer user notification would take precedence)
    program += [(_JEQ, 0, 3, _prctl_nr(arch)), (_LD_ABS, 0, 0, 16), (_JEQ, 0, 1, _PR_SET_SECCOMP), (_RET, 0, 0, eperm)]
    program += [(_LD_ABS, 0, 0, 0)]
    # socketpair(AF_UNIX) only: how the worker hands a fork its channel; it reaches nothing outside
    program += [(_JEQ, 0, 3, arch.socketpair), (_LD_ABS, 0, 0, 16), (_JEQ, 1, 0, _AF_UNIX), (_RET, 0, 0, eperm)]
    program += [(_RET, 0, 0, _RET_ALLOW)]
    return program


def _prctl_nr(arch: _Arch) -> int:
    return 157 if arch.audit == _ARCHES["x86_64"].audit else 167


def _install_filter(libc: ctypes.CDLL, arch: _Arch, gate: bool, threads_only: bool = False) -> int | None:
    """Install the filter; the listener fd with `gate`, else 0. None if the kernel refused it."""
    program = _filter(arch, gate, threads_only)
    code = b"".join(struct.pack("=HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(code)
    fprog = struct.pack("=HxxxxxxQ", len(program), ctypes.addressof(buffer))
    flags = _SECCOMP_FILTER_FLAG_NEW_LISTENER if gate else 0
    result = libc.syscall(arch.seccomp, _SECCOMP_SET_MODE_FILTER, flags, ctypes.c_char_p(fprog))
    if result < 0:
        return None
    return result if gate else 0


# -- the parent's side of the fork gate ------------------------------------------------------------


class ForkGate:
    """The parent's end of a worker's seccomp user notifications: every clone of the worker and of
    its forks waits here for an answer. Thread-safe: SAG runs candidates in threads while the main
    thread forks, and whichever thread is waiting answers for all of them."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = threading.Lock()
        self._permitted: set[int] = set()

    def fileno(self) -> int:
        return self.fd

    @contextmanager
    def permit(self, pid: int) -> Iterator[None]:
        """Let one clone of process `pid` through while in this block (the fork we asked it for)."""
        with self._lock:
            self._permitted.add(pid)
        try:
            yield
        finally:
            with self._lock:
                self._permitted.discard(pid)

    def answer_pending(self) -> None:
        """Answer the clone waiting here, if one still is: through if permitted, else EPERM."""
        with self._lock:
            if self.fd < 0 or not select.select([self.fd], [], [], 0)[0]:
                return  # another thread answered it
            buffer = bytearray(_NOTIF.size)
            try:
                fcntl.ioctl(self.fd, _NOTIF_RECV, buffer)
            except OSError:  # the caller died meanwhile
                return
            notif_id, pid = _NOTIF.unpack(buffer)[:2]
            allowed = pid in self._permitted
            self._permitted.discard(pid)
            error, flags = (0, _NOTIF_FLAG_CONTINUE) if allowed else (-errno.EPERM, 0)
            try:
                fcntl.ioctl(self.fd, _NOTIF_SEND, bytearray(_NOTIF_RESP.pack(notif_id, 0, error, flags)))
            except OSError:
                return

    def close(self) -> None:
        with self._lock:
            if self.fd >= 0:
                os.close(self.fd)
                self.fd = -1
