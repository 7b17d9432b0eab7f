"""`minsheng-analytics rebuild` against the real broker: it folds the topics again from
their first offset, shows its progress, and says (exit status 0) that the counters equal
those the workers hold; when they do not, it shows the difference and exits 1."""

from __future__ import annotations

import asyncio
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analytics.tests.harness import Workers, counted, publish
from analytics.tests.workload import with_redeliveries, workload
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.services import BIN

pytestmark = pytest.mark.e2e


async def rebuild(bootstrap: str) -> tuple[int, str, str]:
    """Runs the console script as an operator would; (exit status, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        str(BIN / "minsheng-analytics"),
        "rebuild",
        env={**os.environ, "MINSHENG_KAFKA_BOOTSTRAP": bootstrap},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_the_rebuild_equals_the_workers_and_says_so_when_it_does_not(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    w = workload(seed=31, appeals=100, projects=30, now=now, notifications=20)
    deliveries = with_redeliveries(random.Random(6), w.events, p=0.2)
    await counted(Workers(private_kafka.bootstrap, tmp_path), w, deliveries)

    status, out, err = await rebuild(private_kafka.bootstrap)
    assert status == 0, out + err
    assert f"rebuilt from {len(deliveries):,} events" in out
    assert "figures equal" in out
    assert f"{len(deliveries):,}/{len(deliveries):,} events" in err  # the progress bar
    assert "events/s" in err
    assert "ETA" in err

    more = workload(seed=32, appeals=5, projects=0, now=now)  # the stopped worker missed it
    await publish(private_kafka.bootstrap, more.events)
    status, out, _ = await rebuild(private_kafka.bootstrap)
    assert status == 1
    assert "DIFFERS" in out
    assert "figures differ" in out
