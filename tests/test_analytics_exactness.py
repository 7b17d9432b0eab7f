"""Analytics stays exact against the real broker, with workers as real processes: after
the whole log is delivered again, after `kill -9` mid-stream, and with two workers sharing
the partitions while a load is running. Each workload computes its own ground truth."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

import pytest

from minsheng.platform.kafka import KafkaBroker
from testkit.e2e.analytics import (
    Workers,
    counted,
    exact,
    load_under_way,
    plumbing,
    publish,
    states_held,
)
from testkit.integration.helpers import eventually
from testkit.unit.workload import with_redeliveries, workload

pytestmark = pytest.mark.e2e


async def test_the_whole_log_delivered_again_counts_nothing_twice(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    """A replay from the start, as a relay that lost its published marks or a mirror
    copying the topics again would send it, reaching a worker that was restarted."""
    w = workload(seed=21, appeals=120, projects=40, now=datetime.now(UTC), notifications=30)
    deliveries = with_redeliveries(random.Random(3), w.events, p=0.2)
    workers = Workers(private_kafka.access(), tmp_path)
    await counted(workers, w, deliveries)
    worker = await workers.start()
    try:
        await publish(private_kafka.access(), deliveries)
        # every delivery is read again, and each is found not newer than its state
        await eventually(
            lambda: plumbing(worker.url),
            lambda p: p["minsheng_events_duplicate_total"] == len(deliveries),
            timeout=60,
            what="the whole log read again",
        )
        assert (await plumbing(worker.url))["minsheng_events_processed_total"] == 0
        await exact(w, [worker.url])
    finally:
        await worker.stop()


async def test_kill_9_mid_stream_and_a_restart_count_every_event_once(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    w = workload(seed=22, appeals=300, projects=80, now=datetime.now(UTC), notifications=40)
    deliveries = with_redeliveries(random.Random(4), w.events, p=0.1)
    workers = Workers(private_kafka.access(), tmp_path)
    worker = await workers.start()
    try:
        load = await load_under_way(workers, worker.url, deliveries, per_second=1000, part=4)
        assert not load.done(), "the load ended before the kill: not mid-stream"
        worker.kill()  # SIGKILL: no final commit, changelog writes possibly cut short
        await worker.process.wait()
        worker = await workers.start()
        await load
        await exact(w, [worker.url])
    finally:
        await worker.stop()


async def test_two_workers_share_the_partitions_through_rebalances_mid_load(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    w = workload(seed=23, appeals=400, projects=100, now=datetime.now(UTC), notifications=40)
    deliveries = with_redeliveries(random.Random(5), w.events, p=0.1)
    workers = Workers(private_kafka.access(), tmp_path)
    first = await workers.start()
    second = None
    try:
        load = await load_under_way(workers, first.url, deliveries, per_second=300, part=5)
        second = workers.new()
        await second.process.start()  # joins mid-load: the partitions are split
        assert not load.done(), "the load ended before the rebalance"
        await second.process.wait_ready(second.ready, timeout=60)
        await load
        # each exports its own partitions' share; both answer the city's counters
        await exact(w, [first.url, second.url], timeout=90)
        # and each holds its own partitions' states only: the first forgot those it gave up
        shared = await states_held(first.url) + await states_held(second.url)
        first.kill()  # and back to one: the survivor recovers the other's partitions
        await first.process.wait()
        await exact(w, [second.url], timeout=90)
        assert shared == await states_held(second.url)
    finally:
        await first.stop()
        if second is not None:
            await second.stop()
