"""The sequence guard and the tallies every counter is read from."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from analytics.appeal_counting import apply_appeal
from analytics.counting import State
from analytics.kpis import city_counters
from minsheng.events import CATALOGUE, ParsedEvent
from testkit.unit.analytics import samples
from testkit.unit.events import NOW, sample_appeal_event


def parsed(subject: str, sequence: int, district: str = "洮北区") -> ParsedEvent:
    return CATALOGUE.parse(sample_appeal_event(subject, sequence, district).to_json())


def test_an_event_not_newer_than_the_state_changes_nothing() -> None:
    state = apply_appeal(None, parsed("A1", 2))
    assert state is not None
    assert state["sequence"] == 2
    assert apply_appeal(state, parsed("A1", 2)) is None
    assert apply_appeal(state, parsed("A1", 1)) is None
    newer = apply_appeal(state, parsed("A1", 3))
    assert newer is not None
    assert newer["sequence"] == 3


def test_applying_leaves_the_old_state_untouched() -> None:
    state = apply_appeal(None, parsed("A1", 1))
    assert state is not None
    before = {k: list(v) if isinstance(v, list) else v for k, v in state.items()}
    assert apply_appeal(state, parsed("A1", 2)) is not None
    assert state == before


@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(1, 4)), max_size=40))
def test_any_redelivery_order_counts_each_event_once(deliveries: list[tuple[str, int]]) -> None:
    states: dict[str, State] = {}
    for subject, sequence in deliveries:
        new = apply_appeal(states.get(subject), parsed(subject, sequence))
        if new is not None:
            states[subject] = new
    applied = 0  # an event applies exactly when it is newer than every one before it
    for i, (subject, sequence) in enumerate(deliveries):
        applied += all(q < sequence for s, q in deliveries[:i] if s == subject)
    assert sum(samples(states.values(), "minsheng_appeals_received").values()) == applied
    for subject, state in states.items():
        assert state["sequence"] == max(q for s, q in deliveries if s == subject)


def test_counters_by_labels_and_by_district() -> None:
    states = [
        apply_appeal(None, parsed(f"A{i}", 1, district))
        for i, district in enumerate(["洮北区", "洮北区", "大安市"])
    ]
    present = [s for s in states if s is not None]
    assert samples(present, "minsheng_appeals_received") == Counter(
        {("洮北区", "complaint", "hotline"): 2, ("大安市", "complaint", "hotline"): 1}
    )
    counters = city_counters(present, [], NOW)
    assert counters["city"]["received"] == 3
    assert {d: v["received"] for d, v in counters["districts"].items()} == {
        "大安市": 1,
        "洮北区": 2,
    }
