"""The stream processors: validate, dead-letter, apply to the per-aggregate tables."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from analytics.aggregate import Aggregate
from analytics.changelog import ChangelogWriter
from analytics.counting import State
from minsheng import metrics
from minsheng.deadletter import count_dead_letter, dead_letter_headers
from minsheng.events import CATALOGUE, InvalidEvent, ParsedEvent

log = logging.getLogger(__name__)
SERVICE = "analytics"
Apply = Callable[[State | None, ParsedEvent], State | None]


@dataclass
class Counting:
    """One domain topic's fold: its state table (the truth), the aggregate of this
    worker's share, and where rejected messages go."""

    table: Any  # faust.Table of State by aggregate id
    aggregate: Aggregate
    apply: Apply
    dead_letters: Any  # faust topic
    changelog: ChangelogWriter

    def rebuild(self, partitions: Iterable[int]) -> None:
        """After Faust recovered the table: forget the states of partitions this worker
        no longer owns (locally: the changelog keeps them) and re-sum the others."""
        mine = frozenset(partitions)
        store = self.table.data
        recovered = getattr(store, "_key_partition", {})  # states written before "partition"
        stale = [
            key
            for key, state in store.items()
            if state.get("partition", recovered.get(key)) not in mine
        ]
        for key in stale:
            del store[key]  # the store, not the table: no tombstone goes to the changelog
        self.aggregate.rebuild(store.values(), mine)
        log.info(
            "%s: re-summed %d states of partitions %s (%d forgotten)",
            self.table.name,
            len(store),
            sorted(mine),
            len(stale),
        )


async def handle_batch(events: Sequence[Any], counting: Counting) -> None:
    """A batch of messages of a domain topic; never raises on bad input.

    O(1) per event in the number of aggregates: one store read, at most one store write,
    and the aggregate moved by the difference between the old and new state's figures.
    The changed states go to the changelog once each at the end, before Faust may
    acknowledge the batch (see changelog.py).
    """
    store = counting.table.data  # the store: no changelog record per assignment
    changed: dict[str, State] = {}
    for event in events:
        message = event.message
        try:
            parsed = CATALOGUE.parse(event.value)
            subject = parsed.envelope.subject
            held = store.get(subject)
            new_state = counting.apply(held, parsed)
        except InvalidEvent as error:
            await _dead_letter(event, counting.dead_letters, error)
            continue
        if new_state is None:
            metrics.DUPLICATES.labels(SERVICE, message.topic).inc()
            continue
        if parsed.envelope.sequence > (held["sequence"] if held else 0) + 1:
            metrics.SEQUENCE_GAPS.labels(SERVICE, message.topic).inc()
        new_state["partition"] = message.partition  # the aggregate's, for rebuilds
        store[subject] = changed[subject] = new_state
        counting.aggregate.replace(held, new_state)
        metrics.EVENTS_PROCESSED.labels(SERVICE, message.topic, parsed.envelope.type).inc()
        age = (datetime.now(UTC) - parsed.envelope.time).total_seconds()
        metrics.EVENT_AGE.labels(SERVICE, message.topic).observe(max(age, 0.0))
    await counting.changelog.write(counting.table.changelog_topic.get_topic_name(), changed)


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
