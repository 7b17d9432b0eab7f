"""The consumer of the domain topics (`minsheng.appeals.v1`, `minsheng.projects.v1`).

Through the shared `EventConsumer` (sequence guard per aggregate, dead-letter topic,
Kafka offsets committed only after the database transaction), a fetch at a time in one
transaction: an event whose source is not its topic's owner goes to the dead letters
(`foreign_source`); each event updates what is remembered of its appeal or project and inserts
the deliveries its rules ask for. A delivery is unique per (event, recipient, channel), so a
redelivered or replayed event, even to a new consumer group, sends nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from minsheng.clock import Clock
from minsheng.db import Conn
from minsheng.events import APPEAL_EVENTS, PROJECT_EVENTS, InvalidEvent, ParsedEvent, Registry
from minsheng.jobs import consumer_job
from minsheng.service import Job
from notifications.directory import Directory
from notifications.fanout import plan
from notifications.memory import Kind, evolve, subject_of
from notifications.quiet import QuietHours
from notifications.rules import RuleSet
from notifications.store import deliveries, subjects

REGISTRY = Registry(dict.fromkeys(APPEAL_EVENTS + PROJECT_EVENTS))


def domain_consumer(
    clock: Clock,
    *,
    topics: Mapping[str, str],
    group: str,
    rules: RuleSet,
    directory: Directory,
    quiet: QuietHours,
) -> Job:
    """The Runtime job; `clock` is when deliveries are planned (quiet hours, days left).
    `topics` maps each topic read to the domain topic it is (`minsheng.topics`), whose
    owner's events alone it takes."""

    async def handle(conn: Conn, batch: Sequence[ParsedEvent]) -> None:
        # list items and work-day pairings share the projects topic; no rule addresses them
        events = [e for e in batch if subject_of(e.data) is not None]
        keys = [_subject_of(event) for event in events]
        held = await subjects.subjects(conn, keys)
        current = dict(held)
        now = clock()
        planned = []
        for key, event in zip(keys, events, strict=True):
            current[key] = subject = evolve(current[key], event.data)
            planned += plan(
                event.envelope, event.data, subject, rules, directory, now=now, quiet=quiet
            )
        await subjects.save_subjects(conn, [s for key, s in current.items() if s != held[key]])
        await deliveries.insert_deliveries(conn, planned, now)

    return consumer_job(
        topic=list(topics), group=group, registry=REGISTRY, batch_handler=handle, aliases=topics
    )


def _subject_of(event: ParsedEvent) -> tuple[Kind, str]:
    found = subject_of(event.data)
    if found is None:  # passed over by `handle`
        raise InvalidEvent("rejected", f"{event.data.event_name} has no subject")
    return found
