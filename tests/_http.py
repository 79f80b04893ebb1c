"""A request read by the tests' small HTTP/1.1 servers on Unix sockets (the peers a worker sends
batch parts to, in tests/test_peer_link.py and tests/test_fastpath_split.py)."""

from __future__ import annotations

import asyncio


async def read_request(reader: asyncio.StreamReader) -> bytes:
    """The body of the next request on ``reader``, framed by its ``Content-Length`` (raises
    ``asyncio.IncompleteReadError`` when the client has hung up)."""
    head = await reader.readuntil(b"\r\n\r\n")
    fields = dict(line.lower().split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
    return await reader.readexactly(int(fields[b"content-length"]))
