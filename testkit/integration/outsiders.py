"""Publishing as an outside system does, with clients nobody here wrote: the official
CloudEvents SDK for Python lays the event out (either Kafka content mode) and librdkafka
(confluent-kafka) sends it to the real broker."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from cloudevents.core.bindings import kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from confluent_kafka import KafkaError, Producer

from minsheng.events import EventData
from minsheng.kafka import KafkaAccess

Mode = Literal["structured", "binary"]


def sdk_event(data: EventData, **attributes: Any) -> CloudEvent:
    """An SDK event of our payload; `attributes` are the CloudEvents attributes (id, source,
    subject, ...); a value of None leaves one out. The SDK sets id and time if absent."""
    given = {"type": data.event_type(), "datacontenttype": "application/json", **attributes}
    return CloudEvent(
        attributes={k: v for k, v in given.items() if v is not None},
        data=data.model_dump(mode="json"),
    )


async def publish(
    access: KafkaAccess, topic: str, *events: tuple[Mode, CloudEvent], key: bytes | None = None
) -> None:
    """Each event in its content mode, in order, acknowledged; keyed by its subject, or
    all by `key` (one partition: a later event is applied after the earlier ones)."""
    producer = Producer({**access.librdkafka(), "acks": "all"})
    errors: list[KafkaError] = []
    for mode, event in events:
        layout = kafka.to_binary if mode == "binary" else kafka.to_structured
        message = layout(event, JSONFormat(), key_mapper=lambda e: key or e.get_subject())
        producer.produce(
            topic,
            value=message.value,
            key=message.key,
            headers=list(message.headers.items()),
            on_delivery=lambda error, _: errors.extend([error] if error else []),
        )
    left = await asyncio.to_thread(producer.flush, 30)
    assert left == 0, f"{left} events not acknowledged"
    assert errors == [], errors
