"""Whatever Kafka redelivers, the metrics and KPIs equal the workload's ground truth,
and the aggregates kept by deltas equal those summed again from the final states."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.aggregate import share
from analytics.collector import FiguresCollector, LightsCollector
from analytics.kpis import aggregates, report
from analytics.lights import THRESHOLDS_FILE, load_thresholds, unit_months
from analytics.windows import local_month
from minsheng.events import CloudEvent
from minsheng.topics import APPEALS, NOTIFICATIONS, PROJECTS
from testkit.unit.analytics import consume
from testkit.unit.counters import expected_counters, metric_samples
from testkit.unit.events import NOW
from testkit.unit.workload import Workload, with_redeliveries, workload

THRESHOLDS = load_thresholds(THRESHOLDS_FILE)


def observed(w: Workload, events: list[CloudEvent]) -> tuple[Any, dict[str, Any], Any]:
    states, running = consume(events)
    figures = share(aggregates(states[APPEALS], states[PROJECTS], states[NOTIFICATIONS]), w.now)
    assert share(running, w.now) == figures  # deltas never drift from a full re-sum
    counters = report(figures, w.now)
    del counters["as_of"]
    months = unit_months(figures, local_month(w.now))
    lit = LightsCollector(months, THRESHOLDS)
    samples = metric_samples([*FiguresCollector(lambda: figures).collect(), *lit.collect()])
    return samples, counters, {m.unit: light_inputs(m.counts) for m in months}


def light_inputs(c: Counter[str]) -> Counter[str]:
    """A unit's monthly inputs as the workload writes them down (no zeros)."""
    rated = c["satisfied"] + c["basically_satisfied"] + c["dissatisfied"]
    named = ("resolved", "on_time", "overdue", "dispatched", "returned")
    inputs = Counter({k: c[k] for k in named}) + Counter(
        rated=rated, satisfied=c["satisfied"] + c["basically_satisfied"]
    )
    return +inputs


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    appeals=st.integers(0, 25),
    projects=st.integers(0, 15),
    notifications=st.integers(0, 10),
    redelivery=st.floats(0, 0.5),
    rnd=st.randoms(use_true_random=False),
)
def test_redeliveries_and_replays_yield_the_ground_truth(
    seed: int,
    appeals: int,
    projects: int,
    notifications: int,
    redelivery: float,
    rnd: random.Random,
) -> None:
    w = workload(seed, appeals, projects, NOW, notifications)
    once = observed(w, w.events)
    truth = {unit: +inputs for unit, inputs in w.unit_month.items()}
    assert once == (w.metrics, expected_counters(w), truth)
    assert observed(w, with_redeliveries(rnd, w.events, redelivery)) == once


def test_a_whole_replay_after_the_history_changes_nothing() -> None:
    w = workload(1, 40, 20, NOW, 10)
    assert observed(w, w.events + w.events) == observed(w, w.events)
