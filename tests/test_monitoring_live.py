"""Every dashboard query, recording rule and alert, run by the real Prometheus against the
real services after a small workload over HTTP and Kafka.

A panel whose query names a metric or label that no service exports shows "No data" for
ever; promtool cannot see that, only a live Prometheus scraping the live stack can. So
each panel target (variables substituted) must parse and return data, and every rule of
deploy/prometheus must parse and evaluate without error.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from minsheng.clock import Anchor, write_anchor
from minsheng.dashboards import FOLDER
from minsheng.platform.monitoring import AlertmanagerServer, PrometheusServer
from minsheng.platform.postgres import PostgresServer
from minsheng.platform.services import ServiceProcess
from minsheng.topics import APPEALS
from testkit.e2e.notifying import SYSTEM_KEY, NotifyingStack
from testkit.e2e.stack import Stack, random_appeals
from testkit.integration.helpers import eventually, free_port, run_module
from testkit.integration.projects import claim

pytestmark = pytest.mark.e2e

DISTRICT = "洮北区"  # every figure of the workload has a series in this district
RATE_INTERVAL = "1m"  # what Grafana's $__rate_interval becomes at a 1s scrape interval
LATER = timedelta(days=60)  # the platform's clock jumps this far: open appeals fall overdue


@dataclass
class Live:
    stack: NotifyingStack
    projects: ServiceProcess
    notifications: ServiceProcess
    prometheus: PrometheusServer
    alertmanager: AlertmanagerServer
    clock: Path

    def jump(self, by: timedelta) -> None:
        """Moves every service's clock on by `by`: deadlines pass, supervision escalates."""
        write_anchor(self.clock, Anchor(time.time(), datetime.now(UTC) + by, 1.0))

    async def query(self, expr: str) -> dict[str, Any]:
        """Prometheus's answer to an instant query (status, data or error)."""
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.get(
                f"{self.prometheus.url}/api/v1/query", params={"query": expr}
            )
        answer: dict[str, Any] = response.json()
        return answer

    async def alerts(self) -> list[dict[str, Any]]:
        """The alerts Alertmanager holds, as Prometheus sent them."""
        async with httpx.AsyncClient(timeout=10) as client:
            found: list[dict[str, Any]] = (
                await client.get(f"{self.alertmanager.url}/api/v2/alerts")
            ).json()
        return found

    async def rules(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=10) as client:
            groups = (await client.get(f"{self.prometheus.url}/api/v1/rules")).json()
        return [rule for group in groups["data"]["groups"] for rule in group["rules"]]


