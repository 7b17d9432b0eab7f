"""The envelope and the registry: every type round-trips; bad input fails with a reason."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from minsheng.events import (
    ALL_EVENTS,
    CATALOGUE,
    AppealReceived,
    EventData,
    InvalidEvent,
    new_event,
)
from testkit.unit.events import NOW, document_with, encode, sample, sample_event

ALL = pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.event_name)


def _envelope(**changes: Any) -> bytes:
    return encode(document_with(AppealReceived, **changes))


def _payload(**changes: Any) -> bytes:
    return encode(document_with(AppealReceived, data=changes))


@ALL
def test_every_type_round_trips_through_json(model: type[EventData]) -> None:
    event = sample_event(model)
    parsed = CATALOGUE.parse(event.to_json())
    assert parsed.envelope == event
    assert type(parsed.data) is model
    assert parsed.data == sample(model)
    assert CATALOGUE.parse(event.to_json().decode()).data == sample(model)


@ALL
def test_envelope_names_type_schema_and_key(model: type[EventData]) -> None:
    event = sample_event(model)
    assert event.type == f"minsheng.{model.event_name}.v1"
    assert event.dataschema == model.schema_url()
    assert event.key == event.subject.encode()
    assert "traceparent" not in json.loads(event.to_json())


@ALL
def test_get_reads_a_field_the_type_has_and_defaults_otherwise(model: type[EventData]) -> None:
    data = sample(model)
    for name in model.model_fields:
        assert data.get(name) == getattr(data, name)
    assert data.get("no_such_field") is None
    assert data.get("no_such_field", "x") == "x"


def test_new_event_defaults_to_an_aware_now() -> None:
    event = new_event(sample(AppealReceived), subject="a", sequence=1, source="minsheng/tests")
    assert event.time.utcoffset() is not None
    assert event.time > NOW


def test_payloads_are_immutable() -> None:
    with pytest.raises(ValidationError):
        sample(AppealReceived).title = "改了"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "reason", "mentions"),
    [
        pytest.param(None, "bad_json", "empty", id="no-value"),
        pytest.param(b"{not json", "bad_json", "", id="not-json"),
        pytest.param(b"\xff\xfe", "bad_json", "", id="not-utf8"),
        pytest.param(b"[1, 2]", "bad_json", "list", id="array"),
        pytest.param(b'"text"', "bad_json", "str", id="string"),
        pytest.param(_envelope(subject=None), "bad_envelope", "subject", id="no-subject"),
        pytest.param(_envelope(sequence=0), "bad_envelope", "sequence", id="sequence-0"),
        pytest.param(_envelope(time="2019-10-08T09:30:00"), "bad_envelope", "time", id="naive"),
        pytest.param(_envelope(specversion="0.3"), "bad_envelope", "specversion", id="version"),
        pytest.param(
            _envelope(specversion=None), "bad_envelope", "specversion", id="no-specversion"
        ),
        pytest.param(_envelope(extra=1), "bad_envelope", "extra", id="unknown-attribute"),
        pytest.param(
            _envelope(type="minsheng.AppealVanished.v1"), "unknown_type", "Vanished", id="type"
        ),
        pytest.param(_payload(title=None), "schema_violation", "title", id="missing-field"),
        pytest.param(_payload(mood="angry"), "schema_violation", "mood", id="extra-field"),
        pytest.param(_payload(channel="fax"), "schema_violation", "channel", id="bad-enum"),
        pytest.param(
            _payload(received_at="2019-10-08T09:30:00"),
            "schema_violation",
            "received_at",
            id="naive",
        ),
        pytest.param(
            _payload(phone_masked="13812345678"), "schema_violation", "phone_masked", id="phone"
        ),
    ],
)
def test_bad_messages_fail_with_a_reason(raw: bytes | None, reason: str, mentions: str) -> None:
    with pytest.raises(InvalidEvent) as caught:
        CATALOGUE.parse(raw)
    assert caught.value.reason == reason
    assert mentions in caught.value.detail


@pytest.mark.parametrize("phone", ["13812345678", "138 1234 5678", "138-****-5678", "1381234****"])
def test_a_full_or_oddly_masked_phone_is_refused(phone: str) -> None:
    fields = sample(AppealReceived).model_dump()
    with pytest.raises(ValidationError, match="phone_masked"):
        AppealReceived.model_validate({**fields, "phone_masked": phone})
    assert AppealReceived.model_validate({**fields, "phone_masked": "139****0000"})
