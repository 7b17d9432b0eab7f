"""What the analytics benchmarks share: a private broker with the platform's topics in a
temporary folder, and the facts about the machine that go beside every figure."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiokafka
import faust

from bench.harness import kafka_version, machine, scratch_folder
from minsheng.platform.kafka import KafkaBroker
from minsheng.topics import ensure_topics
from testkit.integration.helpers import free_port


@contextlib.asynccontextmanager
async def private_broker(keep: bool) -> AsyncIterator[tuple[KafkaBroker, Path]]:
    """A broker of its own, with the topics, in a temporary folder (kept if `keep`)."""
    with scratch_folder("minsheng-bench-", keep=keep) as folder:
        broker = KafkaBroker(
            folder / "kafka",
            port=free_port(),
            controller_port=free_port(),
            log_file=folder / "kafka.log",
        )
        try:
            await broker.start()
            await ensure_topics(broker.access())
            print(f"Kafka {kafka_version()} on {broker.bootstrap}", flush=True)
            yield broker, folder
        finally:
            with contextlib.suppress(Exception):
                await broker.stop()


def environment(load_before: tuple[float, float, float]) -> dict[str, Any]:
    return machine(
        load_before,
        aiokafka=aiokafka.__version__,
        faust=faust.__version__,
        kafka=kafka_version(),
    )
