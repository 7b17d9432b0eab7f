"""The platform-level Prometheus metrics of docs/contract.md, shared by every service.

Domain counters (appeals received, ...) belong to analytics and are read from its
tables; these describe the plumbing: events processed, their age, dead letters, outbox.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_PROCESSED = Counter(
    "minsheng_events_processed",
    "Events applied by a consumer, by type.",
    ["service", "topic", "type"],
)
EVENT_AGE = Histogram(
    "minsheng_event_age_seconds",
    "Age of an event when a consumer applied it (now minus the event's time).",
    ["service", "topic"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
DEAD_LETTERS = Counter(
    "minsheng_dead_letters",
    "Messages a consumer rejected to the topic's dead-letter topic, by reason.",
    ["service", "topic", "reason"],
)
DUPLICATES = Counter(
    "minsheng_events_duplicate",
    "Events skipped because their sequence was not newer than the one applied.",
    ["service", "topic"],
)
SEQUENCE_GAPS = Counter(
    "minsheng_event_sequence_gaps",
    "Events applied whose sequence skipped one or more numbers (reported, still applied).",
    ["service", "topic"],
)
OUTBOX_PENDING = Gauge(
    "minsheng_outbox_pending", "Outbox rows not yet published to Kafka.", ["service"]
)
OUTBOX_OLDEST_AGE = Gauge(
    "minsheng_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row; 0 when the outbox is empty.",
    ["service"],
)
OUTBOX_PUBLISHED = Counter(
    "minsheng_outbox_published", "Outbox rows published to Kafka.", ["service", "topic"]
)
