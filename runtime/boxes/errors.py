"""Errors a box can cause. Each names the problem in one line; the CLI prints it and exits 1."""

from __future__ import annotations

from runtime.errors import RuntimeUserError


class BoxError(RuntimeUserError):
    """Base class for every box problem."""


class UnsafeBundle(BoxError):
    """A path, link, device file or size in the bundle could escape or exhaust the store."""


class BundleLimitExceeded(UnsafeBundle):
    """Too many files or too many bytes: refused before reading them."""


class ManifestError(BoxError):
    """The manifest is missing, unreadable, or does not match the schema."""


class IntegrityError(BoxError):
    """A file's sha256 differs from the manifest, or a file is missing or unlisted."""


class BoxLoadError(BoxError):
    """A module does not compile, raises at import, or declares bad or duplicate tools."""


class SelfTestFailed(BoxError):
    """A tool's example did not give the expected output."""


class BoxNotFound(BoxError):
    """No shipped or installed box has this name."""


class BoxConflict(BoxError):
    """The store already holds this name and version with different files."""


class ConfirmationRequired(BoxError):
    """An install needs a yes, and there is nobody at the terminal to give it."""
