"""For tests against the real parts: free ports, polling with a deadline (never a sleep as
synchronisation), reading a topic back, API keys, a module's command line."""

from __future__ import annotations

import asyncio
import os
import random
import socket
import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TypeVar

import asyncpg
from aiokafka import ConsumerRecord, TopicPartition

from minsheng import auth
from minsheng.kafka import KafkaAccess

T = TypeVar("T")


_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
_handed_out: set[int] = set()


def _listening_ports() -> range:
    """Ports below the kernel's ephemeral range. A port the kernel chose (bind to 0) lies inside
    that range, and in the seconds before a server binds it any outgoing connection of the suite
    (Kafka, PostgreSQL, HTTP clients) may take it as its source port; a port below the range is
    never handed to a client."""
    try:
        low = int(_EPHEMERAL.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)
    # pytest-xdist's workers (and the processes they start) draw from separate residues, so
    # two of them never pick the same port between its check and a server binding it.
    return range(10000 + worker % workers, max(low, 11000), workers)


def free_port() -> int:
    """A port no server listens on now and that this process has not handed out before."""
    ports = _listening_ports()
    start = random.randrange(len(ports))  # a random start, so that concurrent suites rarely meet
    for step in range(len(ports)):
        port = ports[(start + step) % len(ports)]
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {ports.start}-{ports.stop - 1}")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    predicate: Callable[[T], bool],
    *,
    timeout: float = 30.0,
    interval: float = 0.05,
    what: str = "condition",
) -> T:
    """Polls `probe` until `predicate` holds; fails with the last value seen."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: T | None = None
    while True:
        last = await probe()
        if predicate(last):
            return last
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {timeout}s; last value: {last!r}")
        await asyncio.sleep(interval)


Records = list[ConsumerRecord[bytes, bytes]]


async def read_topic(
    kafka: KafkaAccess,
    topic: str,
    *,
    expect: int = 0,
    until: Callable[[Records], bool] | None = None,
    timeout: float = 30.0,
) -> Records:
    """Reads a topic from the start until `expect` records arrived, or `until` holds."""
    done = until or (lambda records: len(records) >= expect)
    consumer = kafka.consumer(
        topic,
        group_id=f"test-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not done(records):
            if loop.time() > deadline:
                raise AssertionError(
                    f"{topic}: not complete after {timeout}s, {len(records)} records read"
                )
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def read_all(kafka: KafkaAccess, topic: str, timeout: float = 30.0) -> Records:
    """Every record the topic holds now, from the start to each partition's end."""
    admin = kafka.admin()
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    consumer = kafka.consumer(enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
        size = sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()
    return await read_topic(kafka, topic, expect=size, timeout=timeout)


async def grant_key(
    pool: asyncpg.Pool, role: auth.Role, unit: str | None = None, name: str = ""
) -> dict[str, str]:
    """Registers a fresh API key in a service's database; returns its Authorization header."""
    key = auth.new_key()
    async with pool.acquire() as conn:
        await auth.register_key(
            conn, key, name=name or f"{role} {unit or ''}", role=role, unit=unit
        )
    return {"Authorization": f"Bearer {key}"}


async def run_module(module: str, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """`python -m module args` with `env` added to ours: exit status, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode().strip(), err.decode().strip()


async def publish_values(
    kafka: KafkaAccess, topic: str, values: Sequence[bytes], keys: Sequence[bytes] | None = None
) -> None:
    """Each value to `topic` as it is, acknowledged one by one: poison for a consumer, say."""
    producer = kafka.producer(acks="all")
    await producer.start()
    try:
        for i, value in enumerate(values):
            await producer.send_and_wait(topic, value, key=keys[i] if keys else b"poison")
    finally:
        await producer.stop()
