"""Alerts from Alertmanager to people (pure): who is paged, escalations, resolutions.

Alertmanager (webhook payload version 4) delivers at least once and repeats a group's
notification every `repeat_interval`; an alert acts once per (fingerprint, status,
startsAt), so repeats and redeliveries page nobody twice. By severity: `critical` pages
the person on call now, and while nobody acknowledges, the next person of the
escalation chain after each `ack_timeout`; anything else goes to the supervisors'
channel. A resolved alert tells those who were told of it that it is over.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from minsheng.inputs import Instant, Text
from notifications.fanout import NAMESPACE, NewDelivery, Origin, Target, build
from notifications.quiet import QuietHours


class Alert(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    status: Literal["firing", "resolved"]
    labels: dict[Text, Text] = Field(default_factory=dict)
    annotations: dict[Text, Text] = Field(default_factory=dict)
    startsAt: Instant
    endsAt: Instant | None = None
    generatorURL: Text = ""
    fingerprint: Text = Field(min_length=1, max_length=200)

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "alert")

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "warning")

    @property
    def critical(self) -> bool:
        return self.severity == "critical"


class Notification(BaseModel):
    """Alertmanager's webhook payload, version 4."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal["4"]
    groupKey: Text = ""
    truncatedAlerts: int = 0
    status: Literal["firing", "resolved"]
    receiver: Text = ""
    groupLabels: dict[Text, Text] = Field(default_factory=dict)
    commonLabels: dict[Text, Text] = Field(default_factory=dict)
    commonAnnotations: dict[Text, Text] = Field(default_factory=dict)
    externalURL: Text = ""
    alerts: list[Alert] = Field(max_length=1000)


def page_id(alert: Alert) -> str:
    return "page_" + uuid.uuid5(NAMESPACE, f"page/{alert.fingerprint}/{alert.startsAt}").hex


def origin(alert: Alert) -> Origin:
    key = f"alert/{alert.fingerprint}/{alert.status}/{alert.startsAt.isoformat()}"
    return Origin(
        event_id=uuid.uuid5(NAMESPACE, key),
        event_type="AlertFiring" if alert.status == "firing" else "AlertResolved",
        time=alert.startsAt if alert.status == "firing" else alert.endsAt or alert.startsAt,
        subject_kind="alert",
        subject_id=alert.fingerprint,
        data={"alertname": alert.name, "severity": alert.severity, **alert.model_dump(mode="json")},
    )


def preferred_channel(target: Target) -> str | None:
    """Pages go where they are seen soonest: the webhook (pager) if any, else e-mail."""
    return next((c for c in ("webhook", "email") if c in target.addresses), None)


def _context(alert: Alert, escalated: bool) -> dict[str, Any]:
    return {
        "alert": {
            "alertname": alert.name,
            "severity": alert.severity,
            "summary": alert.annotations.get("summary", ""),
            "description": alert.annotations.get("description", ""),
            "starts_at": alert.startsAt,
            "ends_at": alert.endsAt,
            "labels": alert.labels,
        },
        "escalated": escalated,
        "deadline": None,
    }


def notify(
    alert: Alert,
    targets: list[Target],
    *,
    rule: str,
    now: datetime,
    page: str | None = None,
    escalated: bool = False,
) -> list[NewDelivery]:
    """One message of the alert (firing or resolved) to each target."""
    template = "alert_firing" if alert.status == "firing" else "alert_resolved"
    found = []
    for target in targets:
        channel = preferred_channel(target)
        if channel is None:
            continue
        found.append(
            build(
                origin(alert),
                rule=rule,
                target=target,
                channel=channel,
                template=template,
                context=_context(alert, escalated),
                now=now,
                quiet=QuietHours(),  # not applied: staff are never deferred
                page_id=page if alert.status == "firing" else None,
            )
        )
    return found
