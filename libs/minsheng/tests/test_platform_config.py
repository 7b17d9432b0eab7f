"""Settings, topic definitions, migrations discovery and log masking: pure, no servers."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from minsheng.db import LIBRARY_MIGRATIONS, discover
from minsheng.logs import JsonFormatter
from minsheng.masking import mask_personal
from minsheng.relay import _acknowledged_in_order
from minsheng.settings import Settings
from minsheng.topics import load_specs


def test_each_service_gets_its_own_database_on_the_server() -> None:
    settings = Settings(database_url="postgresql://u:p@db:5432/postgres", database_suffix="_t1")
    assert settings.database_for("appeals") == "postgresql://u:p@db:5432/appeals_t1"


def test_settings_come_from_minsheng_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINSHENG_KAFKA_BOOTSTRAP", "kafka:9092")
    assert Settings().kafka_bootstrap == "kafka:9092"


def test_every_consumed_topic_has_a_dlq_and_domain_topics_keep_events_forever() -> None:
    specs = {s.name: s for s in load_specs()}
    for name in (
        "minsheng.appeals.v1",
        "minsheng.projects.v1",
        "minsheng.intake.appeals.v1",
        "minsheng.intake.projects.v1",
        "minsheng.notifications.v1",
    ):
        assert specs[name].partitions == 6
        assert specs[name].config["retention.ms"] == "-1"
        assert f"{name}.dlq" in specs


def test_migrations_are_numbered_and_misnamed_files_are_refused(tmp_path: Path) -> None:
    versions = [m.version for m in discover("minsheng", LIBRARY_MIGRATIONS)]
    assert versions == sorted(versions)
    assert versions[0] == 1
    (tmp_path / "create_things.sql").write_text("SELECT 1")
    with pytest.raises(ValueError, match=r"NNN_name\.sql"):
        discover("x", tmp_path)


def test_logs_are_json_and_never_carry_a_full_phone_number() -> None:
    assert mask_personal("call 13812345678 now") == "call 138****5678 now"
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "caller %s", ("13812345678",), None)
    doc = json.loads(JsonFormatter("appeals").format(record))
    assert doc["message"] == "caller 138****5678"
    assert doc["service"] == "appeals"


def test_relay_marks_nothing_of_an_aggregate_after_its_first_failure() -> None:
    rows = [
        {"id": 1, "topic": "t", "aggregate_id": "A"},
        {"id": 2, "topic": "t", "aggregate_id": "B"},
        {"id": 3, "topic": "t", "aggregate_id": "A"},
        {"id": 4, "topic": "t", "aggregate_id": "A"},
    ]
    results: list[object] = [None, None, TimeoutError(), None]
    assert _acknowledged_in_order(rows, results) == [1, 2]  # type: ignore[arg-type]


async def test_a_launcher_refuses_a_port_that_is_already_taken(tmp_path: Path) -> None:
    import asyncio

    from minsheng.platform.postgres import PostgresServer
    from minsheng.platform.process import PortInUse
    from testkit.integration.helpers import free_port

    port = free_port()
    squatter = await asyncio.start_server(lambda r, w: None, "127.0.0.1", port)
    try:
        with pytest.raises(PortInUse, match=f"port {port} is already in use"):
            await PostgresServer(tmp_path / "pg", port=port).start()
    finally:
        squatter.close()


def test_every_part_of_make_up_listens_on_its_own_port() -> None:
    """The fixed ports of `make up` never collide (Kafka's controller once took
    Alertmanager's 9093, and the platform refused to start)."""
    from dataclasses import fields

    from minsheng.platform.cli import SERVICES
    from minsheng.platform.kafka import KafkaBroker
    from minsheng.platform.monitoring import AlertmanagerServer, PrometheusServer
    from minsheng.platform.postgres import PostgresServer
    from minsheng.platform.sinks.main import SinkSettings

    def default(cls: type, name: str) -> int:
        value = next(f.default for f in fields(cls) if f.name == name)
        assert isinstance(value, int)
        return value

    ports = [
        default(KafkaBroker, "port"),
        default(KafkaBroker, "controller_port"),
        default(PostgresServer, "port"),
        default(PrometheusServer, "port"),
        default(AlertmanagerServer, "port"),
        default(AlertmanagerServer, "port") + 1,  # its cluster port, were gossip on
        SinkSettings.model_fields["sinks_http_port"].default,
        SinkSettings.model_fields["sinks_smtp_port"].default,
        *(port for _, port in SERVICES),
    ]
    assert len(ports) == len(set(ports)), sorted(ports)
