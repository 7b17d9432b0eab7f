"""The broker, as `make up` and the fixtures run it, authenticates every client and lets
each principal do only what `minsheng.principals` grants it: no anonymous client, no
outside system on a domain topic, no service on another service's topic."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    TopicAuthorizationFailedError,
)
from confluent_kafka import KafkaError, Producer

from minsheng import principals
from minsheng.kafka import KafkaAccess
from minsheng.platform.kafka import KafkaBroker
from minsheng.topics import (
    APPEALS,
    INTAKE_APPEALS,
    INTAKE_PROJECTS,
    NOTIFICATIONS,
    OWNERS,
    PROJECTS,
    dlq,
)

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
EVENT = b'{"specversion": "1.0", "note": "would be forged"}'


async def send(access: KafkaAccess, topic: str) -> None:
    producer = access.producer(acks="all", request_timeout_ms=10000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, EVENT, key=b"k")
    finally:
        await producer.stop()


async def consume(access: KafkaAccess, topic: str) -> None:
    consumer = access.consumer(topic, group_id=f"reader-{uuid.uuid4().hex[:6]}")
    await consumer.start()
    try:
        await asyncio.wait_for(consumer.getone(), 20)
    finally:
        await consumer.stop()


def send_as_librdkafka(access: KafkaAccess, topic: str) -> KafkaError | None:
    """What an outside system's own client (librdkafka) is told; None if acknowledged."""
    errors: list[KafkaError | None] = []
    producer = Producer({**access.librdkafka(), "acks": "all", "message.timeout.ms": 10000})
    producer.produce(topic, EVENT, key=b"k", on_delivery=lambda err, _: errors.append(err))
    assert producer.flush(20) == 0
    return errors[0]


async def outside_system_from_the_cli(kafka: KafkaBroker, name: str) -> KafkaAccess:
    """The principal `minsheng-platform outside-system` creates, from what it prints."""
    process = await asyncio.create_subprocess_exec(
        str(BIN / "minsheng-platform"),
        "outside-system",
        name,
        env={**os.environ, **kafka.access().env()},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    printed = dict(re.findall(r"^\s+(username|password)\s+(\S+)$", out.decode(), re.MULTILINE))
    assert printed["username"] == name
    return kafka.access().as_user(name, printed["password"])


async def test_an_anonymous_producer_is_refused(kafka: KafkaBroker) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap, request_timeout_ms=5000)
    try:
        with pytest.raises(KafkaConnectionError, match="Unable to bootstrap"):
            await producer.start()
    finally:
        await producer.stop()


async def test_a_wrong_password_is_refused(kafka: KafkaBroker) -> None:
    with pytest.raises(KafkaConnectionError):
        await send(kafka.access().as_user("appeals", "not-the-password"), APPEALS)


async def test_an_outside_system_writes_the_intake_topics_and_nothing_else(
    kafka: KafkaBroker,
) -> None:
    bureau = await outside_system_from_the_cli(kafka, f"bureau-{uuid.uuid4().hex[:6]}")
    for topic in (INTAKE_APPEALS, INTAKE_PROJECTS):
        assert send_as_librdkafka(bureau, topic) is None
    for topic in (APPEALS, PROJECTS, NOTIFICATIONS, dlq(INTAKE_APPEALS)):
        error = send_as_librdkafka(bureau, topic)
        assert error is not None
        assert error.code() == KafkaError.TOPIC_AUTHORIZATION_FAILED, topic
    with pytest.raises(TopicAuthorizationFailedError):
        await send(bureau, APPEALS)  # aiokafka is told the same
    with pytest.raises((GroupAuthorizationFailedError, TopicAuthorizationFailedError)):
        await consume(bureau, INTAKE_APPEALS)


async def test_an_outside_system_may_not_take_a_services_name(kafka: KafkaBroker) -> None:
    with pytest.raises(ValueError, match="principal of the platform"):
        await principals.add_outside_system(kafka.access(), "appeals")
    with pytest.raises(ValueError, match="letters, digits"):
        await principals.add_outside_system(kafka.access(), "gov bureau,=x")


@pytest.mark.parametrize("service", sorted(principals.SERVICES))
async def test_a_service_writes_its_own_topics_only(kafka: KafkaBroker, service: str) -> None:
    own = kafka.access(service)
    grants = principals.SERVICES[service]
    for topic in grants.writes:
        await send(own, topic)
    for topic in sorted({*OWNERS, INTAKE_APPEALS, INTAKE_PROJECTS} - set(grants.writes)):
        with pytest.raises(TopicAuthorizationFailedError):
            await send(own, topic)