@pytest.fixture(scope="module")
async def live(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> AsyncIterator[Live]:
    folder = tmp_path_factory.mktemp("monitoring")
    clock = folder / "demo-clock.json"
    with pytest.MonkeyPatch.context() as env:
        # A demo platform's clock (real time until the test writes the anchor), for every
        # service the stack starts: they copy the environment when they are made.
        env.setenv("MINSHENG_DEMO_CLOCK_FILE", str(clock))
        stack = NotifyingStack(folder, postgres.url, analytics=True)
        projects = stack.service("projects")
    key_file = folder / "alertmanager-key"  # the system key every service registers
    key_file.write_text(SYSTEM_KEY + "\n")
    async with stack:
        notifications = stack.notifications
        alertmanager = AlertmanagerServer(
            folder / "alertmanager",
            free_port(),
            notifications=notifications.url,
            credentials=key_file,
            log_file=folder / "alertmanager.log",
        )
        prometheus = PrometheusServer(
            folder / "prometheus",
            free_port(),
            ports={
                "appeals": stack.appeals.port,
                "projects": projects.port,
                "notifications": notifications.port,
                "analytics": stack.analytics.port,
            },
            alertmanager=alertmanager.address,
            interval="1s",
            log_file=folder / "prometheus.log",
        )
        started: list[ServiceProcess | PrometheusServer | AlertmanagerServer] = []
        try:
            for part in (projects, alertmanager, prometheus):
                await part.start()
                started.append(part)
            yield Live(stack, projects, notifications, prometheus, alertmanager, clock)
        finally:
            for part in reversed(started):
                await part.stop()


# ---------------------------------------------------------------- the workload


async def key(service: str, role: str, env: dict[str, str]) -> str:
    """A key made as an operator makes one: the service's key command."""
    code, out, err = await run_module(
        f"{service}.keys", "create", "--role", role, "--name", f"live {role}", env=env
    )
    assert code == 0, err
    return out


async def post(client: httpx.AsyncClient, path: str, key: str, body: dict[str, Any]) -> Any:
    response = await client.post(path, json=body, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code in (200, 201), f"{path}: {response.text}"
    return response.json()


async def appeals_workload(stack: Stack) -> None:
    """Appeals received, resolved on time, called back (one dissatisfied, so reopened),
    one returned; a poison message for the dead-letter figures. The others stay open
    with the units the routing rules chose."""
    system = await key("appeals", "system", stack.env)
    bodies = [{**a, "district": DISTRICT} for a in random_appeals(16, seed=31)]
    responses = await stack.post_all(bodies + random_appeals(12, seed=32))
    assert [r.status_code for r in responses] == [201] * len(responses)
    ids = [r.json()["id"] for r in responses[: len(bodies)]]
    async with httpx.AsyncClient(base_url=stack.appeals.url, timeout=10) as client:
        for appeal in ids[:8]:
            await post(client, f"/v1/appeals/{appeal}/accept", system, {})
            await post(client, f"/v1/appeals/{appeal}/resolve", system, {"resolution": "修好了"})
        ratings = ["satisfied", "basically_satisfied", "satisfied", "dissatisfied"]
        for appeal, rating in zip(ids[:4], ratings, strict=True):
            extra = {"reason": "handling"} if rating == "dissatisfied" else {}
            await post(
                client,
                f"/v1/appeals/{appeal}/callback",
                stack.api_key,
                {"rating": rating, **extra},
            )
        await post(client, f"/v1/appeals/{ids[8]}/return", system, {"reason": "不属于本单位"})
    await stack.produce_raw(APPEALS, b"\x00not an event", key=b"X1")


async def projects_workload(live: Live) -> None:
    """Two projects claimed: one reaches a milestone, misses the next, and is named and
    talked to; the other reaches both and is completed."""
    env = live.stack.env
    supervisor = await key("projects", "supervisor", env)
    operator = live.stack.api_key
    year = datetime.now(UTC).year
    async with httpx.AsyncClient(base_url=live.projects.url, timeout=10) as client:
        late = await post(
            client, "/v1/projects", operator, claim("老旧小区下水管网改造", year, DISTRICT)
        )
        done = await post(client, "/v1/projects", operator, claim("社区食堂", year, DISTRICT))
        steps = [
            (late, "milestones", operator, {"milestone_id": "m1", "status": "reached"}),
            (
                late,
                "milestones",
                operator,
                {"milestone_id": "m2", "status": "missed", "reason": "雨季停工"},
            ),
            (late, "flags", supervisor, {"kind": "notice", "reason": "节点滞后"}),
            (late, "flags", supervisor, {"kind": "formal_talk", "reason": "节点滞后"}),
            (done, "milestones", operator, {"milestone_id": "m1", "status": "reached"}),
            (done, "milestones", operator, {"milestone_id": "m2", "status": "reached"}),
            (done, "complete", operator, {}),
        ]
        for project, action, who, body in steps:
            await post(client, f"/v1/projects/{project['id']}/{action}", who, body)


# ---------------------------------------------------------------- what is checked


@dataclass(frozen=True)
class Target:
    dashboard: str
    panel: str
    expr: str

    @property
    def query(self) -> str:
        """The expression as Grafana sends it, with the dashboard variables filled in."""
        return self.expr.replace("$district", DISTRICT).replace("$__rate_interval", RATE_INTERVAL)


def panel_targets(folder: Path = FOLDER) -> list[Target]:
    found = []
    for path in sorted(folder.glob("*.json")):
        board = json.loads(path.read_text(encoding="utf-8"))
        for panel in board["panels"]:
            for target in panel.get("targets", ()):
                found.append(Target(board["title"], panel["title"], target["expr"]))
    return found


async def missing_data(live: Live, targets: list[Target]) -> list[str]:
    """The targets that fail to parse or return no series, with the reason."""
    failed = []
    for target in targets:
        answer = await live.query(target.query)
        if answer["status"] != "success":
            failed.append(f"{target.dashboard} / {target.panel}: {answer.get('error')}")
        elif not answer["data"]["result"]:
            failed.append(f"{target.dashboard} / {target.panel}: no data for {target.query}")
    return failed


async def test_every_panel_rule_and_alert_works_against_the_live_stack(live: Live) -> None:
    targets = panel_targets()
    assert len({t.dashboard for t in targets}) == 4
    assert not [t for t in targets if re.search(r"\$\w+", t.query)], "a variable left"
    await appeals_workload(live.stack)
    await projects_workload(live)
    live.jump(LATER)

    async def failures() -> list[str]:
        return await missing_data(live, targets)

    # Scrapes every second and the analytics worker counts within a second or so: the
    # figures arrive in a few seconds; escalations wait for a supervision tick (5 s) after
    # the services have read the new clock (within a second).
    left = await eventually(failures, lambda f: not f, timeout=90, interval=2, what="panels")
    assert left == []

    rules = await eventually(
        live.rules,
        lambda rs: bool(rs) and all(r.get("lastEvaluation", "0001").startswith("20") for r in rs),
        timeout=30,
        interval=1,
        what="every rule evaluated",
    )
    broken = [f"{r['name']}: {r.get('lastError')}" for r in rules if r["health"] != "ok"]
    assert broken == []
    for rule in rules:
        answer = await live.query(rule["query"])
        assert answer["status"] == "success", f"{rule['name']}: {answer.get('error')}"
    kinds = {r["type"] for r in rules}
    assert kinds == {"recording", "alerting"}


def test_the_workload_district_is_a_district_of_the_reference_data() -> None:
    from minsheng.reference import places

    assert DISTRICT in places().districts


async def test_when_analytics_stops_on_call_is_paged_through_the_real_alertmanager(
    live: Live,
) -> None:
    """Runs last in this module: the analytics worker stays stopped."""
    await live.stack.analytics.stop()

    def analytics_down(alert: dict[str, Any]) -> bool:
        labels = alert["labels"]
        return bool(labels.get("alertname") == "ServiceDown" and labels.get("job") == "analytics")

    def paged(alerts: list[dict[str, Any]]) -> bool:
        return any(map(analytics_down, alerts))

    # ServiceDown waits one minute (`for: 1m`) before it fires.
    alerts = await eventually(
        live.alerts, paged, timeout=150, interval=2, what="page in Alertmanager"
    )
    down = next(filter(analytics_down, alerts))
    assert down["labels"]["severity"] == "critical"
    assert down["labels"]["service"] == "analytics"
    assert down["annotations"]["runbook_url"].endswith("ServiceDown.md")

    def pages(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            line
            for line in lines
            if line["recipient"].startswith("oncall-")
            and "ServiceDown" in json.dumps(line["body"], ensure_ascii=False)
        ]

    # Alertmanager waits `group_wait` (30 s) before it sends a new group.
    found = await eventually(
        lambda: asyncio.to_thread(live.stack.sinks.received, "webhooks.jsonl"),
        lambda lines: bool(pages(lines)),
        timeout=90,
        interval=1,
        what="the page at the on-call sink",
    )
    page = pages(found)[0]
    assert page["signature_valid"] is True
