"""Static checks of docker-compose.yml, the Dockerfile and the monitoring configs.

No Docker engine needed: the compose file is validated against the Compose Specification
schema vendored in check-jsonschema, then cross-checked against the console scripts in
pyproject.toml, the files in the repository and the ports fixed in docs/contract.md.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from minsheng import principals
from minsheng.platform.sinks.main import SinkSettings
from testkit.unit.compose import (
    PORTS,
    app_services,
    is_bind,
    promtool_check_config,
    specification_errors,
    volume_sources,
)

ROOT = Path(__file__).resolve().parents[1]
PROMETHEUS = ROOT / "deploy" / "prometheus"

APP_SERVICES = {*PORTS, "topics", "dev-sinks"}
# The dev sinks' HTTP side, in the notifications container's network.
ALSO_PUBLISHED = {"notifications": [("8025", "8025")]}
# Console scripts whose services have not landed yet: compose may name them before
# pyproject.toml does. Remove a name once its `[project.scripts]` entry exists.
PENDING_SCRIPTS: set[str] = set()


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    doc: dict[str, Any] = load_yaml(ROOT / "docker-compose.yml")
    return doc


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def test_compose_matches_the_compose_specification(compose: dict[str, Any]) -> None:
    assert specification_errors(compose) == []
    assert "version" not in compose, "the Compose Specification has no top-level version"


def test_dependencies_and_named_volumes_exist(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared_volumes = set(compose.get("volumes") or {})
    for name, service in services.items():
        assert set(service.get("depends_on", ())) <= set(services), name
        for source in volume_sources(service):
            assert is_bind(source) or source in declared_volumes, f"{name}: no volume {source}"


def test_bind_mounts_exist_in_the_repository(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        for source in filter(is_bind, volume_sources(service)):
            assert (ROOT / source).resolve().exists(), f"{name}: {source} is missing"


def test_app_services_run_console_scripts(services: dict[str, dict[str, Any]]) -> None:
    apps = app_services(services)
    assert set(apps) == APP_SERVICES
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    scripts = set(pyproject["project"]["scripts"])
    for name, service in apps.items():
        command = service["command"]
        assert isinstance(command, list), f"{name}: use the exec form for command"
        assert command[0] in scripts | PENDING_SCRIPTS, f"{name}: unknown script {command[0]}"
    assert apps["topics"]["command"] == ["minsheng-platform", "topics"]
    for name in PORTS:
        assert apps[name]["command"] == [f"minsheng-{name}"]
        assert apps[name]["depends_on"]["topics"] == {"condition": "service_completed_successfully"}


def test_notifications_reach_appeals_and_the_dev_sinks(
    services: dict[str, dict[str, Any]],
) -> None:
    """Compose keeps every message on the host by default, as `make up` does: the sinks
    share the notifications container's network, so the development directory's
    addresses (127.0.0.1:8025) and the channels' defaults reach them."""
    sinks, notifications = services["dev-sinks"], services["notifications"]
    assert sinks["command"] == ["minsheng-dev-sinks"]
    assert sinks["network_mode"] == "service:notifications"
    env = notifications["environment"]
    defaults = SinkSettings()
    http = f"http://127.0.0.1:{defaults.sinks_http_port}"
    assert env["MINSHENG_NOTIFICATIONS_APPEALS_URL"] == f"http://appeals:{PORTS['appeals']}"
    assert (
        env["MINSHENG_NOTIFICATIONS_APPEALS_KEY"]
        == services["appeals"]["environment"]["MINSHENG_DEV_SYSTEM_KEY"]
    )
    assert env["MINSHENG_NOTIFICATIONS_SMS_GATEWAY_URL"].endswith(f"{http}/sms}}")
    assert env["MINSHENG_NOTIFICATIONS_SMTP_PORT"].endswith(f"{defaults.sinks_smtp_port}}}")
    assert f"{http}/hooks/" in (ROOT / "libs/minsheng/reference/directory.yaml").read_text()
    assert "appeals" in notifications["depends_on"]
    # the sink verifies signatures with the secrets file notifications writes
    assert volume_sources(sinks) == volume_sources(notifications) == ["notifications-data"]
    assert sinks["environment"]["MINSHENG_DATA_DIR"] == env["MINSHENG_DATA_DIR"]
    assert f"{http}/healthz" in " ".join(sinks["healthcheck"]["test"])


@pytest.mark.parametrize(("name", "port"), PORTS.items())
def test_service_listens_where_it_is_published(
    services: dict[str, dict[str, Any]], name: str, port: int
) -> None:
    service = services[name]
    assert str(service["environment"]["MINSHENG_HTTP_PORT"]) == str(port)
    published = {tuple(p.split(":")[-2:]) for p in service["ports"]}
    assert published == {(str(port), str(port)), *ALSO_PUBLISHED.get(name, ())}
    assert "/healthz" in " ".join(service["healthcheck"]["test"])


