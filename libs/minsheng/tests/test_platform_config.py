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
from minsheng.topics import Replication, load_specs, new_topic, replication


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


@pytest.mark.parametrize(
    ("brokers", "replicas", "in_sync"), [(1, 1, 1), (2, 2, 2), (3, 3, 2), (5, 3, 2)]
)
def test_replication_follows_the_cluster_size_up_to_three_replicas_two_in_sync(
    brokers: int, replicas: int, in_sync: int
) -> None:
    for spec in load_specs():
        topic = new_topic(spec, brokers)
        assert (topic.replication_factor, topic.topic_configs["min.insync.replicas"]) == (
            replicas,
            str(in_sync),
        ), spec.name
        assert spec.name.endswith(".dlq") or topic.topic_configs["retention.ms"] == "-1"
    assert replication().on(brokers) == Replication(replicas, in_sync)


def test_each_node_of_a_cluster_is_configured_for_the_quorum_and_its_replication(
    tmp_path: Path,
) -> None:
    from minsheng.platform.kafka import KafkaBroker, KafkaCluster

    cluster = KafkaCluster(tmp_path / "c", [19092, 19192, 19292], [19095, 19195, 19295])
    voters = "1@127.0.0.1:19095,2@127.0.0.1:19195,3@127.0.0.1:19295"
    for node in cluster.nodes:
        node.write_config()
        config = dict(
            line.split("=", 1)
            for line in node.config_file.read_text().splitlines()
            if "=" in line and not line.startswith("#")
        )
        assert config["node.id"] == str(node.node_id)
        assert config["controller.quorum.voters"] == voters
        assert config["listeners"].startswith(f"SASL_PLAINTEXT://127.0.0.1:{node.port},")
        assert config["offsets.topic.replication.factor"] == "3"
        assert config["transaction.state.log.min.isr"] == "2"
        assert config["min.insync.replicas"] == "2"
        assert config["unclean.leader.election.enable"] == "false"
        assert node.credentials_file == tmp_path / "c" / "credentials.json"  # one for all
    assert cluster.bootstrap == "127.0.0.1:19092,127.0.0.1:19192,127.0.0.1:19292"
    single = KafkaBroker(tmp_path / "one")
    single.write_config()
    lines = single.config_file.read_text().splitlines()
    assert "controller.quorum.voters=1@127.0.0.1:9095" in lines  # alone, as before
    assert "offsets.topic.replication.factor=1" in lines
    assert "min.insync.replicas=1" in lines


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
    from minsheng.platform.kafka import KafkaBroker, KafkaCluster
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
    # `make up BROKERS=3`: node 1 where the single broker is, the others beside nothing
    cluster = KafkaCluster.local(Path("unused"), 3)
    assert (cluster.nodes[0].port, cluster.nodes[0].controller_port) == (ports[0], ports[1])
    more = [p for n in cluster.nodes[1:] for p in (n.port, n.controller_port)]
    assert len(set(ports) | set(more)) == len(ports) + len(more), sorted(ports + more)
