"""What an answer means, the backoff, and when a delivery gives up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from notifications.delivery import Answer, Policy, backoff, classify, decide, retry_after

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
POLICY = Policy(base=5, cap=3600, max_attempts=5)


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [
        (Answer(200), "delivered"),
        (Answer(204), "delivered"),
        (Answer(500), "retry"),
        (Answer(503), "retry"),
        (Answer(429), "retry"),
        (Answer.silence("timeout"), "retry"),
        (Answer(410), "disabled"),
        (Answer(400), "failed"),
        (Answer(404), "failed"),
        (Answer(301), "failed"),
        (Answer(250, protocol="smtp"), "delivered"),
        (Answer(451, protocol="smtp"), "retry"),
        (Answer(550, protocol="smtp"), "failed"),
    ],
)
def test_answers_are_classified_as_standard_webhooks_advises(answer: Answer, verdict: str) -> None:
    assert classify(answer) == verdict


def test_backoff_grows_exponentially_with_jitter_up_to_the_cap() -> None:
    rnd = random.Random(7)
    for attempt in range(1, 15):
        ceiling = min(3600, 5 * 2 ** (attempt - 1))
        waits = [backoff(attempt, POLICY, rnd) for _ in range(50)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jittered


def test_a_retry_is_scheduled_and_retry_after_is_honoured() -> None:
    rnd = random.Random(1)
    plain = decide(1, Answer(500), NOW, POLICY, rnd)
    assert plain.status == "pending"
    assert plain.verdict == "retry"
    assert NOW + timedelta(seconds=2.5) <= plain.next_attempt_at <= NOW + timedelta(seconds=5)  # type: ignore[operator]
    slow = decide(1, Answer(429, retry_after=120), NOW, POLICY, rnd)
    assert slow.next_attempt_at == NOW + timedelta(seconds=120)


def test_final_outcomes() -> None:
    rnd = random.Random(1)
    assert decide(3, Answer(200), NOW, POLICY, rnd).status == "delivered"
    gave_up = decide(5, Answer(503), NOW, POLICY, rnd)
    assert (gave_up.status, gave_up.verdict) == ("failed", "failed")
    assert "gave up after 5 attempts" in (gave_up.error or "")
    gone = decide(1, Answer(410), NOW, POLICY, rnd)
    assert (gone.status, gone.verdict) == ("failed", "disabled")
    assert decide(1, Answer(403), NOW, POLICY, rnd).status == "failed"


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert retry_after("30", NOW) == 30
    assert retry_after("Tue, 01 Dec 2026 02:01:00 GMT", NOW) == 60
    assert retry_after("soon", NOW) is None
    assert retry_after(None, NOW) is None
