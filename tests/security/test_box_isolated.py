"""A box imported with `--isolated` runs in a confined child process: its tools answer as they do
in-process, but the kernel refuses it files, sockets, programs and processes, and the child is gone
once the host closes.

Where this kernel lacks a mechanism the test says so and is skipped, naming it; the rest still run.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from runtime.boxes import load_toolset
from runtime.boxes.bundle import Bundle, open_bundle
from runtime.boxes.errors import BoxLoadError
from runtime.boxes.loader import BoxHost, RemoteTool, self_test
from runtime.boxes.scaffold import box_fields, write_box
from runtime.boxes.store import shipped_dir
from runtime.cli.main import cli
from runtime.config import Settings
from runtime.sandbox.oslayer import Protections
from runtime.tools import ToolError

pytestmark = pytest.mark.slow  # every isolated box is a Python process that imports FastMCP (~2 s)

PROBE = '''
import os
import socket
import threading

from fastmcp import FastMCP

mcp = FastMCP("probe")


@mcp.tool
def add(a: int, b: int = 2) -> dict[str, int]:
    """Add two numbers."""
    return {"sum": a + b}


@mcp.tool
def read(path: str) -> str:
    """Read the start of a file."""
    with open(path) as handle:
        return handle.read(20)


@mcp.tool
def write(path: str) -> str:
    """Write a file."""
    with open(path, "w") as handle:
        handle.write("escaped")
    return "written"


@mcp.tool
def connect(port: int) -> str:
    """Open a TCP connection to this machine."""
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        return "connected"


@mcp.tool
def system(command: str) -> int:
    """Run a shell command."""
    status = os.system(command)
    if status != 0:
        raise RuntimeError(f"os.system gave {status}")
    return status


@mcp.tool
def fork() -> str:
    """Start a process."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return "forked"


@mcp.tool
def threads() -> int:
    """Start a thread and wait for it."""
    done = []
    worker = threading.Thread(target=lambda: done.append(1))
    worker.start()
    worker.join()
    return len(done)


@mcp.tool
def pid() -> int:
    """This process's id."""
    return os.getpid()


@mcp.tool
def crash() -> int:
    """End the process at once."""
    os._exit(3)
