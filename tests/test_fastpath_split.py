"""A verification worker sharing a large batch with another that does not take its parts
(``api.fastpath.FastPath._fan_out``): a peer whose socket has no listener (restarting), one that
answers 503 (its batch gate full), and ones whose answer is cut short, framed otherwise or not the
part's results. Every text is still answered, in order, exactly as the worker answers it alone,
and a failing peer is sent no more parts. The split between working peers
is tested end to end in ``test_verify_workers``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

import orjson
import pytest
from _http import read_request
from conftest import Issued, make_issued

from api.batch import verify_json
from api.batch_split import PARTS_IN_FLIGHT
from api.fastpath import FAN_OUT, PART_HEADER, FastPath
from api.peer_link import PeerLink
from api.settings import Settings
from api.workers import SharedCounters, WorkerConfig
from verifier.mirror import Mirror


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Issued, Mirror]:
    tmp = tmp_path_factory.mktemp("fastpath")
    issued = make_issued(tmp, count=30)
    mirror = Mirror(f"sqlite:///{tmp / 'mirror.db'}", issued.client.deployment, confirmations=1)
    mirror.sync(issued.client)
    return issued, mirror


#: What a peer that takes no part answers, after reading the request: a 503 (its batch gate full),
#: a head promising more than it sends before hanging up, a body framed otherwise than by its
#: length, and a 200 whose body is not the part's results.
ANSWERS = {
    "answers 503": b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 44\r\n\r\n"
    b'{"status":503,"title":"Service Unavailable"}',
    "hangs up midway": b'HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n{"count":',
    "answers chunked": b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
    "answers another body": b'HTTP/1.1 200 OK\r\ncontent-length: 24\r\n\r\n{"count":1,"results":[]}',
    "answers a body cut short": b"",  # the part's head and count, then no end: made per request
}


async def _refusing_peer(path: Path, requests: list[int], answer: bytes) -> asyncio.AbstractServer:
    """A real server on a Unix socket that reads each HTTP/1.1 request and writes ``answer`` (empty:
    a 200 with the part's head and count whose results are cut off before the closing ``]}``)."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):  # the client hung up
            await answer_each(reader, writer)
        writer.close()

    async def answer_each(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            body = await read_request(reader)
            count = len(orjson.loads(body)["qrs"])
            requests.append(len(body))
            if not answer:  # the right head and count, results cut off before the closing "]}"
                body = b'{"count":%d,"results":[{"status":"valid"}' % count
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
                continue
            writer.write(answer)
            await writer.drain()
            if reader.at_eof() or b"100000" in answer:
                break

    return await asyncio.start_unix_server(serve, path=str(path))


@pytest.mark.parametrize("peer", ["no listener", *ANSWERS])
def test_a_peer_that_takes_no_part_leaves_every_text_answered_in_order(world, peer, tmp_path, caplog):
    issued, mirror = world
    peer_path = tmp_path / "peer.sock"
    config = WorkerConfig({}, mirror.deployment.to_dict(), "unused", 1, 10**6, "unused", ("unused", str(peer_path)))
    worker = FastPath(Settings(), mirror, config, SharedCounters(2), 0)
    texts = [issued.text(i % 30) for i in range(FAN_OUT + 600)]
    texts[7] = "LC2:" + "Z" * 300  # a hostile text answers for itself, wherever it lands
    texts[-3] = ""
    requests: list[int] = []

    async def run() -> list[bytes]:
        server = await _refusing_peer(peer_path, requests, ANSWERS[peer]) if peer in ANSWERS else None
        worker._peers[1] = PeerLink(str(peer_path))
        try:
            return await worker._fan_out(texts, None)
        finally:
            await worker._peers[1].aclose()
            if server is not None:
                server.close()
                await server.wait_closed()

    with caplog.at_level(logging.INFO, logger="elicense.service"):
        groups = asyncio.run(run())
    statuses = [r["status"] for r in orjson.loads(b"[" + b",".join(groups) + b"]")]
    expected = [verify_json(worker.verifier, t, time.time(), None)[0] for t in texts]
    assert len(statuses) == len(texts)
    assert statuses == expected
    assert expected[7] == expected[-3] == "malformed"
    assert expected.count("valid") == len(texts) - 2
    said = {"answers 503": "with 503", "answers another body": "with 200", "answers a body cut short": "with 200"}
    assert ("answered a batch part " + said[peer] if peer in said else "did not answer a batch part") in caplog.text
    assert "verified here" in caplog.text
    if peer in ANSWERS:  # each of the parts in flight tried once, then that peer gets no more
        assert 1 <= len(requests) <= PARTS_IN_FLIGHT


def test_only_a_part_on_the_private_socket_is_taken_as_one(world, tmp_path):
    """The part header counts on this worker's own private socket only: on the service's port a
    client's header is ignored, so it cannot queue its batches in the thread that verifies the
    other workers' parts one after the other."""
    _, mirror = world
    private = str(tmp_path / "worker-0.sock")
    config = WorkerConfig({}, mirror.deployment.to_dict(), "unused", 1, 10**6, "unused", (private, "unused"))
    worker = FastPath(Settings(), mirror, config, SharedCounters(2), 0)
    header = [(PART_HEADER.encode(), b"1")]
    assert worker._is_part({"server": (private, None), "headers": header})
    assert not worker._is_part({"server": (private, None), "headers": []})
    assert not worker._is_part({"server": ("127.0.0.1", 8000), "headers": header})
    assert not worker._is_part({"server": (str(tmp_path / "worker-1.sock"), None), "headers": header})
    assert not worker._is_part({"server": None, "headers": header})
