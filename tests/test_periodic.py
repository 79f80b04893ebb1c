"""The one background loop: steps at the interval, doubles the wait after each failure up to the
cap, returns to the interval after a success, and stops when told; driven by a fake clock."""

from __future__ import annotations

import threading

import pytest

from registry import ConfigurationError
from registry.periodic import Backoff, run_periodically


class FakeClock:
    """Records each wait instead of sleeping; sets ``stop`` after ``limit`` waits."""

    def __init__(self, stop: threading.Event, limit: int) -> None:
        self.stop = stop
        self.limit = limit
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> bool:
        self.waits.append(seconds)
        if len(self.waits) >= self.limit:
            self.stop.set()
        return self.stop.is_set()


def test_failures_back_off_exponentially_to_the_cap_and_a_success_resets():
    stop = threading.Event()
    clock = FakeClock(stop, limit=7)
    outcomes = iter([ConnectionError("down")] * 5 + [None, None])
    errors: list[tuple[str, float]] = []

    def step() -> None:
        outcome = next(outcomes)
        if outcome is not None:
            raise outcome

    run_periodically(
        step,
        stop,
        interval=1.0,
        max_backoff=10.0,
        retry_on=(ConnectionError,),
        on_error=lambda exc, delay: errors.append((str(exc), delay)),
        wait=clock,
    )
    assert clock.waits == [2.0, 4.0, 8.0, 10.0, 10.0, 1.0, 1.0]
    assert [delay for _, delay in errors] == [2.0, 4.0, 8.0, 10.0, 10.0]
    assert all(message == "down" for message, _ in errors)


def test_an_error_outside_retry_on_ends_the_loop():
    stop = threading.Event()
    clock = FakeClock(stop, limit=100)

    def step() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        run_periodically(step, stop, interval=1.0, retry_on=(ConnectionError,), wait=clock)
    assert clock.waits == []


def test_wait_first_and_stop_before_the_first_step():
    stop = threading.Event()
    clock = FakeClock(stop, limit=1)
    calls: list[int] = []
    run_periodically(lambda: calls.append(1), stop, interval=3.0, wait_first=True, wait=clock)
    assert clock.waits == [3.0]
    assert calls == []


def test_a_stop_set_during_a_step_is_honoured_without_another_wait():
    stop = threading.Event()
    clock = FakeClock(stop, limit=100)
    run_periodically(stop.set, stop, interval=1.0, wait=clock)
    assert clock.waits == []


def test_backoff_refuses_an_interval_beyond_its_cap():
    with pytest.raises(ConfigurationError, match="interval <= maximum"):
        Backoff(5.0, 1.0)
