"""Sandbox versions of standard-library functions that read attributes or evaluate strings with the
real machinery, so a name or an annotation handed to them would skip the guards.

Found by auditing every allowed module for functions that take attribute names, callables or
strings (see docs/security.md). Each replacement keeps the ordinary use and refuses the rest:
- functools.update_wrapper / wraps: `assigned`/`updated` name attributes read with the real
  getattr; `updated=('__globals__',)` merged a module's globals, real builtins included, into
  the namespace. Only the default names, onto a function the code defined, public dict keys only.
- functools.singledispatch(method).register(f): reads f's annotations with typing.get_type_hints,
  which evaluates strings with the real eval. The annotation must be a class (or a union of them).
- functools.total_ordering and dataclasses.dataclass write onto the class they are given: it must
  be one the code defined (dataclasses.make_dataclass, which takes arbitrary dunders, is not shown).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from typing import Any, Protocol

from runtime.sandbox.refusals import RefusedCall


class GuardHooks(Protocol):
    """What the replacements need from the guards (runtime/sandbox/guards.py)."""

    def getattr(self, obj: Any, name: str) -> Any: ...

    def setattr(self, obj: Any, name: str, value: Any) -> None: ...

    def write(self, obj: Any) -> Any: ...

    def is_user_function(self, obj: Any) -> bool: ...

    def adopt_class(self, cls: type) -> type: ...


def replacements(module: str, guards: GuardHooks) -> dict[str, Any]:
    """Names of `module` to show instead of the originals."""
    if module == "functools":
        return _functools(guards)
    if module == "dataclasses":
        return {"dataclass": _dataclass(guards)}
    return {}


def _functools(guards: GuardHooks) -> dict[str, Any]:
    def update_wrapper(
        wrapper: Any,
        wrapped: Any,
        assigned: Any = functools.WRAPPER_ASSIGNMENTS,
        updated: Any = functools.WRAPPER_UPDATES,
    ) -> Any:
        assigned, updated = _names(assigned, functools.WRAPPER_ASSIGNMENTS), _names(updated, functools.WRAPPER_UPDATES)
        if not guards.is_user_function(wrapper):
            raise RefusedCall("update_wrapper() needs a wrapper function defined in the sandbox")
        functools.update_wrapper(wrapper, wrapped, assigned, ())
        if updated:
            for key, value in dict(getattr(wrapped, "__dict__", {})).items():
                if type(key) is str and not key.startswith("_"):
                    guards.setattr(wrapper, key, value)
        return wrapper

    def wraps(
        wrapped: Any, assigned: Any = functools.WRAPPER_ASSIGNMENTS, updated: Any = functools.WRAPPER_UPDATES
    ) -> Any:
        return functools.partial(update_wrapper, wrapped=wrapped, assigned=assigned, updated=updated)

    def singledispatch(func: Any) -> Any:
        dispatcher = functools.singledispatch(func)
        dispatcher.register = _checked_register(dispatcher.register, guards)
        return dispatcher

    class singledispatchmethod(functools.singledispatchmethod):  # noqa: N801 - the stdlib's name
        __doc__ = functools.singledispatchmethod.__doc__

        def __init__(self, func: Any) -> None:
            super().__init__(func)
            self.dispatcher = singledispatch(func)

    def total_ordering(cls: Any) -> Any:
        return functools.total_ordering(guards.write(_user_class(cls, "total_ordering")))

    return {
        "update_wrapper": update_wrapper,
        "wraps": wraps,
        "singledispatch": singledispatch,
        "singledispatchmethod": singledispatchmethod,
        "total_ordering": total_ordering,
    }


def _names(names: Any, allowed: tuple[str, ...]) -> tuple[str, ...]:
    """A tuple of exact strings from `allowed` (a str subclass could compare equal to anything,
    and a custom iterable could yield other names on the second pass)."""
    names = tuple(names)
    for name in names:
        if type(name) is not str or name not in allowed:
            raise RefusedCall(f"update_wrapper()/wraps() may only copy {', '.join(allowed)} in the sandbox")
    return names


def _checked_register(register: Callable[..., Any], guards: GuardHooks) -> Callable[..., Any]:
    """singledispatch's register, taking the class from the annotation without evaluating it.
    Sandboxed code's annotations are strings (RestrictedPython compiles with PEP 563), so a
    dotted name, or names joined by `|`, is looked up as the code itself would, through the guards."""

    def checked(cls: Any, func: Any = None) -> Any:
        if _dispatch_type(cls):
            return register(cls, func)
        if func is not None:
            raise TypeError(f"Invalid first argument to `register()`: {cls!r}. Use either `@register(some_class)` "
                            "or plain `@register` on an annotated function.")
        annotations = getattr(cls, "__annotations__", None)
        if not isinstance(annotations, dict) or not annotations:
            raise TypeError(f"Invalid first argument to `register()`: {cls!r}. Use either `@register(some_class)` "
                            "or plain `@register` on an annotated function.")
        annotation = next(iter(annotations.values()))
        if isinstance(annotation, str) and guards.is_user_function(cls):
            annotation = _resolve(annotation, cls.__globals__, guards)
        if not _dispatch_type(annotation):
            raise RefusedCall(
                "register() needs the annotation to be a class in the sandbox (not a string); "
                "or use @register(some_class)"
            )
        return register(annotation, cls)

    return checked


def _resolve(annotation: str, namespace: dict[str, Any], guards: GuardHooks) -> Any:
    """`int`, `json.JSONDecodeError`, `int | float`: names from the code's namespace, attributes
    through the guards; anything else stays the string it was (and is refused). RestrictedPython
    has already rewritten `a.b` in the string to `_getattr_(a, 'b')`."""
    try:
        tree = ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return annotation
    classes = [_lookup(node, namespace, guards) for node in _union_members(tree)]
    if not classes or not all(isinstance(cls, type) for cls in classes):
        return annotation
    return classes[0] if len(classes) == 1 else typing.Union[tuple(classes)]


def _union_members(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union_members(node.left) + _union_members(node.right)
    return [node]


def _lookup(node: ast.expr, namespace: dict[str, Any], guards: GuardHooks) -> Any:
    """The value of a name or a chain of `_getattr_(x, 'name')`; None for anything else."""
    if isinstance(node, ast.Name) and not node.id.startswith("_"):
        builtins = namespace["__builtins__"]
        return namespace[node.id] if node.id in namespace else builtins.get(node.id)
    getattr_call = (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_getattr_"
        and len(node.args) == 2 and not node.keywords and isinstance(node.args[1], ast.Constant)
        and type(node.args[1].value) is str
    )
    if not getattr_call:
        return None
    assert isinstance(node, ast.Call) and isinstance(node.args[1], ast.Constant)
    holder = _lookup(node.args[0], namespace, guards)
    return None if holder is None else guards.getattr(holder, node.args[1].value)


def _dispatch_type(cls: Any) -> bool:
    if isinstance(cls, type):
        return True
    union = isinstance(cls, types.UnionType) or typing.get_origin(cls) is typing.Union
    return union and all(isinstance(arg, type) for arg in typing.get_args(cls))


def _user_class(cls: Any, what: str) -> type:
    if not isinstance(cls, type):
        raise TypeError(f"{what}() needs a class")
    return cls


def _dataclass(guards: GuardHooks) -> Callable[..., Any]:
    def dataclass(cls: Any = None, /, **options: Any) -> Any:
        def wrap(cls: Any) -> Any:
            made = dataclasses.dataclass(**options)(guards.write(_user_class(cls, "dataclass")))
            return guards.adopt_class(made)  # slots=True builds a new class

        return wrap if cls is None else wrap(cls)

    dataclass.__doc__ = dataclasses.dataclass.__doc__
    return dataclass
