"""The user-facing error of the command line."""

from __future__ import annotations

__all__ = ["CLIError"]


class CLIError(Exception):
    """A user-facing error: printed as ``error: <message>``, exit status 2."""
