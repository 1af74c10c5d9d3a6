"""RestrictedPython guards: what sandboxed code may read, write, call and import.

RestrictedPython rewrites attribute and item access, iteration, unpacking, printing and augmented
assignment into calls of the functions built here, and refuses private names at compile time.
These functions are therefore the policy; they run only inside the worker process.
"""

from __future__ import annotations

import _string
import ast
import importlib
import operator
import string
import types
import weakref
from collections.abc import Callable
from typing import Any, NoReturn

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_eval, compile_restricted_exec
from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safe_builtins
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, IOPERATOR_TO_STR, copy_locations

from runtime.sandbox.arith import arithmetic_eval
from runtime.sandbox.modules import ModuleView, build_views, withholds
from runtime.sandbox.refusals import RefusedAttribute, RefusedCall, RefusedImport

FILENAME = "<action>"

DUNDER_METHODS = frozenset(
    {
        "__init__", "__repr__", "__str__", "__len__", "__iter__", "__next__", "__contains__",
        "__getitem__", "__setitem__", "__delitem__", "__eq__", "__ne__", "__lt__", "__le__", "__gt__",
        "__ge__", "__hash__", "__bool__", "__add__", "__radd__", "__sub__", "__rsub__", "__mul__",
        "__rmul__", "__truediv__", "__rtruediv__", "__floordiv__", "__rfloordiv__", "__mod__",
        "__rmod__", "__pow__", "__rpow__", "__neg__", "__pos__", "__abs__", "__call__", "__enter__",
        "__exit__",
    }
)
"""Special methods user classes may define (and reach through `super()`). Each only customizes the
user's own class and is handed objects the code already holds; `__getattribute__`, `__setattr__`,
`__del__`, `__init_subclass__`, `__set_name__`, `__class_getitem__` and `__format__` stay refused."""

READABLE_DUNDERS = frozenset({"__name__", "__qualname__", "__doc__"})
"""Private-looking attributes that are only strings; `type(e).__name__` is everyday code."""

_GUARD_NAMES = frozenset({"_print", "_aug_obj", "_aug_key"})
"""The guard names that do not end in '_' (those that do are refused by is_own_member_name)."""


def is_own_member_name(name: str) -> bool:
    """`_name`, as in `self._name`: one leading underscore, never a guard's name or a dunder."""
    return (
        len(name) > 1 and name[0] == "_" and name[1] != "_" and not name.endswith("_")
        and name.isidentifier() and name not in _GUARD_NAMES
    )

_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift, ">>=": operator.irshift,
    "|=": operator.ior, "^=": operator.ixor, "&=": operator.iand, "//=": operator.ifloordiv,
    "@=": operator.imatmul,
}

_UNAVAILABLE = {
    "open": "there is no file access in the sandbox",
    "input": "there is no console in the sandbox",
    "exec": "code cannot create code in the sandbox",
    "compile": "code cannot create code in the sandbox",
    "globals": "namespaces cannot be inspected in the sandbox",
    "locals": "namespaces cannot be inspected in the sandbox",
    "vars": "namespaces cannot be inspected in the sandbox",
    "breakpoint": "there is no debugger in the sandbox",
    "help": "use dir(x) or the tool descriptions instead",
    "memoryview": "raw memory is not available in the sandbox",
    "exit": "end the action with final_answer(x) instead",
    "quit": "end the action with final_answer(x) instead",
}

_MISSING = object()

_EXTRA_EXCEPTIONS = (
    RecursionError, ModuleNotFoundError, TimeoutError, FileNotFoundError, PermissionError,
    StopAsyncIteration, ConnectionError,
)


