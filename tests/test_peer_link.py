"""The link a worker sends batch parts over (``api.peer_link``), against real servers on Unix
sockets: connections are kept and reused, one the other end closed (restarted) is not, and an
answer that is not a bounded HTTP/1.1 answer framed by its length, or that does not come in time,
raises ``PeerError`` and leaves no connection behind to be reused."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path

import pytest
from _http import read_request

from api.peer_link import MAX_ANSWER, MAX_HEADERS, PeerError, PeerLink

OK = b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 7\r\n\r\n["ok"]\n'


async def _server(path: Path, answer: Callable[[int], bytes | None], seen: dict[str, int]) -> asyncio.AbstractServer:
    """Reads each request whole, then writes ``answer(n)`` for the n-th request (None: write
    nothing, then hang up); counts connections and requests in ``seen``."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"] += 1
        with contextlib.closing(writer), contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                seen["bodies"] += len(await read_request(reader))
                seen["requests"] += 1
                reply = answer(seen["requests"])
                if reply is None:
                    break
                writer.write(reply)
                await writer.drain()
                if b"connection: close" in reply or seen.get("hang up after") == seen["requests"]:
                    break

    return await asyncio.start_unix_server(serve, path=str(path))


def _run(
    tmp_path: Path, answer: Callable[[int], bytes | None], talk: Callable, *, hang_up_after: int = 0
) -> dict[str, int]:
    seen = {"connections": 0, "requests": 0, "bodies": 0, "hang up after": hang_up_after}

    async def main() -> None:
        server = await _server(tmp_path / "peer.sock", answer, seen)
        peer = PeerLink(str(tmp_path / "peer.sock"))
        try:
            await talk(peer)
        finally:
            await peer.aclose()
            server.close()
            await server.wait_closed()

    asyncio.run(main())
    del seen["hang up after"]
    return seen


def test_answers_are_read_whole_and_the_connection_is_kept(tmp_path):
    answers: list[tuple[int, bytes]] = []

    async def talk(peer: PeerLink) -> None:
        for size in (10, 300_000, 5):
            answers.append(await peer.post("/v1/verify/batch", b"x" * size, {"x-elicense-batch-part": "1"}))

    seen = _run(tmp_path, lambda _n: OK, talk)
    assert answers == [(200, b'["ok"]\n')] * 3
    assert seen == {"connections": 1, "requests": 3, "bodies": 300_015}


def test_a_large_answer_arrives_whole(tmp_path):
    body = b"[" + b'"valid",' * 400_000 + b'"valid"]'
    head = b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % len(body)
    got: list[bytes] = []

    async def talk(peer: PeerLink) -> None:
        got.append((await peer.post("/", b"{}", {}))[1])

    _run(tmp_path, lambda _n: head + body, talk)
    assert got == [body]


def test_an_answer_with_connection_close_is_followed_by_a_new_connection(tmp_path):
    close = OK.replace(b"\r\n\r\n", b"\r\nconnection: close\r\n\r\n")

    async def talk(peer: PeerLink) -> None:
        assert (await peer.post("/", b"{}", {}))[0] == 200  # answered with connection: close
        assert (await peer.post("/", b"{}", {}))[0] == 200  # on a new connection, kept
        assert (await peer.post("/", b"{}", {}))[0] == 200  # on the kept one

    seen = _run(tmp_path, lambda n: close if n == 1 else OK, talk)
    assert seen["requests"] == 3
    assert seen["connections"] == 2  # the first closed on request; the second kept for the third


def test_a_peer_that_closed_an_idle_connection_is_not_written_to(tmp_path):
    """A worker that restarted closed its end of the kept connection without saying so: the next
    part goes over a new connection, not into the closed one."""
    seen = {"connections": 0, "requests": 0}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"] += 1  # each connection: one request answered, then closed
        await read_request(reader)
        seen["requests"] += 1
        writer.write(OK)
        await writer.drain()
        writer.close()

    async def main() -> None:
        server = await asyncio.start_unix_server(serve, path=str(tmp_path / "peer.sock"))
        peer = PeerLink(str(tmp_path / "peer.sock"))
        try:
            assert (await peer.post("/", b"{}", {}))[0] == 200
            await asyncio.sleep(0.05)  # the end of the idle connection reaches this loop
            assert (await peer.post("/", b"{}", {}))[0] == 200
        finally:
            await peer.aclose()
            server.close()
            await server.wait_closed()

    asyncio.run(main())
    assert seen == {"connections": 2, "requests": 2}


def _numbered(n: int) -> bytes:
    body = b'["answer %d"]' % n
    return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body)


def test_bytes_after_an_answer_leave_its_connection_unused(tmp_path):
    """An answer followed by bytes nobody asked for (a second answer sent ahead): the connection
    is not reused, so the next request's answer is its own, not the one sent ahead."""
    got: list[bytes] = []

    async def talk(peer: PeerLink) -> None:
        for _ in range(3):
            got.append((await peer.post("/", b"{}", {}))[1])

    seen = _run(tmp_path, lambda n: _numbered(n) + (_numbered(99) if n == 1 else b""), talk)
    assert got == [b'["answer 1"]', b'["answer 2"]', b'["answer 3"]']
    assert seen["connections"] == 2  # the first dropped; the second kept for the third


