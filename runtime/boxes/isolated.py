"""The child process of a box the user marked untrusted: `python -m runtime.boxes.isolated SOURCE`.

It reads and verifies the box from SOURCE while it still can, confines itself with the sandbox's
OS layer (resource limits, no environment, Landlock: read the Python install and the box, write
only its own folder, no TCP; seccomp: no sockets, no exec, threads but no processes; as root,
nobody), and only then executes the box's modules, mounted on one FastMCP server served over
stdio to the parent's `BoxHost`. It ends when the parent closes its stdin or dies.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
from pathlib import Path

from fastmcp import FastMCP

from runtime.boxes.bundle import open_bundle
from runtime.boxes.errors import BoxError
from runtime.boxes.loader import exec_module, module_namespace
from runtime.sandbox.confine import limit_resources
from runtime.sandbox.oslayer import harden
from runtime.sandbox.policy import SandboxPolicy

_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """The kernel kills us when the thread that started us ends, even if stdin is never closed."""
    parent = os.getppid()
    ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def serve(source: Path) -> None:
    bundle = open_bundle(source)
    _die_with_parent()
    limit_resources(SandboxPolicy())
    workdir = Path.cwd()
    protections, _ = harden(workdir, server=True, reads=[source] if source.is_dir() else [])
    os.environ["TMPDIR"] = str(workdir)
    (workdir / "protections.json").write_text(protections.model_dump_json())  # for `BoxHost.protections`
    server: FastMCP = FastMCP(bundle.name)
    for index, path in enumerate(bundle.manifest.modules):
        server.mount(exec_module(bundle, path), namespace=module_namespace(index))
    asyncio.run(server.run_stdio_async(show_banner=False, log_level="CRITICAL"))


def main() -> None:
    try:
        serve(Path(sys.argv[1]))
    except BoxError as exc:
        print(exc, file=sys.stderr, flush=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
