"""`minsheng_consumer_lag` of the analytics worker, measured every few seconds.

The position that matters is not the consumer's (Faust prefetches, and acknowledges
what it skips around a rebalance) but the fold's: the next offset each partition's gate
admits (`offsets.Gate`). The lag of a source partition is the highwater Faust's consumer
last saw (its public `highwater(tp)`) minus that offset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.types import TP

from analytics.offsets import Gate
from minsheng.metrics import ConsumerLag

EVERY = 5.0  # seconds between two measures


def lags(consumer: Any, gates: Mapping[str, Gate]) -> dict[tuple[str, int], int]:
    """(topic, partition) -> messages not yet folded, for the partitions this worker
    holds and has fetched from (no highwater before the first fetch)."""
    assigned = consumer.assignment()
    found: dict[tuple[str, int], int] = {}
    for topic, gate in gates.items():
        for partition, expected in list(gate.expected.items()):
            tp = TP(topic, partition)
            highwater = consumer.highwater(tp) if tp in assigned else None
            if highwater is not None:
                found[topic, partition] = max(highwater - expected, 0)
    return found


def exporter(app: Any, gates: Mapping[str, Gate], service: str) -> None:
    """Registers the Faust timer that keeps the worker's lag series up to date."""
    gauge = ConsumerLag(service)

    async def measure_lag() -> None:
        gauge.update(lags(app.consumer, gates))

    app.timer(interval=EVERY)(measure_lag)
