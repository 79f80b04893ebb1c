"""A verification worker process (see :mod:`api.workers`): answers ``POST /v1/verify`` and
``POST /v1/verify/batch`` from its own copy of the mirror's index, and passes every other request,
unchanged, to the primary process.

The fast path takes only a request the primary would answer the same way without its other
parts: a JSON object with ``qr`` (a string of at most ``MAX_QR_TEXT`` characters) or ``qrs`` (1
to ``max_batch`` strings), no other member but ``"receipt": false``, while the mirror is fresh or
the stale policy only warns; its answer, built by :func:`api.batch.verify_json`, is the same bytes.
Anything else (a receipt, a body the validation refuses, a stale mirror under the ``refuse``
policy, every other route) is answered by the primary, body and headers as they came.

A single verification runs on this process's event loop: a bounded decode and one signature
check, about a tenth of a millisecond, in a process that does nothing else (the chain, the
mirror's sync, anchoring and webhooks run in the primary). Batches run in a thread, a bounded
number at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn

from api.admission import Gate
from api.batch import INLINE_GROUP, stale_reason, staleness, verify_json, verify_json_many
from api.batch_split import PARTS_IN_FLIGHT, BatchSplit
from api.errors import ServiceError, problem_body
from api.main import BodyLimit, Receive, Scope, Send, is_json_body, read_body, respond, send_problem
from api.models import MAX_QR_TEXT
from api.peer_link import PeerError, PeerLink
from api.services import GC_THRESHOLDS, SWITCH_INTERVAL
from api.settings import Settings
from api.workers import FAST_ROUTES, SharedCounters, WorkerConfig
from registry import Deployment
from verifier.mirror import Mirror
from verifier.pipeline import Verifier

__all__ = ["FastPath", "run_worker"]

log = logging.getLogger("elicense.service")

#: Most seconds a worker waits for word of a sync before it looks whether its primary is still there.
WAKE_INTERVAL = 0.25
#: Headers that belong to one connection, not to the request or response passed on (and
#: ``Expect``: the body has been read already).
HOP_BY_HOP = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade", b"expect")
)
#: Batches of this many texts or more are split between the workers.
FAN_OUT = 2000
#: The header marking a batch as a part sent by another worker.
PART_HEADER = "x-elicense-batch-part"
#: A batch answer's bytes before its first result, with its count (a peer's part is read past them).
BATCH_HEAD = b'{"count":%d,"results":['


class _Busy:
    """The ``refused`` counter of a worker's batch gate (kept as a log line: the primary counts its own)."""

    def labels(self, what: str) -> _Busy:
        log.info("verification worker: %s refused while busy", what)
        return self

    def inc(self, _n: float = 1) -> None:
        return None


