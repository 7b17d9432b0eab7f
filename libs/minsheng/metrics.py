"""The platform-level Prometheus metrics of docs/contract.md, shared by every service.

Domain counters (appeals received, ...) belong to analytics and are read from its
tables; these describe the plumbing: events processed, their age, dead letters, outbox,
consumer lag.
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import Counter, Gauge, Histogram

# The labels of the plumbing: what a consumer applies is told apart by service and topic
# (and by event type or reason where said); the outbox by service (and topic published to).
PER_TOPIC = ("service", "topic")
PER_SERVICE = ("service",)

EVENTS_PROCESSED = Counter(
    "minsheng_events_processed",
    "Events applied by a consumer, by type.",
    [*PER_TOPIC, "type"],
)
EVENT_AGE = Histogram(
    "minsheng_event_age_seconds",
    "Age of an event when a consumer applied it (now minus the event's time).",
    PER_TOPIC,
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600),
)
DEAD_LETTERS = Counter(
    "minsheng_dead_letters",
    "Messages a consumer rejected to the topic's dead-letter topic, by reason.",
    [*PER_TOPIC, "reason"],
)
DUPLICATES = Counter(
    "minsheng_events_duplicate",
    "Events skipped because their sequence was not newer than the one applied.",
    PER_TOPIC,
)
SEQUENCE_GAPS = Counter(
    "minsheng_event_sequence_gaps",
    "Events applied whose sequence skipped one or more numbers (reported, still applied).",
    PER_TOPIC,
)
OUTBOX_PENDING = Gauge(
    "minsheng_outbox_pending", "Outbox rows not yet published to Kafka.", PER_SERVICE
)
OUTBOX_OLDEST_AGE = Gauge(
    "minsheng_outbox_oldest_age_seconds",
    "Age of the oldest unpublished outbox row; 0 when the outbox is empty.",
    PER_SERVICE,
)
OUTBOX_LEADER = Gauge(
    "minsheng_outbox_relay_leader",
    "1 while this process's outbox relay is the one publishing its database's outbox "
    "(the leader), 0 while it stands by.",
    PER_SERVICE,
)
OUTBOX_PUBLISHED = Counter(
    "minsheng_outbox_published", "Outbox rows published to Kafka.", PER_TOPIC
)
CONSUMER_LAG = Gauge(
    "minsheng_consumer_lag",
    "Messages on an assigned partition after the consumer's position (highwater - position).",
    ["service", "topic", "partition"],
)


class ConsumerLag:
    """One consumer's `minsheng_consumer_lag` series: set for the partitions it holds now,
    removed for those it lost, so a partition's lag is exported by its owner only."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.shown: set[tuple[str, int]] = set()

    def update(self, lags: Mapping[tuple[str, int], int]) -> None:
        """`lags`: (topic, partition) -> messages behind, for every partition held now."""
        for (topic, partition), lag in lags.items():
            CONSUMER_LAG.labels(self.service, topic, str(partition)).set(max(lag, 0))
        for topic, partition in self.shown - lags.keys():
            CONSUMER_LAG.remove(self.service, topic, str(partition))
        self.shown = set(lags)

    def clear(self) -> None:
        self.update({})
