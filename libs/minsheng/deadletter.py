"""Dead-letter publishing shared by every consumer, plain aiokafka or Faust.

The rejected message keeps its key and bytes; the reason and its origin go in headers
so an operator can read, fix and replay it. Nothing is lost: the caller commits its
offset only after the dead letter is acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from minsheng import metrics
from minsheng.events import InvalidEvent

Headers = list[tuple[str, bytes]]


def dead_letter_headers(
    error: InvalidEvent,
    *,
    service: str,
    topic: str,
    partition: int,
    offset: int,
    original: Sequence[tuple[str, bytes]] = (),
) -> Headers:
    own = {
        "dlq.reason": error.reason,
        "dlq.detail": error.detail[:2000],
        "dlq.service": service,
        "dlq.topic": topic,
        "dlq.partition": str(partition),
        "dlq.offset": str(offset),
        "dlq.time": datetime.now(UTC).isoformat(),
    }
    kept = [(k, v) for k, v in original if not k.startswith("dlq.")]
    return kept + [(k, v.encode()) for k, v in own.items()]


def count_dead_letter(service: str, topic: str, reason: str) -> None:
    metrics.DEAD_LETTERS.labels(service, topic, reason).inc()
