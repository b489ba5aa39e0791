"""Retry with exponential backoff: the only retry layer between astrobio and an object store.

urllib3's own retries are switched off (see `s3_client.py`), so this policy alone decides how long
an outage is survived; that makes the worst case computable (`RetryPolicy.total_backoff`) and the
sleeps injectable, so tests run in milliseconds and can assert the schedule.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from astrobio.errors import UsageError

T = TypeVar("T")


class RetriesExhausted(Exception):
    """Every attempt failed with a transient error; `last` is the final one. Callers map it to their own error."""

    def __init__(self, attempts: int, last: BaseException) -> None:
        super().__init__(f"gave up after {attempts} attempts: {last}")
        self.attempts = attempts
        self.last = last


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` tries in all; before retry i (0-based) sleep

    min(max_delay, base_delay * 2**i) * (1 + jitter * U[0, 1)), a small jitter so that the ranks of a
    job hitting one outage do not all come back in the same instant.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.1
    sleep: Callable[[float], None] = field(default=time.sleep, repr=False, compare=False)
    rand: Callable[[], float] = field(default=random.random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise UsageError(f"retry attempts must be >= 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0 or self.jitter < 0:
            raise UsageError(
                f"retry delays and jitter must be >= 0, got base_delay={self.base_delay}, "
                f"max_delay={self.max_delay}, jitter={self.jitter}"
            )

    def delay(self, retry_index: int) -> float:
        """Seconds to wait before retry number `retry_index` (0 = the wait after the first failure)."""
        backoff = min(self.max_delay, self.base_delay * (2**retry_index))
        return backoff * (1.0 + self.jitter * self.rand())

    def total_backoff(self) -> float:
        """The most time spent sleeping before giving up (jitter at its maximum)."""
        return sum(min(self.max_delay, self.base_delay * 2**i) * (1.0 + self.jitter) for i in range(self.attempts - 1))


def call_with_retry(
    fn: Callable[[], T],
    policy: RetryPolicy,
    is_transient: Callable[[BaseException], bool],
    on_retry: Callable[[int, float, BaseException], None] | None = None,
) -> T:
    """Call `fn` until it succeeds, a non-transient error escapes, or attempts run out (RetriesExhausted).

    `on_retry(attempt, delay, exc)` is called before each sleep, e.g. to log the retry.
    """
    for attempt in range(1, policy.attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            if attempt == policy.attempts:
                raise RetriesExhausted(attempt, exc) from exc
            wait = policy.delay(attempt - 1)
            if on_retry is not None:
                on_retry(attempt, wait, exc)
            policy.sleep(wait)
    raise AssertionError("unreachable: the loop returns or raises")  # pragma: no cover
