"""Verifying QR texts without letting one of them fail more than itself, in process and in batch
worker processes.

Any exception while verifying one QR text becomes a ``malformed`` result for that text (logged),
in process and in the workers. A worker that dies takes only its own items down: they are
verified again in smaller parts on fresh workers, so an item that kills a worker by itself is
answered ``malformed``. Each worker holds its own copy of the mirror's index and runs at a lower
priority than the service, so bulk work yields the cores to the event loop.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import orjson
from prometheus_client import Counter

from api.errors import BatchWorkersFailingError
from registry import Deployment
from verifier._logbudget import LogBudget
from verifier.bundle import BundleResult, malformed_bundle
from verifier.mirror import Mirror
from verifier.pipeline import Outcome, Reason, VerificationResult, Verifier, is_bundle_text
from verifier.result_json import license_json
from verifier.state import Freshness

__all__ = [
    "INLINE_GROUP",
    "WORKER_PART",
    "WorkerPool",
    "stale_reason",
    "staleness",
    "verify_json",
    "verify_json_many",
    "verify_safely",
    "with_freshness",
]

log = logging.getLogger("elicense.service")
_LOG_BUDGET = LogBudget(log)

STALE_REASON = (
    "stale_mirror",
    "区块链镜像已有 {age:.0f} 秒未更新，结果可能不是最新状态，请稍后复核",
    "the chain mirror is {age:.0f} s old; the result may not reflect the latest status: check again later",
)
NEVER_SYNCED_REASON = (
    "stale_mirror",
    "区块链镜像尚未同步，结果可能不是最新状态，请稍后复核",
    "the chain mirror has not been synced yet; the result may not reflect the latest status: check again later",
)
#: The reason given when verifying a text failed unexpectedly (the details go to the log only).
UNREADABLE_REASON = Reason("malformed", "二维码内容无法核验", "the QR text could not be checked")
#: Most times one batch re-runs parts of itself after a worker process died.
WORKER_RETRIES = 16
#: Texts per part handed to a worker process, and per group of results verified in process.
WORKER_PART = 1000
INLINE_GROUP = 200
#: Niceness of the batch worker processes: bulk work yields the cores to the event loop.
WORKER_NICE = 10


def staleness(fresh: Freshness, stale_after: float) -> tuple[bool, float]:
    """Whether a mirror as ``fresh`` is older than ``stale_after`` seconds, and its age (infinite
    before its first sync)."""
    if fresh.block_number == 0:
        return True, math.inf
    age = fresh.age()
    return age > stale_after, age


def stale_reason(stale: bool, age: float) -> dict[str, str] | None:
    """The reason added to every result while the mirror is stale (``None`` when fresh)."""
    if not stale:
        return None
    code, zh, en = NEVER_SYNCED_REASON if math.isinf(age) else STALE_REASON
    return {"code": code, "zh": zh.format(age=age), "en": en.format(age=age)}


def _malformed(chain: Freshness | None, now: float, *, bundle: bool = False) -> dict[str, Any]:
    if bundle:
        return malformed_bundle(UNREADABLE_REASON.en, now, chain).to_dict()
    return {
        "kind": "license",
        **VerificationResult(Outcome.MALFORMED, [UNREADABLE_REASON], checked_at=now, chain=chain).to_dict(),
    }


def verify_safely(verifier: Verifier, text: object, now: float) -> dict[str, Any]:
    """``verifier.check(text)`` as a JSON-ready dict whose ``kind`` says what was checked
    (``license`` or ``bundle``, by the text's prefix); any exception is logged and answered as a
    ``malformed`` result of that kind, so one hostile text never fails more than itself."""
    try:
        result = verifier.check(text, now=now).to_dict()
        return result if "kind" in result else {"kind": "license", **result}
    except Exception as exc:  # noqa: BLE001 - one hostile text fails only itself (logged)
        return _unreadable(verifier, text, now, exc)


def verify_json(verifier: Verifier, text: object, now: float, reason: dict[str, str] | None) -> tuple[str, bytes]:
    """The status and JSON bytes of ``with_freshness(verify_safely(verifier, text, now), reason)``
    (the same bytes): a license's result is written straight to JSON
    (:func:`verifier.result_json.license_json`), without the dict."""
    try:
        return _as_json(verifier.check(text, now=now), reason)
    except Exception as exc:  # noqa: BLE001 - one hostile text fails only itself (logged)
        return _unreadable_json(verifier, text, now, reason, exc)


def verify_json_many(
    verifier: Verifier, texts: Sequence[object], now: float, reason: dict[str, str] | None
) -> list[tuple[str, bytes]]:
    """``[verify_json(verifier, text, now, reason) for text in texts]``, the same answers, with the
    licenses' signers found together (:meth:`verifier.pipeline.Verifier.check_many`)."""
    try:
        results = verifier.check_many(texts, now=now)
    except Exception:
        if _LOG_BUDGET.allow():
            log.warning("checking a group of %d texts failed; checked one by one", len(texts), exc_info=True)
        return [verify_json(verifier, text, now, reason) for text in texts]
    answers = []
    for text, result in zip(texts, results, strict=True):
        try:
            answers.append(_as_json(result, reason))
        except Exception as exc:  # noqa: BLE001 - one hostile text fails only itself (logged)
            answers.append(_unreadable_json(verifier, text, now, reason, exc))
    return answers


def _as_json(result: VerificationResult | BundleResult, reason: dict[str, str] | None) -> tuple[str, bytes]:
    """A result's status and JSON bytes, marked stale with ``reason`` when given."""
    if type(result) is VerificationResult:
        return result.status._value_, license_json(result, reason)  # not .value: an Enum property is a Python call
    answer = result.to_dict()
    answer = answer if "kind" in answer else {"kind": "license", **answer}
    return answer["status"], orjson.dumps(with_freshness(answer, reason))


def _unreadable_json(
    verifier: Verifier, text: object, now: float, reason: dict[str, str] | None, exc: Exception
) -> tuple[str, bytes]:
    answer = _unreadable(verifier, text, now, exc)
    return answer["status"], orjson.dumps(with_freshness(answer, reason))


def _unreadable(verifier: Verifier, text: object, now: float, exc: Exception) -> dict[str, Any]:
    if _LOG_BUDGET.allow():  # a batch of crafted texts must not flood the log
        log.warning(
            "verifying a QR text of %s characters failed (%s); answered malformed",
            len(text) if isinstance(text, str) else "?",
            type(exc).__name__,
            exc_info=exc,
        )
    try:
        chain: Freshness | None = verifier.state.freshness()
    except Exception:  # noqa: BLE001 - the answer must not depend on the failing state
        chain = None
    return _malformed(chain, now, bundle=is_bundle_text(text))


def with_freshness(result: dict[str, Any], reason: dict[str, str] | None) -> dict[str, Any]:
    """Mark a result ``stale`` (with the reason) or not."""
    result["stale"] = reason is not None
    if reason is not None:
        result["reasons"].append(reason)
    return result


# -- batch verification in worker processes --------------------------------------------------------

_worker: dict[str, Any] = {}


def _worker_init(mirror_url: str, deployment: dict[str, Any], confirmations: int, max_anchors: int) -> None:
    try:
        os.nice(WORKER_NICE)
    except OSError:
        log.info("batch workers run at the service's priority (nice refused)")
    d = Deployment.from_dict(deployment)
    mirror = Mirror(mirror_url, d, confirmations=confirmations, max_anchors_per_issuer=max_anchors)
    _worker["mirror"] = mirror
    _worker["verifier"] = Verifier(mirror.index, chain_id=d.chain_id, license_registry=d.license_registry)


def _worker_verify(texts: Sequence[str], now: float, reason: dict[str, str] | None) -> bytes:
    """Verify in a worker process; returns the results as JSON array items (no brackets)."""
    mirror: Mirror = _worker["mirror"]
    verifier: Verifier = _worker["verifier"]
    try:
        mirror.refresh()
        verifier.state = mirror.index
    except Exception:
        log.warning("a batch worker could not refresh its mirror", exc_info=True)
    return b",".join(item for _, item in verify_json_many(verifier, texts, now, reason))


class WorkerPool:
    """Worker processes verifying parts of large batches (started on first use, replaced when one
    dies)."""

    def __init__(self, mirror: Mirror, deployment: Deployment, count: int, failures: Counter) -> None:
        self.mirror = mirror
        self.deployment = deployment
        self.count = count
        self._failures = failures
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def verify(self, texts: Sequence[str], now: float, reason: dict[str, str] | None) -> list[bytes]:
        """The results of ``texts`` as groups of comma-separated JSON array items, in order; the
        texts are handed to the workers in parts of at most ``WORKER_PART``."""
        size = min(WORKER_PART, -(-len(texts) // self.count))
        chunks = [texts[i : i + size] for i in range(0, len(texts), size)]
        futures = [self._submit(chunk, now, reason) for chunk in chunks]
        retries = [WORKER_RETRIES]
        parts = [self._collect(c, f, now, reason, retries) for c, f in zip(chunks, futures, strict=True)]
        return [p for p in parts if p]

    def shutdown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)

    def _workers(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.count,
                    initializer=_worker_init,
                    initargs=(
                        self.mirror.url,
                        self.deployment.to_dict(),
                        self.mirror.confirmations,
                        self.mirror.max_anchors_per_issuer,
                    ),
                )
            return self._pool

    def _submit(
        self, chunk: Sequence[str], now: float, reason: dict[str, str] | None
    ) -> tuple[ProcessPoolExecutor, Future[bytes]]:
        """Hand a chunk to the worker processes (fresh ones when a worker has died)."""
        pool = self._workers()
        try:
            return pool, pool.submit(_worker_verify, chunk, now, reason)
        except BrokenProcessPool:
            self._discard(pool)
            pool = self._workers()
            return pool, pool.submit(_worker_verify, chunk, now, reason)

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False)

    def _collect(
        self,
        chunk: Sequence[str],
        submitted: tuple[ProcessPoolExecutor, Future[bytes]],
        now: float,
        reason: dict[str, str] | None,
        retries: list[int],
    ) -> bytes:
        """A chunk's results; when its worker failed, the chunk is verified again in halves (on
        fresh workers) until the item that fails by itself is found and answered ``malformed``."""
        pool, future = submitted
        try:
            return future.result()
        except Exception as exc:  # noqa: BLE001 - a worker that died (BrokenProcessPool) or failed
            self._failures.inc()
            log.warning(
                "a batch worker failed on %d items (%s); retrying them in parts", len(chunk), type(exc).__name__
            )
            self._discard(pool)
        if len(chunk) == 1 or retries[0] <= 0:
            if retries[0] <= 0:
                raise BatchWorkersFailingError(
                    "the batch workers keep failing on this batch; retry later or send smaller batches",
                    headers={"Retry-After": "5"},
                )
            malformed = _malformed(self.mirror.freshness(), now, bundle=is_bundle_text(chunk[0]))
            return orjson.dumps(with_freshness(malformed, reason))
        retries[0] -= 1
        half = len(chunk) // 2
        parts = [
            self._collect(p, self._submit(p, now, reason), now, reason, retries) for p in (chunk[:half], chunk[half:])
        ]
        return b",".join(parts)
