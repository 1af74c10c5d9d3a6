"""Standard-library functions that read attributes or evaluate strings with the real machinery.

Each escape below was a full host compromise before (issue 21): update_wrapper merged a module's
globals, real builtins included, into the namespace; singledispatch's register evaluated a string
annotation with the real eval. Both are refused at their class, and the ordinary uses still work.
"""

from __future__ import annotations

import builtins
import tempfile
import textwrap
from pathlib import Path

import pytest

from runtime.sandbox import Sandbox, SandboxPolicy
from runtime.sandbox.guards import Guards
from runtime.sandbox.policy import DEFAULT_MODULES

CANARY = Path(tempfile.gettempdir()) / "runtime-sandbox-stdlib-canary"

ESCAPES: dict[str, tuple[str, str]] = {
    # -- wrappers: attribute names read with the real getattr --
    "update_wrapper_globals": (
        """
        import functools, json
        def f():
            pass
        functools.update_wrapper(f, json.dumps, assigned=(), updated=('__globals__',))
        open(CANARY, 'w')
        """,
        "may only copy __dict__",
    ),
    "wraps_globals": (
        """
        import functools, json
        def f():
            pass
        functools.wraps(json.dumps, assigned=(), updated=('__globals__',))(f)
        """,
        "may only copy __dict__",
    ),
    "update_wrapper_assigned_builtins": (
        """
        import functools, json
        def f():
            pass
        functools.update_wrapper(f, json.dumps, assigned=('__builtins__',))
        """,
        "may only copy __module__",
    ),
    "update_wrapper_str_subclass_name": (
        """
        import functools
        class S(str):
            def __eq__(self, other):
                return True
            def __hash__(self):
                return hash('__name__')
        def f():
            pass
        functools.update_wrapper(f, f, assigned=(S('__globals__'),))
        """,
        "may only copy __module__",
    ),
    "update_wrapper_names_change_between_passes": (
        """
        import functools, json
        class Names:
            def __init__(self):
                self.calls = 0
            def __iter__(self):
                self.calls += 1
                return iter(['__doc__'] if self.calls == 1 else ['__globals__'])
        def f():
            pass
        functools.update_wrapper(f, json.dumps, assigned=(), updated=Names())
        open(CANARY, 'w')
        """,
        "may only copy __dict__",
    ),
    "update_wrapper_onto_stdlib_class": (
        "import functools, json\ndef f():\n    pass\nfunctools.update_wrapper(json.JSONEncoder, f)",
        "needs a wrapper function defined in the sandbox",
    ),
    "update_wrapper_private_dict_keys": (
        """
        import functools
        def src():
            pass
        cached = functools.lru_cache(src)
        def f():
            pass
        functools.update_wrapper(f, cached)
        getattr(f, '__wrapped__')
        """,
        "names starting with '_' are private",
    ),
    # -- dispatch: annotations evaluated with the real eval --
    "singledispatch_register_string_annotation": (
        """
        import functools
        @functools.singledispatch
        def f(x):
            pass
        def g(x: "().__class__.__base__.__subclasses__()"):
            pass
        f.register(g)
        """,
        "needs the annotation to be a class",
    ),
    "singledispatch_register_import_in_generic": (
        """
        import functools, typing
        @functools.singledispatch
        def f(x):
            pass
        def g(x: typing.List["__import__('os')"]):
            pass
        f.register(g)
        """,
        "needs the annotation to be a class",
    ),
    "singledispatch_register_instance_annotations": (
        """
        import functools
        @functools.singledispatch
        def f(x):
            pass
        class A:
            x: "__import__('os').system('touch ' + CANARY)"
        f.register(A())
        """,
        "needs the annotation to be a class",
    ),
    "singledispatch_register_private_attribute": (
        """
        import functools, random
        @functools.singledispatch
        def f(x):
            pass
        def g(x: random._os):
            pass
        f.register(g)
        """,
        "_os",
    ),
    "singledispatchmethod_register_string": (
        """
        import functools
        class A:
            @functools.singledispatchmethod
            def m(self, x):
                pass
            def h(self, x: "open(CANARY, 'w')"):
                pass
            m.register(h)
        """,
        "needs the annotation to be a class",
    ),
    # -- format-likes: str.format reached without the guard --
    "super_str_format": (
        "class S(str):\n    def go(self):\n        return super().format(1)\nS('{0.__class__}').go()",
        "names starting with '_' are private",
    ),
    "super_object_str_format": (
        "class S(str):\n    pass\nsuper(S, S('{0.__class__.__mro__}')).format(1)",
        "names starting with '_' are private",
    ),
    # -- classes built with arbitrary dunders, or written onto the worker's own classes --
    "abcmeta_three_arguments": (
        "import numbers\nnumbers.ABCMeta('X', (), {'__getattribute__': print})",
        "numbers.ABCMeta is not available",
    ),
    "make_dataclass_namespace": (
        "import dataclasses\ndataclasses.make_dataclass('X', [], namespace={'__reduce__': print})",
        "make_dataclass is not available",
    ),
    "dataclasses_function_type": ("from dataclasses import FunctionType", "FunctionType is not available"),
    "dataclass_onto_stdlib_class": ("import dataclasses, json\ndataclasses.dataclass(json.JSONEncoder)", "read-only"),
    "total_ordering_onto_stdlib_class": (
        "import functools, json\nfunctools.total_ordering(json.JSONEncoder)", "read-only"
    ),
    # -- self._name: only on the code's own classes and instances --
    "private_attribute_of_stdlib_base": (
        "import random\nclass R(random.Random):\n    pass\nR()._randbelow(5)",
        "names starting with '_' are private",
    ),
    "private_attribute_of_module": ("import random\nrandom._os", "_os"),
    "private_attribute_set_on_stdlib_object": (
        "import json\ne = json.JSONEncoder()\ne._x = 1", "only be set on classes defined in the sandbox"
    ),
    "private_method_named_like_a_guard": ("class A:\n    def _print(self):\n        pass", "_print"),
    "private_method_named_like_a_guard_2": ("class A:\n    def _getattr_(self):\n        pass", "_getattr_"),
}


