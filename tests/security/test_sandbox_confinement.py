"""The worker's second wall: what an escape from the guards would still find (read from /proc)."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from runtime.sandbox import Sandbox, SandboxPolicy

SCRUBBED_ENVIRONMENT = {"PATH", "LANG", "LC_ALL", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}


@pytest.fixture(scope="module")
def box():
    os.environ["RUNTIME_TEST_SECRET"] = "hunter2"
    try:
        with Sandbox(SandboxPolicy(memory_mb=512, file_size_mb=1)) as sandbox:
            assert sandbox.run("ready = True").ok
            yield sandbox
    finally:
        del os.environ["RUNTIME_TEST_SECRET"]


def limits(pid: int) -> dict[str, tuple[str, str]]:
    rows = Path(f"/proc/{pid}/limits").read_text().splitlines()[1:]
    return {row[:26].strip(): tuple(row[26:].split()[:2]) for row in rows}


def test_worker_is_a_separate_process_in_its_own_session(box):
    assert box.pid != os.getpid()
    assert os.getsid(box.pid) == box.pid != os.getsid(0)


def test_worker_environment_is_scrubbed(box):
    environ = Path(f"/proc/{box.pid}/environ").read_bytes()
    assert {entry.split(b"=", 1)[0].decode() for entry in environ.split(b"\0") if entry} <= SCRUBBED_ENVIRONMENT
    assert b"hunter2" not in environ


def test_worker_runs_in_a_private_directory(box):
    cwd = Path(os.readlink(f"/proc/{box.pid}/cwd"))
    assert cwd.name == "work" and cwd.parent.name.startswith("runtime-sandbox-")
    assert cwd != Path.cwd()


def test_worker_holds_only_stdio_and_its_channel(box):
    targets = sorted(os.readlink(f"/proc/{box.pid}/fd/{fd}") for fd in os.listdir(f"/proc/{box.pid}/fd"))
    assert len(targets) == 4
    assert targets.count("/dev/null") == 2
    assert sum(t.startswith("socket:") for t in targets) == 1
    assert any(t.endswith("worker.log") for t in targets)


def test_worker_runs_under_resource_limits(box):
    table = limits(box.pid)
    assert table["Max address space"] == (str(512 * 1024 * 1024),) * 2
    assert table["Max file size"] == (str(1024 * 1024),) * 2
    assert table["Max open files"] == ("32", "32")
    assert table["Max core file size"] == ("0", "0")
    assert table["Max processes"][0] == "0"
    assert table["Max cpu time"][0] != "unlimited"


def test_forks_share_the_worker_process_group(box):
    fork = box.fork()
    try:
        assert os.getpgid(fork.pid) == os.getpgid(box.pid) == box.pid
    finally:
        fork.close()


def test_worker_killed_from_outside_is_replaced_and_says_so():
    with Sandbox() as sandbox:
        sandbox.run("x = 1")
        os.kill(sandbox.pid, signal.SIGKILL)
        while Path(f"/proc/{sandbox.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
            time.sleep(0.01)  # dead, not yet reaped by the sandbox
        result = sandbox.run("print('fresh')")
        assert result.ok and result.state_lost and result.stdout == "fresh\n"
        assert "NameError" in sandbox.run("x").error
