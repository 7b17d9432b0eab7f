"""The input types PostgreSQL can take: text without NUL, 32-bit integers, instants UTC
and the city's zone can show, as RFC 3339 text only; and the events hold intake to them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from minsheng.clock import CITY_TZ
from minsheng.events import AppealReceived
from minsheng.inputs import Instant, Int32, Text, check_text, parse_instant

RECEIVED: dict[str, Any] = {
    "appeal_id": "BC-1",
    "title": "井盖缺失",
    "category": "complaint",
    "district": "洮北区",
    "channel": "app",
    "received_at": "2019-10-08T09:00:00+08:00",
}


def test_text_refuses_nul_and_says_so_in_its_schema() -> None:
    text = TypeAdapter(Text)
    assert text.validate_python("井盖 ok") == "井盖 ok"
    with pytest.raises(ValidationError):
        text.validate_python("a\x00b")
    assert text.json_schema()["pattern"] == "^[^\\x00]*$"
    assert check_text("fine") == "fine"
    with pytest.raises(ValueError, match="title: NUL"):
        check_text("\x00", "title")


def test_int32_is_what_an_integer_column_holds() -> None:
    adapter = TypeAdapter(Int32)
    assert adapter.validate_python(2**31 - 1) == 2**31 - 1
    for beyond in (2**31, -(2**31) - 1, 99999999999):
        with pytest.raises(ValidationError):
            adapter.validate_python(beyond)


@pytest.mark.parametrize(
    "text",
    [
        "yesterday",
        "0.5",
        "1570496400",
        "2019-10-08",  # a date, not a time
        "20191008T090000Z",  # ISO 8601's basic form is no RFC 3339 date-time
        "2019-10-08T09:00:00",  # no offset
        "0001-01-01T00:00:00+14:00",  # year 0 in UTC
        "9999-12-31T23:00:00-12:00",  # year 10000 in UTC
        "2019-10-08T09:00:00\x00Z",
    ],
)
def test_an_instant_is_rfc3339_with_an_offset_within_range(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Instant).validate_python(text)
    with pytest.raises(ValueError, match=r"^at: "):
        parse_instant(text, name="at")


def test_an_instant_parses_and_naive_times_take_the_zone_given() -> None:
    moment = datetime(2019, 10, 8, 9, tzinfo=timezone(timedelta(hours=8)))
    assert TypeAdapter(Instant).validate_python("2019-10-08T09:00:00+08:00") == moment
    assert TypeAdapter(Instant).validate_python(moment) == moment
    assert parse_instant("2019-10-08T01:00:00Z") == moment.astimezone(UTC)
    assert parse_instant("2019-10-08T09:00:00", CITY_TZ) == moment
    assert parse_instant("0001-01-01T00:00:00Z").year == 1  # Alertmanager's "no end"
    with pytest.raises(ValidationError):
        TypeAdapter(Instant).validate_python(1570496400)


@pytest.mark.parametrize(
    ("field", "value"),
    [("title", "井盖\x00"), ("district", "\x00"), ("received_at", "0001-01-01T00:00:00+14:00")],
)
def test_an_event_from_another_system_is_held_to_the_same_types(field: str, value: str) -> None:
    AppealReceived.model_validate(RECEIVED)
    with pytest.raises(ValidationError):
        AppealReceived.model_validate({**RECEIVED, field: value})
