"""The status subscriptions' deliverer: POSTs the outbox's pending deliveries, signed, at least
once, in order per license.

- **Order**: a delivery is sent only when no earlier delivery of the same subscription and license
  is still pending, so a receiver never sees a license's later change before an earlier one (a
  delivery given up after its last attempt stops holding the later ones back; a replay sends it
  again with its own id).
- **At least once**: a delivery is marked delivered only after a 2xx answer; a crash between the
  answer and the mark sends it again with the same ``X-Elicense-Delivery`` id, which receivers
  deduplicate on.
- **Retries**: any other answer, a timeout or a refused connection schedules the next attempt after
  an exponential backoff with jitter (``base * 2^(attempts-1)``, at most ``max_delay``, times a
  random factor from 0.5 to 1), up to ``max_attempts``; then the delivery is ``failed``.
- **In parallel across subscriptions**: up to ``concurrency`` deliveries are in flight at once, at
  most half of them of one subscription, so a slow or dead subscriber (each attempt waiting for its
  timeout) leaves senders free for the others; a later delivery of a license still waits for the
  earlier one in flight.
- Redirects are not followed, answers are not read beyond their status, and the error recorded
  names the status or the exception's class, never the callback URL.
"""

from __future__ import annotations

import logging
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
from sqlalchemy import Select, and_, bindparam, exists, select, update
from sqlalchemy.engine import Engine

from api.errors import SealedSecretError
from api.subscription_tables import deliveries, subscriptions
from api.subscriptions import is_private_address
from registry.errors import ConfigurationError
from verifier.webhooks import sign_webhook

__all__ = ["Deliverer", "DeliveryPolicy", "Post"]

log = logging.getLogger("elicense.webhooks")

#: How a delivery is sent: (url, body, headers, timeout) -> HTTP status. Tests may pass their own.
Post = Callable[[str, bytes, dict[str, str], float], int]


class PrivateAddressError(ConnectionError):
    """The callback's host resolves to a private or loopback address (refused unless allowed)."""


def resolves_privately(url: str) -> bool:
    """Whether the callback's host resolves (now) to any private or loopback address: checked at
    every delivery, since a public name may later point inside the service's network."""
    host = urlsplit(url).hostname or ""
    if is_private_address(host):
        return True
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except OSError:
        return False  # unresolvable: the POST fails on its own and is retried
    return any(is_private_address(str(info[4][0])) for info in infos)


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    if resolves_privately(url):
        raise PrivateAddressError("the callback resolves to a private or loopback address")
    return _post(url, body, headers, timeout)


