"""Platform health, for on-call staff: are the targets up, how the HTTP APIs answer, and
whether events flow (outbox, consumer lag, event age, dead letters, notifications)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from minsheng.dashboards.panels import Look, Query, Section, Shown, board
from minsheng.dashboards.units import EVENTS, MESSAGES, PER_SECOND, RATIO, SECONDS

JOBS = 'job=~"appeals|projects|notifications|analytics"'
HTTP = "minsheng_http_request_duration_seconds"
WINDOW = "$__rate_interval"


def rate(metric: str, *matchers: str, by: str) -> str:
    selector = f"{metric}{{{', '.join(matchers)}}}" if matchers else metric
    return f"sum by ({by}) (rate({selector}[{WINDOW}]))"


def quantile(q: float, metric: str, by: str) -> str:
    return f"histogram_quantile({q}, {rate(f'{metric}_bucket', by=f'{by}, le')})"


def error_ratio() -> str:
    requests = rate(f"{HTTP}_count", by="service")
    errors = rate(f"{HTTP}_count", 'status=~"5.."', by="service")
    return f"({errors} or 0 * {requests}) / {requests}"


SECTIONS = (
    Section(
        "Targets",
        Look("ranking", 24, height=5, maximum=1),
        (
            Shown(
                "Targets up",
                f"up{{{JOBS}}}",
                "bool_yes_no",
                "1 when Prometheus scraped the service at its last attempt, 0 when not.",
                "{{job}} {{instance}}",
            ),
        ),
    ),
    Section(
        "HTTP",
        Look("trend", 8),
        (
            Shown(
                "Requests per second",
                rate(f"{HTTP}_count", by="service"),
                PER_SECOND,
                "HTTP requests answered per second, by service.",
                "{{service}}",
            ),
            Shown(
                "Latency (p50, p95)",
                quantile(0.5, HTTP, "service"),
                SECONDS,
                "Time to answer a request, median and 95th percentile, by service.",
                "{{service}} p50",
                also=(Query(quantile(0.95, HTTP, "service"), "{{service}} p95"),),
            ),
            Shown(
                "Server errors (5xx share)",
                error_ratio(),
                RATIO,
                "Share of requests answered with a 5xx status, by service. Bad input is a "
                "4xx, so any 5xx is a fault of ours.",
                "{{service}}",
            ),
        ),
    ),
    Section(
        "Events",
        Look("trend", 8),
        (
            Shown(
                "Outbox backlog",
                "sum by (service) (minsheng_outbox_pending)",
                EVENTS,
                "Outbox rows written and not yet published to Kafka, by service.",
                "{{service}}",
            ),
            Shown(
                "Oldest unpublished event",
                "max by (service) (minsheng_outbox_oldest_age_seconds)",
                SECONDS,
                "Age of the oldest outbox row not yet published; 0 when the outbox is empty.",
                "{{service}}",
            ),
            Shown(
                "Consumer lag",
                "sum by (service, topic) (minsheng_consumer_lag)",
                MESSAGES,
                "Messages on a topic not yet read by the service's consumers (every "
                "partition summed).",
                "{{service}} {{topic}}",
            ),
            Shown(
                "Event age when applied (p95)",
                quantile(0.95, "minsheng_event_age_seconds", "service, topic"),
                SECONDS,
                "How old an event was when a consumer applied it (now minus its time): "
                "how far behind the live figures are.",
                "{{service}} {{topic}}",
            ),
            Shown(
                "Events applied per second",
                rate("minsheng_events_processed_total", by="service, topic"),
                "suffix: events/s",
                "Events applied by the consumers, by service and topic.",
                "{{service}} {{topic}}",
            ),
            Shown(
                "Dead letters (last hour)",
                "sum by (service, topic, reason) (increase(minsheng_dead_letters_total[1h]))",
                MESSAGES,
                "Messages a consumer rejected to the topic's .dlq topic in the last hour, "
                "by reason: read them there.",
                "{{service}} {{topic}} {{reason}}",
            ),
        ),
    ),
    Section(
        "Notifications",
        Look("trend", 8),
        (
            Shown(
                "Notifications by outcome (last hour)",
                "sum by (channel, outcome) (increase(minsheng_notifications_total[1h]))",
                "suffix: notifications",
                "Notifications finished in the last hour, by channel and outcome.",
                "{{channel}} {{outcome}}",
            ),
            Shown(
                "Delivery attempts per second",
                rate("minsheng_notification_attempts_total", by="channel, result"),
                "suffix: attempts/s",
                "Attempts to deliver, by channel and result (retries included).",
                "{{channel}} {{result}}",
            ),
            Shown(
                "Pending notifications",
                "sum by (channel) (minsheng_notifications_pending)",
                "suffix: notifications",
                "Notifications waiting for a first or a further attempt, by channel.",
                "{{channel}}",
            ),
        ),
    ),
)


def dashboard() -> Dashboard:
    return board(
        "minsheng-health",
        "Minsheng: platform health",
        "The services as on-call staff watch them: scrape targets, HTTP traffic, the "
        "event pipeline and the notifications.",
        SECTIONS,
        district=False,
    )
