"""Timing tests compare the best of several repeats: other work on a busy machine only
ever slows a run down, so the fastest of a few is the one that says what the code costs."""

from __future__ import annotations

from collections.abc import Callable


def best_of(repeats: int, measure: Callable[[], float]) -> float:
    """The least of `repeats` measures."""
    assert repeats > 0
    return min(measure() for _ in range(repeats))
