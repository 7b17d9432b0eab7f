"""The intake consumer: other government systems' appeals and call-backs, from Kafka.

`consumer` is the background job that reads `minsheng.intake.appeals.v1`. Other systems
publish CloudEvents there under their own source and subject; each event applies once
for good, keyed by (source, id) in `intake_seen`. AppealReceived becomes one of our
appeals through `store.receipts.receive`, the one path of a new appeal (remembered by
the sender's (source, subject)), its title and description kept as sent while our
AppealReceived masks them as every event does; SatisfactionRecorded for that subject
becomes the appeal's call-back. What names an unknown place, category or appeal, or
breaks a rule of the lifecycle, is rejected to the dead-letter topic (reason
`rejected`). Our own canonical events go to `minsheng.appeals.v1` through the outbox.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from appeals import lifecycle
from appeals.receiving import ReceiveAppeal, UnknownPlace
from appeals.store import intake, journal
from appeals.store.receipts import receive
from minsheng.aggregate import LifecycleError
from minsheng.clock import Clock
from minsheng.db import Conn
from minsheng.events import (
    INTAKE_APPEAL_EVENTS,
    AppealReceived,
    InvalidEvent,
    ParsedEvent,
    Registry,
    SatisfactionRecorded,
)
from minsheng.jobs import consumer_job, first_sighting
from minsheng.reference import categories
from minsheng.service import Job

GROUP = "appeals-intake"
_AS_SENT = ("title", "description")  # free text the appeal keeps unmasked (validated)
REGISTRY = Registry(INTAKE_APPEAL_EVENTS)


def consumer(clock: Clock, *, topic: str, group: str = GROUP) -> Job:
    """The Runtime job consuming the intake topic; `clock` stamps what it records."""

    async def handle(conn: Conn, event: ParsedEvent) -> None:
        if not await first_sighting(conn, "intake_seen", event):
            return
        source, event_id = event.envelope.source, str(event.envelope.id)
        match event.data:
            case AppealReceived() as data:
                sent = event.envelope.data
                appeal_id = await _received(
                    conn, event.envelope.subject, source, data, sent, clock()
                )
            case SatisfactionRecorded() as data:
                appeal_id = await _satisfaction(conn, event.envelope.subject, source, data, clock())
            case other:
                raise InvalidEvent("unknown_type", f"{other.event_name} is not taken on intake")
        await intake.seen_for(conn, source, event_id, appeal_id)

    return consumer_job(topic=topic, group=group, registry=REGISTRY, handler=handle)


async def _received(
    conn: Conn,
    subject: str,
    source: str,
    data: AppealReceived,
    sent: dict[str, Any],
    at: datetime,
) -> str:
    """`data` is the payload as parsed (its text masked), `sent` as it came: the appeal
    keeps the text as sent, like one received over HTTP."""
    if data.category not in categories():
        raise InvalidEvent(
            "rejected", f"unknown category {data.category}; valid: {', '.join(categories())}"
        )
    if await intake.mapped(conn, source, subject) is not None:
        raise InvalidEvent("rejected", f"{source} already sent appeal {subject}")
    shared = data.model_dump(include=ReceiveAppeal.SHARED)
    shared.update({k: sent[k] for k in _AS_SENT if isinstance(sent.get(k), str)})
    cmd = ReceiveAppeal(**shared, channel=data.channel, phone=None, contact_name=None)
    try:
        appeal_id = await receive(conn, cmd, at)
    except UnknownPlace as exc:
        raise InvalidEvent(
            "rejected", f"unknown district, street, community or grid: {exc}"
        ) from exc
    await intake.remember(conn, source, subject, appeal_id)
    return appeal_id


async def _satisfaction(
    conn: Conn, subject: str, source: str, data: SatisfactionRecorded, at: datetime
) -> str:
    appeal_id = (
        await intake.mapped(conn, source, subject) if data.subject_type == "appeal" else None
    )
    state = None if appeal_id is None else await journal.load_state(conn, appeal_id)
    if state is None:
        raise InvalidEvent("rejected", f"unknown appeal {subject} from {source}")
    try:
        new, emitted = lifecycle.callback(
            state,
            rating=data.rating,
            now=at,
            comment=data.comment,
            channel=data.channel,
            reason=data.reason,
        )
    except LifecycleError as exc:
        raise InvalidEvent("rejected", f"appeal {state.id}: {exc}") from exc
    await journal.record(conn, new, emitted, at)
    return state.id
