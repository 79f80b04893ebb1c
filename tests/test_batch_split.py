"""The progress-following split of a large batch between the verification workers
(:mod:`api.batch_split`): every text is taken exactly once, whatever the order of the takers, the
parts sent away stay within their bounds and shrink as the batch runs out, and the results come
back in the texts' order (end to end: ``test_verify_workers``)."""

from __future__ import annotations

import sys
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from api.batch_split import MAX_PART, MIN_PART, BatchSplit


def _covers_once(spans: list[tuple[int, int]], count: int) -> bool:
    return sorted(p for start, end in spans for p in range(start, end)) == list(range(count))


@settings(max_examples=300, deadline=None)
@given(
    count=st.integers(0, 12_000),
    workers=st.integers(1, 8),
    size=st.integers(1, 500),
    order=st.lists(st.booleans(), max_size=400),
)
def test_any_order_of_takers_takes_every_text_exactly_once(count, workers, size, order):
    split = BatchSplit(count, workers)
    spans: list[tuple[int, int]] = []
    for from_front in order:
        span = split.front(size) if from_front else split.back()
        left = count - sum(end - start for start, end in spans)  # before this take
        if span is None:
            assert left == 0  # nothing refused while texts remain
            continue
        start, end = span
        assert 0 <= start < end <= count
        if from_front:
            assert end - start <= size
        else:
            assert end - start <= MAX_PART
            assert end - start >= MIN_PART or end - start == left  # smaller only as the last of the batch
        spans.append(span)
    while (span := split.front(size)) is not None:  # the receiving worker's thread finishes the rest
        spans.append(span)
    assert split.back() is None
    assert _covers_once(spans, count)


def test_parts_shrink_as_the_batch_runs_out():
    split = BatchSplit(10_000, 2)
    sizes = []
    while (span := split.back()) is not None:
        sizes.append(span[1] - span[0])
        split.front(200)
    assert sizes[0] == MAX_PART  # a large batch starts with the largest parts
    assert sizes == sorted(sizes, reverse=True)  # never larger than the one before
    assert sizes[-2] == MIN_PART  # and ends with the smallest (the last one takes what is left)
    assert sizes[-1] <= MIN_PART


def test_threads_taking_from_both_ends_at_once_never_share_a_text():
    switch = sys.getswitchinterval()
    split = BatchSplit(200_000, 2)
    taken: list[list[tuple[int, int]]] = [[] for _ in range(4)]
    start = threading.Barrier(4)

    def take(i: int) -> None:
        start.wait()
        while (span := (split.front(7) if i % 2 else split.back())) is not None:
            taken[i].append(span)

    threads = [threading.Thread(target=take, args=(i,)) for i in range(4)]
    sys.setswitchinterval(1e-6)  # the threads interleave between any two takes
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(switch)
    assert any(taken[1::2])  # taken from the front
    assert any(taken[0::2])  # and from the back, at once
    assert _covers_once([s for spans in taken for s in spans], 200_000)


@pytest.mark.parametrize(("count", "workers"), [(-1, 2), (10, 0)])
def test_a_split_of_nothing_to_no_one_is_refused(count, workers):
    with pytest.raises(ValueError, match="expected count >= 0, workers >= 1"):
        BatchSplit(count, workers)
