"""Small texts (a rule or target file) as URL-safe tokens for the page address, and back, with a size cap."""

from __future__ import annotations

import base64
import zlib

from geo.errors import AtlasError

MAX_LINKED_TEXT = 20_000


def pack_text(text: str) -> str:
    """A small text as a URL-safe token: zlib, then base64."""
    return base64.urlsafe_b64encode(zlib.compress(text.encode(), 9)).decode().rstrip("=")


def unpack_text(token: str, what: str) -> str:
    """The text of a token from a link; damaged or oversized tokens are an AtlasError (never a zip bomb)."""
    try:
        raw = zlib.decompressobj().decompress(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)),
                                              MAX_LINKED_TEXT + 1)
        if len(raw) > MAX_LINKED_TEXT:  # decompression stops there
            raise ValueError("too long")
        return raw.decode("utf-8")
    except Exception as exc:  # any damage to the link
        raise AtlasError(f"The {what} in this link is damaged.", "Using a preset instead; share the link again.") \
            from exc
