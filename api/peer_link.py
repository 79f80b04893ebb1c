"""A worker's link to another worker's private socket, over which it sends batch parts
(:meth:`api.fastpath.FastPath._fan_out`): HTTP/1.1 on a Unix socket, connections kept alive, one
request at a time on each.

It is a plain stream client rather than a general HTTP one because a part's answer is megabytes
of JSON read while the same process verifies in another thread: a general client's per-chunk
Python work (64 KB at a time, through several layers) took the interpreter from that thread for
about four times as long as reading the answer whole does here.

The other end is this service's own worker, yet its answer is read as input: a status line, at
most ``MAX_HEADERS`` header lines, a ``Content-Length`` of at most ``MAX_ANSWER`` bytes (no other
framing is accepted), all within ``timeout`` seconds. Anything else raises :class:`PeerError`, and
the connection is dropped; the caller verifies that part itself. A connection is kept for the
next part only when its answer ended exactly where its length said.
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["MAX_ANSWER", "MAX_HEADERS", "PeerError", "PeerLink"]

#: Most bytes a part's answer may have (a part is at most 1,000 texts: about 2.5 MB of results).
MAX_ANSWER = 256 * 1024 * 1024
#: Most header lines an answer may have.
MAX_HEADERS = 64
#: The stream's buffer: the longest line of a head (a longer one raises), and how much is read
#: ahead of the answer's reader.
_BUFFER = 1024 * 1024


class PeerError(Exception):
    """The other worker did not give a usable answer (refused, hung up, timed out, or malformed)."""


class _Reader(asyncio.StreamReader):
    """A stream reader that says whether it holds bytes nobody asked for yet."""

    @property
    def pending(self) -> bool:
        return bool(self._buffer)  # type: ignore[attr-defined]  # CPython's buffer of unread bytes


_Connection = tuple[_Reader, asyncio.StreamWriter]


class PeerLink:
    """Kept-alive connections to one other worker's private socket at ``path``."""

    def __init__(self, path: str, *, timeout: float = 600.0) -> None:
        self.path = path
        self.timeout = timeout
        self._idle: list[_Connection] = []

    async def post(self, target: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        """``POST target`` with the JSON ``body``: the answer's status and body; raises
        :class:`PeerError` when there is no usable answer. A kept connection the other end closed
        before answering (its idle timeout) is replaced by a new one, once."""
        head = f"POST {target} HTTP/1.1\r\nhost: peer\r\ncontent-type: application/json\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        request = (head + f"content-length: {len(body)}\r\n\r\n").encode("latin-1")
        try:
            async with asyncio.timeout(self.timeout):
                kept = self._take()
                if kept is not None:
                    try:
                        return await self._exchange(kept, request, body)
                    except _UnansweredError:
                        pass  # closed before a byte of the answer: try a new connection
                return await self._exchange(await self._open(), request, body)
        except (OSError, EOFError, asyncio.LimitOverrunError, ValueError, TimeoutError) as exc:
            raise PeerError(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(self, connection: _Connection, request: bytes, body: bytes) -> tuple[int, bytes]:
        """One request and its whole answer on ``connection``, which is kept for the next only
        when the answer ended exactly where its length said and the other end keeps it open;
        after anything else (an error, a cancellation) it is closed."""
        reader, writer = connection
        reusable = False
        try:
            writer.write(request)
            writer.write(body)
            try:
                status_line = await reader.readuntil(b"\r\n")
            except asyncio.IncompleteReadError as exc:
                if not exc.partial:
                    raise _UnansweredError from exc
                raise
            status, length, keep = await _read_head(status_line, reader)
            answer = await reader.readexactly(length)
            reusable = keep and not reader.pending
            return status, answer
        finally:
            if reusable:
                self._idle.append(connection)
            else:
                writer.close()

    def _take(self) -> _Connection | None:
        """An idle connection the other end has not closed meanwhile (it may have restarted) and
        that holds nothing unread."""
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof() and not reader.pending and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        reader = _Reader(limit=_BUFFER, loop=loop)
        transport, protocol = await loop.create_unix_connection(
            lambda: asyncio.StreamReaderProtocol(reader, loop=loop), self.path
        )
        return reader, asyncio.StreamWriter(transport, protocol, reader, loop)

    async def aclose(self) -> None:
        """Close the idle connections (one in use is closed by its request, when it ends)."""
        idle, self._idle = self._idle, []
        for _, writer in idle:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


class _UnansweredError(EOFError):
    """A kept connection ended before a byte of the answer came."""


async def _read_head(status_line: bytes, reader: asyncio.StreamReader) -> tuple[int, int, bool]:
    """The status, the body's length and whether the connection stays open, from an answer's
    head; ``ValueError`` when it is not an HTTP/1.1 head with a ``Content-Length`` in bounds."""
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or parts[0] != b"HTTP/1.1" or not parts[1].strip().isdigit() or len(parts[1].strip()) != 3:
        raise ValueError("the answer does not start with an HTTP/1.1 status line")
    length, keep = None, True
    for _ in range(MAX_HEADERS + 1):
        line = await reader.readuntil(b"\r\n")
        if line == b"\r\n":
            break
        name, colon, value = line.partition(b":")
        if not colon:
            raise ValueError("a header line of the answer has no colon")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            if not value.isdigit() or length is not None:
                raise ValueError("the answer's Content-Length is not one decimal number")
            length = int(value)
        elif name == b"transfer-encoding":
            raise ValueError("the answer is not framed by a Content-Length")
        elif name == b"connection" and b"close" in (token.strip() for token in value.split(b",")):
            keep = False
    else:
        raise ValueError(f"the answer has more than {MAX_HEADERS} header lines")
    if length is None or length > MAX_ANSWER:
        raise ValueError(f"the answer's length is missing or over {MAX_ANSWER} bytes")
    return int(parts[1]), length, keep
