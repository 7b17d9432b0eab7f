"""The Kafka protocol binding and the attribute types: both content modes parse to the
same event; the specification's types are taken (any non-empty id, RFC 3339 time); a
domain topic takes only its owner's events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from minsheng.events import CATALOGUE, AppealReceived, InvalidEvent, Registry
from minsheng.events.binding import Headers
from minsheng.topics import APPEALS, INTAKE_APPEALS, OWNERS, PROJECTS, owner_of
from testkit.unit.events import domain_event, encode, sample, sample_document

STRUCTURED = [("content-type", b"application/cloudevents+json")]


def binary(doc: dict[str, Any], **headers: bytes | None) -> tuple[bytes, Headers]:
    """The document in binary content mode, as the binding lays it out, with headers
    changed (None drops one)."""
    attributes = {k: v for k, v in doc.items() if k not in ("data", "datacontenttype")}
    found: dict[str, bytes | None] = {f"ce_{k}": str(v).encode() for k, v in attributes.items()}
    found["content-type"] = b"application/json"
    found.update(headers)
    return encode(doc["data"]), [(k, v) for k, v in found.items() if v is not None]


def test_both_content_modes_parse_to_the_same_event() -> None:
    doc = sample_document(AppealReceived)
    structured = CATALOGUE.parse(encode(doc), STRUCTURED)
    assert CATALOGUE.parse(*binary(doc)) == structured
    assert CATALOGUE.parse(encode(doc)) == structured  # no header: a plain JSON producer
    assert structured.envelope.sequence == 1  # ce_sequence "1" is the integer 1


def test_binary_mode_with_charset_and_mixed_case_headers() -> None:
    doc = sample_document(AppealReceived)
    value, headers = binary(doc, **{"content-type": b"application/json; charset=utf-8"})
    shouted = [(name.upper(), raw) for name, raw in headers]
    assert CATALOGUE.parse(value, shouted).data == sample(AppealReceived)


def test_structured_mode_wins_over_stray_ce_headers() -> None:
    doc = sample_document(AppealReceived)
    headers = [*STRUCTURED, ("ce_specversion", b"1.0"), ("ce_id", b"not-this")]
    assert CATALOGUE.parse(encode(doc), headers).envelope.id == doc["id"]


@pytest.mark.parametrize(
    "event_id", ["hotline-2019-000123", "42", "urn:jilin:12345:BC20191008000001"]
)
def test_any_non_empty_string_is_an_id(event_id: str) -> None:
    doc = {**sample_document(AppealReceived), "id": event_id}
    assert CATALOGUE.parse(encode(doc)).envelope.id == event_id
    assert CATALOGUE.parse(*binary(doc)).envelope.id == event_id


def test_an_intake_event_may_leave_out_the_sequence() -> None:
    doc = {k: v for k, v in sample_document(AppealReceived).items() if k != "sequence"}
    assert CATALOGUE.parse(encode(doc)).envelope.sequence is None
    assert CATALOGUE.parse(*binary(doc)).envelope.sequence is None


@pytest.mark.parametrize("time", ["2019-10-08T01:30:00Z", "2019-10-08t09:30:00.250+08:00"])
def test_rfc_3339_times_are_taken(time: str) -> None:
    doc = {**sample_document(AppealReceived), "time": time}
    assert CATALOGUE.parse(encode(doc)).envelope.time.utcoffset() is not None


@pytest.mark.parametrize(
    "time", ["2019-10-08", "2019-10-08T09:30+08:00", "20191008T093000Z", 1570498200, ""]
)
def test_other_times_are_a_bad_envelope(time: object) -> None:
    doc = {**sample_document(AppealReceived), "time": time}
    with pytest.raises(InvalidEvent) as caught:
        CATALOGUE.parse(encode(doc))
    assert caught.value.reason == "bad_envelope"
    assert "time" in caught.value.detail


@pytest.mark.parametrize(
    ("changes", "reason", "mentions"),
    [
        pytest.param({"ce_id": None}, "bad_envelope", "ce_id: Field required", id="no-id"),
        pytest.param({"ce_id": b""}, "bad_envelope", "ce_id", id="empty-id"),
        pytest.param({"ce_time": b"yesterday"}, "bad_envelope", "ce_time", id="time"),
        pytest.param({"ce_sequence": b"first"}, "bad_envelope", "ce_sequence", id="sequence"),
        pytest.param({"ce_specversion": b"0.3"}, "bad_envelope", "ce_specversion", id="version"),
        pytest.param({"ce_mood": b"angry"}, "bad_envelope", "ce_mood", id="unknown-extension"),
        pytest.param({"ce_subject": b"\xff"}, "bad_envelope", "ce_subject", id="not-utf8"),
        pytest.param(
            {"content-type": b"text/plain"}, "bad_envelope", "text/plain", id="content-type"
        ),
        pytest.param(
            {"ce_type": b"minsheng.AppealVanished.v1"}, "unknown_type", "Vanished", id="type"
        ),
    ],
)
def test_a_bad_binary_event_names_the_header(
    changes: dict[str, bytes | None], reason: str, mentions: str
) -> None:
    with pytest.raises(InvalidEvent) as caught:
        CATALOGUE.parse(*binary(sample_document(AppealReceived), **changes))
    assert caught.value.reason == reason
    assert mentions in caught.value.detail


@pytest.mark.parametrize(
    ("value", "reason", "mentions"),
    [
        pytest.param(b"{not json", "bad_json", "", id="data-not-json"),
        pytest.param(None, "bad_envelope", "value: Field required", id="no-data"),
        pytest.param(b"[1]", "bad_envelope", "value", id="data-not-an-object"),
    ],
)
def test_bad_binary_data(value: bytes | None, reason: str, mentions: str) -> None:
    _, headers = binary(sample_document(AppealReceived))
    with pytest.raises(InvalidEvent) as caught:
        CATALOGUE.parse(value, headers)
    assert caught.value.reason == reason
    assert mentions in caught.value.detail


def test_only_the_json_event_format_is_taken_in_structured_mode() -> None:
    doc = encode(sample_document(AppealReceived))
    for media in (b"application/cloudevents-batch+json", b"application/cloudevents+avro"):
        with pytest.raises(InvalidEvent) as caught:
            CATALOGUE.parse(doc, [("content-type", media)])
        assert caught.value.reason == "bad_envelope"


def test_a_domain_topic_takes_its_owners_events_only() -> None:
    event = domain_event(sample(AppealReceived))
    owner = OWNERS[APPEALS]
    assert event.source == owner
    assert CATALOGUE.parse(event.to_json(), owner=owner).envelope == event
    forged = event.model_copy(update={"source": "gov/12345-hotline"})
    with pytest.raises(InvalidEvent) as caught:
        CATALOGUE.parse(forged.to_json(), owner=owner)
    assert caught.value.reason == "foreign_source"
    assert "gov/12345-hotline" in caught.value.detail
    assert "minsheng/appeals" in caught.value.detail


@pytest.mark.parametrize(
    ("changes", "mentions"),
    [({"sequence": None}, "sequence"), ({"id": "hotline-1"}, "UUID")],
)
def test_a_domain_topic_takes_our_own_envelope_only(changes: dict[str, Any], mentions: str) -> None:
    doc = json.loads(domain_event(sample(AppealReceived)).to_json())
    doc = {k: v for k, v in {**doc, **changes}.items() if v is not None}
    with pytest.raises(InvalidEvent) as caught:
        Registry([AppealReceived]).parse(encode(doc), owner=OWNERS[APPEALS])
    assert caught.value.reason == "bad_envelope"
    assert mentions in caught.value.detail


def test_owners_of_topics_and_of_their_configured_names() -> None:
    assert owner_of(APPEALS) == "minsheng/appeals"
    assert owner_of(PROJECTS) == "minsheng/projects"
    assert owner_of(INTAKE_APPEALS) is None  # anyone may publish to intake
    assert owner_of("test.1234") is None
    assert owner_of("test.1234", {"test.1234": PROJECTS}) == "minsheng/projects"
