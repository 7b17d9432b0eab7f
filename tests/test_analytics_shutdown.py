"""A worker that stops cleanly writes the batch under way before its changelog writer
closes: Faust signals `on_before_shutdown` while the agents still run, so the stop has to
wait for them (`consumers.stop_writing`), against a real broker."""

from __future__ import annotations

import asyncio
import json

import pytest

from analytics import offsets, state_codec
from analytics.aggregate import Aggregate
from analytics.appeal_counting import appeal_figures, apply_appeal
from analytics.changelog import ChangelogWriter
from analytics.consumers import Counting, stop_writing
from minsheng.platform.kafka import KafkaBroker
from testkit.integration.helpers import read_topic

pytestmark = pytest.mark.integration


async def _no_rewind(partition: int, offset: int) -> None:
    raise AssertionError("no seek in this test")


async def test_a_stop_waits_for_the_batch_under_way_then_writes_nothing(
    kafka: KafkaBroker, fresh_topic: str
) -> None:
    writer = ChangelogWriter(kafka.access())
    counting = Counting(None, Aggregate(appeal_figures), apply_appeal, None, writer, _no_rewind)
    counting.gate.reset(range(6), {})
    states = {f"appeal-{p}": {"sequence": 1, "partition": p} for p in range(6)}
    applied = dict.fromkeys(range(6), 41)
    holding, release = asyncio.Event(), asyncio.Event()

    async def batch() -> None:
        """An agent's batch: applied under the lock, then written (all six partitions)."""
        async with counting.applying:
            holding.set()
            await release.wait()
            await writer.write(fresh_topic, states, applied)

    under_way = asyncio.create_task(batch())
    await holding.wait()
    stopping = asyncio.create_task(stop_writing([counting], writer))
    release.set()
    await asyncio.gather(under_way, stopping)  # a closed producer fails the write

    records = await read_topic(kafka.access(), fresh_topic, expect=18)  # and 6 shapes
    written = {}
    for r in records:  # a partition's shape before its first state
        if state_codec.is_shape_value(r.value):
            state_codec.learn(r.value)
        else:
            written[json.loads(r.key)] = state_codec.decode(r.value)
    assert written == {
        **states,
        **{offsets.key(p): offsets.marker(p, 41) for p in range(6)},
    }
    assert counting.gate.admit(0, 42) is offsets.Verdict.FOREIGN  # the fold takes no more
    with pytest.raises(RuntimeError, match="after the writer stopped"):
        await writer.write(fresh_topic, states, applied)
