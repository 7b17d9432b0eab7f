"""受理: receiving an appeal, however it arrives, and the intake from other systems.

`receive` is the one code path of a new appeal (POST /v1/appeals, Open311, and other
government systems over Kafka): AppealReceived (1) and, in the same transaction, the
automatic 派单 by the routing rules, AppealDispatched (2).

`consumer` is the background job that reads `minsheng.intake.appeals.v1`. Other systems
publish CloudEvents there under their own source and subject; each event applies once
for good, keyed by (source, id) in `intake_seen`. AppealReceived becomes one of our
appeals (remembered by the sender's (source, subject)); SatisfactionRecorded for that
subject becomes the appeal's call-back. What names an unknown place, category or appeal,
or breaks a rule of the lifecycle, is rejected to the dead-letter topic (reason
`rejected`). Our own canonical events go to `minsheng.appeals.v1` through the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from appeals import domain, journal, lifecycle, routing, store, timer_store
from appeals.lifecycle import AppealState
from appeals.serials import SerialBlocks
from minsheng.aggregate import Sequenced
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
from minsheng.reference import categories, routing_table
from minsheng.service import Job
from minsheng.topics import APPEALS

ROUTER = "router"  # dispatched_by of an automatic dispatch by the routing rules
GROUP = "appeals-intake"
REGISTRY = Registry(INTAKE_APPEAL_EVENTS)


class Replay(Exception):
    """Another request with the same Idempotency-Key won: its appeal is the answer."""

    def __init__(self, appeal_id: str) -> None:
        super().__init__(appeal_id)
        self.appeal_id = appeal_id


@dataclass(frozen=True)
class Receipt:
    """One appeal to receive, at the instant its request came in."""

    cmd: domain.ReceiveAppeal
    at: datetime
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Received:
    appeal_id: str
    view: dict[str, Any]  # as `journal.view` would read it back, without reading it


async def receive(
    conn: Conn, cmd: domain.ReceiveAppeal, at: datetime, *, idempotency_key: str | None = None
) -> str:
    """受理 and 派单 in the caller's transaction; returns the new appeal's id.

    Raises `domain.UnknownPlace`, or `Replay` when another appeal holds the key.
    """
    (answer,) = await receive_many(conn, [Receipt(cmd, at, idempotency_key)])
    if isinstance(answer, Exception):
        raise answer
    return answer.appeal_id


ReceiveAnswer = Received | domain.UnknownPlace | Replay


async def receive_many(
    conn: Conn, receipts: Sequence[Receipt], serials: SerialBlocks | None = None
) -> list[ReceiveAnswer]:
    """`receive` for many appeals in one statement (`store.insert_received`): atomic by
    itself, so it needs no transaction of its own, or part of the caller's.

    Each receipt is answered on its own: received, an unknown place, or a replay of the
    appeal that already holds its Idempotency-Key (also one earlier in the same list).
    `serials` hands out the appeal numbers from memory; without it they come from the
    sequence, one round trip more.
    """
    answers: list[ReceiveAnswer | None] = [None] * len(receipts)
    numbers = await (
        serials.take(conn, len(receipts))
        if serials is not None
        else store.next_serials(conn, len(receipts))
    )
    built: list[tuple[int, domain.Appeal, AppealReceived]] = []
    for i, (r, serial) in enumerate(zip(receipts, numbers, strict=True)):
        try:
            built.append((i, *domain.receive(r.cmd, serial=serial, now=r.at)))
        except domain.UnknownPlace as exc:
            answers[i] = exc
    claims: dict[str, str] = {}  # the first appeal of each key in the list claims it
    fresh: list[tuple[int, domain.Appeal, AppealReceived]] = []
    for i, appeal, received in built:
        key = receipts[i].idempotency_key
        if key is None or claims.setdefault(key, appeal.id) == appeal.id:
            fresh.append((i, appeal, received))
    outcomes = [
        (*_dispatched(received, receipts[i].at), receipts[i].at) for i, _, received in fresh
    ]
    events = journal.new_events(outcomes)
    lost = await store.insert_received(
        conn,
        [
            (appeal, state, at, receipts[i].idempotency_key)
            for (i, appeal, _), (state, _, at) in zip(fresh, outcomes, strict=True)
        ],
        [event for mine in events.values() for event in mine],
        timer_store.timer_rows([state for state, _, _ in outcomes]),
        topic=APPEALS,
    )
    holders = {**claims, **(await store.key_holders(conn, sorted(lost)) if lost else {})}
    for (i, appeal, _), (state, _, at) in zip(fresh, outcomes, strict=True):
        if receipts[i].idempotency_key not in lost:
            view = journal.fresh_view(appeal, state, events[appeal.id], at)
            answers[i] = Received(appeal.id, view)
    for i, answer in enumerate(answers):
        if answer is None:  # its key was claimed by another receipt, here or earlier
            answers[i] = Replay(holders[cast(str, receipts[i].idempotency_key)])
    return cast(list[ReceiveAnswer], answers)


def _dispatched(received: AppealReceived, at: datetime) -> tuple[AppealState, list[Sequenced]]:
    """The new appeal, dispatched by the routing rules (派单 in the same transaction)."""
    state, emitted = lifecycle.open_appeal(received)
    unit = routing.route(
        routing_table(),
        category=received.category,
        district=received.district,
        street=received.street,
        community=received.community,
    )
    state, dispatched = lifecycle.dispatch(state, unit=unit, by=ROUTER, now=at)
    return state, emitted + dispatched


def consumer(clock: Clock, *, topic: str, group: str = GROUP) -> Job:
    """The Runtime job consuming the intake topic; `clock` stamps what it records."""

    async def handle(conn: Conn, event: ParsedEvent) -> None:
        if not await first_sighting(conn, "intake_seen", event):
            return
        source, event_id = event.envelope.source, str(event.envelope.id)
        match event.data:
            case AppealReceived() as data:
                appeal_id = await _received(conn, event.envelope.subject, source, data, clock())
            case SatisfactionRecorded() as data:
                appeal_id = await _satisfaction(conn, event.envelope.subject, source, data, clock())
            case other:
                raise InvalidEvent("unknown_type", f"{other.event_name} is not taken on intake")
        await conn.execute(
            "UPDATE intake_seen SET appeal_id = $3 WHERE source = $1 AND event_id = $2",
            source,
            event_id,
            appeal_id,
        )

    return consumer_job(topic=topic, group=group, registry=REGISTRY, handler=handle)


async def _received(
    conn: Conn, subject: str, source: str, data: AppealReceived, at: datetime
) -> str:
    if data.category not in categories():
        raise InvalidEvent(
            "rejected", f"unknown category {data.category}; valid: {', '.join(categories())}"
        )
    if await _mapped(conn, source, subject) is not None:
        raise InvalidEvent("rejected", f"{source} already sent appeal {subject}")
    cmd = domain.ReceiveAppeal(
        title=data.title,
        description=data.description,
        category=data.category,
        district=data.district,
        street=data.street,
        community=data.community,
        channel=data.channel,
        phone=None,  # other systems send only a masked phone: nothing to keep
        contact_name=None,
    )
    try:
        appeal_id = await receive(conn, cmd, at)
    except domain.UnknownPlace as exc:
        raise InvalidEvent("rejected", f"unknown district, street or community: {exc}") from exc
    await conn.execute(
        "INSERT INTO intake_appeals (source, subject, appeal_id) VALUES ($1, $2, $3)",
        source,
        subject,
        appeal_id,
    )
    return appeal_id


async def _satisfaction(
    conn: Conn, subject: str, source: str, data: SatisfactionRecorded, at: datetime
) -> str:
    appeal_id = await _mapped(conn, source, subject) if data.subject_type == "appeal" else None
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
    except lifecycle.LifecycleError as exc:
        raise InvalidEvent("rejected", f"appeal {state.id}: {exc}") from exc
    await journal.record(conn, new, emitted, at)
    return state.id


async def _mapped(conn: Conn, source: str, subject: str) -> str | None:
    found = await conn.fetchval(
        "SELECT appeal_id FROM intake_appeals WHERE source = $1 AND subject = $2", source, subject
    )
    return None if found is None else str(found)
