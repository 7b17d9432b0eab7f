"""Dead-letter publishing shared by every consumer, plain aiokafka or Faust.

The rejected message keeps its key, its bytes and its headers, with personal numbers
masked (`masking.mask_bytes`, `mask_text_bytes`): a dead letter is read by operators and kept for
investigation, so it must be as free of personal data as the events themselves, and
it must still say what was wrong. A JSON document keeps its shape, with its strings
masked; other bytes are masked as text; what holds no personal number is unchanged,
byte for byte, and can be replayed as it is. The reason and its origin go in headers
so an operator can read, fix and replay it. Nothing is lost: the caller commits its
offset only after the dead letter is acknowledged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from minsheng import metrics
from minsheng.events import InvalidEvent
from minsheng.masking import mask_bytes, mask_personal, mask_text_bytes

Headers = list[tuple[str, bytes]]


class Received(Protocol):
    """A message as a consumer read it: aiokafka's ConsumerRecord and Faust's Message."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True)
class Read:
    """A `Received` put together by a consumer whose message type has no such fields."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True)
class DeadLetter:
    """What goes to the `.dlq` topic for one rejected message."""

    key: bytes | None
    value: bytes | None
    headers: Headers


def dead_letter(
    error: InvalidEvent, *, service: str, record: Received, original: Sequence[tuple[str, bytes]]
) -> DeadLetter:
    """The dead letter of `record` (its `original` headers as a list), masked."""
    return DeadLetter(
        None if record.key is None else mask_text_bytes(record.key),
        None if record.value is None else mask_bytes(record.value),
        dead_letter_headers(error, service=service, record=record, original=original),
    )


def dead_letter_headers(
    error: InvalidEvent, *, service: str, record: Received, original: Sequence[tuple[str, bytes]]
) -> Headers:
    own = {
        "dlq.reason": error.reason,
        "dlq.detail": mask_personal(error.detail[:2000]),
        "dlq.service": service,
        "dlq.topic": record.topic,
        "dlq.partition": str(record.partition),
        "dlq.offset": str(record.offset),
        "dlq.time": datetime.now(UTC).isoformat(),
    }
    kept = [(k, mask_text_bytes(v) if v else v) for k, v in original if not k.startswith("dlq.")]
    return kept + [(k, v.encode()) for k, v in own.items()]


def count_dead_letter(service: str, topic: str, reason: str) -> None:
    metrics.DEAD_LETTERS.labels(service, topic, reason).inc()
