"""Maps CloudEvents `type` strings to payload models and parses Kafka records.

Parsing raises `InvalidEvent` with a short machine-readable `reason`; consumers put that
reason in the dead-letter headers and in the `minsheng_dead_letters_total` label. A record
read from a domain topic is parsed with that topic's `owner`: only the owner's own events,
with our `sequence` extension and a UUID id, are taken there (defence in depth behind the
broker's ACLs); elsewhere (the intake topics) anyone may publish and `sequence` is optional.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from minsheng.events.binding import Decoded, Headers, decode
from minsheng.events.envelope import CloudEvent, EventData
from minsheng.events.errors import InvalidEvent as InvalidEvent


@dataclass(frozen=True)
class ParsedEvent:
    envelope: CloudEvent
    data: EventData


class Registry:
    """The set of event types a consumer understands."""

    def __init__(self, models: Iterable[type[EventData]]) -> None:
        self._models = {m.event_type(): m for m in models}

    def __contains__(self, event_type: str) -> bool:
        return event_type in self._models

    @property
    def models(self) -> list[type[EventData]]:
        return list(self._models.values())

    def parse(
        self, raw: bytes | str | None, headers: Headers = (), *, owner: str | None = None
    ) -> ParsedEvent:
        """A record's value and headers (either content mode) as a typed event; `owner`
        is the source that owns the topic it was read from, if any."""
        decoded = decode(raw, headers)
        try:
            envelope = CloudEvent.model_validate(decoded.document)
        except ValidationError as exc:
            raise InvalidEvent("bad_envelope", _summary(exc, decoded)) from exc
        if owner is not None:
            _owned(envelope, owner)
        model = self._models.get(envelope.type)
        if model is None:
            raise InvalidEvent("unknown_type", f"unknown event type {envelope.type!r}")
        try:
            data = model.model_validate(envelope.data)
        except ValidationError as exc:
            raise InvalidEvent("schema_violation", _summary(exc)) from exc
        return ParsedEvent(envelope, data)


def _owned(envelope: CloudEvent, owner: str) -> None:
    """An event of a domain topic is its owner's, as the owner writes them."""
    if envelope.source != owner:
        raise InvalidEvent(
            "foreign_source", f"source {envelope.source!r} is not this topic's owner {owner!r}"
        )
    if envelope.sequence is None:
        raise InvalidEvent("bad_envelope", "sequence: required on a domain topic")
    try:
        uuid.UUID(envelope.id)
    except ValueError as exc:
        raise InvalidEvent("bad_envelope", f"id: {envelope.id!r} is not a UUID") from exc


def _summary(exc: ValidationError, decoded: Decoded | None = None) -> str:
    """The first few errors, each at the attribute (or, in binary mode, header) it is."""
    parts = []
    for error in exc.errors():
        loc = [str(p) for p in error["loc"]]
        if decoded is not None and loc:
            loc[0] = decoded.where(loc[0])
        parts.append(f"{'.'.join(loc) or '<root>'}: {error['msg']}")
    return "; ".join(parts[:5])
