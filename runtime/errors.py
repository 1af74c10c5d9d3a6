"""Errors a user can cause. The CLI turns each into one clear line and a non-zero exit."""


class RuntimeUserError(Exception):
    """Base class: something the user can fix (a path, a name, a missing install)."""

    exit_code = 1


class ModelNotFound(RuntimeUserError):
    """The named model is neither in the registry nor a GGUF path."""


class ModelNotInstalled(RuntimeUserError):
    """The model is known but its packages or file are not on this machine."""


class ModelIntegrityError(RuntimeUserError):
    """The assembled GGUF does not match the pinned sha256."""


class ModelLoadError(RuntimeUserError):
    """llama.cpp could not load the file."""


class ModelUnavailable(RuntimeUserError):
    """A model server (`--model URL`) could not be reached or did not answer with a completion."""


class ConfigError(RuntimeUserError):
    """Settings or a manifest failed validation."""
