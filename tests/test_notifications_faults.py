"""Notifications under faults and fed by a real Alertmanager, services as real processes:
a kill -9 while deliveries are being retried sends nothing twice and loses nothing;
Debian's Alertmanager, configured from the committed routes, pages the on-call sink and
resolves, its repeated notifications page once, and an unacknowledged page escalates."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from minsheng.platform.monitoring import local_alertmanager_config
from minsheng.platform.postgres import PostgresServer
from minsheng.platform.process import ManagedProcess
from testkit.e2e.notifying import SYSTEM_KEY, NotifyingStack, ready_stack
from testkit.integration.helpers import eventually, free_port

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[1]
RECIPIENT = "unit-mingren"  # where the routing rules send APPEAL, and its webhook
APPEAL = {"title": "路灯不亮", "category": "help", "district": "洮北区", "street": "明仁街道"}
ESCALATION = ["oncall-lead", "oncall-chief"]  # the directory's chain
FAST = {  # retries and escalations in seconds, not minutes
    f"MINSHENG_NOTIFICATIONS_{name}": value
    for name, value in [
        ("RETRY_BASE", "0.5"),
        ("RETRY_MAX", "1"),
        ("MAX_ATTEMPTS", "100"),
        ("WORKER_INTERVAL", "0.2"),
        ("ACK_TIMEOUT", "3"),
        ("ESCALATION_INTERVAL", "0.5"),
    ]
}


@pytest.fixture(scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> AsyncIterator[NotifyingStack]:
    folder = tmp_path_factory.mktemp("notifications-faults")
    async with ready_stack(folder, postgres.url, **FAST) as s:
        yield s


def refused(stack: NotifyingStack, recipient: str) -> set[str]:
    lines = stack.sinks.received("webhooks.jsonl")
    return {
        str(line["webhook-id"])
        for line in lines
        if line["recipient"] == recipient and line["status"] == 500
    }


async def _value(value: Any) -> Any:
    return value


async def test_a_kill_9_while_retrying_loses_nothing_and_sends_nothing_twice(
    stack: NotifyingStack,
) -> None:
    fault = f"{stack.sinks.url}/control/faults/hooks/{RECIPIENT}"
    async with httpx.AsyncClient(headers=stack.headers, timeout=10) as client:
        assert (await client.put(fault, json={"status": 500})).is_success
        before = set(stack.accepted(RECIPIENT))
        for _ in range(10):
            response = await client.post(f"{stack.appeals.url}/v1/appeals", json=APPEAL)
            assert response.status_code == 201, response.text
        failing = await eventually(
            lambda: _value(refused(stack, RECIPIENT) - before),
            lambda ids: len(ids) >= 10,
            timeout=60,
            what="ten deliveries refused at least once",
        )
        stack.notifications.kill()  # SIGKILL, mid-retry: no clean shutdown
        await stack.notifications.process.wait()
        assert (await client.delete(fault)).status_code == 204
        stack.notifications = stack.service("notifications")
        await stack.notifications.start()
        done = await eventually(
            lambda: _value(stack.accepted(RECIPIENT)),
            lambda counts: failing <= set(counts),
            timeout=60,
            what="every refused delivery delivered after the restart",
        )
    assert {msg_id: done[msg_id] for msg_id in failing} == dict.fromkeys(failing, 1)
    assert len(failing) == 10  # one delivery per appeal, whatever the attempts


# --- a real Alertmanager ---------------------------------------------------------------


def alertmanager_config(notifications_url: str, key_file: Path) -> dict[str, Any]:
    """The committed routes and receivers as `make up` points them at a notifications
    service, with waits in seconds instead of minutes."""
    config = local_alertmanager_config(notifications_url, key_file)
    routes = [config["route"]]
    while routes:  # every route: a child's own waits would override the root's
        route = routes.pop()
        route.update(group_wait="1s", group_interval="1s", repeat_interval="1h")
        routes += route.get("routes", [])
    return config


@pytest.fixture(scope="module")
async def alertmanager(
    stack: NotifyingStack, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    binary = shutil.which("prometheus-alertmanager")
    assert binary, "prometheus-alertmanager missing: `make tools` installs it"
    folder = tmp_path_factory.mktemp("alertmanager")
    key_file = folder / "notifications-key"
    key_file.write_text(SYSTEM_KEY)
    config_file = folder / "alertmanager.yml"
    config_file.write_text(yaml.safe_dump(alertmanager_config(stack.notifications.url, key_file)))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = ManagedProcess(
        "alertmanager",
        [
            binary,
            f"--config.file={config_file}",
            f"--storage.path={folder / 'state'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        log_file=stack.folder / "alertmanager.log",
    )
    await process.start()

    async def ready() -> bool:
        async with httpx.AsyncClient(timeout=3) as client:
            return (await client.get(f"{url}/-/ready")).status_code == 200

    try:
        await process.wait_ready(ready, timeout=30)
        yield url
    finally:
        await process.stop()


def amtool(url: str, *args: str) -> None:
    tool = shutil.which("amtool")
    assert tool, "amtool missing: `make tools` installs it"
    done = subprocess.run(
        [tool, f"--alertmanager.url={url}", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def pages(stack: NotifyingStack, alertname: str) -> list[dict[str, Any]]:
    """The webhooks to on-call people that mention the alert, in arrival order."""
    return [
        line
        for line in stack.sinks.received("webhooks.jsonl")
        if str(line["recipient"]).startswith("oncall-")
        and alertname in json.dumps(line["body"], ensure_ascii=False)
    ]


def status_of(page: dict[str, Any]) -> str:
    """`firing` or `resolved`, from the event the message tells of."""
    return {"AlertFiring": "firing", "AlertResolved": "resolved"}[page["body"]["event"]["type"]]


async def test_an_alert_from_amtool_pages_on_call_then_resolves(
    stack: NotifyingStack, alertmanager: str
) -> None:
    labels = ["alertname=MinshengTestOutage", "severity=critical", "service=appeals"]
    annotation = "--annotation=summary=appeals is down"
    await asyncio.to_thread(amtool, alertmanager, "alert", "add", *labels, annotation)
    [page] = await eventually(
        lambda: _value(pages(stack, "MinshengTestOutage")),
        bool,
        timeout=30,
        what="the on-call page",
    )
    assert page["signature_valid"] is True
    assert status_of(page) == "firing"
    ended = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    await asyncio.to_thread(
        amtool, alertmanager, "alert", "add", *labels, annotation, f"--end={ended}"
    )
    found = await eventually(
        lambda: _value(pages(stack, "MinshengTestOutage")),
        lambda seen: any(status_of(p) == "resolved" for p in seen),
        timeout=30,
        what="the resolution",
    )
    assert found[0]["recipient"] == page["recipient"]


def notification(alertname: str, status: str = "firing") -> dict[str, Any]:
    """An Alertmanager webhook (version 4) of one critical alert."""
    started = "2026-12-01T12:00:00Z"
    alert = {
        "status": status,
        "labels": {"alertname": alertname, "severity": "critical", "service": "appeals"},
        "annotations": {"summary": f"{alertname} in a test"},
        "startsAt": started,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus:9090/graph",
        "fingerprint": f"fp{abs(hash(alertname)):x}"[:16],
    }
    return {
        "version": "4",
        "groupKey": f'{{}}:{{alertname="{alertname}"}}',
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "minsheng-notifications",
        "groupLabels": {"alertname": alertname},
        "commonLabels": alert["labels"],
        "commonAnnotations": alert["annotations"],
        "externalURL": "http://alertmanager:9093",
        "alerts": [alert],
    }


SYSTEM = {"Authorization": f"Bearer {SYSTEM_KEY}"}  # Alertmanager's key


async def test_the_same_notification_twice_pages_once_and_escalates_unacknowledged(
    stack: NotifyingStack,
) -> None:
    body = notification("MinshengTestTwice")
    async with httpx.AsyncClient(headers=SYSTEM, timeout=10) as client:
        for _ in range(2):
            response = await client.post(f"{stack.notifications.url}/v1/alertmanager", json=body)
            assert response.is_success, response.text
    first = await eventually(
        lambda: _value(pages(stack, "MinshengTestTwice")),
        bool,
        timeout=30,
        what="the page",
    )
    on_call = first[0]["recipient"]
    # not acknowledged: after the ack timeout the chain's first person is paged too
    escalated = await eventually(
        lambda: _value(pages(stack, "MinshengTestTwice")),
        lambda seen: any(p["recipient"] == ESCALATION[0] for p in seen),
        timeout=30,
        what="the escalation",
    )
    paged = Counter(p["recipient"] for p in escalated if p["status"] == 200)
    assert paged[on_call] == 1  # twice posted, paged once
    assert paged[ESCALATION[0]] == 1
