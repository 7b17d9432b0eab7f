"""What the analytics benchmarks share: a private broker with the platform's topics in a
temporary folder, and the facts about the machine that go beside every figure."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiokafka
import faust

from bench.skeleton_latency import kafka_version
from minsheng.platform.kafka import KafkaBroker
from minsheng.topics import ensure_topics
from testkit.integration.helpers import free_port


@contextlib.asynccontextmanager
async def private_broker(keep: bool) -> AsyncIterator[tuple[KafkaBroker, Path]]:
    """A broker of its own, with the topics, in a temporary folder (kept if `keep`)."""
    folder = Path(tempfile.mkdtemp(prefix="minsheng-bench-"))
    broker = KafkaBroker(
        folder / "kafka",
        port=free_port(),
        controller_port=free_port(),
        log_file=folder / "kafka.log",
    )
    print(f"working in {folder} (logs: *.log)", flush=True)
    try:
        await broker.start()
        await ensure_topics(broker.bootstrap)
        print(f"Kafka {kafka_version()} on {broker.bootstrap}", flush=True)
        yield broker, folder
    finally:
        with contextlib.suppress(Exception):
            await broker.stop()
        if keep:
            print(f"kept {folder}", flush=True)
        else:
            shutil.rmtree(folder, ignore_errors=True)


def environment(load_before: tuple[float, float, float]) -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "platform": platform.platform(),
        "aiokafka": aiokafka.__version__,
        "faust": faust.__version__,
        "kafka": kafka_version(),
    }
