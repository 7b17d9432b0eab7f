"""CloudEvents 1.0 envelope shared by every Minsheng event, whichever content mode.

The envelope is kept separate from the payload models so that a consumer can reject a
message for a bad envelope before it knows the event type, and say which it was. Its
attributes have the specification's types (an `id` is any non-empty string, a `time` an
RFC 3339 timestamp), so events of systems we did not write are taken as they are.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema

from minsheng.inputs import Instant, Text

CONTENT_TYPE = "application/cloudevents+json"
SCHEMA_BASE = "https://minsheng.example/contracts/schemas"


class EventData(BaseModel):
    """Base of every event payload; subclasses name their CloudEvents `type`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_name: ClassVar[str]
    version: ClassVar[int] = 1

    @classmethod
    def event_type(cls) -> str:
        return f"minsheng.{cls.event_name}.v{cls.version}"

    @classmethod
    def schema_url(cls) -> str:
        return f"{SCHEMA_BASE}/{cls.event_type()}.json"

    def get(self, name: str, default: Any = None) -> Any:
        """The field `name` if this type has one: what consumers that take many types
        read. `getattr` with a default goes through pydantic's `__getattr__` and an
        exception for every absent field, which a consumer's hot path pays per event."""
        return self.__dict__.get(name, default)


class CloudEvent(BaseModel):
    """A CloudEvents 1.0 envelope with the `sequence` and `traceparent` extensions."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    specversion: Literal["1.0"]
    id: Text = Field(
        min_length=1,
        description="Unique per source: (source, id) names the event. Ours are UUIDs.",
    )
    source: Text = Field(min_length=1, examples=["minsheng/appeals", "gov/12345-hotline"])
    type: str = Field(pattern=r"^minsheng\.[A-Za-z]+\.v[0-9]+$")
    time: Instant
    subject: Text = Field(min_length=1, description="The aggregate id; also the Kafka key.")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: Text | None = None
    # absent rather than null in the published schema (a null is taken as absent)
    sequence: Annotated[int | None, WithJsonSchema({"type": "integer", "minimum": 1})] = Field(
        default=None,
        ge=1,
        description="Per-aggregate sequence number: 1, 2, 3, ... Required on the domain "
        "topics; optional on the intake topics, where (source, id) alone deduplicates.",
    )
    traceparent: str | None = Field(
        default=None, pattern=r"^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"
    )
    data: dict[str, Any]

    def to_json(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @property
    def key(self) -> bytes:
        return self.subject.encode()


def new_event(
    data: EventData,
    *,
    subject: str,
    sequence: int,
    source: str,
    time: datetime | None = None,
    event_id: uuid.UUID | str | None = None,
    traceparent: str | None = None,
) -> CloudEvent:
    """Wrap a payload in an envelope; `time` defaults to now (UTC, timezone-aware)."""
    return CloudEvent(
        specversion="1.0",
        id=str(event_id or uuid.uuid4()),
        source=source,
        type=data.event_type(),
        time=time or datetime.now(UTC),
        subject=subject,
        dataschema=data.schema_url(),
        sequence=sequence,
        traceparent=traceparent,
        data=data.model_dump(mode="json"),
    )
