"""The Alertmanager configuration, read by the real tools: amtool checks it and tests
each route; the real Alertmanager applies its inhibitions."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from testkit.integration.helpers import eventually, free_port
from testkit.integration.monitoring import ALERTMANAGER, ROOT, load_yaml, run_tool

CONFIG = ALERTMANAGER / "alertmanager.yml"
T = "洮北区"
ROUTES = [  # labels -> the receiver they must reach
    ({"alertname": "ServiceDown", "severity": "critical", "service": "appeals"}, "oncall"),
    (
        {"alertname": "AppealsOverdueHigh", "severity": "critical", "district": T},
        "oncall",
    ),
    (
        {"alertname": "AppealsOverdueHigh", "severity": "warning", "district": T},
        "supervisors-district",
    ),
    (
        {"alertname": "DeadLettersGrowing", "severity": "warning", "service": "appeals"},
        "supervisors",
    ),
    ({"alertname": "SomethingUnlabelled"}, "supervisors"),
]


def test_amtool_accepts_the_configuration() -> None:
    run_tool("amtool", "check-config", str(CONFIG))


@pytest.mark.parametrize(("labels", "receiver"), ROUTES, ids=lambda v: str(v))
def test_the_route_reaches_its_receiver(labels: dict[str, str], receiver: str) -> None:
    pairs = [f"{k}={v}" for k, v in labels.items()]
    run_tool(
        "amtool",
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        f"--verify.receivers={receiver}",
        *pairs,
    )


def test_every_route_and_receiver_is_tested() -> None:
    config = load_yaml(CONFIG)
    receivers = {r["name"] for r in config["receivers"]}
    routed = {config["route"]["receiver"]} | {r["receiver"] for r in config["route"]["routes"]}
    assert receivers == routed == {receiver for _, receiver in ROUTES}


def test_every_webhook_is_the_notifications_service_with_the_mounted_key() -> None:
    config = load_yaml(CONFIG)
    compose = load_yaml(ROOT / "docker-compose.yml")
    mounted = {c["target"] for c in compose["services"]["alertmanager"]["configs"]}
    for receiver in config["receivers"]:
        for hook in receiver["webhook_configs"]:
            assert hook["url"] == "http://notifications:8003/v1/alertmanager"
            assert hook["send_resolved"] is True
            authorization = hook["http_config"]["authorization"]
            assert "credentials" not in authorization, "keys are never committed"
            assert authorization["credentials_file"] in mounted


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """The real Alertmanager on a free port with the committed configuration; the webhook
    points at a closed port (nothing here is about delivery)."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    assert binary, "Alertmanager missing: `make tools` installs prometheus-alertmanager"
    config: dict[str, Any] = load_yaml(CONFIG)
    (tmp_path / "key").write_text("msk_test\n")
    for receiver in config["receivers"]:
        for hook in receiver["webhook_configs"]:
            hook["url"] = f"http://127.0.0.1:{free_port()}/v1/alertmanager"
            hook["http_config"]["authorization"]["credentials_file"] = str(tmp_path / "key")
    (tmp_path / "alertmanager.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'alertmanager.yml'}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def firing(**labels: str) -> dict[str, Any]:
    return {"labels": labels, "startsAt": datetime.now(UTC).isoformat()}


async def test_service_down_and_critical_alerts_hold_back_the_others(alertmanager: str) -> None:
    alerts = [
        firing(alertname="ServiceDown", severity="critical", service="analytics", job="analytics"),
        firing(alertname="AppealsOverdueHigh", severity="warning", service="analytics", district=T),
        firing(
            alertname="OnTimeRateBudgetBurn", severity="critical", service="appeals", district=T
        ),
        firing(alertname="OnTimeRateBudgetBurn", severity="warning", service="appeals", district=T),
        firing(
            alertname="OnTimeRateBudgetBurn",
            severity="warning",
            service="appeals",
            district="大安市",
        ),
        firing(alertname="OutboxBacklog", severity="critical", service="projects"),
    ]
    async with httpx.AsyncClient(base_url=alertmanager, timeout=5) as client:

        async def posted() -> bool:
            try:
                return (await client.post("/api/v2/alerts", json=alerts)).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(posted, bool, what="Alertmanager up and taking alerts")

        async def states() -> dict[tuple[str, str, str], str]:
            found = (await client.get("/api/v2/alerts")).json()
            return {
                (
                    a["labels"]["alertname"],
                    a["labels"]["severity"],
                    a["labels"].get("district", ""),
                ): a["status"]["state"]
                for a in found
            }

        seen = await eventually(states, lambda s: len(s) == len(alerts), what="all alerts")
    assert seen == {
        ("ServiceDown", "critical", ""): "active",
        ("AppealsOverdueHigh", "warning", T): "suppressed",  # its service is down
        ("OnTimeRateBudgetBurn", "critical", T): "active",
        ("OnTimeRateBudgetBurn", "warning", T): "suppressed",  # the critical one stands
        ("OnTimeRateBudgetBurn", "warning", "大安市"): "active",  # another district
        ("OutboxBacklog", "critical", ""): "active",
    }
