"""The compact states and the store by partition (pure: no broker; the bulk read against
the real broker is exercised by tests/test_analytics_exactness.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from analytics.appeal_counting import apply_appeal
from analytics.consumers import parse
from analytics.counting import State
from analytics.state_codec import Codec
from analytics.state_store import States, apply_records
from minsheng.topics import APPEALS
from testkit.unit.workload import topic_of, workload


def appeal_states(appeals: int = 200) -> list[State]:
    """States as the fold leaves them, from a random valid workload."""
    w = workload(7, appeals, 1, datetime.now(UTC), 1)
    states: dict[str, State] = {}
    for event in w.events:
        if topic_of(event) == APPEALS:
            parsed = parse(APPEALS, event.to_json(), [])
            new = apply_appeal(states.get(parsed.envelope.subject), parsed)
            if new is not None:
                new["partition"] = 3
                states[parsed.envelope.subject] = new
    return list(states.values())


def test_a_state_comes_back_as_it_went_in_and_much_smaller_than_its_json() -> None:
    codec = Codec()
    states = appeal_states()
    odd: State = {"partition": 1, "offset": 7, "x": [], "y": [[1, 2]], "z": {"a": None}}
    for state in [*states, odd]:
        assert codec.decode(codec.encode(state)) == state
    encoded = sum(len(codec.encode(s)) for s in states)
    assert encoded * 5 < sum(len(json.dumps(s).encode()) for s in states)


def test_the_interned_labels_grow_with_the_labels_not_the_states() -> None:
    codec = Codec()
    states = appeal_states()
    for state in states:
        codec.encode(state)
    seen = len(codec.values.objects)
    for state in states * 3:
        codec.encode({**state, "sequence": state["sequence"] + 1})
    assert len(codec.values.objects) == seen


def test_states_live_by_partition_and_a_partition_is_forgotten_whole() -> None:
    store = States()
    store["A-1"] = {"partition": 0, "sequence": 1}
    store["A-2"] = {"partition": 1, "sequence": 2}
    store["#offset/1"] = {"partition": 1, "offset": 9}
    assert store["A-2"] == {"partition": 1, "sequence": 2}
    assert len(store) == 3
    assert "A-1" in store
    assert store.forget([1, 4]) == 2
    assert dict(store.items()) == {"A-1": {"partition": 0, "sequence": 1}}
    del store["A-1"]
    assert len(store) == 0
    assert "A-1" not in store


@dataclass
class Record:
    offset: int
    key: bytes
    value: bytes | None


def test_changelog_records_before_the_end_are_read_and_a_tombstone_deletes() -> None:
    store = States()
    records = [
        Record(0, b'"A-1"', b'{"sequence": 1}'),
        Record(1, b'"A-2"', b'{"sequence": 1}'),
        Record(2, b'"A-1"', b'{"sequence": 2}'),
        Record(3, b'"A-2"', None),
        Record(4, b'"A-3"', b'{"sequence": 1}'),  # at the end offset: left to Faust
    ]
    assert apply_records(store, 5, records, end=4) == 4
    assert dict(store.items()) == {"A-1": {"sequence": 2, "partition": 5}}
