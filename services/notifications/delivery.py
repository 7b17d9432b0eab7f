"""A delivery's life, pure: what an answer means, when to try again, when to give up.

Answers are classified as the Standard Webhooks specification advises, for the SMS
gateway and the appeals contact look-up as for webhooks: 2xx delivered; 429, 5xx and
no answer at all (timeout, refused connection) retried, honouring `Retry-After`; 410
Gone disables the endpoint (later deliveries to it fail unsent until an operator
retries one); any other 4xx, and a 3xx (redirects are not followed), failed for good
(retrying would get the same answer). SMTP
answers map the same way: 2xx delivered, 4xx (transient) retried, 5xx failed.

Retries back off exponentially, `base * 2**(n-1)` capped at `cap`, with "equal jitter"
(a random point in the upper half of the interval) so that deliveries failing together
do not all come back together. A `Retry-After` longer than that is honoured (up to a
day). After `max_attempts` attempts the delivery fails.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, Literal

from minsheng.events import (
    CloudEvent,
    EventData,
    NotificationDelivered,
    NotificationFailed,
    new_event,
)
from minsheng.topics import NOTIFICATIONS, OWNERS

Verdict = Literal["delivered", "retry", "failed", "disabled"]
Status = Literal["pending", "delivered", "failed"]
Protocol = Literal["http", "smtp"]
LONGEST_RETRY_AFTER = 86400.0


@dataclass(frozen=True)
class Answer:
    """What one attempt got: a status code (None when nothing answered) and details."""

    code: int | None
    protocol: Protocol = "http"
    retry_after: float | None = None
    error: str | None = None

    @classmethod
    def silence(cls, error: str) -> Answer:
        return cls(None, error=error)


@dataclass(frozen=True)
class Policy:
    base: float = 5.0
    cap: float = 3600.0
    max_attempts: int = 10


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    status: Status
    next_attempt_at: datetime | None  # for a retry
    error: str | None


def classify(answer: Answer) -> Verdict:
    code = answer.code
    if code is None:
        return "retry"
    if 200 <= code < 300:
        return "delivered"
    if answer.protocol == "smtp":
        return "retry" if 400 <= code < 500 else "failed"
    if code == 410:
        return "disabled"
    if code == 429 or code >= 500:
        return "retry"
    return "failed"


def backoff(attempt: int, policy: Policy, rnd: random.Random) -> float:
    """Seconds to wait after the `attempt`-th failed attempt (1, 2, ...)."""
    ceiling = min(policy.cap, policy.base * 2.0 ** (attempt - 1))
    return ceiling / 2 + rnd.uniform(0, ceiling / 2)


def decide(
    attempt: int, answer: Answer, now: datetime, policy: Policy, rnd: random.Random
) -> Decision:
    """What becomes of a delivery whose `attempt`-th attempt (counted within its current
    budget of `policy.max_attempts`) got `answer`."""
    verdict = classify(answer)
    error = answer.error or (None if answer.code is None else f"answered {answer.code}")
    if verdict == "delivered":
        return Decision(verdict, "delivered", None, None)
    if verdict == "retry" and attempt < policy.max_attempts:
        wait = backoff(attempt, policy, rnd)
        if answer.retry_after is not None:
            wait = max(wait, min(answer.retry_after, LONGEST_RETRY_AFTER))
        return Decision(verdict, "pending", now + timedelta(seconds=wait), error)
    if verdict == "retry":
        return Decision("failed", "failed", None, f"gave up after {attempt} attempts: {error}")
    if verdict == "disabled":
        return Decision(verdict, "failed", None, f"endpoint gone (410), disabled: {error}")
    return Decision(verdict, "failed", None, error)


def retry_after(header: str | None, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date)."""
    if header is None:
        return None
    text = header.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())


SOURCE = OWNERS[NOTIFICATIONS]


def shown_as(recipient_kind: str, recipient: str) -> str:
    """How events name a recipient: a citizen by the masked phone (the recipient id of a
    citizen's delivery), anyone else as `kind:id`; never a number."""
    return recipient if recipient_kind == "citizen" else f"{recipient_kind}:{recipient}"


@dataclass(frozen=True)
class Finished:
    """A delivery's final outcome, as its event says it."""

    delivery_id: str
    channel: str
    recipient: str  # as `shown_as` gives it
    rule: str
    subject_event_id: uuid.UUID | None
    attempts: int
    sequence: int  # the delivery's outcome number: 1, then 2 after an operator's retry
    error: str | None  # None: delivered


def outcome_event(outcome: Finished, now: datetime) -> CloudEvent:
    """NotificationDelivered or NotificationFailed, keyed by the delivery."""
    common: dict[str, Any] = {
        "notification_id": outcome.delivery_id,
        "channel": outcome.channel,
        "recipient": outcome.recipient,
        "rule": outcome.rule,
        "subject_event_id": outcome.subject_event_id,
        "attempts": outcome.attempts,
    }
    data: EventData = (
        NotificationDelivered(**common)
        if outcome.error is None
        else NotificationFailed(**common, error=outcome.error[:2000])
    )
    return new_event(
        data, subject=outcome.delivery_id, sequence=outcome.sequence, source=SOURCE, time=now
    )
