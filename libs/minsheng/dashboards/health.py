"""Platform health, for on-call staff: are the targets up, how the HTTP APIs answer, and
whether events flow (outbox, consumer lag, event age, dead letters, notifications)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import Dashboard

from minsheng.dashboards.panels import (
    EVENTS,
    MESSAGES,
    PER_SECOND,
    RATIO,
    SECONDS,
    Query,
    Section,
    Shown,
    board,
    laid_out,
)

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


SECTIONS: tuple[Section, ...] = (
    (
        "Targets",
        (
            Shown(
                "ranking",
                "Targets up",
                f"up{{{JOBS}}}",
                "bool_yes_no",
                "1 when Prometheus scraped the service at its last attempt, 0 when not.",
                "{{job}} {{instance}}",
                width=24,
                height=5,
                maximum=1,
            ),
        ),
    ),
    (
        "HTTP",
        (
            Shown(
                "trend",
                "Requests per second",
                rate(f"{HTTP}_count", by="service"),
                PER_SECOND,
                "HTTP requests answered per second, by service.",
                "{{service}}",
                width=8,
            ),
            Shown(
                "trend",
                "Latency (p50, p95)",
                quantile(0.5, HTTP, "service"),
                SECONDS,
                "Time to answer a request, median and 95th percentile, by service.",
                "{{service}} p50",
                width=8,
                also=(Query(quantile(0.95, HTTP, "service"), "{{service}} p95"),),
            ),
            Shown(
                "trend",
                "Server errors (5xx share)",
                error_ratio(),
                RATIO,
                "Share of requests answered with a 5xx status, by service. Bad input is a "
                "4xx, so any 5xx is a fault of ours.",
                "{{service}}",
                width=8,
            ),
        ),
    ),
    (
        "Events",
        (
            Shown(
                "trend",
                "Outbox backlog",
                "sum by (service) (minsheng_outbox_pending)",
                EVENTS,
                "Outbox rows written and not yet published to Kafka, by service.",
                "{{service}}",
                width=8,
            ),
            Shown(
                "trend",
                "Oldest unpublished event",
                "max by (service) (minsheng_outbox_oldest_age_seconds)",
                SECONDS,
                "Age of the oldest outbox row not yet published; 0 when the outbox is empty.",
                "{{service}}",
                width=8,
            ),
            Shown(
                "trend",
                "Consumer lag",
                "sum by (service, topic) (minsheng_consumer_lag)",
                MESSAGES,
                "Messages on a topic not yet read by the service's consumers (every "
                "partition summed).",
                "{{service}} {{topic}}",
                width=8,
            ),
            Shown(
                "trend",
                "Event age when applied (p95)",
                quantile(0.95, "minsheng_event_age_seconds", "service, topic"),
                SECONDS,
                "How old an event was when a consumer applied it (now minus its time): "
                "how far behind the live figures are.",
                "{{service}} {{topic}}",
                width=8,
            ),
            Shown(
                "trend",
                "Events applied per second",
                rate("minsheng_events_processed_total", by="service, topic"),
                "suffix: events/s",
                "Events applied by the consumers, by service and topic.",
                "{{service}} {{topic}}",
                width=8,
            ),
            Shown(
                "trend",
                "Dead letters (last hour)",
                "sum by (service, topic, reason) (increase(minsheng_dead_letters_total[1h]))",
                MESSAGES,
                "Messages a consumer rejected to the topic's .dlq topic in the last hour, "
                "by reason: read them there.",
                "{{service}} {{topic}} {{reason}}",
                width=8,
            ),
        ),
    ),
    (
        "Notifications",
        (
            Shown(
                "trend",
                "Notifications by outcome (last hour)",
                "sum by (channel, outcome) (increase(minsheng_notifications_total[1h]))",
                "suffix: notifications",
                "Notifications finished in the last hour, by channel and outcome.",
                "{{channel}} {{outcome}}",
                width=8,
            ),
            Shown(
                "trend",
                "Delivery attempts per second",
                rate("minsheng_notification_attempts_total", by="channel, result"),
                "suffix: attempts/s",
                "Attempts to deliver, by channel and result (retries included).",
                "{{channel}} {{result}}",
                width=8,
            ),
            Shown(
                "trend",
                "Pending notifications",
                "sum by (channel) (minsheng_notifications_pending)",
                "suffix: notifications",
                "Notifications waiting for a first or a further attempt, by channel.",
                "{{channel}}",
                width=8,
            ),
        ),
    ),
)


def dashboard() -> Dashboard:
    built = board(
        "minsheng-health",
        "Minsheng: platform health",
        "The services as on-call staff watch them: scrape targets, HTTP traffic, the "
        "event pipeline and the notifications.",
        district=False,
    )
    return laid_out(built, SECTIONS)