'''


def make_probe(parent: Path) -> Path:
    files = {"tools.py": PROBE.encode()}
    fields = box_fields("probe", "1.0.0", files, description="Probe the OS layer.", authors=["Tester"])
    write_box(parent / "probe", fields, files)
    return parent / "probe"


class Loaded:
    """A host with the probe box loaded one way, and its tools by name."""

    def __init__(self, host: BoxHost, tools: list[RemoteTool]) -> None:
        self.host = host
        self.tools = {t.name: t for t in tools}

    def call(self, name: str, **args: object) -> object:
        return self.host.call(self.tools[name], args)


@pytest.fixture(scope="module")
def probe_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_probe(tmp_path_factory.mktemp("boxes"))


@pytest.fixture(scope="module")
def bundle(probe_dir: Path) -> Bundle:
    return open_bundle(probe_dir)


@pytest.fixture(scope="module")
def isolated(bundle: Bundle, probe_dir: Path) -> Iterator[Loaded]:
    with BoxHost(timeout_s=10.0) as host:
        yield Loaded(host, host.add(bundle, isolated_from=probe_dir))


@pytest.fixture(scope="module")
def in_process(bundle: Bundle) -> Iterator[Loaded]:
    with BoxHost(timeout_s=10.0) as host:
        yield Loaded(host, host.add(bundle))


@pytest.fixture(scope="module")
def protections(isolated: Loaded) -> Protections:
    found = isolated.host.protections("probe")
    assert found is not None
    return found


@pytest.fixture
def listener() -> Iterator[int]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    try:
        yield server.getsockname()[1]
    finally:
        server.close()


def needs(protections: Protections, mechanism: str) -> None:
    active = {"landlock": protections.landlock_abi > 0, "seccomp": protections.seccomp}[mechanism]
    if not active:
        pytest.skip(f"this kernel has no {mechanism}: {protections.line()}")


def test_the_tools_are_the_same_and_answer_the_same(isolated: Loaded, in_process: Loaded) -> None:
    assert isolated.host.toolset().specs() == in_process.host.toolset().specs()
    assert isolated.call("add", a=40) == in_process.call("add", a=40) == {"sum": 42}
    assert isolated.call("threads") == 1
    with pytest.raises(ToolError, match="invalid arguments: a: Input should be a valid integer") as caught:
        isolated.call("add", a="many")
    with pytest.raises(ToolError) as expected:
        in_process.call("add", a="many")
    assert str(caught.value) == str(expected.value)
    assert isolated.call("pid") != os.getpid() == in_process.call("pid")


def test_a_shipped_box_passes_its_self_test_isolated() -> None:
    folder = shipped_dir() / "math"
    bundle = open_bundle(folder)
    with BoxHost(timeout_s=20.0) as host:
        host.add(bundle, isolated_from=folder)
        assert self_test(host, bundle) == sum(len(examples) for examples in bundle.examples.values())


def test_the_child_runs_confined(protections: Protections) -> None:
    assert protections.no_new_privs
    assert protections.uid != 0
    assert not protections.fork_gate  # no parent answers clones: the filter itself refuses processes


def test_reading_outside_the_python_install_is_refused(
    isolated: Loaded, in_process: Loaded, protections: Protections, home_secret: Path
) -> None:
    needs(protections, "landlock")
    assert in_process.call("read", path="/etc/passwd").startswith("root:")
    with pytest.raises(ToolError, match="Permission denied"):
        isolated.call("read", path="/etc/passwd")
    assert in_process.call("read", path=str(home_secret)) == "hunter2"
    with pytest.raises(ToolError, match="Permission denied"):
        isolated.call("read", path=str(home_secret))


def test_writing_outside_its_own_folder_is_refused(
    isolated: Loaded, protections: Protections, tmp_path: Path, probe_dir: Path
) -> None:
    needs(protections, "landlock")
    for target in (tmp_path / "escaped", probe_dir / "tools.py"):
        with pytest.raises(ToolError, match="Permission denied"):
            isolated.call("write", path=str(target))
    assert not (tmp_path / "escaped").exists()
    open_bundle(probe_dir)  # its hashes still verify: the box folder is unchanged
    assert isolated.call("write", path="scratch.txt") == "written"  # its cwd is its private folder


def test_tcp_is_refused(isolated: Loaded, in_process: Loaded, protections: Protections, listener: int) -> None:
    needs(protections, "seccomp")
    assert in_process.call("connect", port=listener) == "connected"
    with pytest.raises(ToolError, match="Operation not permitted"):
        isolated.call("connect", port=listener)


def test_programs_and_processes_are_refused(isolated: Loaded, in_process: Loaded, protections: Protections) -> None:
    needs(protections, "seccomp")
    assert in_process.call("system", command="true") == 0
    with pytest.raises(ToolError, match="os.system gave"):
        isolated.call("system", command="true")
    with pytest.raises(ToolError, match="Operation not permitted"):
        isolated.call("fork")
    assert isolated.call("threads") == 1  # threads still work: the server needs them


def test_a_crash_is_a_tool_error_and_the_child_is_gone_after_close(bundle: Bundle, probe_dir: Path) -> None:
    with BoxHost(timeout_s=10.0) as host:
        tools = {t.name: t for t in host.add(bundle, isolated_from=probe_dir)}
        child = host.call(tools["pid"], {})
        assert Path(f"/proc/{child}").exists()
        started = time.monotonic()
        with pytest.raises(ToolError, match="probe.crash failed: the box's isolated process ended"):
            host.call(tools["crash"], {})
        assert time.monotonic() - started < 5  # not the 10 s call timeout
        with pytest.raises(ToolError, match="isolated process ended"):
            host.call(tools["add"], {"a": 1})
    with BoxHost(timeout_s=10.0) as host:
        tools = {t.name: t for t in host.add(bundle, isolated_from=probe_dir)}
        child = host.call(tools["pid"], {})
        workdir = Path(f"/proc/{child}/cwd").resolve()
    assert not Path(f"/proc/{child}").exists()
    assert not workdir.exists()


def test_a_box_that_fails_at_import_says_why(tmp_path: Path) -> None:
    files = {"tools.py": b"raise ValueError('no luck')\n"}
    fields = box_fields("broken", "1.0.0", files, description="Raises.", authors=["Tester"])
    write_box(tmp_path / "broken", fields, files)
    expected = "broken: its isolated process failed to start: broken/tools.py raised at import: ValueError: no luck"
    with BoxHost(timeout_s=10.0) as host, pytest.raises(BoxLoadError, match=expected):
        host.add(open_bundle(tmp_path / "broken"), isolated_from=tmp_path / "broken")


def test_import_isolated_is_recorded_shown_and_loaded_isolated(tmp_path: Path) -> None:
    make_probe(tmp_path)
    home = tmp_path / "home"
    runner = CliRunner()

    def run(*args: str) -> dict | list:
        result = runner.invoke(cli, list(args), env={"RUNTIME_HOME": str(home)})
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    installed = run("box", "import", str(tmp_path / "probe"), "--yes", "--isolated", "--json")
    assert (installed["status"], installed["isolated"], len(installed["tools"])) == ("installed", True, 9)
    listed = {row["name"]: row["isolated"] for row in run("box", "list", "--json")}
    assert listed == {"math": False, "probe": True, "text": False, "time": False}
    assert run("box", "inspect", "probe", "--json")["isolated"] is True
    again = run("box", "import", str(tmp_path / "probe"), "--yes", "--json")  # without the flag: stays isolated
    assert (again["status"], again["isolated"]) == ("unchanged", True)

    toolset = load_toolset(Settings(home=home), ["probe"])
    assert toolset.call("pid", {}) != os.getpid()

    run("box", "remove", "probe", "--json")
    assert not any(home.glob("boxes/.probe*"))
