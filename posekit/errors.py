"""Exceptions raised by the library.

The library raises :class:`PosekitError` (or a subclass) for every problem a user can fix;
only the command line turns it into a one-line message and exit code 1.
"""

from __future__ import annotations

__all__ = ["PosekitError", "SkeletonError", "PluginError"]


class PosekitError(Exception):
    """A problem with the user's input: the message names the input and the fix."""


class SkeletonError(PosekitError, ValueError):
    """An invalid skeleton definition; the message names the skeleton and the field."""

    def __init__(self, skeleton: str, field: str, message: str) -> None:
        self.skeleton = skeleton
        self.field = field
        self.reason = message
        super().__init__(f"skeleton {skeleton!r}, field {field!r}: {message}")


class PluginError(PosekitError):
    """A plugin (entry point) that could not be loaded or is invalid."""
