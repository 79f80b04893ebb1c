"""Timing bounds that hold on a slow or busy machine: a hostile input's cost is bounded by a
multiple of ordinary work timed in the same run, not by a fixed number of milliseconds (this
machine's single-core speed drifts up to 2x within minutes; a blow-up costs hundreds of times)."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_time(work: Callable[[], object], rounds: int = 5, expected: type[BaseException] | None = None) -> float:
    """The shortest of ``rounds`` timings of ``work``, in seconds. With ``expected``, ``work`` must
    raise that exception each time (a refusal is what is being timed)."""
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        if expected is None:
            work()
        else:
            raised = False
            try:
                work()
            except expected:
                raised = True
            assert raised, f"{work} did not raise {expected.__name__}"
        best = min(best, time.perf_counter() - start)
    return best


def assert_within(
    work: Callable[[], object],
    ordinary: Callable[[], object],
    factor: float,
    expected: type[BaseException] | None = None,
) -> None:
    """``work`` (best of five, raising ``expected`` if given) costs less than ``factor`` times
    ``ordinary`` (best of three rounds of five), both timed now."""
    reference = min(best_time(ordinary) for _ in range(3))
    cost = best_time(work, expected=expected)
    assert cost < factor * reference, (
        f"{cost * 1e3:.3f} ms, more than {factor} times the ordinary work's {reference * 1e3:.3f} ms"
    )
