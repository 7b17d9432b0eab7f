"""The three-node KRaft cluster of `make up BROKERS=3`, as the fixtures start it: every
topic, the broker's internal ones too, has three replicas all in sync and takes a write
only when two hold it; an idempotent `acks=all` producer keeps writing through a
`kill -9` of the leader, losing nothing and writing nothing twice. And the single broker
stays as it was: one replica of everything."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import Counter
from typing import Any

import pytest
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from minsheng.kafka import KafkaAccess
from minsheng.platform.kafka import KafkaBroker, KafkaCluster
from minsheng.topics import TopicSpec, ensure_topics, load_specs
from testkit.integration.cluster import led_by_others, partitions, under_replicated
from testkit.integration.helpers import eventually, read_topic

pytestmark = pytest.mark.integration

INTERNAL = ("__consumer_offsets", "__transaction_state")


async def use_the_internal_topics(kafka: KafkaAccess) -> None:
    """Kafka creates its internal topics on first use: a group's offsets, a transaction."""
    topic = load_specs()[0].name
    producer = kafka.producer(transactional_id=f"probe-{uuid.uuid4().hex[:6]}")
    await producer.start()
    try:
        async with producer.transaction():
            await producer.send_and_wait(topic, b"{}", key=b"probe")
    finally:
        await producer.stop()
    consumer = kafka.consumer(topic, group_id=f"probe-{uuid.uuid4().hex[:6]}")
    await consumer.start()
    try:
        await consumer.getmany(timeout_ms=500)
        await consumer.commit()
    finally:
        await consumer.stop()


async def configs(kafka: KafkaAccess, kind: ConfigResourceType, name: str) -> dict[str, str]:
    admin = kafka.admin()
    await admin.start()
    try:
        [response] = await admin.describe_configs([ConfigResource(kind, name)])
    finally:
        await admin.close()
    [resource] = response.resources
    return {entry[0]: entry[1] for entry in resource[4]}


async def test_every_topic_and_the_internal_ones_have_three_replicas_in_sync(
    kafka_cluster: KafkaCluster,
) -> None:
    admin = kafka_cluster.access()
    await use_the_internal_topics(admin)
    expected = {s.name for s in load_specs()} | set(INTERNAL)
    states = [p for p in await partitions(admin) if p.topic in expected]
    assert {p.topic for p in states} == expected
    assert {(len(p.replicas), len(p.isr)) for p in states} == {(3, 3)}, states
    assert Counter(p.leader for p in states).keys() == {1, 2, 3}  # leadership spread
    for spec in load_specs():
        assert (await configs(admin, ConfigResourceType.TOPIC, spec.name))[
            "min.insync.replicas"
        ] == "2"
    broker = await configs(admin, ConfigResourceType.BROKER, "1")
    assert broker["min.insync.replicas"] == "2"
    assert broker["unclean.leader.election.enable"] == "false"
    assert broker["transaction.state.log.min.isr"] == "2"


async def test_the_single_broker_keeps_one_replica_of_everything(kafka: KafkaBroker) -> None:
    admin = kafka.access()
    await use_the_internal_topics(admin)
    expected = {s.name for s in load_specs()} | set(INTERNAL)
    states = [p for p in await partitions(admin) if p.topic in expected]
    assert {p.topic for p in states} == expected
    assert {(p.replicas, p.isr) for p in states} == {((1,), (1,))}
    spec = load_specs()[0].name
    assert (await configs(admin, ConfigResourceType.TOPIC, spec))["min.insync.replicas"] == "1"


async def test_an_acks_all_producer_keeps_writing_through_a_kill_of_the_leader(
    kafka_cluster: KafkaCluster,
) -> None:
    admin = kafka_cluster.access()
    topic = f"test.failover.{uuid.uuid4().hex[:8]}"
    await ensure_topics(admin, [TopicSpec(topic, 3, 3, {}, 2)])
    states = await eventually(
        lambda: partitions(admin, [topic]),
        lambda found: len(found) == 3 and all(p.leader > 0 for p in found),
        what="the topic's leaders known",
    )
    victim = kafka_cluster.node(states[0].leader)
    producer = admin.producer(acks="all", enable_idempotence=True, request_timeout_ms=30000)
    await producer.start()
    sent: list[Any] = []
    try:
        for i in range(400):
            if i == 100:
                victim.kill()  # mid-stream, acknowledged writes behind and ahead
            value = f"{i}".encode()
            sent.append(await producer.send(topic, value, key=f"k{i % 30}".encode()))
            await asyncio.sleep(0.005)  # a steady stream, not one burst
        acknowledged = await asyncio.gather(*sent)
    finally:
        await producer.stop()
    try:
        assert len(acknowledged) == 400
        records = await read_topic(admin, topic, expect=400, timeout=60)
        values = [int(r.value) for r in records]
        assert sorted(values) == list(range(400))  # none lost, none written twice
        for key in {r.key for r in records}:  # and each key's in the order sent
            mine = [int(r.value) for r in records if r.key == key]
            assert mine == sorted(mine)
        assert await led_by_others(admin, topic, victim.node_id)  # it failed over
    finally:
        with contextlib.suppress(Exception):
            await victim.launch()
        await eventually(
            lambda: under_replicated(admin),
            lambda n: n == 0,
            timeout=90,
            interval=0.5,
            what="the killed node caught up",
        )
