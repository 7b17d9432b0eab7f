"""A batch of messages through `handle_batch`, with fakes for Faust's table, the dead-letter
topic and the changelog writer (pure unit tests; the real broker is in tests/)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from analytics import offsets
from analytics.agents import Counting, handle_batch
from analytics.aggregate import Aggregate
from analytics.appeal_counting import appeal_figures, apply_appeal, deadline_of
from analytics.counting import State
from analytics.tests.builders import payload
from minsheng.events import AppealReceived, new_event
from minsheng.tests.samples import NOW, SOURCE

TOPIC = "minsheng.appeals.v1"
GENERATION = 7


@dataclass
class Message:
    partition: int
    offset: int
    generation_id: int = GENERATION
    topic: str = TOPIC
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class Event:
    message: Message
    value: bytes
    key: bytes = b"k"


class ChangelogTopic:
    def get_topic_name(self) -> str:
        return "analytics-appeal-state-changelog"


@dataclass
class Table:
    data: dict[str, Any] = field(default_factory=dict)
    name: str = "appeal-state"
    changelog_topic: ChangelogTopic = field(default_factory=ChangelogTopic)


@dataclass
class Writes:
    """What the batch hands the changelog writer."""

    calls: list[tuple[str, dict[str, State], dict[int, int]]] = field(default_factory=list)

    async def write(self, topic: str, states: Any, applied: Any) -> None:
        self.calls.append((topic, dict(states), dict(applied)))


@dataclass
class DeadLetters:
    sent: list[bytes] = field(default_factory=list)
    delivered: int = 0

    async def send(self, key: bytes, value: bytes, headers: Any) -> asyncio.Future[None]:
        self.sent.append(value)
        delivery: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(self._deliver, delivery)
        return delivery

    def _deliver(self, delivery: asyncio.Future[None]) -> None:
        self.delivered += 1
        delivery.set_result(None)


def received(appeal_id: str, partition: int, offset: int, **message: Any) -> Event:
    data = payload(AppealReceived, appeal_id=appeal_id)
    event = new_event(data, subject=appeal_id, sequence=1, source=SOURCE, time=NOW)
    return Event(Message(partition, offset, **message), event.to_json())


def counting() -> tuple[Counting, Writes, DeadLetters]:
    writes, dead = Writes(), DeadLetters()
    c = Counting(
        Table(),
        Aggregate(appeal_figures, deadline_of),
        apply_appeal,
        dead,
        writes,  # type: ignore[arg-type]
        lambda message: message.generation_id == GENERATION,
    )
    return c, writes, dead


async def test_a_batch_writes_each_state_and_then_each_partitions_last_offset() -> None:
    c, writes, _ = counting()
    batch = [received("A-1", 0, 10), received("A-2", 3, 4), received("A-3", 0, 11)]
    await handle_batch(batch, c)
    [(_, states, applied)] = writes.calls
    assert set(states) == {"A-1", "A-2", "A-3"}
    assert applied == {0: 11, 3: 4}
    assert c.table.data[offsets.key(0)] == offsets.marker(0, 11)
    assert offsets.resume_at(c.table.data.items(), [0, 3]) == {0: 12, 3: 5}


async def test_events_fetched_before_the_rebalance_are_left_for_the_next_owner() -> None:
    c, writes, _ = counting()
    batch = [received("A-1", 0, 10, generation_id=GENERATION - 1), received("A-2", 1, 3)]
    await handle_batch(batch, c)
    [(_, states, applied)] = writes.calls
    assert set(states) == {"A-2"}
    assert applied == {1: 3}
    assert "A-1" not in c.table.data


async def test_a_poison_message_is_in_the_dlq_before_the_marker_passes_it() -> None:
    c, writes, dead = counting()
    poison = Event(Message(2, 5), b"{not json")
    await handle_batch([poison, received("A-1", 2, 6)], c)
    assert dead.sent == [b"{not json"]
    assert dead.delivered == 1
    [(_, states, applied)] = writes.calls
    assert set(states) == {"A-1"}
    assert applied == {2: 6}


async def test_a_redelivered_event_moves_the_marker_but_writes_no_state() -> None:
    c, writes, _ = counting()
    await handle_batch([received("A-1", 0, 1)], c)
    await handle_batch([received("A-1", 0, 1)], c)
    assert [call[1].keys() for call in writes.calls] == [{"A-1"}, set()]
    assert [call[2] for call in writes.calls] == [{0: 1}, {0: 1}]


async def test_a_skipped_offset_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    c, _, _ = counting()
    await handle_batch([received("A-1", 4, 20), received("A-2", 4, 22)], c)
    assert "offset 22 follows 20" in caplog.text


async def test_after_recovery_only_owned_partitions_are_summed_and_resumed() -> None:
    c, _, _ = counting()
    await handle_batch([received("A-1", 0, 10), received("A-2", 1, 3), received("A-3", 1, 4)], c)
    assert c.rebuild([1]) == {1: 5}
    assert received_in(c) == 2
    assert "A-1" in c.table.data  # kept: Faust recovers partition 0 only from here on
    assert c.rebuild([0, 1]) == {0: 11, 1: 5}
    assert received_in(c) == 3


def received_in(c: Counting) -> int:
    return sum(v for (name, _), v in c.aggregate.figures.items() if name == "received")
