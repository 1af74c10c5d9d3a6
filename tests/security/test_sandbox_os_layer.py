"""The OS layer alone: with the language guard switched off (plain Python, real builtins, `import os`
works), the kernel still refuses files, sockets, programs, processes and higher limits.

Where this kernel lacks a mechanism the test says so and is skipped, naming it; the rest still run.
"""

from __future__ import annotations

import os
import socket
import tempfile
import textwrap
from pathlib import Path

import pytest

from runtime.sandbox import Sandbox, SandboxPolicy

CANARY = Path(tempfile.gettempdir()) / "runtime-os-layer-canary"


@pytest.fixture(scope="module")
def bare():
    """A sandbox that runs plain Python: only the OS layer stands between the code and the host."""
    with Sandbox(SandboxPolicy(timeout_s=5.0), language_guard=False) as box:
        assert box.run("import os").ok  # the language guard is really off
        yield box


@pytest.fixture(autouse=True)
def no_canary():
    CANARY.unlink(missing_ok=True)
    yield
    assert not CANARY.exists(), "the action reached outside its sandbox"


def run(box: Sandbox, code: str):
    return box.run(textwrap.dedent(code).strip().replace("CANARY", repr(str(CANARY))))


def needs(box: Sandbox, mechanism: str) -> None:
    protections = box.protections
    active = {
        "landlock": protections.landlock_abi > 0,
        "seccomp": protections.seccomp,
        "fork gate": protections.fork_gate,
    }[mechanism]
    if not active:
        pytest.skip(f"this kernel has no {mechanism}: {protections.line()}")


# what is tried: (the mechanism that refuses it, the code, what the error says)
REFUSED = {
    "reading /etc/passwd": ("landlock", "open('/etc/passwd').read()", "PermissionError"),
    "subprocess": ("seccomp", "import subprocess\nsubprocess.run(['touch', CANARY])", "PermissionError"),
    "os.fork": ("fork gate", "import os\nos.fork()", "PermissionError"),
    "threads": ("fork gate", "import threading\nthreading.Thread(target=print).start()", "can't start new thread"),
    "leaving the process group": ("seccomp", "import os\nos.setsid()", "PermissionError"),
}


@pytest.mark.parametrize(("mechanism", "code", "error"), REFUSED.values(), ids=REFUSED)
def test_is_refused(bare, mechanism, code, error):
    needs(bare, mechanism)
    result = run(bare, code)
    assert not result.ok and error in result.error, result.error


def test_reading_a_file_in_home_is_refused(bare, home_secret):
    needs(bare, "landlock")
    result = run(bare, f"open({str(home_secret)!r}).read()")
    assert not result.ok and "PermissionError" in result.error
    assert "hunter2" not in (result.value or "") + result.stdout


def test_writing_outside_the_work_folder_is_refused_inside_it_works(bare):
    needs(bare, "landlock")
    result = run(bare, "open(CANARY, 'w').write('pwned')")
    assert not result.ok and "PermissionError" in result.error
    inside = run(bare, "open('notes.txt', 'w').write('kept')\nopen('notes.txt').read()")
    assert inside.ok and inside.value == "'kept'", inside.error


def test_tcp_connect_to_localhost_is_refused(bare):
    needs(bare, "seccomp")
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]
        result = run(bare, f"import socket\nsocket.socket().connect(('127.0.0.1', {port}))")
        assert not result.ok and "PermissionError" in result.error, result.error
        server.settimeout(0.2)
        with pytest.raises(TimeoutError):
            server.accept()


def test_unix_and_udp_sockets_are_refused(bare):
    needs(bare, "seccomp")
    for family in ("AF_UNIX", "AF_INET, socket.SOCK_DGRAM", "AF_INET6"):
        result = run(bare, f"import socket\nsocket.socket(socket.{family})")
        assert not result.ok and "PermissionError" in result.error, (family, result.error)


def test_os_system_runs_nothing(bare):
    needs(bare, "seccomp")
    result = run(bare, "import os\nos.system('touch ' + CANARY)")
    assert result.ok and result.value != "0"  # the shell never started


def test_raising_the_memory_limit_is_refused(bare):
    result = run(
        bare,
        """
        import resource
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (hard * 2, hard * 2))
        """,
    )
    assert not result.ok and "not allowed to raise maximum limit" in result.error


def test_the_worker_is_not_root(bare):
    assert bare.run("import os\nos.geteuid()").value != "0"


def test_the_worker_still_forks_for_candidates_and_commits(bare):
    """The fork gate lets the worker's own fork through, and only that one."""
    needs(bare, "fork gate")
    assert bare.run("n = 1").ok
    fork = bare.fork()
    forked = fork.pid
    assert fork.run("n += 1\nimport os").ok
    assert "PermissionError" in fork.run("os.fork()").error
    bare.commit(fork)
    assert bare.pid == forked and bare.run("n").value == "2"
    again = bare.fork()  # the committed fork forks in turn
    assert again.run("n").value == "2"
    again.close()


def test_protections_are_reported_in_one_line(bare):
    line = bare.protections.line()
    assert line.startswith("sandbox OS layer: ") and "\n" not in line
    assert "seccomp" in line and "landlock" in line and "uid" in line


def test_the_guarded_sandbox_has_the_same_os_layer():
    with Sandbox() as box:
        guarded = box.protections
    with Sandbox(language_guard=False) as box:
        assert box.protections == guarded
    assert os.geteuid() != 0 or guarded.uid != 0
