"""The notifications service's own Prometheus metrics (the names are public contract);
the consumer and outbox metrics come from the library."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

NOTIFICATIONS = Counter(
    "minsheng_notifications",
    "Deliveries finished, by channel and outcome (delivered, failed).",
    ["channel", "outcome"],
)
ATTEMPTS = Counter(
    "minsheng_notification_attempts",
    "Delivery attempts, by channel and result (delivered, retry, failed, disabled).",
    ["channel", "result"],
)
PENDING = Gauge(
    "minsheng_notifications_pending",
    "Deliveries not yet finished (due, backing off or held by quiet hours), by channel.",
    ["channel"],
)
DELIVERY_SECONDS = Histogram(
    "minsheng_notification_delivery_seconds",
    "From the event's time (an alert's start) to the recipient's acceptance.",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400),
)
CHANNELS = ("webhook", "email", "sms")
