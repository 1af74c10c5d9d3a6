"""The sandbox's limits and its answer to one action, as data the agent and the worker share."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

DEFAULT_MODULES: tuple[str, ...] = (
    "math",
    "cmath",
    "fractions",
    "decimal",
    "numbers",
    "statistics",
    "random",
    "itertools",
    "functools",
    "operator",
    "collections",
    "collections.abc",
    "heapq",
    "bisect",
    "copy",
    "re",
    "json",
    "string",
    "textwrap",
    "unicodedata",
    "datetime",
    "calendar",
    "typing",
    "dataclasses",
)
"""Pure computation only; `string` and `operator` are exposed with their escape hatches replaced."""

NEVER_ALLOWED: frozenset[str] = frozenset(
    {
        "os", "sys", "posix", "nt", "io", "builtins", "importlib", "imp", "subprocess", "socket",
        "ssl", "select", "selectors", "signal", "resource", "ctypes", "cffi", "mmap", "threading",
        "_thread", "multiprocessing", "concurrent", "asyncio", "gc", "inspect", "types", "code",
        "codeop", "pickle", "shelve", "marshal", "shutil", "pathlib", "tempfile", "glob", "runpy",
        "site", "sysconfig", "pty", "fcntl", "urllib", "http", "ftplib", "smtplib", "webbrowser",
        "pdb", "trace", "tracemalloc", "faulthandler", "atexit", "weakref", "copyreg", "dis",
        "linecache", "traceback", "zipimport", "pkgutil", "platform", "getpass", "pwd", "grp",
    }
)
"""Modules that hand out the process itself; refused even if a caller lists them."""

ErrorKind = Literal["syntax", "policy", "runtime", "timeout", "memory", "output", "crash"]


class SandboxPolicy(BaseModel):
    """Limits for one sandbox session. Wall clock is enforced by the parent, the rest in the worker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timeout_s: float = Field(default=10.0, gt=0, description="Wall clock per action.")
    cpu_s: int = Field(
        default=30, gt=0, description="CPU seconds per action; a backstop should the parent not kill the worker."
    )
    memory_mb: int = Field(default=1024, ge=128, description="Address space of the worker (RLIMIT_AS).")
    max_output_chars: int = Field(default=4000, ge=100, description="Printed text kept per action.")
    output_stop_chars: int = Field(
        default=1_000_000, ge=1000, description="Printing more than this stops the action."
    )
    file_size_mb: int = Field(default=1, ge=0, description="Largest file the worker may write (RLIMIT_FSIZE).")
    allowed_modules: tuple[str, ...] = DEFAULT_MODULES

    @field_validator("allowed_modules")
    @classmethod
    def _refuse_process_modules(cls, modules: tuple[str, ...]) -> tuple[str, ...]:
        for name in modules:
            top = name.split(".")[0]
            if top in NEVER_ALLOWED or top.startswith("_"):
                raise ValueError(f"module {name!r} gives access to the process and cannot be allowed")
            if "." in name and top not in modules:
                raise ValueError(f"submodule {name!r} needs its package {top!r} allowed too")
        return modules


class ExecResult(BaseModel):
    """What one action did, ready to become the model's observation."""

    ok: bool = Field(description="The action finished without an error.")
    stdout: str = ""
    value: str | None = Field(default=None, description="repr of a trailing expression, summarized.")
    error: str | None = None
    error_kind: ErrorKind | None = None
    final: bool = Field(default=False, description="The code called final_answer(x).")
    answer: Any = Field(default=None, description="x given to final_answer: JSON data, else str(x).")
    state_lost: bool = Field(default=False, description="The worker was restarted; earlier variables are gone.")
    duration_s: float = 0.0
