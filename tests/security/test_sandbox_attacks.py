"""Attack corpus: each program is refused with a clear error, harms nothing, and the session goes on.

Anchors: RestrictedPython's CVEs (generator frames, str.format, AttributeError.obj and
string.Formatter, try/except*), positional-only parameters shadowing guards, operator.attrgetter,
smolagents' escapes (class-hierarchy walks, dunders through format, __import__ tricks, environment
exfiltration) and runaway code that thread-based timeouts cannot stop.
"""

from __future__ import annotations

import os
import tempfile
import textwrap
from pathlib import Path
from typing import NamedTuple

import pytest

from runtime.sandbox import Sandbox, SandboxPolicy
from tests.helpers import STUBBORN_LOOP

CANARY = Path(tempfile.gettempdir()) / "runtime-sandbox-canary"


class Attack(NamedTuple):
    code: str
    kind: str  # expected error_kind
    says: str  # expected part of the error message
    state_lost: bool = False


PRIVATE = "starts with \"_\""  # RestrictedPython's compile-time refusal of private names
PRIVATE_RT = "names starting with '_' are private"  # the same refusal at run time

ATTACKS: dict[str, Attack] = {
    # -- class-hierarchy walks (smolagents: ().__class__.__bases__[0].__subclasses__() -> Popen) --
    "tuple_class_bases_subclasses": Attack("().__class__.__bases__[0].__subclasses__()", "policy", "__class__"),
    "list_mro_subclasses": Attack("[].__class__.__mro__[-1].__subclasses__()", "policy", "__class__"),
    "object_subclasses": Attack("object.__subclasses__()", "policy", "__subclasses__"),
    "type_mro_then_computed_subclasses": Attack(
        "base = type(1).mro()[-1]\ngetattr(base, '__subclasses__')()", "policy", PRIVATE_RT
    ),
    "subclass_walk_to_popen": Attack(
        """
        for cls in getattr(object, '__subcla' + 'sses__')():
            if cls.__name__ == 'Popen':
                cls(['touch', CANARY])
        """,
        "policy",
        PRIVATE_RT,
    ),
    "function_globals": Attack("(lambda: 0).__globals__", "policy", "__globals__"),
    "function_code": Attack("def f():\n    pass\nf.__code__", "policy", "__code__"),
    "builtin_method_self": Attack("[].append.__self__", "policy", "__self__"),
    "exception_traceback_frame": Attack(
        """
        try:
            1 / 0
        except Exception as e:
            e.__traceback__.tb_frame.f_globals
        """,
        "policy",
        "__traceback__",
    ),
    "exception_class_walk": Attack(
        "try:\n    1 / 0\nexcept Exception as e:\n    getattr(e, '__class__')", "policy", PRIVATE_RT
    ),
    "exception_context_chain": Attack(
        "try:\n    1 / 0\nexcept Exception as e:\n    getattr(e, '__context__')", "policy", PRIVATE_RT
    ),
    # -- generator and coroutine frames (CVE-2023-37271) --
    "generator_gi_frame_f_back": Attack(
        "g = (i for i in [1])\ng.gi_frame.f_back.f_back.f_globals", "policy", "gi_frame"
    ),
    "generator_frame_computed_name": Attack(
        "g = (i for i in [1])\ngetattr(g, 'gi_' + 'frame')", "policy", "frames"
    ),
    "generator_gi_code": Attack("def f():\n    yield 1\ngetattr(f(), 'gi_code')", "policy", "frames"),
    "generator_frame_via_next_then_locals": Attack(
        """
        def leak():
            yield
        g = leak()
        next(g)
        frame = getattr(g, 'gi_frame')
        """,
        "policy",
        "frames",
    ),
    "coroutine_definition": Attack("async def f():\n    pass", "policy", "AsyncFunctionDef"),
    "types_coroutine": Attack("import types\ntypes.coroutine", "policy", "'types'"),
    # -- format strings (CVE-2023-41039, CVE-2024-47532, operator.attrgetter) --
    "str_format_class_walk": Attack("'{0.__class__.__base__.__subclasses__}'.format(1)", "policy", PRIVATE_RT),
    "str_format_globals": Attack("'{0.__globals__}'.format(lambda: 0)", "policy", PRIVATE_RT),
    "str_format_map_attribute": Attack("'{x.__class__}'.format_map({'x': 1})", "policy", PRIVATE_RT),
    "str_format_unbound": Attack("str.format('{0.__class__}', 1)", "policy", PRIVATE_RT),
    "str_format_nested_spec": Attack("'{0:{1.__class__}}'.format(1, 2)", "policy", PRIVATE_RT),
    "str_format_item_then_attr": Attack("'{0[0].__class__}'.format([1])", "policy", PRIVATE_RT),
    "fstring_dunder": Attack("f'{().__class__}'", "policy", "__class__"),
    "fstring_gi_frame": Attack("g = (i for i in [1])\nf'{g.gi_frame}'", "policy", "gi_frame"),
    "string_formatter_attribute": Attack(
        "import string\nstring.Formatter().get_field('0.__class__', [1], {})", "policy", "string.Formatter"
    ),
    "string_formatter_import": Attack("from string import Formatter", "policy", "string.Formatter"),
    "attribute_error_obj": Attack(
        """
        import json
        try:
            json.nothing
        except AttributeError as e:
            e.obj
        """,
        "policy",
        "'obj'",
    ),
    "attribute_error_obj_computed": Attack(
        "try:\n    (1).nothing\nexcept AttributeError as e:\n    getattr(e, 'o' + 'bj')", "policy", "'obj'"
    ),
    "operator_attrgetter_dunder": Attack("import operator\noperator.attrgetter('__class__')(1)", "policy", PRIVATE_RT),
    "operator_attrgetter_dotted": Attack(
        "import operator\noperator.attrgetter('real.__class__')(1)", "policy", PRIVATE_RT
    ),
    "operator_attrgetter_frame": Attack(
        "import operator\noperator.attrgetter('gi_frame')((i for i in []))", "policy", "frames"
    ),
    "operator_methodcaller_reduce": Attack(
        "import operator\noperator.methodcaller('__reduce_ex__', 2)(1)", "policy", PRIVATE_RT
    ),
    "operator_attrgetter_format_reopens": Attack(
        "import operator\noperator.attrgetter('format')('{0.__class__}')(1)", "policy", PRIVATE_RT
    ),
    # -- try/except* (CVE-2025-22153) and guard shadowing --
    "try_except_star": Attack(
        "try:\n    1 / 0\nexcept* ZeroDivisionError as group:\n    pass", "policy", "TryStar"
    ),
    "positional_only_shadows_getattr": Attack(
        "def f(_getattr_, /):\n    return _getattr_\nf(getattr)", "policy", "_getattr_"
    ),
    "positional_only_lambda_shadows_getiter": Attack("g = lambda _getiter_, /: 0", "policy", "_getiter_"),
    "global_rebinds_guard": Attack("global _write_\n_write_ = lambda x: x", "policy", "_write_"),
    "walrus_binds_guard": Attack("[(_getitem_ := 1) for y in [1]]", "policy", "_getitem_"),
    "except_as_guard": Attack("try:\n    1 / 0\nexcept Exception as _print:\n    pass", "policy", "_print"),
    "import_as_guard": Attack("import math as _getattr_", "policy", "_getattr_"),
    "match_class_pattern_attribute": Attack(
        "match 1:\n    case int(__class__=c):\n        pass", "policy", "Match"
    ),
    # -- imports (smolagents: __import__('o'+'s'), sys.modules through allowed modules) --
    "dunder_import_concat": Attack("__import__('o' + 's').system('touch ' + CANARY)", "policy", "__import__"),
    "import_os": Attack("import os\nos.system('touch ' + CANARY)", "policy", "'os' is not allowed"),
    "import_subprocess": Attack("import subprocess\nsubprocess.run(['touch', CANARY])", "policy", "'subprocess'"),
    "import_sys": Attack("import sys\nsys.modules['os']", "policy", "'sys' is not allowed"),
    "import_importlib": Attack("import importlib\nimportlib.import_module('os')", "policy", "'importlib'"),
    "import_builtins": Attack("import builtins\nbuiltins.open", "policy", "builtins"),
    "import_ctypes": Attack("import ctypes", "policy", "'ctypes'"),
    "import_io_open": Attack("import io\nio.open('/etc/passwd')", "policy", "'io'"),
    "from_os_import_environ": Attack("from os import environ\nprint(environ)", "policy", "'os'"),
    "relative_import": Attack("from . import worker", "policy", "relative imports"),
    "star_import": Attack("from math import *", "policy", "imports are not allowed"),
    "submodule_not_allowed": Attack("import json.decoder", "policy", "'json.decoder'"),
    "submodule_from_import_fallback": Attack("from json import decoder\ndecoder.sys", "policy", "json.decoder"),
    "private_module_attribute": Attack("import random\nrandom._os.environ", "policy", "_os"),
    "private_module_attribute_computed": Attack("import random\ngetattr(random, '_' + 'os')", "policy", PRIVATE_RT),
    "sys_through_statistics": Attack("import statistics\nstatistics.sys.modules['os']", "policy", "statistics.sys"),
    "sys_through_fractions": Attack("import fractions\ngetattr(fractions, 'sys')", "policy", "fractions.sys"),
    "sys_through_typing": Attack("from typing import sys", "policy", "typing.sys"),
    "typing_get_type_hints_eval": Attack(
        "import typing\ntyping.get_type_hints", "policy", "typing.get_type_hints"
    ),
    "module_loader_spec": Attack("import math\nmath.__loader__", "policy", "__loader__"),
    "module_spec_computed": Attack("import math\ngetattr(math, '__spec__')", "policy", PRIVATE_RT),
    # -- eval / exec / compile / namespaces / builtins --
    # eval() exists, for arithmetic only (runtime/sandbox/arith.py): anything else in the string is refused
    "eval_import": Attack("eval('__import__(\"os\").system(\"id\")')", "policy", "arithmetic on numbers only"),
    "eval_class_walk": Attack("eval('().__class__.__bases__[0].__subclasses__()')", "policy", "arithmetic on numbers only"),
    "eval_by_alias": Attack("e = eval\ne('open(\"/etc/passwd\").read()')", "policy", "arithmetic on numbers only"),
    "eval_lambda": Attack("eval('(lambda: 1)()')", "policy", "arithmetic on numbers only"),
    "eval_namespaces": Attack("eval('1', {})", "policy", "takes no namespaces"),
    "eval_huge_power": Attack("eval('9 ** 9 ** 9')", "policy", "too large to compute"),
    "eval_non_string": Attack("eval(compile)", "policy", "give it a string"),
    "exec_call": Attack("exec('import os')", "policy", "Exec calls are not allowed"),
    "compile_call": Attack("compile('1', 'x', 'eval')", "policy", "compile() is not available"),
    "globals_call": Attack("globals()['_getattr_']", "policy", "globals() is not available"),
    "locals_call": Attack("locals()", "policy", "locals() is not available"),
    "vars_call": Attack("vars(1)", "policy", "vars() is not available"),
    "builtins_name": Attack("__builtins__['open']", "policy", "__builtins__"),
    "breakpoint_call": Attack("breakpoint()", "policy", "breakpoint"),
    "exit_call": Attack("exit()", "policy", "final_answer"),
    # -- dynamic classes, metaclasses, decorators --
    "type_three_arguments": Attack("type('X', (), {})", "policy", "three arguments"),
    "type_of_type_three_arguments": Attack("type(type(1))('X', (), {'y': 1})", "policy", "three arguments"),
    "metaclass_keyword": Attack("class A(metaclass=type):\n    pass", "policy", "metaclass"),
    "metaclass_attribute": Attack("class A:\n    __metaclass__ = 1", "policy", "__metaclass__"),
    "subclass_type_as_metaclass": Attack("class Meta(type):\n    pass", "runtime", "TypeError"),
    "getattribute_override": Attack(
        "class A:\n    def __getattribute__(self, name):\n        return 1", "policy", "__getattribute__"
    ),
    "del_hook": Attack("class A:\n    def __del__(self):\n        pass", "policy", "__del__"),
    "init_subclass_hook": Attack(
        "class A:\n    def __init_subclass__(cls):\n        pass", "policy", "__init_subclass__"
    ),
    "super_private_attribute": Attack("super(int, 1).__subclasses__", "policy", "__subclasses__"),
    "super_method_self": Attack(
        "class A:\n    def __init__(self):\n        super().__init__.__self__\nA()", "policy", "__self__"
    ),
    "decorator_reads_globals": Attack(
        "@(lambda f: f.__globals__)\ndef g():\n    pass", "policy", "__globals__"
    ),
    "decorator_computed_globals": Attack(
        """
        def grab(f):
            return getattr(f, '__glo' + 'bals__')
        @grab
        def g():
            pass
        """,
        "policy",
        PRIVATE_RT,
    ),
    "getattr_chr_built_name": Attack(
        "getattr(1, ''.join(map(chr, [95, 95, 99, 108, 97, 115, 115, 95, 95])))", "policy", PRIVATE_RT
    ),
    "reduce_getattr_chain": Attack(
        "import functools\nfunctools.reduce(getattr, ['__class__', '__base__'], 1)", "policy", PRIVATE_RT
    ),
    "map_getattr": Attack("list(map(getattr, [1], ['__class__']))", "policy", PRIVATE_RT),
    "augmented_assignment_reads_through_the_guard": Attack(
        """
        class Grab:
            def __radd__(self, other):
                return other
        try:
            (1).nothing
        except AttributeError as e:
            e.obj += Grab()
        """,
        "policy",
        "'obj'",
    ),
    "augmented_assignment_private_attribute": Attack(
        "class A:\n    pass\na = A()\na.__dict__ += 1", "policy", "__dict__"
    ),
    "class_body_spoofs_class": Attack("class Fake:\n    __class__ = str", "policy", "__class__"),
    "typing_type_calls_real_type": Attack(
        "import typing\ntyping.Type('X', (), {})", "runtime", "cannot be instantiated"
    ),
    "compiler_recursion_bomb": Attack("x = " + "1 + " * 100000 + "1", "runtime", "RecursionError"),
    "template_placeholder_attribute": Attack(
        "import string\nstring.Template('${a.__class__}').substitute(a=1)", "runtime", "Invalid placeholder"
    ),
    # -- writing to what the worker relies on --
    "patch_module": Attack("import math\nmath.pi = 3", "policy", "read-only"),
    "patch_builtin_class": Attack("setattr(str, 'upper', lambda s: s)", "policy", "read-only"),
    "patch_stdlib_class": Attack("import json\njson.JSONEncoder.default = 1", "policy", "read-only"),
    "patch_stdlib_function": Attack("import json\nsetattr(json.dumps, 'x', 1)", "policy", "read-only"),
    "set_private_attribute": Attack("class A:\n    pass\nsetattr(A, '__init__', 1)", "policy", PRIVATE_RT),
    # -- files, environment, processes, signals, sockets --
    "open_read": Attack("open('/etc/passwd').read()", "policy", "open() is not available"),
    "open_write_canary": Attack("open(CANARY, 'w').write('pwned')", "policy", "open() is not available"),
    "open_by_alias": Attack("f = open\nf('/etc/hostname')", "policy", "open() is not available"),
    "environ_exfiltration": Attack("import os\nprint(dict(os.environ))", "policy", "'os'"),
    "fork_bomb": Attack("import os\nwhile True:\n    os.fork()", "policy", "'os'"),
    "multiprocessing_bomb": Attack("import multiprocessing", "policy", "'multiprocessing'"),
    "threading": Attack("import threading", "policy", "'threading'"),
    "signal_alarm": Attack("import signal\nsignal.alarm(0)", "policy", "'signal'"),
    "kill_parent": Attack("import os\nos.kill(os.getppid(), 9)", "policy", "'os'"),
    "socket_connect": Attack("import socket\nsocket.create_connection(('1.1.1.1', 80))", "policy", "'socket'"),
    "urllib_request": Attack("import urllib.request", "policy", "'urllib.request'"),
    "pathlib_read": Attack("import pathlib\npathlib.Path('/etc/passwd').read_text()", "policy", "'pathlib'"),
    "system_exit": Attack("raise SystemExit(0)", "runtime", "SystemExit"),
    # -- runaway computation, memory and output --
    "infinite_loop": Attack("while True:\n    pass", "timeout", "wall-clock limit"),
    "huge_power": Attack("10 ** 10 ** 8", "timeout", "wall-clock limit"),
    "huge_sum_in_c": Attack("sum(range(10 ** 13))", "timeout", "The sandbox was restarted", state_lost=True),
    "loop_that_swallows_the_interrupt": Attack(STUBBORN_LOOP, "timeout", "The sandbox was restarted", state_lost=True),
    "string_bomb": Attack("'a' * 10 ** 10", "memory", "MemoryError"),
    "list_bomb": Attack("[0] * 10 ** 10", "memory", "MemoryError"),
    "bytearray_bomb": Attack("bytearray(4 * 1024 ** 3)", "memory", "MemoryError"),
    "deep_recursion": Attack("def f(n):\n    return f(n + 1)\nf(0)", "runtime", "RecursionError"),
    "deeply_nested_repr": Attack(
        "a = []\nfor i in range(10 ** 6):\n    a = [a]\nstr(a)", "runtime", "RecursionError"
    ),
    "print_gigabytes": Attack("while True:\n    print('x' * 100000)", "output", "printed more than"),
    "print_many_lines": Attack("for i in range(10 ** 9):\n    print(i)", "output", "printed more than"),
    "print_to_custom_file_loop": Attack(
        "class Sink:\n    def write(self, s):\n        pass\nwhile True:\n    print('x', file=Sink())",
        "timeout",
        "wall-clock limit",
    ),
}


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxPolicy(timeout_s=1.0, memory_mb=384)) as box:
        yield box


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_is_refused_and_the_session_survives(sandbox, name):
    attack = ATTACKS[name]
    environment, cwd = dict(os.environ), os.getcwd()
    assert sandbox.run("keep = 41").ok

    result = sandbox.run(textwrap.dedent(attack.code).strip().replace("CANARY", repr(str(CANARY))))

    assert not result.ok
    assert (result.error_kind, result.state_lost) == (attack.kind, attack.state_lost), result.error
    assert attack.says in result.error
    assert not CANARY.exists()
    assert dict(os.environ) == environment and os.getcwd() == cwd
    assert sandbox.run("print(1 + 1)").stdout == "2\n"
    after = sandbox.run("keep + 1")
    if attack.state_lost:
        assert "NameError" in after.error
    else:
        assert after.value == "42"


def test_the_corpus_is_large():
    assert len(ATTACKS) >= 50


def test_a_growing_memory_bomb_is_stopped_by_the_memory_limit_and_the_session_survives():
    """Filling 384 MB a megabyte at a time races a 1 s clock on a loaded machine (CI lost that
    race once), so this bomb gets a clock it cannot hit: the memory limit must be what stops it."""
    with Sandbox(SandboxPolicy(timeout_s=60.0, memory_mb=384)) as box:
        assert box.run("keep = 41").ok
        result = box.run("hog = []\nwhile True:\n    hog.append('x' * 10 ** 6)")
        assert not result.ok
        assert (result.error_kind, result.state_lost) == ("memory", True), result.error
        assert "MemoryError" in result.error
        assert box.run("print(1 + 1)").stdout == "2\n"
        assert "NameError" in box.run("keep + 1").error
