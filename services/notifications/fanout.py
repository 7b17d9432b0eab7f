"""From one event to its deliveries (pure): the matching rules, their recipients in the
directory, one delivery per recipient and channel, rendered, with its first moment.

A delivery's id is derived from (event id, recipient, channel), the same key the
database holds unique, so planning the same event twice plans the same deliveries and
inserting them again inserts nothing. Messages to citizens are held past quiet hours.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from minsheng.events import CloudEvent, EventData
from notifications.delivery import shown_as
from notifications.directory import Contact, Directory
from notifications.memory import Subject
from notifications.messages import Locale, render, working_days_left
from notifications.quiet import QuietHours, send_after
from notifications.rules import Rule, RuleSet, facts

NAMESPACE = uuid.UUID("6d1f8a4e-3c1b-4e55-9a53-6e6f74696679")
_NAMESPACE_BYTES = NAMESPACE.bytes


@dataclass(frozen=True)
class Target:
    """A recipient as a delivery sees it: who, what kind, and where each channel goes."""

    recipient: str
    kind: str
    name: str
    addresses: dict[str, str]
    locale: Locale = "zh"
    unit: str | None = None  # the unit it stands for, for unit recipients

    @classmethod
    def of(cls, kind: str, contact: Contact, unit: str | None = None) -> Target:
        addresses = {"webhook": contact.webhook, "email": contact.email}
        return cls(
            recipient=contact.id,
            kind=kind,
            name=unit or contact.name,
            addresses={k: v for k, v in addresses.items() if v},
            locale=contact.locale,
            unit=unit,
        )

    @property
    def shown_as(self) -> str:
        return shown_as(self.kind, self.recipient)


@dataclass(frozen=True)
class Origin:
    """What a delivery answers to: an event of the domain topics, or an alert."""

    event_id: uuid.UUID
    event_type: str
    time: datetime
    subject_kind: str
    subject_id: str
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class NewDelivery:
    id: str
    origin: Origin
    rule: str
    target: Target
    channel: str
    title: str
    body: str
    payload: dict[str, Any]
    first_attempt_at: datetime
    deferred: bool
    page_id: str | None = None

    @property
    def address(self) -> str:
        return self.target.addresses[self.channel]


def delivery_id(event_id: uuid.UUID, recipient: str, channel: str) -> str:
    """`uuid5(NAMESPACE, "{event_id}/{recipient}/{channel}")`, in hex: the same bits
    (RFC 4122's SHA-1 name-based UUID), without building two UUID objects per delivery."""
    digest = bytearray(
        hashlib.sha1(_NAMESPACE_BYTES + f"{event_id}/{recipient}/{channel}".encode()).digest()[:16]
    )
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    return "ntf_" + digest.hex()


def build(
    origin: Origin,
    *,
    rule: str,
    target: Target,
    channel: str,
    template: str,
    context: dict[str, Any],
    now: datetime,
    quiet: QuietHours,
    page_id: str | None = None,
) -> NewDelivery:
    """One delivery, rendered in the recipient's locale, first due when it may be sent."""
    ident = delivery_id(origin.event_id, target.recipient, channel)
    first = send_after(quiet, target.kind, now)
    message = render(
        template,
        target.locale,
        {
            **context,
            "recipient": target.name,
            "recipient_unit": target.unit,
            "delivery_id": ident,
            "page": page_id is not None,
            "working_days_left": working_days_left(first, context.get("deadline")),
        },
    )
    payload = {
        "id": ident,
        "type": "minsheng.notification",
        "rule": rule,
        "event": {
            "id": str(origin.event_id),
            "type": origin.event_type,
            "time": origin.time.isoformat(),
            "subject": origin.subject_id,
        },
        "recipient": target.shown_as,
        "locale": target.locale,
        "title": message.title,
        "text": message.body,
        "data": origin.data,
    }
    if page_id is not None:
        payload["page"] = {"id": page_id, "ack": f"/v1/deliveries/{ident}/ack"}
    return NewDelivery(
        ident,
        origin,
        rule,
        target,
        channel,
        message.title,
        message.body,
        payload,
        first,
        first > now,
        page_id,
    )


def plan(
    envelope: CloudEvent,
    data: EventData,
    subject: Subject,
    rules: RuleSet,
    directory: Directory,
    *,
    now: datetime,
    quiet: QuietHours,
) -> list[NewDelivery]:
    """The deliveries one event asks for, once per (recipient, channel)."""
    if not rules.addresses(data.event_name):  # most events ask for nothing: spend nothing
        return []
    matched = rules.matching(data.event_name, facts(data, subject.unit))
    if not matched:
        return []
    origin = Origin(
        uuid.UUID(envelope.id),  # a domain topic's event: its id was checked to be a UUID
        data.event_name,
        envelope.time,
        subject.kind,
        subject.id,
        data.model_dump(mode="json"),
    )
    context = template_context(data, subject)
    planned: dict[tuple[str, str], NewDelivery] = {}
    for rule in matched:
        for target in _targets(rule, data, subject, directory):
            for channel in rule.channels:
                key = (target.recipient, channel)
                if key in planned or channel not in target.addresses:
                    continue
                planned[key] = build(
                    origin,
                    rule=rule.id,
                    target=target,
                    channel=channel,
                    template=rule.template,
                    context=context,
                    now=now,
                    quiet=quiet,
                )
    return list(planned.values())


def template_context(data: EventData, subject: Subject) -> dict[str, Any]:
    deadline = data.get("new_deadline") or data.get("deadline")
    return {
        "data": data,
        "appeal_number": subject.id if subject.kind == "appeal" else None,
        "deadline": deadline or subject.deadline,
        "unit": data.get("unit") or subject.unit,
        "project_title": subject.title or subject.id,
        "secretary_name": subject.secretary_name,
        "grid": subject.grid.rsplit("/", 1)[-1] if subject.grid else None,
    }


def _targets(
    rule: Rule, data: EventData, subject: Subject, directory: Directory
) -> Iterator[Target]:
    for kind in rule.recipients:
        if kind == "unit":
            yield from _units([data.get("unit") or subject.unit], directory)
        elif kind == "assisting_units":
            assisting = data.get("assisting_units") or subject.assisting_units
            yield from _units(assisting, directory)
        elif kind == "citizen":
            if subject.contact_ref and subject.phone_masked:  # no phone, no SMS
                sms = {"sms": subject.contact_ref}
                yield Target(subject.phone_masked, "citizen", "", sms)
        elif kind == "grid_chiefs":
            chiefs = directory.grid_chiefs(subject.grid, rule.grid_chiefs) if subject.grid else ()
            yield from (Target.of("grid_chief", chief) for chief in chiefs)
        elif kind == "secretary":
            district, level = data.get("district", ""), data.get("level", "")
            yield Target.of("secretary", directory.secretary(district, level))
        else:
            yield Target.of(kind, directory.office(kind))


def _units(names: Iterable[str | None], directory: Directory) -> Iterator[Target]:
    for name in names:
        contact = directory.unit(name) if name else None
        if contact is not None:
            yield Target.of("unit", contact, unit=name)
