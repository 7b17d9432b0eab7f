"""受理 as pure rules, no I/O: what receiving an appeal means and what it emits.

A new appeal is numbered, its contact kept behind an opaque reference (the event's
title and description are masked of personal numbers by their types, `events.masked`),
and it is dispatched at once by the routing rules (派单).
`store.receipts.receive` writes it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from appeals import lifecycle, routing
from appeals.lifecycle import Outcome
from minsheng.events import AppealReceived
from minsheng.events.appeals import Channel
from minsheng.masking import mask_phone
from minsheng.reference import places, routing_table

ROUTER = "router"  # dispatched_by of an automatic dispatch by the routing rules


class UnknownPlace(ValueError):
    """The appeal names a district, street, community or grid we do not know."""


@dataclass(frozen=True)
class ReceiveAppeal:
    """What an appeal says, where it is, how it came; then who to call back."""

    # the fields an event of another system gives alike (it has no contact for us)
    SHARED: ClassVar = {
        "category",
        "district",
        "street",
        "community",
        "grid",
        "title",
        "description",
    }

    category: str
    district: str
    street: str | None
    community: str | None
    grid: str | None
    title: str
    description: str
    channel: Channel
    phone: str | None
    contact_name: str | None


@dataclass(frozen=True)
class Appeal:
    id: str
    status: str
    sequence: int
    command: ReceiveAppeal
    contact_ref: str
    received_at: datetime


def contact_ref(appeal_id: str, phone: str | None) -> str:
    """An opaque, stable reference: lets other services group contacts without the number."""
    return "c_" + hashlib.sha256(f"{appeal_id}:{phone or ''}".encode()).hexdigest()[:16]


def appeal_number(serial: int, received_at: datetime) -> str:
    return f"BC{received_at:%Y%m%d}{serial:06d}"


def receive(cmd: ReceiveAppeal, *, serial: int, now: datetime) -> tuple[Appeal, AppealReceived]:
    check_place(cmd)
    appeal_id = appeal_number(serial, now)
    ref = contact_ref(appeal_id, cmd.phone)
    appeal = Appeal(appeal_id, "received", 1, cmd, ref, now)
    event = AppealReceived(
        appeal_id=appeal_id,
        title=cmd.title,  # masked by the event's types; the appeal keeps them as typed
        description=cmd.description,
        category=cmd.category,
        district=cmd.district,
        street=cmd.street,
        community=cmd.community,
        grid=cmd.grid,
        channel=cmd.channel,
        contact_ref=ref,
        phone_masked=mask_phone(cmd.phone),
        received_at=now,
    )
    return appeal, event


def check_place(cmd: ReceiveAppeal) -> None:
    """Raises UnknownPlace unless the place is in the reference data, a grid only under
    its community (the error lists that community's grids)."""
    known = places()
    if known.knows(cmd.district, cmd.street, cmd.community, cmd.grid):
        return
    where = "/".join(p for p in (cmd.district, cmd.street, cmd.community, cmd.grid) if p)
    if cmd.grid and not cmd.community:
        raise UnknownPlace(f"unknown place {where}: a grid is named with its street and community")
    if cmd.grid and known.knows(cmd.district, cmd.street, cmd.community):
        grids = known.grids.get((cmd.district, cmd.street or "", cmd.community or ""), ())
        listed = ", ".join(grids) if grids else "none"
        raise UnknownPlace(f"unknown grid {where}; the community's grids: {listed}")
    raise UnknownPlace(f"unknown place {where}")


def dispatched_on_receipt(received: AppealReceived, at: datetime) -> Outcome:
    """The new appeal, dispatched by the routing rules (派单 in the same transaction)."""
    state, emitted = lifecycle.open_appeal(received)
    unit = routing.route_appeal(routing_table(), state)
    state, dispatched = lifecycle.dispatch(state, unit=unit, by=ROUTER, now=at)
    return state, emitted + dispatched
