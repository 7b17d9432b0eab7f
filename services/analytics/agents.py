"""The stream processors: validate, dead-letter, apply to the per-aggregate tables."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from analytics.counting import State
from minsheng import metrics
from minsheng.deadletter import count_dead_letter, dead_letter_headers
from minsheng.events import CATALOGUE, InvalidEvent, ParsedEvent

log = logging.getLogger(__name__)
SERVICE = "analytics"
Apply = Callable[[State | None, ParsedEvent], State | None]


async def handle_event(event: Any, table: Any, dead_letters: Any, apply: Apply) -> None:
    """One message of a domain topic; never raises on bad input.

    O(1) in the number of aggregates: one table read and at most one write.
    """
    message = event.message
    try:
        parsed = CATALOGUE.parse(event.value)
        subject = parsed.envelope.subject
        held = table.get(subject)
        new_state = apply(held, parsed)
    except InvalidEvent as error:
        await _dead_letter(event, dead_letters, error)
        return
    if new_state is None:
        metrics.DUPLICATES.labels(SERVICE, message.topic).inc()
        return
    if parsed.envelope.sequence > (held["sequence"] if held else 0) + 1:
        metrics.SEQUENCE_GAPS.labels(SERVICE, message.topic).inc()
    table[subject] = new_state
    metrics.EVENTS_PROCESSED.labels(SERVICE, message.topic, parsed.envelope.type).inc()
    age = (datetime.now(UTC) - parsed.envelope.time).total_seconds()
    metrics.EVENT_AGE.labels(SERVICE, message.topic).observe(max(age, 0.0))


async def _dead_letter(event: Any, dead_letters: Any, error: InvalidEvent) -> None:
    message = event.message
    headers = dead_letter_headers(
        error,
        service=SERVICE,
        topic=message.topic,
        partition=message.partition,
        offset=message.offset,
        original=_headers(message.headers),
    )
    await dead_letters.send(key=event.key, value=event.value, headers=headers)
    count_dead_letter(SERVICE, message.topic, error.reason)
    log.warning(
        "dead-lettered %s[%d]@%d: %s", message.topic, message.partition, message.offset, error
    )


def _headers(raw: Any) -> list[tuple[str, bytes]]:
    if not raw:
        return []
    items = raw.items() if isinstance(raw, dict) else raw
    return [(str(k), bytes(v or b"")) for k, v in items]
