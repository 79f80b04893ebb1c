"""The one loop every background job of the system runs in: do a step, wait, repeat until stopped,
backing off exponentially while the step fails (a chain node that went away, a database restarting).

The anchoring worker, the service's anchoring and mirror-following threads and the command line's
``mirror sync --follow`` all use :func:`run_periodically`. The wait is injectable (``wait``), so a
test drives the loop step by step with a fake clock instead of sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from registry.errors import ConfigurationError

__all__ = ["Backoff", "run_periodically"]


@dataclass
class Backoff:
    """``interval`` after a success; after each failure twice the previous wait, at most ``maximum``."""

    interval: float
    maximum: float

    def __post_init__(self) -> None:
        if not 0 < self.interval <= self.maximum:
            raise ConfigurationError(f"need 0 < interval <= maximum, got {self.interval} and {self.maximum}")
        self.delay = self.interval

    def succeeded(self) -> float:
        self.delay = self.interval
        return self.delay

    def failed(self) -> float:
        self.delay = min(self.maximum, self.delay * 2)
        return self.delay


def run_periodically(
    step: Callable[[], object],
    stop: threading.Event,
    *,
    interval: float,
    max_backoff: float | None = None,
    retry_on: tuple[type[BaseException], ...] = (Exception,),
    on_error: Callable[[BaseException, float], None] | None = None,
    wait_first: bool = False,
    wait: Callable[[float], object] | None = None,
) -> None:
    """Call ``step`` until ``stop`` is set, ``interval`` seconds apart; when it raises one of
    ``retry_on``, call ``on_error(exc, next_delay)`` and wait twice as long each time (at most
    ``max_backoff``, default ``interval``: no backoff). ``wait_first`` waits before the first step.
    ``wait`` (default ``stop.wait``) is how the loop waits; exceptions outside ``retry_on`` end it."""
    backoff = Backoff(interval, interval if max_backoff is None else max_backoff)
    pause = stop.wait if wait is None else wait
    delay = interval
    if wait_first:
        pause(delay)
    while not stop.is_set():
        try:
            step()
            delay = backoff.succeeded()
        except retry_on as exc:
            delay = backoff.failed()
            if on_error is not None:
                on_error(exc, delay)
        if stop.is_set():
            return
        pause(delay)
