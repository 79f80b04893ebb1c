"""Bounded inflation of a QR payload, shared by the presentation (``LC1:``, ``LC2:``) and joint
bundle (``LB1:``) decoders: the output is capped before it is produced, so a small text that would
inflate to megabytes is refused after at most ``limit`` bytes of work."""

from __future__ import annotations

import zlib

__all__ = ["deflate_raw", "inflate", "inflate_raw"]


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


def inflate_raw(data: bytes, error: type[Exception], limit: int, zdict: bytes) -> tuple[bytes, bytes]:
    """The raw deflate stream (RFC 1951: no zlib header, no checksum) at the start of ``data``,
    inflated with the preset dictionary ``zdict``, and the bytes after the stream's last block.
    Raises ``error`` when the stream is not valid deflate data, inflates to more than ``limit``
    bytes (refused after ``limit`` bytes of output) or does not end."""
    inflater = zlib.decompressobj(-15, zdict=zdict) if zdict else zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, limit)
    except zlib.error:
        raise error("the payload is not valid raw deflate data (with this format's dictionary)") from None
    if inflater.unconsumed_tail:
        raise error(f"the payload decompresses to more than {limit} bytes")
    if not inflater.eof:
        raise error("the payload's deflate stream is truncated (it has no final block)")
    return out, inflater.unused_data


def deflate_raw(data: bytes, zdict: bytes) -> bytes:
    """``data`` as a raw deflate stream (level 9) with the preset dictionary ``zdict``."""
    if zdict:
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15, 9, zlib.Z_DEFAULT_STRATEGY, zdict)
    else:
        deflater = zlib.compressobj(9, zlib.DEFLATED, -15, 9)
    return deflater.compress(data) + deflater.flush()
