"""Maps CloudEvents `type` strings to payload models and parses raw Kafka values.

Parsing raises `InvalidEvent` with a short machine-readable `reason`; consumers put that
reason in the dead-letter headers and in the `minsheng_dead_letters_total` label.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from pydantic import ValidationError

from minsheng.events.envelope import CloudEvent, EventData


class InvalidEvent(Exception):
    """A message that cannot be applied: `reason` is one of REASONS, `detail` says why."""

    REASONS = (
        "bad_json",
        "bad_envelope",
        "unknown_type",
        "schema_violation",
        "rejected",
        "handler_error",
    )

    def __init__(self, reason: str, detail: str) -> None:
        assert reason in self.REASONS, reason
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


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

    def parse(self, raw: bytes | str | None) -> ParsedEvent:
        if raw is None:
            raise InvalidEvent("bad_json", "empty message value")
        try:
            doc = json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidEvent("bad_json", str(exc)) from exc
        if not isinstance(doc, dict):
            raise InvalidEvent("bad_json", f"expected a JSON object, got {type(doc).__name__}")
        try:
            envelope = CloudEvent.model_validate(doc)
        except ValidationError as exc:
            raise InvalidEvent("bad_envelope", _summary(exc)) from exc
        model = self._models.get(envelope.type)
        if model is None:
            raise InvalidEvent("unknown_type", f"unknown event type {envelope.type!r}")
        try:
            data = model.model_validate(envelope.data)
        except ValidationError as exc:
            raise InvalidEvent("schema_violation", _summary(exc)) from exc
        return ParsedEvent(envelope, data)


def _summary(exc: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()]
    return "; ".join(parts[:5])