@pytest.fixture(scope="module")
def sandbox():
    with Sandbox(SandboxPolicy(timeout_s=2.0)) as box:
        yield box


@pytest.mark.parametrize("name", list(ESCAPES))
def test_escape_is_refused_and_the_builtins_stay_the_sandboxs(sandbox, name):
    code, says = ESCAPES[name]
    result = sandbox.run(textwrap.dedent(code).strip().replace("CANARY", repr(str(CANARY))))
    assert not result.ok and says in result.error, result.error
    assert not CANARY.exists()
    after = sandbox.run("open('/etc/passwd')")
    assert "open() is not available" in after.error
    assert "'os' is not allowed" in sandbox.run("import os").error


def test_builtins_and_guards_are_reasserted_before_each_action():
    """Had an escape filled the namespace in (real builtins, its own guard), it lasts one action."""
    guards = Guards(DEFAULT_MODULES)
    namespace = guards.namespace({}, printer=None)
    sandbox_open, sandbox_getattr = namespace["__builtins__"]["open"], namespace["_getattr_"]
    namespace["__builtins__"].update(vars(builtins))
    namespace["_getattr_"] = getattr
    namespace["__builtins__"] = vars(builtins)

    guards.reassert()

    assert namespace["__builtins__"]["open"] is sandbox_open and namespace["_getattr_"] is sandbox_getattr
    assert "__import__" in namespace["__builtins__"] and namespace["__builtins__"]["__import__"] is not __import__


ORDINARY: dict[str, tuple[str, str]] = {
    "wraps_decorator": (
        """
        import functools
        def logged(fn):
            @functools.wraps(fn)
            def inner(*args):
                return fn(*args)
            return inner
        @logged
        def add(a, b):
            '''Adds.'''
            return a + b
        (add(1, 2), add.__name__, add.__doc__)
        """,
        "(3, 'add', 'Adds.')",
    ),
    "singledispatch_annotations": (
        """
        import functools, json
        @functools.singledispatch
        def kind(x):
            return 'other'
        @kind.register
        def kind_number(x: int | float):
            return 'number'
        @kind.register
        def kind_error(x: json.JSONDecodeError):
            return 'json error'
        @kind.register(str)
        def kind_text(x):
            return 'text'
        (kind(1), kind(2.5), kind('a'), kind([]))
        """,
        "('number', 'number', 'text', 'other')",
    ),
    "singledispatchmethod": (
        """
        import functools
        class Shape:
            @functools.singledispatchmethod
            def scale(self, by):
                return 'other'
            @scale.register
            def scale_int(self, by: int):
                return 'int'
        (Shape().scale(2), Shape().scale('x'))
        """,
        "('int', 'other')",
    ),
    "dataclass": (
        """
        from dataclasses import dataclass, field, asdict, replace
        @dataclass(order=True)
        class Point:
            x: int
            y: int = 0
            tags: list = field(default_factory=list)
        p = Point(1)
        p.tags.append('a')
        (p, asdict(replace(p, y=5)), Point(0) < p)
        """,
        "(Point(x=1, y=0, tags=['a']), {'tags': ['a'], 'x': 1, 'y': 5}, True)",
    ),
    "frozen_slots_dataclass": (
        """
        from dataclasses import dataclass, FrozenInstanceError
        @dataclass(frozen=True, slots=True)
        class Pair:
            a: int
            b: int
        p = Pair(1, 2)
        try:
            p.a = 5
        except FrozenInstanceError:
            print('frozen')
        (p, hash(p) == hash(Pair(1, 2)))
        """,
        "(Pair(a=1, b=2), True)",
    ),
    "private_attributes_of_own_class": (
        """
        class Counter:
            _instances = 0
            def __init__(self, start):
                self._count = start
                Counter._instances += 1
            def _bump(self):
                self._count += 1
                return self._count
            @property
            def count(self):
                return self._count
        c = Counter(5)
        c._bump()
        setattr(c, '_note', 'ok')
        (c.count, c._bump(), c._note, Counter._instances, hasattr(c, '_missing'))
        """,
        "(6, 7, 'ok', 1, False)",
    ),
}


@pytest.mark.parametrize("name", list(ORDINARY))
def test_ordinary_code_runs(sandbox, name):
    code, value = ORDINARY[name]
    result = sandbox.run(textwrap.dedent(code).strip())
    assert result.ok, result.error
    assert result.value == value