class CompileFailed(Exception):
    """The action did not compile: bad syntax or a construct the policy refuses."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class SandboxTransformer(RestrictingNodeTransformer):
    """RestrictedPython's transformer, with a few safe constructs ordinary code needs put back.

    Added: special methods from DUNDER_METHODS, `super().__init__(...)`, reading the global
    `__name__` and READABLE_DUNDERS attributes, single-underscore names (`self._count`, checked
    at run time by Guards.is_own), `nonlocal`, annotated assignments, and
    `obj.attr += x` / `obj[key] += x` (rewritten through the same guards, each sub-expression
    evaluated once; `name += x` is left native).
    """

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        if allow_magic_methods and name in DUNDER_METHODS and node.col_offset != 0:
            return
        if name is not None and is_own_member_name(name):  # `_count = 0`, `def _helper(self)`
            return
        super().check_name(node, name, allow_magic_methods)

    def visit_Name(self, node: ast.Name) -> Any:
        if node.id == "__name__" and isinstance(node.ctx, ast.Load):
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        if is_own_member_name(node.attr):
            return self._own_member(node)
        readable = node.attr in READABLE_DUNDERS or (node.attr in DUNDER_METHODS and _is_super_call(node.value))
        if readable and isinstance(node.ctx, ast.Load):
            call = ast.Call(
                func=ast.Name("_getattr_", ast.Load()),
                args=[self.visit(node.value), ast.Constant(node.attr)],
                keywords=[],
            )
            copy_locations(call, node)
            return call
        return super().visit_Attribute(node)

    def _own_member(self, node: ast.Attribute) -> Any:
        """`obj._name`: read through _getattr_, written through _write_own_; both let it pass only
        on classes the code defined and their instances (Guards.is_own)."""
        value = self.visit(node.value)
        if isinstance(node.ctx, ast.Load):
            replacement: ast.expr = _call("_getattr_", value, ast.Constant(node.attr))
        else:
            replacement = ast.Attribute(_call("_write_own_", value), node.attr, node.ctx)
        copy_locations(replacement, node)
        return ast.fix_missing_locations(replacement)

    def visit_Call(self, node: ast.Call) -> Any:
        """`eval(...)` is let through to the sandbox's own `eval`, which only does arithmetic
        (runtime/sandbox/arith.py); RestrictedPython refuses it by name at compile time."""
        if not (isinstance(node.func, ast.Name) and node.func.id == "eval"):
            return super().visit_Call(node)
        func = node.func
        func.id = "arithmetic_eval"  # past the refusal by name; the Name node itself is kept
        visited = super().visit_Call(node)
        func.id = "eval"
        return visited

    def visit_Nonlocal(self, node: ast.Nonlocal) -> Any:
        for name in node.names:
            self.check_name(node, name)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> Any:
        return self.node_contents_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> Any:
        target = node.target
        if isinstance(target, ast.Name):
            # `n += 1` stays native: like `n + 1`, it only touches values the code already holds.
            self.check_name(target, target.id)
            node.value = self.visit(node.value)
            return node
        load = ast.copy_location(type(target)(**{**_fields(target), "ctx": ast.Load()}), target)
        self.visit(load)  # only for its checks (private names, frame attributes)
        op = ast.Constant(IOPERATOR_TO_STR[type(node.op)])
        statements: list[ast.stmt] = [_assign("_aug_obj", self.visit(target.value))]
        if isinstance(target, ast.Attribute):
            current = _call("_getattr_", _name("_aug_obj"), ast.Constant(target.attr))
            writer = "_write_own_" if is_own_member_name(target.attr) else "_write_"
            store: ast.expr = ast.Attribute(_call(writer, _name("_aug_obj")), target.attr, ast.Store())
        else:
            statements.append(_assign("_aug_key", self.visit(target.slice)))
            current = _call("_getitem_", _name("_aug_obj"), _name("_aug_key"))
            store = ast.Subscript(_call("_write_", _name("_aug_obj")), _name("_aug_key"), ast.Store())
        update = _call("_inplacevar_", op, current, self.visit(node.value))
        statements.append(ast.Assign(targets=[store], value=update))
        for statement in statements:
            ast.copy_location(statement, node)
            ast.fix_missing_locations(statement)
        return statements


def _is_super_call(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"


def _fields(node: ast.AST) -> dict[str, Any]:
    return {name: getattr(node, name) for name in node._fields}


def _name(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _call(func: str, *args: ast.expr) -> ast.Call:
    return ast.Call(func=_name(func), args=list(args), keywords=[])


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign(targets=[ast.Name(name, ast.Store())], value=value)


def compile_action(code: str, reserved: frozenset[str] = frozenset()) -> tuple[types.CodeType, types.CodeType | None]:
    """Compile an action; a trailing expression is compiled apart so its value can be shown.

    `reserved`: names the code may not define at the top level (the tools and final_answer); a
    copy of such a function's stub (a def whose body is only a docstring, `...` or `pass`) is
    dropped, so the real function runs.
    """
    try:
        tree = ast.parse(code, FILENAME)
    except SyntaxError as exc:
        text = f"\n    {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        raise CompileFailed("syntax", f"SyntaxError: {exc.msg} (line {exc.lineno}){text}") from None
    except ValueError as exc:  # null bytes in the source
        raise CompileFailed("syntax", f"SyntaxError: {exc}") from None
    tree.body = [node for node in tree.body if not _is_copied_stub(node, reserved)]
    _refuse_redefinitions(tree, reserved)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body[-1].value)
        del tree.body[-1]
    body = compile_restricted_exec(tree, FILENAME, policy=SandboxTransformer)
    value = compile_restricted_eval(last, FILENAME, policy=SandboxTransformer) if last else None
    errors = [*body.errors, *(value.errors if value else ())]
    if errors:
        raise CompileFailed("policy", "Not allowed in the sandbox: " + "; ".join(map(_tidy, errors)))
    assert body.code is not None
    return body.code, value.code if value else None


def split_last_expression(code: str) -> tuple[types.CodeType, types.CodeType | None]:
    """Plain Python, no guards at all: only for tests of the OS layer alone."""
    tree = ast.parse(code, FILENAME)
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = compile(ast.Expression(tree.body.pop().value), FILENAME, "eval")
    return compile(tree, FILENAME, "exec"), last


def _is_copied_stub(node: ast.stmt, reserved: frozenset[str]) -> bool:
    """The 1.5B model pastes a tool's stub from the prompt above its call to the tool (6 of 100
    Game of 24 questions, all lost to the refusal); it means the real tool."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or node.name not in reserved:
        return False
    return all(
        isinstance(stmt, ast.Pass) or (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))
        for stmt in node.body
    )


