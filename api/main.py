"""The FastAPI application: verification, issuer and public endpoints, health and metrics, and the
counter page at ``/``."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from api import errors
from api.openapi import complete_openapi
from api.routes import applications, health, issuers, joint, public, receipts, subscriptions, verify
from api.services import Services

STATIC = Path(__file__).resolve().parent / "static"
REPO = Path(__file__).resolve().parent.parent

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

DESCRIPTION = """
Verify e-licenses from their QR codes against a local mirror of the registry chain (no call to the
chain node or to the issuing department on the verification path), issue and manage licenses for
the departments this service signs for, and read the issuer directory.

Errors are RFC 9457 problem details (`application/problem+json`). Issuer endpoints need the
department's API key (`Authorization: Bearer elk_...`, created with `elicense apikey create`).
"""


class BodyLimit:
    """Refuse request bodies over ``limit`` bytes with 413, before the route reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await send_problem(
                send, errors.PayloadTooLargeError(f"the body is {int(length)} bytes; at most {self.limit}")
            )
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLargeError
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLargeError:
            await send_problem(send, errors.PayloadTooLargeError(f"the body is larger than {self.limit} bytes"))


class RequestTimer:
    """Request latency per route template, as a pure ASGI middleware (no extra task per request)."""

    def __init__(self, app: ASGIApp, services: Services) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", "other")
            self.services.metrics.requests.labels(label).observe(time.perf_counter() - started)


class _TooLargeError(Exception):
    pass


async def send_problem(send: Send, exc: errors.ServiceError) -> None:
    """Answer ``exc`` from outside the app's exception handlers (a middleware, a verification
    worker), with its headers (``Retry-After``)."""
    body = json.dumps(errors.problem_body(exc.http_status, exc.title, exc.detail, kind=exc.kind, **exc.extra)).encode()
    headers = [(b"content-type", errors.PROBLEM.encode()), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), v.encode()) for k, v in (exc.headers or {}).items()]
    await send({"type": "http.response.start", "status": exc.http_status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def is_json_body(scope: Scope) -> bool:
    """Whether the body is read as JSON by the primary too: no content type, or a JSON one."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = bytes(value).split(b";", 1)[0].strip().lower()
            main, _, sub = media.partition(b"/")
            return bool(main == b"application" and (sub == b"json" or sub.endswith(b"+json")))
    return True


async def read_body(receive: Receive) -> bytes:
    """A request's whole body, from its ``http.request`` messages."""
    parts = []
    while True:
        message: Message = await receive()
        if message["type"] != "http.request":
            break
        parts.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(parts)


async def respond(send: Send, status: int, body: bytes, *, content_type: bytes = b"application/json") -> None:
    """Answer ``status`` with ``body`` in one piece, its length given."""
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(services: Services, *, vendor: Path | None = None) -> FastAPI:
    """The application over ``services`` (started and stopped with the app)."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        services.start()
        try:
            yield
        finally:
            services.stop()

    app = FastAPI(
        title="E-license registry",
        version="1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.services = services
    errors.install(app, secrets=services.secrets())
    complete_openapi(app)
    app.include_router(verify.router)
    app.include_router(receipts.router)
    app.include_router(public.router)
    app.include_router(issuers.router)
    app.include_router(joint.router)
    app.include_router(subscriptions.router)
    app.include_router(applications.router)
    app.include_router(health.router)

    app.add_middleware(RequestTimer, services=services)

    vendor_dir = vendor or services.settings.static_vendor or REPO / "node_modules" / "jsqr" / "dist"

    @app.get("/", include_in_schema=False)
    def counter_page() -> HTMLResponse:
        return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))

    @app.get("/static/vendor/jsQR.js", include_in_schema=False)
    def jsqr() -> FileResponse:
        path = vendor_dir / "jsQR.js"
        if not path.exists():
            raise errors.NotInstalledError(f"{path} is missing: run scripts/setup (npm ci) to install the QR decoder")
        return FileResponse(path, media_type="text/javascript")

    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(BodyLimit, limit=services.settings.max_body_bytes)
    return app
