"""RetryPolicy and call_with_retry: the backoff schedule and when it gives up."""

from __future__ import annotations

import pytest

from astrobio.errors import UsageError
from astrobio.store.retry import RetriesExhausted, RetryPolicy, call_with_retry


class Flaky:
    """Fails `failures` times with `error`, then returns 'ok'."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return "ok"


def policy(sleeps: list[float], attempts: int = 4) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base_delay=1.0, max_delay=3.0, jitter=0.2, sleep=sleeps.append, rand=lambda: 0.5)


def test_succeeds_after_transient_failures_with_exponential_backoff() -> None:
    sleeps: list[float] = []
    fn = Flaky(2, ConnectionError("reset"))
    assert call_with_retry(fn, policy(sleeps), lambda exc: True) == "ok"
    assert fn.calls == 3
    assert sleeps == pytest.approx([1.0 * 1.1, 2.0 * 1.1])


def test_backoff_is_capped_by_max_delay() -> None:
    sleeps: list[float] = []
    with pytest.raises(RetriesExhausted) as info:
        call_with_retry(Flaky(10, ConnectionError("down")), policy(sleeps, attempts=5), lambda exc: True)
    assert sleeps == pytest.approx([1.1, 2.2, 3.3, 3.3])
    assert info.value.attempts == 5
    assert isinstance(info.value.last, ConnectionError)


def test_non_transient_error_is_not_retried() -> None:
    sleeps: list[float] = []
    fn = Flaky(1, KeyError("no"))
    with pytest.raises(KeyError):
        call_with_retry(fn, policy(sleeps), lambda exc: not isinstance(exc, KeyError))
    assert fn.calls == 1 and sleeps == []


def test_on_retry_sees_each_attempt() -> None:
    seen: list[tuple[int, float]] = []
    call_with_retry(Flaky(2, ConnectionError()), policy([]), lambda exc: True, lambda a, d, e: seen.append((a, d)))
    assert [attempt for attempt, _ in seen] == [1, 2]


def test_jitter_stays_small_and_positive() -> None:
    real = RetryPolicy(base_delay=1.0, jitter=0.1)
    delays = [real.delay(0) for _ in range(200)]
    assert all(1.0 <= d < 1.1 for d in delays)
    assert len(set(delays)) > 1


def test_default_policy_gives_up_within_seconds() -> None:
    assert RetryPolicy().total_backoff() < 10


@pytest.mark.parametrize("kwargs", [{"attempts": 0}, {"base_delay": -1}, {"jitter": -0.1}])
def test_invalid_policy_is_a_usage_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(UsageError):
        RetryPolicy(**kwargs)  # type: ignore[arg-type]