@pytest.mark.parametrize("header", [b"Connection: Close", b"connection: keep-alive, close", b"CONNECTION:close "])
def test_connection_close_is_read_in_any_case_and_among_other_tokens(tmp_path, header):
    reply = OK.replace(b"\r\n\r\n", b"\r\n" + header + b"\r\n\r\n")

    async def talk(peer: PeerLink) -> None:
        for _ in range(2):
            assert (await peer.post("/", b"{}", {}))[0] == 200
            assert not peer._idle

    seen = _run(tmp_path, lambda _n: reply, talk, hang_up_after=1)
    assert seen["connections"] == 2


def test_a_kept_connection_closed_as_the_request_arrives_is_retried_once_on_a_new_one(tmp_path):
    """The other end's idle timeout closes a kept connection just as a part is sent on it (no
    byte of an answer comes): the part goes again over a new connection, not to the fallback."""
    seen = {"connections": 0, "requests": 0}

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen["connections"] += 1
        first = seen["connections"] == 1
        with contextlib.closing(writer), contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                await read_request(reader)
                seen["requests"] += 1
                if first and seen["requests"] == 2:
                    break  # the second request on the first connection: closed unanswered
                writer.write(_numbered(seen["requests"]))
                await writer.drain()

    got: list[tuple[int, bytes]] = []

    async def main() -> None:
        server = await asyncio.start_unix_server(serve, path=str(tmp_path / "peer.sock"))
        peer = PeerLink(str(tmp_path / "peer.sock"))
        try:
            got.append(await peer.post("/", b"{}", {}))
            got.append(await peer.post("/", b"{}", {}))
        finally:
            await peer.aclose()
            server.close()
            await server.wait_closed()

    asyncio.run(main())
    assert got == [(200, b'["answer 1"]'), (200, b'["answer 3"]')]
    assert seen == {"connections": 2, "requests": 3}


MALFORMED = {
    "no status line": b"hello\r\n\r\n",
    "HTTP/1.0": b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n[]",
    "status not three digits": b"HTTP/1.1 2000 OK\r\ncontent-length: 2\r\n\r\n[]",
    "no content-length": b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n\r\n[]",
    "two content-lengths": b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n[]",
    "negative length": b"HTTP/1.1 200 OK\r\ncontent-length: -2\r\n\r\n[]",
    "chunked": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 2\r\n\r\n[]",
    "over the bound": b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (MAX_ANSWER + 1),
    "too many headers": b"HTTP/1.1 200 OK\r\n" + b"x-a: b\r\n" * (MAX_HEADERS + 1) + b"content-length: 2\r\n\r\n[]",
    "a header without colon": b"HTTP/1.1 200 OK\r\nbroken\r\ncontent-length: 2\r\n\r\n[]",
    "a line past the buffer": b"HTTP/1.1 200 OK\r\nx-a: " + b"a" * (2 * 1024 * 1024) + b"\r\n\r\n",
    "cut short": b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n[]",
    "nothing": None,
}


@pytest.mark.parametrize("case", MALFORMED)
def test_an_answer_that_is_not_one_raises_and_its_connection_is_dropped(tmp_path, case):
    raised: list[str] = []

    async def talk(peer: PeerLink) -> None:
        with pytest.raises(PeerError) as caught:
            await peer.post("/", b"{}", {})
        raised.append(str(caught.value))
        assert not peer._idle  # nothing left to reuse
        assert (await peer.post("/", b"{}", {}))[0] == 200  # a new connection, answered properly

    reply = MALFORMED[case]
    seen = _run(tmp_path, lambda n: reply if n == 1 else OK, talk, hang_up_after=1)
    assert raised
    assert seen["connections"] == 2


def test_no_listener_and_no_answer_in_time_raise(tmp_path):
    async def nobody() -> None:
        with pytest.raises(PeerError, match=r"FileNotFoundError|ConnectionRefusedError"):
            await PeerLink(str(tmp_path / "absent.sock")).post("/", b"{}", {})

    asyncio.run(nobody())

    async def talk(peer: PeerLink) -> None:
        with pytest.raises(PeerError, match="TimeoutError"):
            await peer.post("/", b"{}", {})
        assert not peer._idle

    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read(100)
            await asyncio.sleep(5)
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_unix_server(never, path=str(tmp_path / "slow.sock"))
        try:
            await talk(PeerLink(str(tmp_path / "slow.sock"), timeout=0.3))
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(main())


def test_a_part_cancelled_midway_leaves_no_connection_to_reuse(tmp_path):
    """A batch's feeding task cancelled while a part's answer is being read (the client went
    away): that connection holds the rest of an answer, so it is closed, never reused."""
    body = b"x" * 5000
    ended: list[bool] = []

    async def talk(peer: PeerLink) -> None:
        task = asyncio.create_task(peer.post("/", b"{}", {}))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert not peer._idle

    def answer(_n: int) -> bytes:
        return b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n" % (len(body) * 2) + body  # half, then waits

    async def slow_server(path: Path) -> asyncio.AbstractServer:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await reader.readuntil(b"\r\n\r\n")
                await reader.readexactly(2)
                writer.write(answer(1))
                await writer.drain()
                ended.append(await reader.read(1) == b"")  # the client closed its end, not kept
            finally:
                writer.close()

        return await asyncio.start_unix_server(serve, path=str(path))

    async def main() -> None:
        server = await slow_server(tmp_path / "half.sock")
        try:
            await talk(PeerLink(str(tmp_path / "half.sock")))
            await asyncio.sleep(0.1)
        finally:
            server.close()
            await server.wait_closed()

    asyncio.run(main())
    assert ended == [True]