def http_post_allowing_private(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """:func:`http_post` for a closed network (``ELICENSE_WEBHOOK_ALLOW_PRIVATE``)."""
    return _post(url, body, headers, timeout)


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    with requests.post(
        url,
        data=body,
        headers={**headers, "Content-Type": "application/json", "User-Agent": "elicense-webhooks/1"},
        timeout=timeout,
        allow_redirects=False,
        stream=True,  # the answer's body is never read
    ) as response:
        return int(response.status_code)


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    max_attempts: int = 12
    base_delay: float = 1.0
    max_delay: float = 3600.0
    timeout: float = 10.0
    batch: int = 100

    def __post_init__(self) -> None:
        if not 1 <= self.max_attempts <= 100:
            raise ConfigurationError("max_attempts must be from 1 to 100")
        if not 0 < self.base_delay <= self.max_delay <= 7 * 86_400:
            raise ConfigurationError("need 0 < base_delay <= max_delay <= one week (seconds)")
        if not 0 < self.timeout <= 120:
            raise ConfigurationError("timeout must be from 0 to 120 seconds")

    def delay(self, attempts: int, rng: random.Random) -> float:
        """The wait after the ``attempts``-th failed attempt."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(attempts - 1, 40))
        return float(ceiling * (0.5 + rng.random() / 2))


@dataclass
class DeliveryStats:
    delivered: int = 0
    failed_attempts: int = 0
    given_up: int = 0
    last_error: str | None = None
    latencies: list[float] = field(default_factory=list)


class Deliverer:
    """Sends due deliveries (see the module documentation); :meth:`run_once` is one pass."""

    def __init__(
        self,
        engine: Engine,
        policy: DeliveryPolicy | None = None,
        *,
        secret_of: Callable[[str, bytes | None], str],
        post: Post = http_post,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
        concurrency: int = 8,
        on_result: Callable[[bool], object] | None = None,
    ) -> None:
        if not 1 <= concurrency <= 256:
            raise ConfigurationError("the deliverer's concurrency must be from 1 to 256")
        self.engine = engine
        self.policy = policy or DeliveryPolicy()
        self.post = post
        self.secret_of = secret_of  # opens a subscription's sealed secret (SubscriptionBook.secret_of)
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self.stats = DeliveryStats()
        self.wake = threading.Event()  # set when the producer adds deliveries or an attempt ends
        self.concurrency = concurrency
        #: one subscription never holds every sender: a slow or dead one leaves room for the others
        self.per_subscription = max(1, concurrency // 2)
        self.on_result = on_result  # told of every attempt: True delivered, False failed
        self._lock = threading.Lock()
        self._dispatching = threading.Lock()
        self._inflight: dict[int, str] = {}  # delivery row id -> subscription id
        self._pool: ThreadPoolExecutor | None = None
        self._due_query = _due_query(self.policy.batch)

    def due(self, *, skip: Collection[int] = (), busy: Collection[str] = ()) -> list[Any]:
        """Pending deliveries whose time has come and that have no earlier pending one of the same
        subscription and license, oldest first, with their subscription's URL and sealed secret;
        without the deliveries ``skip`` and the subscriptions ``busy``."""
        query = self._due_query
        if skip:
            query = query.where(deliveries.c.id.not_in(list(skip)))
        if busy:
            query = query.where(deliveries.c.subscription_id.not_in(list(busy)))
        with self.engine.connect() as conn:
            return list(conn.execute(query, {"now": self.clock()}).all())

    def dispatch(self, *, skip: Collection[int] = ()) -> dict[int, Future[bool]]:
        """Start every due delivery there is a free sender for (at most ``concurrency`` at once, at
        most ``per_subscription`` of one subscription) and return without waiting. A delivery in
        flight is still pending, so the later ones of its license wait for it (in order per
        subscription and license); when it ends, :attr:`wake` is set to dispatch again."""
        with self._dispatching:
            with self._lock:
                inflight = dict(self._inflight)
            counts = Counter(inflight.values())
            free = self.concurrency - len(inflight)
            if free <= 0:
                return {}
            busy = [sub for sub, n in counts.items() if n >= self.per_subscription]
            started: dict[int, Future[bool]] = {}
            for row in self.due(skip={*inflight, *skip}, busy=busy):
                if len(started) >= free:
                    break
                if counts[row.subscription_id] >= self.per_subscription:
                    continue
                counts[row.subscription_id] += 1
                with self._lock:
                    self._inflight[row.id] = row.subscription_id
                started[row.id] = self._executor().submit(self._send, row)
            return started

    def _executor(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="webhook")
        return self._pool

    def _send(self, row: Any) -> bool:
        try:
            return self._attempt(row)
        except Exception:
            log.warning("delivery %s: the attempt could not be recorded; it stays pending", row.uid, exc_info=True)
            raise
        finally:
            with self._lock:
                self._inflight.pop(row.id, None)
            self.wake.set()

    def pump(self) -> int:
        """One step of the service's delivery loop: dispatch, without waiting; returns how many started."""
        return len(self.dispatch())

    def run_once(self) -> int:
        """Attempt every due delivery once, waiting for the answers; returns how many were delivered."""
        done = 0
        attempted: set[int] = set()
        while True:
            started = self.dispatch(skip=attempted)
            if not started:
                return done
            attempted |= set(started)
            done += sum(f.result() for f in started.values())

    def close(self) -> None:
        """Stop sending: attempts not started are dropped (they stay pending and are sent later)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def _attempt(self, row: Any) -> bool:
        error: str | None = None
        try:
            secret = self.secret_of(row.subscription_id, row.secret_box)
        except SealedSecretError as exc:  # never signed with anything else: it waits, with the reason
            error = exc.detail[:200]
            log.error("delivery %s not sent: %s", row.uid, error)
        else:
            headers = sign_webhook(secret, row.uid, bytes(row.payload), timestamp=int(self.clock()))
            try:
                status = self.post(row.callback_url, bytes(row.payload), headers, self.policy.timeout)
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except requests.RequestException as exc:
                error = type(exc).__name__
        attempts = int(row.attempts) + 1
        now = self.clock()
        where = (deliveries.c.id == row.id) & (deliveries.c.state == "pending")
        if error is None:
            values: dict[str, Any] = {
                "state": "delivered",
                "attempts": attempts,
                "delivered_at": now,
                "last_error": None,
            }
        elif attempts >= self.policy.max_attempts:
            values = {"state": "failed", "attempts": attempts, "last_error": error}
        else:
            delay = self.policy.delay(attempts, self.rng)
            values = {"attempts": attempts, "next_attempt_at": now + delay, "last_error": error}
        if error is not None:
            log.info("delivery %s attempt %d failed: %s", row.uid, attempts, error)
        with self.engine.begin() as conn:
            conn.execute(update(deliveries).where(where).values(**values))
        with self._lock:
            if error is None:
                self.stats.delivered += 1
                self.stats.latencies.append(now - float(row.created_at))
                del self.stats.latencies[:-10_000]
            else:
                self.stats.failed_attempts += 1
                self.stats.last_error = error
                self.stats.given_up += values.get("state") == "failed"
        if self.on_result is not None:
            self.on_result(error is None)
        return error is None

    def pause(self, stop: threading.Event) -> Callable[[float], object]:
        """The wait of :func:`~registry.periodic.run_periodically`: the interval, cut short when the
        producer adds deliveries or the service stops."""

        def wait(seconds: float) -> bool:
            deadline = time.monotonic() + seconds
            while not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                if self.wake.wait(min(left, 0.5)):
                    self.wake.clear()
                    return True
            return True

        return wait


def _due_query(limit: int) -> Select[Any]:
    """Pending deliveries due at the bind parameter ``now`` with no earlier pending one of the same
    subscription and license, oldest first (built once: the service polls it every second, and a
    statement built afresh each time is garbage the collector has to find)."""
    earlier = deliveries.alias("earlier")
    blocked = exists().where(
        and_(
            earlier.c.subscription_id == deliveries.c.subscription_id,
            earlier.c.digest == deliveries.c.digest,
            earlier.c.state == "pending",
            earlier.c.id < deliveries.c.id,
        )
    )
    return (
        select(deliveries, subscriptions.c.callback_url, subscriptions.c.secret_box)
        .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
        .where(
            (deliveries.c.state == "pending")
            & (deliveries.c.next_attempt_at <= bindparam("now"))
            & subscriptions.c.active.is_(True)
            & ~blocked
        )
        .order_by(deliveries.c.id)
        .limit(limit)
    )
