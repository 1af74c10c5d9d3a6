"""Errors the guards raise when code asks for something the sandbox does not allow.

Each also subclasses the built-in error it stands for, so ordinary code keeps working
(`hasattr` is False, `except ImportError:` fallbacks run); the worker reports them as "policy".
"""


class Refused(Exception):
    """Raised by a guard: the code asked for something the sandbox does not allow."""


class RefusedAttribute(Refused, AttributeError):
    """A private, frame-walking or module-leaking attribute."""


class RefusedImport(Refused, ImportError):
    """A module outside the allow-list."""


class RefusedCall(Refused, TypeError):
    """A builtin the sandbox does not offer, or a forbidden way of calling one."""
