"""The stream processors: validate, dead-letter, apply to the per-aggregate tables."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from analytics.counting import apply_appeal
from minsheng import metrics
from minsheng.deadletter import count_dead_letter, dead_letter_headers
from minsheng.events import CATALOGUE, InvalidEvent

log = logging.getLogger(__name__)
SERVICE = "analytics"


async def handle_appeal_event(event: Any, table: Any, dead_letters: Any) -> None:
    """One message of the appeals topic; never raises on bad input."""
    message = event.message
    try:
        parsed = CATALOGUE.parse(event.value)
    except InvalidEvent as error:
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
        return
    subject = parsed.envelope.subject
    new_state = apply_appeal(table.get(subject), parsed)
    if new_state is None:
        metrics.DUPLICATES.labels(SERVICE, message.topic).inc()
        return
    table[subject] = new_state
    metrics.EVENTS_PROCESSED.labels(SERVICE, message.topic, parsed.envelope.type).inc()
    age = (datetime.now(UTC) - parsed.envelope.time).total_seconds()
    metrics.EVENT_AGE.labels(SERVICE, message.topic).observe(max(age, 0.0))


def _headers(raw: Any) -> list[tuple[str, bytes]]:
    if not raw:
        return []
    items = raw.items() if isinstance(raw, dict) else raw
    return [(str(k), bytes(v or b"")) for k, v in items]
