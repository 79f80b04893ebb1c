"""Bounded zlib inflation of a QR payload, shared by the presentation (``LC1:``) and joint bundle
(``LB1:``) decoders: the output is capped before it is produced, so a small text that would inflate
to megabytes is refused after at most ``limit`` bytes of work."""

from __future__ import annotations

import zlib

__all__ = ["inflate"]


def inflate(data: bytes, error: type[Exception], limit: int) -> bytes:
    """The zlib stream ``data`` inflated, when it is one complete stream of at most ``limit`` bytes
    with nothing after it; otherwise raises ``error`` saying which of these it is not."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit)
    except zlib.error:
        raise error("the payload is not valid zlib data") from None
    if inflater.unconsumed_tail:
        raise error(f"the payload decompresses to more than {limit} bytes")
    if not inflater.eof or inflater.unused_data:
        raise error("the payload is truncated or has trailing data")
    return out
