"""A budget for logging what hostile input causes: a batch full of crafted texts must not flood the
log (or fill the disk) with one traceback each."""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["LogBudget"]


class LogBudget:
    """At most ``per_window`` records every ``window`` seconds; the rest are counted and the count is
    logged with the first record of the next window."""

    def __init__(self, logger: logging.Logger, *, per_window: int = 20, window: float = 60.0) -> None:
        self.logger = logger
        self.per_window = per_window
        self.window = window
        self._lock = threading.Lock()
        self._started = 0.0
        self._used = 0
        self.suppressed = 0

    def allow(self) -> bool:
        """Whether a record may be logged now (reports what the last window suppressed)."""
        now = time.monotonic()
        with self._lock:
            if now - self._started >= self.window:
                if self.suppressed:
                    self.logger.warning("%d similar records were not logged in the last window", self.suppressed)
                self._started, self._used, self.suppressed = now, 0, 0
            if self._used < self.per_window:
                self._used += 1
                return True
            self.suppressed += 1
            return False
