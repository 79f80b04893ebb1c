"""A webhook receiver for tests and benchmarks: a real HTTP server (``http.server``) on a loopback
port in a thread, which checks each delivery's signature with :func:`verifier.webhooks.verify_webhook`
and records it. It can be told to answer some deliveries with an error first (``fail_next``)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from verifier.webhooks import MAX_BODY, WebhookSignatureError, verify_webhook

__all__ = ["Received", "WebhookReceiver"]


@dataclass(frozen=True, slots=True)
class Received:
    """One POST that reached the receiver (answered ``status``)."""

    at: float  # time.time() when it arrived
    path: str
    delivery_id: str | None
    body: dict[str, Any] | None
    verified: bool
    status: int


class WebhookReceiver:
    """Start with :meth:`start`; ``url`` is where to subscribe; ``secrets`` maps subscription ids to
    their secrets (deliveries of unknown subscriptions are recorded unverified and answered 401)."""

    def __init__(self) -> None:
        self.secrets: dict[str, str] = {}
        self.received: list[Received] = []
        self.fail_next = 0  # answer this many deliveries with 500 before accepting
        self._lock = threading.Lock()
        self.arrived = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def log_message(self, *_args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="webhook-receiver", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    def start(self) -> WebhookReceiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        arrived = time.time()
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(min(length, MAX_BODY + 1))
        headers = dict(request.headers.items())
        body: dict[str, Any] | None
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        secret = self.secrets.get(str((body or {}).get("subscription_id")))
        delivery: str | None = None
        verified = False
        if secret is not None:
            try:
                delivery = verify_webhook(secret, headers, raw)
                verified = True
            except WebhookSignatureError:
                pass
        with self._lock:
            if not verified:
                status = 401
            elif self.fail_next > 0:
                self.fail_next -= 1
                status = 500
            else:
                status = 204
            self.received.append(Received(arrived, request.path, delivery, body, verified, status))
            self.arrived.notify_all()
        request.send_response(status)
        request.send_header("Content-Length", "0")
        request.end_headers()

    def accepted(self) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.status == 204]

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Wait until ``count`` deliveries were accepted; returns them (fewer on timeout)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while sum(r.status == 204 for r in self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self.arrived.wait(left)
            return [r for r in self.received if r.status == 204]
