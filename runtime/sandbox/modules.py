"""Allow-listed modules, shown to sandboxed code as read-only views of their public names.

A real module leaks everything it imported (`random._os`, `statistics.sys`, `json.decoder`), and
CPython's `from m import x` falls back to `sys.modules[m.__name__ + ".x"]`. A view holds only
public, non-module names (allowed submodules as views of their own) and has no `__name__`.
"""

from __future__ import annotations

import importlib
import types
from collections.abc import Callable
from typing import Any

from runtime.sandbox.refusals import RefusedAttribute
from runtime.sandbox.replacements import GuardHooks, replacements

Getattr = Callable[[Any, str], Any]

_HIDDEN: dict[str, frozenset[str]] = {
    "string": frozenset({"Formatter"}),  # CVE-2024-47532: Formatter.get_field uses the real getattr
    "calendar": frozenset({"main"}),  # a command-line entry point, not a library function
    "datetime": frozenset({"datetime_CAPI"}),
    "collections": frozenset({"abc"}),  # only as the view of "collections.abc", when allowed
    "numbers": frozenset({"ABCMeta"}),  # a metaclass: ABCMeta(name, bases, namespace) is type() with 3 arguments
}

_ONLY: dict[str, frozenset[str]] = {
    # typing.get_type_hints and ForwardRef evaluate strings with the real eval()
    "typing": frozenset(
        {
            "Any", "Callable", "ClassVar", "Counter", "DefaultDict", "Deque", "Dict", "Final",
            "FrozenSet", "Generator", "Hashable", "Iterable", "Iterator", "List", "Literal",
            "Mapping", "MutableMapping", "MutableSequence", "MutableSet", "NamedTuple", "Optional",
            "OrderedDict", "Sequence", "Set", "Tuple", "Type", "TypeVar", "Union", "cast",
        }
    ),
    # not make_dataclass (a namespace of arbitrary dunders), FunctionType (builds functions from code)
    "dataclasses": frozenset(
        {
            "Field", "FrozenInstanceError", "InitVar", "KW_ONLY", "MISSING", "asdict", "astuple", "dataclass",
            "field", "fields", "is_dataclass", "replace",
        }
    ),
}


class ModuleView:
    """A module as sandboxed code sees it: public attributes only, no way back to the module."""

    def __init__(self, label: str, names: dict[str, Any], withheld: frozenset[str]) -> None:
        self.__dict__.update(names)
        self.__dict__["_label"] = label
        self.__dict__["_withheld"] = withheld

    def __getattr__(self, name: str) -> Any:
        """Only reached for names the view lacks; says whether the module has them but we hide them."""
        label = self.__dict__["_label"]
        if name in self.__dict__["_withheld"]:
            raise RefusedAttribute(f"{label}.{name} is not available in the sandbox")
        raise AttributeError(f"module {label!r} has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"<module {self.__dict__['_label']!r} (sandbox view)>"


def withholds(view: ModuleView, name: str) -> bool:
    """The module has a public `name` that the view hides (a submodule, or an escape hatch)."""
    return name in view.__dict__["_withheld"]


def build_views(allowed: tuple[str, ...], guards: GuardHooks) -> dict[str, ModuleView]:
    """Import each allowed module once (before the worker is confined) and wrap it."""
    views = {name: ModuleView(name, *_public_names(name, guards)) for name in allowed}
    for name, view in views.items():
        parent, _, child = name.rpartition(".")
        if parent in views:
            views[parent].__dict__[child] = view
    return views


def _public_names(name: str, guards: GuardHooks) -> tuple[dict[str, Any], frozenset[str]]:
    """The names a view shows, and the public names of the module that it withholds."""
    module = importlib.import_module(name)
    hidden = _HIDDEN.get(name, frozenset())
    only = _ONLY.get(name)
    public = {key: value for key, value in vars(module).items() if not key.startswith("_")}
    names = {
        key: value
        for key, value in public.items()
        if not isinstance(value, types.ModuleType) and key not in hidden and (only is None or key in only)
    }
    if name == "operator":
        names.update(attrgetter=_attrgetter(guards.getattr), methodcaller=_methodcaller(guards.getattr))
    names.update(replacements(name, guards))
    return names, frozenset(public) - set(names)


def _attrgetter(getattr_: Getattr) -> Callable[..., Callable[[Any], Any]]:
    """operator.attrgetter through the sandbox's getattr; the C original reopens every escape."""

    def attrgetter(*names: str) -> Callable[[Any], Any]:
        if not names or not all(isinstance(name, str) for name in names):
            raise TypeError("attribute names must be strings")

        def resolve(obj: Any, dotted: str) -> Any:
            for part in dotted.split("."):
                obj = getattr_(obj, part)
            return obj

        def get(obj: Any) -> Any:
            values = tuple(resolve(obj, name) for name in names)
            return values[0] if len(values) == 1 else values

        return get

    return attrgetter


def _methodcaller(getattr_: Getattr) -> Callable[..., Callable[[Any], Any]]:
    """operator.methodcaller through the sandbox's getattr, for the same reason."""

    def methodcaller(name: str, /, *args: Any, **kwargs: Any) -> Callable[[Any], Any]:
        if not isinstance(name, str):
            raise TypeError("method name must be a string")
        return lambda obj: getattr_(obj, name)(*args, **kwargs)

    return methodcaller
