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
    board,
    ranking,
    row,
    trend,
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


def dashboard() -> Dashboard:
    return (
        board(
            "minsheng-health",
            "Minsheng: platform health",
            "The services as on-call staff watch them: scrape targets, HTTP traffic, the "
            "event pipeline and the notifications.",
            district=False,
        )
        .with_row(row("Targets"))
        .with_panel(
            ranking(
                "Targets up",
                "1 when Prometheus scraped the service at its last attempt, 0 when not.",
                "bool_yes_no",
                Query(f"up{{{JOBS}}}", "{{job}} {{instance}}"),
                width=24,
                height=5,
            ).max(1)
        )
        .with_row(row("HTTP"))
        .with_panel(
            trend(
                "Requests per second",
                "HTTP requests answered per second, by service.",
                PER_SECOND,
                Query(rate(f"{HTTP}_count", by="service"), "{{service}}"),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Latency (p50, p95)",
                "Time to answer a request, median and 95th percentile, by service.",
                SECONDS,
                Query(quantile(0.5, HTTP, "service"), "{{service}} p50"),
                Query(quantile(0.95, HTTP, "service"), "{{service}} p95"),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Server errors (5xx share)",
                "Share of requests answered with a 5xx status, by service. Bad input is a "
                "4xx, so any 5xx is a fault of ours.",
                RATIO,
                Query(error_ratio(), "{{service}}"),
                width=8,
            )
        )
        .with_row(row("Events"))
        .with_panel(
            trend(
                "Outbox backlog",
                "Outbox rows written and not yet published to Kafka, by service.",
                EVENTS,
                Query("sum by (service) (minsheng_outbox_pending)", "{{service}}"),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Oldest unpublished event",
                "Age of the oldest outbox row not yet published; 0 when the outbox is empty.",
                SECONDS,
                Query("max by (service) (minsheng_outbox_oldest_age_seconds)", "{{service}}"),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Consumer lag",
                "Messages on a topic not yet read by the service's consumers (every "
                "partition summed).",
                MESSAGES,
                Query("sum by (service, topic) (minsheng_consumer_lag)", "{{service}} {{topic}}"),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Event age when applied (p95)",
                "How old an event was when a consumer applied it (now minus its time): "
                "how far behind the live figures are.",
                SECONDS,
                Query(
                    quantile(0.95, "minsheng_event_age_seconds", "service, topic"),
                    "{{service}} {{topic}}",
                ),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Events applied per second",
                "Events applied by the consumers, by service and topic.",
                "suffix: events/s",
                Query(
                    rate("minsheng_events_processed_total", by="service, topic"),
                    "{{service}} {{topic}}",
                ),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Dead letters (last hour)",
                "Messages a consumer rejected to the topic's .dlq topic in the last hour, "
                "by reason: read them there.",
                MESSAGES,
                Query(
                    "sum by (service, topic, reason) (increase(minsheng_dead_letters_total[1h]))",
                    "{{service}} {{topic}} {{reason}}",
                ),
                width=8,
            )
        )
        .with_row(row("Notifications"))
        .with_panel(
            trend(
                "Notifications by outcome (last hour)",
                "Notifications finished in the last hour, by channel and outcome.",
                "suffix: notifications",
                Query(
                    "sum by (channel, outcome) (increase(minsheng_notifications_total[1h]))",
                    "{{channel}} {{outcome}}",
                ),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Delivery attempts per second",
                "Attempts to deliver, by channel and result (retries included).",
                "suffix: attempts/s",
                Query(
                    rate("minsheng_notification_attempts_total", by="channel, result"),
                    "{{channel}} {{result}}",
                ),
                width=8,
            )
        )
        .with_panel(
            trend(
                "Pending notifications",
                "Notifications waiting for a first or a further attempt, by channel.",
                "suffix: notifications",
                Query("sum by (channel) (minsheng_notifications_pending)", "{{channel}}"),
                width=8,
            )
        )
    )
