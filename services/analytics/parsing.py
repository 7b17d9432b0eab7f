"""A domain topic's record as an event: the workers and the rebuild take and reject the
same events. Apart from consumers.py so that the rebuild's processes parse without the
agents' Faust machinery."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minsheng.events import CATALOGUE, ParsedEvent
from minsheng.events.decoder import Decoder
from minsheng.topics import owner_of

DECODER = Decoder(CATALOGUE)  # the catalogue's parse, msgspec where it can


def parse(topic: str, value: bytes | None, headers: Any = None) -> ParsedEvent:
    """A record of a domain topic as an event, if its source is the topic's owner (else
    `foreign_source`): the workers and the rebuild take and reject the same events."""
    return parser(topic)(value, headers)


def parser(topic: str) -> Callable[[bytes | None, Any], ParsedEvent]:
    """`parse` for the records of one topic, its owner looked up once (the rebuild's)."""
    owner, decode = owner_of(topic), DECODER.parse

    def parse_record(value: bytes | None, headers: Any = None) -> ParsedEvent:
        return decode(value, headers_of(headers) if headers else (), owner=owner)

    return parse_record


def headers_of(raw: Any) -> list[tuple[str, bytes]]:
    """A record's headers as (name, bytes) pairs, from Faust's dict or aiokafka's list."""
    if not raw:
        return []
    items = raw.items() if isinstance(raw, dict) else raw
    return [(str(k), bytes(v or b"")) for k, v in items]