def test_kafka_and_the_image(services: dict[str, dict[str, Any]]) -> None:
    assert services["kafka"]["image"].startswith("apache/kafka:3.9")
    assert services["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"uv sync --frozen --no-dev\s*$", dockerfile, re.MULTILINE)
    assert re.search(r"^USER (?!root\b)\w+", dockerfile, re.MULTILINE), "run as non-root"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    uv_version = re.search(r"^UV_VERSION := (\S+)", makefile, re.MULTILINE)
    assert uv_version, "Makefile pins UV_VERSION"
    assert f"pip install uv=={uv_version[1]}" in dockerfile, "same uv as the lock's"


def test_prometheus_scrapes_the_four_services_and_loads_its_rules() -> None:
    config = load_yaml(PROMETHEUS / "prometheus.yml")
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    }
    assert targets == {f"{name}:{port}" for name, port in PORTS.items()}
    rule_files = [path for pattern in config["rule_files"] for path in PROMETHEUS.glob(pattern)]
    rules = [
        rule
        for path in rule_files
        for group in load_yaml(path)["groups"]
        for rule in group["rules"]
    ]
    alerts = {rule["alert"] for rule in rules if "alert" in rule}
    assert {"DeadLettersGrowing", "OutboxBacklog", "ServiceDown"} <= alerts
    recorded = {rule["record"] for rule in rules if "record" in rule}
    assert "city:minsheng_appeals_received_total:sum" in recorded


def test_promtool_accepts_the_prometheus_config_and_every_rule_file() -> None:
    """Debian's promtool, which `make test` installs; the compose image runs the same."""
    done = promtool_check_config(PROMETHEUS / "prometheus.yml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "recording/analytics.yml" in done.stdout


def test_alerts_reach_the_notifications_webhook() -> None:
    config = load_yaml(ROOT / "deploy" / "alertmanager" / "alertmanager.yml")
    hooks = [hook for r in config["receivers"] for hook in r.get("webhook_configs", ())]
    assert {hook["url"] for hook in hooks} == {
        f"http://notifications:{PORTS['notifications']}/v1/alertmanager"
    }


def test_grafana_reads_the_mounted_dashboards(services: dict[str, dict[str, Any]]) -> None:
    provisioning = ROOT / "deploy" / "grafana" / "provisioning"
    providers = load_yaml(provisioning / "dashboards" / "minsheng.yml")["providers"]
    mounts = dict(v.split(":")[:2] for v in services["grafana"]["volumes"])
    assert mounts["./deploy/grafana/dashboards"] == providers[0]["options"]["path"]
    sources = load_yaml(provisioning / "datasources" / "prometheus.yml")["datasources"]
    assert [s["url"] for s in sources] == ["http://prometheus:9090"]


def test_kafka_authenticates_and_authorises_every_client(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    """As under `make up`: SASL/SCRAM-SHA-512 only, the StandardAuthorizer denying what
    no ACL allows, and each service connecting as its own principal with the password
    the broker was formatted with."""
    kafka = services["kafka"]
    env = kafka["environment"]
    listeners = dict(entry.split("://") for entry in env["KAFKA_LISTENERS"].split(","))
    assert listeners == {"SASL_PLAINTEXT": ":9092", "CONTROLLER": "localhost:9093"}
    assert env["KAFKA_ADVERTISED_LISTENERS"] == "SASL_PLAINTEXT://kafka:9092"
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] == "SASL_PLAINTEXT"
    assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
    assert env["KAFKA_AUTHORIZER_CLASS_NAME"].endswith("authorizer.StandardAuthorizer")
    assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert set(env["KAFKA_SUPER_USERS"].split(";")) == {"User:admin", "User:ANONYMOUS"}
    assert "9093" not in " ".join(kafka.get("ports", ()))
    # formatted with these users by the start script, the image's start after it
    assert kafka["entrypoint"] == ["/bin/bash", "/opt/minsheng/compose-start.sh"]
    assert "./deploy/kafka/compose-start.sh:/opt/minsheng/compose-start.sh:ro" in kafka["volumes"]
    scram = dict(pair.split(":", 1) for pair in env["MINSHENG_KAFKA_SCRAM_USERS"].split())
    assert set(scram) == {principals.ADMIN, *principals.SERVICES}
    clients = {**{name: name for name in principals.SERVICES}, "topics": principals.ADMIN}
    for name, user in clients.items():
        service_env = services[name]["environment"]
        assert service_env["MINSHENG_KAFKA_USERNAME"] == user, name
        assert service_env["MINSHENG_KAFKA_PASSWORD"] == scram[user], name
    # the broker's own login and the healthcheck's client are the super user's
    configs = compose["configs"]
    for config in ("kafka-jaas", "kafka-admin-client"):
        assert f'username="admin" password="{scram["admin"]}"' in configs[config]["content"]
    assert "--command-config /run/secrets/kafka-admin.properties" in kafka["healthcheck"]["test"][1]
