"""How a verification worker shares one large batch with the other workers: by their progress,
not in fixed shares.

The worker that received the batch verifies it from the front, a group at a time, in its own
thread; parts for the other workers are taken from the back, one request each, a few in flight
per worker so that none waits for its next part. The two ends meet wherever the work has got to:
a worker slowed down (a busy neighbour, a slower core, parts' transport) simply takes less. The
parts shrink as the batch runs out (guided self-scheduling: a share of what remains, within
bounds), so at the end no worker waits long for another's last part. With fixed halves, the half
sent away finished 10 to 25% after the half kept.

A part a worker does not answer is verified by the worker that sent it; the results are put back
in order by their first text's position.
"""

from __future__ import annotations

import threading

__all__ = ["MAX_PART", "MIN_PART", "PARTS_IN_FLIGHT", "BatchSplit"]

#: Bounds of a part sent to another worker: at most a tenth of a second of work, at least enough
#: that a request's own cost (about a millisecond) stays small against it.
MAX_PART = 1000
MIN_PART = 100
#: Parts each other worker holds at once: one verified, the next one queued behind it.
PARTS_IN_FLIGHT = 2


class BatchSplit:
    """The positions of one batch's texts not yet taken, ``[front, back)``; safe to share between
    the receiving worker's thread and the coroutines that send parts away."""

    __slots__ = ("_back", "_front", "_lock", "_workers")

    def __init__(self, count: int, workers: int) -> None:
        if count < 0 or workers < 1:
            raise ValueError(f"a batch of {count} texts over {workers} workers: expected count >= 0, workers >= 1")
        self._front = 0
        self._back = count
        self._workers = workers
        self._lock = threading.Lock()

    def front(self, size: int) -> tuple[int, int] | None:
        """The next ``size`` texts (or fewer, at the meeting point) from the front, as positions
        ``(start, end)``; ``None`` when none is left."""
        with self._lock:
            start = self._front
            end = min(start + size, self._back)
            if end <= start:
                return None
            self._front = end
            return start, end

    def back(self) -> tuple[int, int] | None:
        """The next part for another worker, from the back: a share of what remains (a quarter of
        each worker's), within ``MIN_PART`` and ``MAX_PART``; ``None`` when none is left."""
        with self._lock:
            remaining = self._back - self._front
            if remaining <= 0:
                return None
            size = min(remaining, max(MIN_PART, min(MAX_PART, remaining // (4 * self._workers))))
            self._back -= size
            return self._back, self._back + size
