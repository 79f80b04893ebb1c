"""Admission for CPU-heavy requests (images, batches): a bounded number run at once, a bounded
number wait a little, any other is refused at once with 503 and ``Retry-After``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from prometheus_client import Counter

from api.errors import ServiceBusyError

__all__ = ["Gate"]


class Gate:
    """Admission for CPU-heavy requests: ``slots`` run at once, up to ``queue`` more wait at most
    ``wait`` seconds for a slot; any other is refused at once (503 with ``Retry-After``)."""

    def __init__(self, what: str, slots: int, queue: int, wait: float, refused: Counter) -> None:
        self.what = what
        self.slots = slots
        self.queue = queue
        self.wait = wait
        self._refused = refused
        self._semaphore = asyncio.Semaphore(slots)
        self._waiting = 0

    def _busy(self) -> ServiceBusyError:
        self._refused.labels(self.what).inc()
        return ServiceBusyError(
            f"too many {self.what} are being processed; retry in a moment",
            headers={"Retry-After": "1"},
        )

    @asynccontextmanager
    async def enter(self) -> AsyncIterator[None]:
        if not self._semaphore.locked():
            await self._semaphore.acquire()  # free: returns at once
        else:
            if self._waiting >= self.queue or self.wait <= 0:
                raise self._busy()
            self._waiting += 1
            try:
                await asyncio.wait_for(self._semaphore.acquire(), self.wait)
            except TimeoutError:
                raise self._busy() from None
            finally:
                self._waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()
