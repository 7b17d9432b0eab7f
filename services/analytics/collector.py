"""Prometheus view of the tables: values are read from state, so they never reset."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from prometheus_client.core import CounterMetricFamily
from prometheus_client.registry import Collector

from analytics.counting import AppealState, received_by_labels


class TableCollector(Collector):
    def __init__(self, states: Callable[[], Iterable[AppealState]]) -> None:
        self.states = states

    def collect(self) -> Iterator[CounterMetricFamily]:
        received = CounterMetricFamily(
            "minsheng_appeals_received",
            "Appeals received, by district, category and channel.",
            labels=["district", "category", "channel"],
        )
        for labels, value in sorted(received_by_labels(self.states()).items()):
            received.add_metric(list(labels), value)
        yield received
