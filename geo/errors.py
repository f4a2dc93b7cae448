"""Errors that carry a message a user can act on."""

from __future__ import annotations


class AtlasError(Exception):
    """A problem with the user's input: `message` says what is wrong, `hint` what to do."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class UnsupportedFile(AtlasError):
    """The file is not one of the formats we read, or it lies about its type."""


class FileTooLarge(AtlasError):
    """The file, archive or geometry exceeds a configured limit."""


class CRSProblem(AtlasError):
    """The coordinate reference system is missing, wrong or inconsistent with the coordinates."""


class JoinBlocked(AtlasError):
    """The join cannot be mapped until the user resolves something (e.g. conflicting duplicates)."""
