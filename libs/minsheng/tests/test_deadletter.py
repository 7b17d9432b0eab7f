"""A dead letter keeps what an operator needs, without a readable personal number. Pure."""

from __future__ import annotations

import json

from minsheng.deadletter import Read, dead_letter
from minsheng.events import InvalidEvent

ERROR = InvalidEvent("schema_violation", "data.channel: Input should be 'hotline' (13912345678)")


def letter(value: bytes | None, key: bytes | None = b"HL-1", **headers: bytes) -> dict[str, object]:
    record = Read("minsheng.intake.appeals.v1", 2, 41, key, value)
    found = dead_letter(ERROR, service="appeals", record=record, original=list(headers.items()))
    return {"key": found.key, "value": found.value, "headers": dict(found.headers)}


def test_a_json_letter_keeps_its_shape_ids_and_reason_with_numbers_masked() -> None:
    event = {
        "id": "7d1c2a4e-5b6f-4a8b-9c0d-e1f2a3b4c5d6",
        "subject": "HL-20261201000042",
        "sequence": 3,
        "data": {"description": "请回电+86 139 1234 5678，身份证22080219900101123X"},
    }
    found = letter(json.dumps(event, ensure_ascii=False).encode(), key=b"13912345678")
    masked = json.loads(found["value"])  # type: ignore[arg-type]
    assert masked == {
        **event,
        "data": {"description": "请回电+86 139 **** 5678，身份证2208**********123X"},
    }
    assert found["key"] == b"139****5678"
    headers = found["headers"]
    assert isinstance(headers, dict)
    assert headers["dlq.reason"] == b"schema_violation"
    assert b"139****5678" in headers["dlq.detail"]
    assert headers["dlq.offset"] == b"41"


def test_original_headers_are_masked_and_a_clean_message_is_kept_byte_for_byte() -> None:
    raw = b'{"subject": "HL-1",  "sequence": 1}'
    found = letter(
        raw,
        **{
            "traceparent": b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "note": b"call 13912345678",
        },
    )
    assert found["value"] is raw
    headers = found["headers"]
    assert isinstance(headers, dict)
    assert headers["note"] == b"call 139****5678"
    assert headers["traceparent"].startswith(b"00-0af7651916cd43dd8448eb211c80319c")


def test_bytes_that_are_not_json_are_masked_as_text() -> None:
    assert letter(b"{not json 139-1234-5678")["value"] == b"{not json 139-****-5678"
    empty = letter(None, key=None)
    assert (empty["key"], empty["value"]) == (None, None)
