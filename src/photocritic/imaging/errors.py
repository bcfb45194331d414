"""The one exception a bad photo raises, with a message fit for a per-file record."""
from __future__ import annotations


class PhotoError(Exception):
    """A photo could not be read. The message is one line, meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(str(message).split()))
