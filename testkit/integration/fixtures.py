"""Session fixtures: one real Kafka broker and one real PostgreSQL server per test run.

They start lazily, only when a test asks for them, so unit tests stay fast. Fault tests
that stop the broker ask for `private_kafka` instead, so they never disturb the others.
`kafka_cluster` is a three-node cluster (production replication) for the tests of the
cluster itself; a test that breaks a node leaves the cluster whole again.
The root conftest.py loads this module as a pytest plugin.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from minsheng.db import ensure_database
from minsheng.platform.kafka import KafkaBroker, KafkaCluster
from minsheng.platform.postgres import PostgresServer
from minsheng.topics import TopicSpec, dlq, ensure_topics
from testkit.integration.cluster import on_free_ports
from testkit.integration.helpers import free_port


async def start_kafka(folder: Path) -> KafkaBroker:
    broker = KafkaBroker(
        folder, port=free_port(), controller_port=free_port(), log_file=folder.parent / "kafka.log"
    )
    await broker.start()
    await ensure_topics(broker.access())
    return broker


async def start_kafka_cluster(folder: Path, brokers: int = 3) -> KafkaCluster:
    cluster = on_free_ports(folder, brokers)
    await cluster.start()
    await ensure_topics(cluster.access())
    return cluster


@pytest.fixture(scope="session")
async def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KafkaCluster]:
    cluster = await start_kafka_cluster(tmp_path_factory.mktemp("kafka-cluster") / "data")
    yield cluster
    await cluster.stop()


@pytest.fixture(scope="session")
async def kafka(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[KafkaBroker]:
    broker = await start_kafka(tmp_path_factory.mktemp("kafka") / "data")
    yield broker
    await broker.stop()


@pytest.fixture
async def private_kafka(tmp_path: Path) -> AsyncIterator[KafkaBroker]:
    broker = await start_kafka(tmp_path / "kafka")
    yield broker
    await broker.stop()


@pytest.fixture(scope="session")
async def postgres(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[PostgresServer]:
    folder = tmp_path_factory.mktemp("postgres")
    server = PostgresServer(
        folder / "data", port=free_port(), fsync=False, log_file=folder / "pg.log"
    )
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def database(postgres: PostgresServer) -> str:
    """A fresh, empty database for one test; returns its URL."""
    url = postgres.url.rsplit("/", 1)[0] + f"/t_{uuid.uuid4().hex[:12]}"
    await ensure_database(url)
    return url


@pytest.fixture
async def conn(database: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database)
    yield connection
    await connection.close()


@pytest.fixture
async def fresh_topic(kafka: KafkaBroker) -> str:
    """A topic of its own (with its .dlq) so a test reads only what it wrote."""
    name = f"test.{uuid.uuid4().hex[:10]}"
    spec = TopicSpec(name, 6, 1, {})
    await ensure_topics(kafka.access(), [spec, TopicSpec(dlq(name), 6, 1, {})])
    return name