class FastPath:
    """The worker's ASGI application."""

    def __init__(
        self, settings: Settings, mirror: Mirror, config: WorkerConfig, counters: SharedCounters, slot: int
    ) -> None:
        self.settings = settings
        self.mirror = mirror
        self.verifier = Verifier(
            mirror.index, chain_id=mirror.deployment.chain_id, license_registry=mirror.deployment.license_registry
        )
        self.counters = counters
        self.slot = slot
        self.primary_socket = config.primary_socket
        self.peer_sockets = config.peer_sockets
        self._peers: dict[int, PeerLink] = {}
        self._primary: httpx.AsyncClient | None = None
        self._gate: Gate | None = None
        self._lock = threading.Lock()
        self._parts = ThreadPoolExecutor(1, thread_name_prefix="batch-parts")

    # -- the mirror --------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read what the primary synced into the mirror database since the last look."""
        with self._lock:
            self.mirror.refresh()
            self.verifier.state = self.mirror.index

    def is_stale(self) -> tuple[bool, float]:
        return staleness(self.mirror.freshness(), self.settings.stale_after)

    # -- ASGI --------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        started = time.perf_counter()
        body = await read_body(receive)
        route = FAST_ROUTES.index(scope["path"]) if scope["method"] == "POST" and scope["path"] in FAST_ROUTES else -1
        answered = False
        if route >= 0 and is_json_body(scope):
            try:
                answered = await self._fast(route, body, send, part=self._is_part(scope))
            except ServiceError as exc:
                await send_problem(send, exc)
                answered = True
        if answered:
            self.counters.observe(self.slot, route, time.perf_counter() - started)
        else:
            await self._forward(scope, body, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                transport = httpx.AsyncHTTPTransport(uds=self.primary_socket)
                self._primary = httpx.AsyncClient(
                    transport=transport, base_url="http://primary", timeout=httpx.Timeout(600.0, connect=10.0)
                )
                slots = self.settings.batch_concurrency or 2
                for peer, path in enumerate(self.peer_sockets):
                    if peer != self.slot:
                        self._peers[peer] = PeerLink(path)
                self._gate = Gate("batches", slots, 2 * slots, self.settings.busy_wait, _Busy())  # type: ignore[arg-type]
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for client in (self._primary, *self._peers.values()):
                    if client is not None:
                        await client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _fast(self, route: int, body: bytes, send: Send, *, part: bool = False) -> bool:
        """Answer the request here when the fast path takes it (see the module); False otherwise."""
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            return False
        if not isinstance(data, dict) or data.get("receipt", False) is not False:
            return False
        stale, age = self.is_stale()
        if stale and self.settings.stale_policy == "refuse":
            return False
        reason = stale_reason(stale, age)
        if route == 0:
            text = data.get("qr")
            if data.keys() - {"qr", "receipt"} or not isinstance(text, str) or len(text) > MAX_QR_TEXT:
                return False
            status, answer = verify_json(self.verifier, text, time.time(), reason)
            self.counters.count_status(self.slot, status)
            await respond(send, 200, answer)
            return True
        texts = data.get("qrs")
        if data.keys() - {"qrs", "receipt"} or not isinstance(texts, list) or not texts:
            return False
        if len(texts) > self.settings.max_batch or not all(isinstance(t, str) for t in texts):
            return False  # the primary refuses it, with its own words
        assert self._gate is not None
        async with self._gate.enter():
            if part or len(texts) < FAN_OUT or not self._peers:
                # the parts other workers send are verified one after the other, in the order sent
                pool = self._parts if part else None
                groups = await asyncio.get_running_loop().run_in_executor(pool, self._verify_many, texts, reason)
            else:
                groups = await self._fan_out(texts, reason)
        await _respond_results(send, len(texts), groups)
        return True

    def _is_part(self, scope: Scope) -> bool:
        """Whether the batch is a part another worker sent (verified here, in order, never split
        again): the header, on this worker's private socket only (on the service's port, a
        client's header is ignored)."""
        server = scope.get("server")
        private = server is not None and server[0] == self.peer_sockets[self.slot]
        return private and any(name == PART_HEADER.encode() for name, _ in scope["headers"])

    async def _fan_out(self, texts: list[str], reason: dict[str, str] | None) -> list[bytes]:
        """Verify a large batch on every worker at once, shared by progress (:mod:`api.batch_split`):
        this worker's thread from the front, parts from the back to each other worker's private
        socket (:mod:`api.peer_link`; a part a peer does not answer, busy or restarting, is verified
        here, and that peer gets no more); the results joined in order."""
        loop = asyncio.get_running_loop()
        split = BatchSplit(len(texts), len(self.peer_sockets))
        done: dict[int, bytes] = {}  # each taken span's results, by its first position

        def front() -> None:
            now, counts = time.time(), dict[str, int]()
            while (span := split.front(INLINE_GROUP)) is not None:
                done[span[0]] = self._verify_group(texts[span[0] : span[1]], now, reason, counts)
            self._count(counts)

        async def feed(owner: int) -> None:
            while (span := split.back()) is not None:
                part = texts[span[0] : span[1]]
                try:
                    status, answer = await self._peers[owner].post(
                        "/v1/verify/batch", orjson.dumps({"qrs": part}), {PART_HEADER: "1"}
                    )
                    if status == 200 and answer.startswith(head := BATCH_HEAD % len(part)) and answer[-2:] == b"]}":
                        done[span[0]] = answer[len(head) : -2]
                        continue
                    log.info("worker %d answered a batch part with %d; verified here", owner, status)
                except PeerError as exc:
                    log.info("worker %d did not answer a batch part (%s); verified here", owner, exc)
                done[span[0]] = b",".join(await loop.run_in_executor(None, self._verify_many, part, reason))
                return

        feeds = [feed(owner) for owner in self._peers for _ in range(PARTS_IN_FLIGHT)]
        await asyncio.gather(loop.run_in_executor(None, front), *feeds)
        return [done[start] for start in sorted(done) if done[start]]

    def _verify_many(self, texts: list[str], reason: dict[str, str] | None) -> list[bytes]:
        now, counts = time.time(), dict[str, int]()
        groups = [
            self._verify_group(texts[i : i + INLINE_GROUP], now, reason, counts)
            for i in range(0, len(texts), INLINE_GROUP)
        ]
        self._count(counts)
        return groups

    def _verify_group(
        self, texts: list[str], now: float, reason: dict[str, str] | None, counts: dict[str, int]
    ) -> bytes:
        """The results of ``texts``, comma-separated; their statuses added to ``counts``."""
        items = []
        for status, item in verify_json_many(self.verifier, texts, now, reason):
            counts[status] = counts.get(status, 0) + 1
            items.append(item)
        return b",".join(items)

    def _count(self, counts: dict[str, int]) -> None:
        for status, n in counts.items():  # once per batch: the shared counters take a lock
            self.counters.count_status(self.slot, status, n)

    async def _forward(self, scope: Scope, body: bytes, send: Send) -> None:
        """Pass the request to the primary and its answer back, streamed."""
        assert self._primary is not None
        target = scope.get("raw_path") or scope["path"].encode()
        if scope.get("query_string"):
            target += b"?" + scope["query_string"]
        headers = [(k, v) for k, v in scope["headers"] if k not in HOP_BY_HOP and k != b"content-length"]
        request = self._primary.build_request(scope["method"], target.decode("latin-1"), headers=headers, content=body)
        try:
            response = await self._primary.send(request, stream=True)
        except httpx.HTTPError as exc:
            log.warning("the primary process did not answer a %s request (%s)", scope["method"], type(exc).__name__)
            await respond(
                send,
                502,
                orjson.dumps(problem_body(502, "Bad Gateway", "the service's primary process did not answer; retry")),
                content_type=b"application/problem+json",
            )
            return
        try:
            out = [(k, v) for k, v in response.headers.raw if k.lower() not in HOP_BY_HOP]
            await send({"type": "http.response.start", "status": response.status_code, "headers": out})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()


async def _respond_results(send: Send, count: int, groups: list[bytes]) -> None:
    """Answer ``{"count": count, "results": [...]}`` with the ``groups`` in order, piece by piece."""
    head = BATCH_HEAD % count
    length = len(head) + sum(len(g) for g in groups) + max(len(groups) - 1, 0) + 2
    headers = [(b"content-type", b"application/json"), (b"content-length", str(length).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": head, "more_body": True})
    for i, group in enumerate(groups):
        if i:
            await send({"type": "http.response.body", "body": b",", "more_body": True})
        await send({"type": "http.response.body", "body": group, "more_body": True})
    await send({"type": "http.response.body", "body": b"]}"})


def _follow(app: FastPath, primary: int, stop: threading.Event, *, generation: Any, seen: Any, moved: Any) -> None:
    """Refresh the index whenever the primary says its sync moved the generation (and every sync
    interval anyway), then say which generation was read; stop the worker when the primary is
    gone. Between syncs the thread sleeps on ``moved`` (an event the primary sets), waking every
    ``WAKE_INTERVAL`` only to look for its primary."""
    last = time.monotonic()
    while not stop.is_set():
        if moved.wait(WAKE_INTERVAL):
            moved.clear()  # before reading the generation: a sync after this sets it again
        if os.getppid() != primary:  # the primary died without stopping us: leave the port
            log.warning("verification worker %d: the primary process is gone; stopping", app.slot)
            _remove_private_sockets(app)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        current = generation.value
        if current == seen[app.slot] and time.monotonic() - last < app.settings.sync_interval:
            continue
        last = time.monotonic()
        try:
            app.refresh()
            seen[app.slot] = current
        except Exception:  # answered from the index it has; tried again next time
            log.warning("verification worker could not read the mirror", exc_info=True)


def _remove_private_sockets(app: FastPath) -> None:
    """Remove the private sockets and their folder, which the primary, gone, cannot (any worker
    may: the first one there does it)."""
    paths = [Path(app.primary_socket), *(Path(p) for p in app.peer_sockets)]
    for path in paths:
        path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        paths[0].parent.rmdir()


def run_worker(
    config: WorkerConfig,
    sock: socket.socket,
    peer: socket.socket,
    *,
    slot: int,
    counters: Any,
    generation: Any,
    seen: Any,
    moved: Any,
    ready: Any,
    primary: int,
) -> None:
    """The worker process's main: load the mirror, serve ``sock`` (the service's port) and
    ``peer`` (its private socket, for the other workers' batch parts) until SIGTERM, or until
    the process ``primary`` that started it is gone."""
    logging.basicConfig(level=logging.WARNING, format=f"%(levelname)s verify-{slot} %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the primary stops the workers (a terminal's ^C reaches all)
    if os.getppid() != primary:  # the primary went away while this one started: never take the port
        log.warning("verification worker %d: the primary process is gone; not starting", slot)
        os._exit(0)
    settings = Settings.model_validate(config.settings)
    deployment = Deployment.from_dict(config.deployment)
    seen[slot] = generation.value  # the load below reads at least what that generation synced
    mirror = Mirror(
        config.mirror_url,
        deployment,
        confirmations=config.confirmations,
        max_anchors_per_issuer=config.max_anchors_per_issuer,
    )
    app = FastPath(settings, mirror, config, SharedCounters(len(ready), counters), slot)
    stop = threading.Event()
    follower = threading.Thread(
        target=_follow,
        args=(app, primary, stop),
        kwargs={"generation": generation, "seen": seen, "moved": moved},
        name="mirror-refresh",
        daemon=True,
    )
    follower.start()

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    sys.setswitchinterval(SWITCH_INTERVAL)

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            ready[slot] = 1

    limited = BodyLimit(app, settings.max_body_bytes)
    config_ = uvicorn.Config(limited, log_level="warning", access_log=False, lifespan="on", proxy_headers=False)
    try:
        Server(config_).run(sockets=[sock, peer])
    finally:
        stop.set()
        mirror.close()
    os._exit(0)
