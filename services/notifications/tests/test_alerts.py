"""Alertmanager's webhook: paging by severity, once per alert, escalation and ack."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from testkit.integration.apps import grant
from testkit.integration.helpers import eventually
from testkit.integration.notifications import DAYTIME, RunningClock, World, world

pytestmark = pytest.mark.integration


def notification(status: str, severity: str, fingerprint: str = "f00d") -> dict[str, Any]:
    """An Alertmanager webhook payload (version 4) of one alert."""
    starts = (DAYTIME - timedelta(minutes=5)).isoformat()
    alert = {
        "status": status,
        "labels": {"alertname": "ConsumerLagHigh", "severity": severity, "service": "analytics"},
        "annotations": {"summary": "analytics is behind", "description": "lag above 10000"},
        "startsAt": starts,
        "endsAt": (DAYTIME + timedelta(minutes=3)).isoformat()
        if status == "resolved"
        else "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": fingerprint,
    }
    return {
        "version": "4",
        "groupKey": '{}:{alertname="ConsumerLagHigh"}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "minsheng-notifications",
        "groupLabels": {"alertname": "ConsumerLagHigh"},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093",
        "alerts": [alert],
    }


async def hooks_to(w: World, recipient: str) -> list[Any]:
    return [h for h in w.sink.hooks if h.recipient == recipient]


async def test_a_critical_alert_pages_once_escalates_until_acked_and_resolves(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    clock = RunningClock(DAYTIME)  # Tuesday 10:00: 张伟 (oncall-zhang) is on call
    async with world(
        tmp_path,
        postgres.url,
        kafka.access(),
        [fresh_topic],
        clock=clock,
        ack_timeout=60.0,
        escalation_interval=0.1,
    ) as w:
        system = await grant(w.client, "system")
        firing = notification("firing", "critical")
        first = await w.client.post("/v1/alertmanager", json=firing, headers=system)
        assert first.status_code == 200, first.text
        assert first.json()["new"] == 1
        again = await w.client.post("/v1/alertmanager", json=firing, headers=system)
        assert again.json() == {"alerts": 1, "new": 0, "deliveries": []}  # repeat: no page
        (zhang,) = await eventually(
            lambda: hooks_to(w, "oncall-zhang"), lambda hs: len(hs) == 1, what="the page"
        )
        assert zhang.signature_valid
        assert "ConsumerLagHigh" in zhang.body["title"]
        assert zhang.body["page"]["ack"].endswith("/ack")

        clock.advance(seconds=61)  # nobody acknowledged: the lead is paged
        (lead,) = await eventually(
            lambda: hooks_to(w, "oncall-lead"), lambda hs: len(hs) == 1, what="the escalation"
        )
        assert "升级" in lead.body["title"] or "escalated" in lead.body["title"]
        acked = await w.client.post(f"/v1/deliveries/{lead.webhook_id}/ack")
        assert acked.status_code == 200, acked.text
        assert acked.json()["acked_by"] == "development operator"

        clock.advance(seconds=120)  # acknowledged: the chief is never paged
        resolved = await w.client.post(
            "/v1/alertmanager", json=notification("resolved", "critical"), headers=system
        )
        assert resolved.json()["new"] == 1
        await eventually(
            lambda: hooks_to(w, "oncall-lead"), lambda hs: len(hs) == 2, what="resolution"
        )
        assert len(await hooks_to(w, "oncall-zhang")) == 2  # both paged hear it is over
        assert await hooks_to(w, "oncall-chief") == []
        resolution = (await hooks_to(w, "oncall-zhang"))[1]
        assert "RESOLVED" in resolution.body["title"] or "恢复" in resolution.body["title"]
        page = (await w.client.get(f"/v1/deliveries/{zhang.webhook_id}")).json()["page"]
        assert page["step"] == 1
        assert page["acked_at"] is not None
        assert page["resolved_at"] is not None


async def test_a_warning_goes_to_the_supervisors_and_only_system_keys_may_post(
    tmp_path: Path, kafka: KafkaBroker, postgres: PostgresServer, fresh_topic: str
) -> None:
    async with world(tmp_path, postgres.url, kafka.access(), [fresh_topic]) as w:
        warning = notification("firing", "warning", fingerprint="beef")
        anonymous = await w.client.post(
            "/v1/alertmanager", json=warning, headers={"Authorization": ""}
        )
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        operator = await w.client.post("/v1/alertmanager", json=warning)
        assert operator.status_code == 403
        system = await grant(w.client, "system")
        bad = await w.client.post("/v1/alertmanager", json={"version": "3"}, headers=system)
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"
        taken = await w.client.post("/v1/alertmanager", json=warning, headers=system)
        assert taken.json()["new"] == 1
        (hook,) = await eventually(
            lambda: hooks_to(w, "office-supervisors"), lambda hs: len(hs) == 1
        )
        assert hook.body["recipient"] == "supervisors:office-supervisors"
        not_a_page = await w.client.post(f"/v1/deliveries/{hook.webhook_id}/ack")
        assert not_a_page.status_code == 409
        assert (await w.client.post("/v1/deliveries/ntf_nothing/ack")).status_code == 404