def _refuse_redefinitions(tree: ast.Module, reserved: frozenset[str]) -> None:
    """Small models copy a tool's stub from the prompt (`def find_expression(...): ...`), which
    replaces the real tool with a body of their own; SmolLM2 did so on every Game of 24 question."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
        elif isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
        else:
            continue
        for name in names:
            if name in reserved:
                raise CompileFailed(
                    "policy",
                    f"{name} is already defined by the runtime; call it as it is, do not define or "
                    f"assign it (line {node.lineno})",
                )


def _tidy(error: str) -> str:
    """'Line 2: "x" is bad' -> '"x" is bad (line 2)'."""
    head, sep, rest = error.partition(": ")
    if sep and head.startswith("Line "):
        return f"{rest.rstrip('.')} (line {head[5:]})"
    return error


class Guards:
    """The guard functions and namespace for one worker; remembers which classes the code made."""

    def __init__(self, allowed_modules: tuple[str, ...]) -> None:
        self._user_classes: weakref.WeakSet[type] = weakref.WeakSet()
        self._formatter = _GuardedFormatter(self)
        self.globals: dict[str, Any] = {}  # filled by namespace(); identifies the code's own functions
        self._ready_made: dict[str, Any] = {}  # tool functions and final_answer, by name
        self._pristine: dict[str, Any] = {}  # the guard entries of the namespace, as namespace() made them
        self._pristine_builtins: dict[str, Any] = {}
        self.modules: dict[str, ModuleView] = build_views(allowed_modules, self)

    # -- reading -------------------------------------------------------------------------------

    def getattr(self, obj: Any, name: str, default: Any = _MISSING) -> Any:
        """`obj.name` for sandboxed code; `default` as in getattr(), but refusals always raise."""
        if type(name) is not str:
            raise TypeError("attribute name must be a string")
        if name.startswith("_") and not _readable_private(obj, name) and not self._own_member(obj, name):
            raise RefusedAttribute(f"access to {name!r} is not allowed: names starting with '_' are private")
        if name in INSPECT_ATTRIBUTES:
            raise RefusedAttribute(f"access to {name!r} is not allowed: it exposes interpreter frames")
        if name in ("format", "format_map"):
            target = obj.__self__ if type(obj) is super else obj  # super(S, s).format is str.format too
            if _is_str(target):
                return self._str_format(target, name)
        if isinstance(obj, string.Formatter):
            raise RefusedAttribute("string.Formatter is not available in the sandbox")
        if name == "obj" and isinstance(obj, BaseException):
            raise RefusedAttribute("the 'obj' attribute of exceptions is not available in the sandbox")
        value = getattr(obj, name) if default is _MISSING else getattr(obj, name, default)
        return _no_module(value, name)

    def getitem(self, obj: Any, key: Any) -> Any:
        value = obj[key]
        if isinstance(value, types.ModuleType):
            _no_module(value, repr(key))
        return value

    def hasattr(self, obj: Any, name: str) -> bool:
        try:
            self.getattr(obj, name)
        except AttributeError:
            return False
        return True

    # -- writing -------------------------------------------------------------------------------

    def write(self, obj: Any) -> Any:
        """Allow `obj.x = v` and `obj[k] = v` on data and on what the code defined itself.

        Refused: modules, classes and functions that the sandboxed code did not create, so it
        cannot patch code the worker itself relies on.
        """
        if isinstance(obj, (types.ModuleType, ModuleView)):
            raise RefusedAttribute("modules are read-only in the sandbox")
        if isinstance(obj, type) and obj not in self._user_classes:
            raise RefusedAttribute(f"built-in class {obj.__name__!r} is read-only in the sandbox")
        if isinstance(obj, types.FunctionType) and obj.__globals__ is not self.globals:
            raise RefusedAttribute("built-in functions are read-only in the sandbox")
        if isinstance(obj, (types.BuiltinFunctionType, types.MethodType, types.BuiltinMethodType)):
            raise RefusedAttribute("built-in functions are read-only in the sandbox")
        return obj

    def write_own(self, obj: Any) -> Any:
        """`obj._name = v`: only on a class the code defined or an instance of one."""
        if not self.is_own(obj):
            raise RefusedAttribute(
                "names starting with '_' can only be set on classes defined in the sandbox and their instances"
            )
        return self.write(obj)

    def setattr(self, obj: Any, name: str, value: Any) -> None:
        self._check_settable(obj, name)
        setattr(self.write(obj), name, value)

    def delattr(self, obj: Any, name: str) -> None:
        self._check_settable(obj, name)
        delattr(self.write(obj), name)

    def is_own(self, obj: Any) -> bool:
        """A class the code defined (or a subclass of one), or an instance of one."""
        classes = obj.__mro__ if isinstance(obj, type) else type(obj).__mro__
        return any(cls in self._user_classes for cls in classes)

    def _own_member(self, obj: Any, name: str) -> bool:
        """`obj._name` that the code's own classes define, or that its instance holds itself
        (nothing of a standard-library base class: that is not the code's to read)."""
        if not is_own_member_name(name) or not self.is_own(obj):
            return False
        classes = obj.__mro__ if isinstance(obj, type) else type(obj).__mro__
        if any(name in vars(cls) for cls in classes if cls in self._user_classes):
            return True
        holder = getattr(obj, "__dict__", None) if not isinstance(obj, type) else None
        return isinstance(holder, dict) and name in holder

    def _check_settable(self, obj: Any, name: Any) -> None:
        if type(name) is str and is_own_member_name(name) and self.is_own(obj):
            return
        _check_public(name)

    # -- the rest of RestrictedPython's hooks ----------------------------------------------------

    def build_class(self, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> type:
        """Every `class` statement comes here (RestrictedPython's `__metaclass__` hook)."""
        return self.adopt_class(type(name, bases, namespace))

    def adopt_class(self, cls: type) -> type:
        """Treat `cls` as the code's own (writable); for classes made from one of its classes."""
        self._user_classes.add(cls)
        return cls

    def is_user_function(self, obj: Any) -> bool:
        return isinstance(obj, types.FunctionType) and obj.__globals__ is self.globals

    def reassert(self) -> None:
        """Put the namespace's builtins and guard functions back as namespace() made them, before each
        action: should anything have replaced or filled them in, it lasts one action at most."""
        builtins = self._pristine["__builtins__"]
        builtins.clear()
        builtins.update(self._pristine_builtins)
        self.globals.update(self._pristine)

    def import_(
        self, name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0
    ) -> Any:
        if isinstance(fromlist, list) and not fromlist and not level:
            # Only C code calls us like this (PyImport_Import, e.g. strftime importing `time`); it
            # ignores the result and keeps the module to itself. Sandboxed code cannot reach this
            # function by name, and its import statements pass None or a tuple.
            return importlib.import_module(name)
        if level:
            raise RefusedImport("relative imports are not allowed in the sandbox")
        view = self.modules.get(name)
        if view is None and (name in self._ready_made or set(fromlist or ()) & self._ready_made.keys()):
            # Small models "import" the tools the prompt lists (`from evaluate import evaluate`) and
            # repeat it however the error reads; hand back what is already in their namespace.
            return self._ready_import(name, fromlist)
        if view is None:
            allowed = ", ".join(sorted(self.modules))
            raise RefusedImport(f"import of {name!r} is not allowed in the sandbox; allowed modules: {allowed}")
        for item in fromlist or ():
            if withholds(view, item):
                raise RefusedImport(f"{name}.{item} is not available in the sandbox")
        return view if fromlist else self.modules[name.partition(".")[0]]

    def _ready_import(self, name: str, fromlist: Any) -> Any:
        """An import of a tool: the tool itself, or a namespace holding only the tools asked for."""
        if not fromlist:
            return self._ready_made[name]
        missing = [item for item in fromlist if item not in self._ready_made]
        if missing:
            raise RefusedImport(f"{missing[0]} is not available; the tools are already defined: call them directly")
        return types.SimpleNamespace(**{item: self._ready_made[item] for item in fromlist})

    def namespace(self, extra_builtins: dict[str, Any], printer: Any) -> dict[str, Any]:
        """The globals of sandboxed code; guard names start with '_' so code can never rebind them."""
        self._ready_made = dict(extra_builtins)
        builtins = {k: v for k, v in safe_builtins.items() if k not in ("_getattr_", "setattr", "delattr")}
        builtins.update({exc.__name__: exc for exc in _EXTRA_EXCEPTIONS})
        builtins.update({name: _unavailable(name, why) for name, why in _UNAVAILABLE.items()})
        builtins.update(
            __import__=self.import_, getattr=self.getattr, hasattr=self.hasattr, setattr=self.setattr,
            delattr=self.delattr, dir=sandbox_dir, type=sandbox_type, object=object, super=super,
            property=property, staticmethod=staticmethod, classmethod=classmethod, list=list,
            tuple=tuple, dict=dict, set=set, frozenset=frozenset, bytes=bytes, bytearray=bytearray,
            enumerate=enumerate, zip=zip, map=map, filter=filter, sorted=sorted, reversed=reversed,
            min=min, max=max, sum=sum, all=all, any=any, iter=iter, next=next, bin=bin, format=format,
            ascii=ascii, NotImplemented=NotImplemented, eval=arithmetic_eval,
        )
        # the allowed modules come imported: `itertools.permutations` without `import itertools` was the
        # teacher's most common failed step (NameError), and greedy decoding then wrote the same code again
        builtins.update({name: view for name, view in self.modules.items() if "." not in name})
        builtins.update(extra_builtins)
        self.globals = {
            "__builtins__": builtins,
            "__name__": "__main__",
            "__metaclass__": self.build_class,
            "_getattr_": self.getattr,
            "_getitem_": self.getitem,
            "_getiter_": iter,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
            "_unpack_sequence_": guarded_unpack_sequence,
            "_write_": self.write,
            "_write_own_": self.write_own,
            "_inplacevar_": _inplacevar,
            "_apply_": _apply,
            "_print_": lambda _getattr=None: printer,
            "_print": printer,
        }
        self._pristine = dict(self.globals)
        self._pristine_builtins = dict(builtins)
        return self.globals

    def _str_format(self, obj: Any, name: str) -> Callable[..., str]:
        """str.format / format_map whose fields go through these guards (CVE-2023-41039)."""
        formatter = self._formatter
        if isinstance(obj, str):
            if name == "format":
                return lambda *args, **kwargs: formatter.vformat(obj, args, kwargs)
            return lambda mapping: formatter.vformat(obj, (), mapping)
        if name == "format":
            return lambda text, *args, **kwargs: formatter.vformat(str(text), args, kwargs)
        return lambda text, mapping: formatter.vformat(str(text), (), mapping)


class _GuardedFormatter(string.Formatter):
    """Resolves `{a.b[c]}` fields with the sandbox's getattr/getitem instead of the real ones."""

    def __init__(self, guards: Guards) -> None:
        self._guards = guards

    def get_field(self, field_name: str, args: Any, kwargs: Any) -> tuple[Any, Any]:
        first, rest = _string.formatter_field_name_split(field_name)
        obj = self.get_value(first, args, kwargs)
        for is_attr, key in rest:
            obj = self._guards.getattr(obj, key) if is_attr else self._guards.getitem(obj, key)
        return obj, first


def sandbox_type(obj: Any, *more: Any) -> Any:
    """type(x) only; the type of a class is this function, so the real `type` never leaks."""
    if more:
        raise RefusedCall("type() with three arguments is not allowed; use a class statement")
    kind = type(obj)
    return sandbox_type if issubclass(kind, type) else kind


def sandbox_dir(obj: Any) -> list[str]:
    """Public names only; dir() without an argument would expose the namespace."""
    return [name for name in dir(obj) if not name.startswith("_")]


def _readable_private(obj: Any, name: str) -> bool:
    return name in READABLE_DUNDERS or (type(obj) is super and name in DUNDER_METHODS)


def _is_str(obj: Any) -> bool:
    return isinstance(obj, str) or (isinstance(obj, type) and issubclass(obj, str))


def _no_module(value: Any, name: str) -> Any:
    """No path may end at a real module: from one, everything (sys, os) is a few steps away."""
    if isinstance(value, types.ModuleType):
        raise RefusedAttribute(f"{name} is a module; modules are only reachable through import")
    return value


def _check_public(name: Any) -> None:
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_"):
        raise RefusedAttribute(f"access to {name!r} is not allowed: names starting with '_' are private")


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    return _INPLACE[op](target, value)


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


def _unavailable(name: str, why: str) -> Callable[..., NoReturn]:
    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise RefusedCall(f"{name}() is not available: {why}")

    refuse.__name__ = refuse.__qualname__ = name
    return refuse
