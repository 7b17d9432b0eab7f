"""The CloudEvents Kafka protocol binding: a record's value and headers to one document of
attributes and data, whichever content mode its producer chose.

Structured mode (header `content-type: application/cloudevents+json`, or no CloudEvents
header at all, as a plain JSON producer writes): the value is the whole event. Binary
mode (a `ce_specversion` header): the `ce_*` headers are the attributes, `content-type`
is the data's media type, and the value is the data alone. Either way the same envelope
model then validates the document, so both modes obey one set of rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from minsheng.events.errors import InvalidEvent

Headers = Sequence[tuple[str, bytes | None]]
PREFIX = "ce_"
CONTENT_TYPE_HEADER = "content-type"
STRUCTURED = "application/cloudevents"  # + "+json", the one event format taken
DATA_TYPE = "application/json"


@dataclass(frozen=True)
class Decoded:
    """The event as one JSON object, and whether its attributes came as headers."""

    document: dict[str, Any]
    binary: bool

    def where(self, attribute: str) -> str:
        """Where the producer put an attribute, to name it in a dead letter's detail."""
        if not self.binary:
            return attribute
        if attribute == "data":
            return "value"
        return CONTENT_TYPE_HEADER if attribute == "datacontenttype" else PREFIX + attribute


def decode(value: bytes | str | None, headers: Headers = ()) -> Decoded:
    """The record as a CloudEvent document; raises `InvalidEvent` when it cannot be one."""
    named = {name.lower(): raw for name, raw in headers}
    content_type = _text(CONTENT_TYPE_HEADER, named.get(CONTENT_TYPE_HEADER))
    media = _media(content_type)
    if media.startswith(STRUCTURED) or f"{PREFIX}specversion" not in named:
        if media.startswith(STRUCTURED) and media != STRUCTURED + "+json":
            raise InvalidEvent(
                "bad_envelope", f"content-type {content_type}: only {STRUCTURED}+json is taken"
            )
        document = _json(value)
        if not isinstance(document, dict):
            raise InvalidEvent("bad_json", f"expected a JSON object, got {type(document).__name__}")
        return Decoded(document, binary=False)
    attributes: dict[str, Any] = {
        name[len(PREFIX) :]: _text(name, raw)
        for name, raw in named.items()
        if name.startswith(PREFIX)
    }
    if content_type is not None:
        if media != DATA_TYPE and not media.endswith("+json"):
            raise InvalidEvent(
                "bad_envelope", f"content-type {content_type}: the data must be {DATA_TYPE}"
            )
        attributes["datacontenttype"] = DATA_TYPE
    if value is not None:
        attributes["data"] = _json(value)
    return Decoded(attributes, binary=True)


def _text(name: str, raw: bytes | None) -> str | None:
    """A header's value: a string, per the binding (UTF-8 on the wire)."""
    if raw is None:
        return None
    try:
        return raw.decode()
    except UnicodeDecodeError as exc:
        raise InvalidEvent("bad_envelope", f"header {name}: not UTF-8 ({exc})") from exc


def _media(content_type: str | None) -> str:
    """The media type alone: `application/json; charset=utf-8` -> `application/json`."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _json(value: bytes | str | None) -> Any:
    if value is None:
        raise InvalidEvent("bad_json", "empty message value")
    try:
        return json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidEvent("bad_json", str(exc)) from exc
