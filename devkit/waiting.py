"""Waiting for what another process or thread does: poll an observable condition until a deadline
(never sleep a fixed time and then hope it happened)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

__all__ = ["StartError", "wait_until"]

T = TypeVar("T")


class StartError(RuntimeError):
    """A development process (a hardhat node, a served app) did not start; says what it printed."""


def wait_until(condition: Callable[[], T | None], *, timeout: float, what: str, interval: float = 0.05) -> T:
    """Call ``condition`` every ``interval`` seconds until it returns something true, and return
    that; raise :class:`TimeoutError` naming ``what`` after ``timeout`` seconds. An exception from
    ``condition`` ends the wait at once (a process that exited need not be waited for)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(interval)
