"""A batch of messages through `handle_batch`, with fakes for Faust's table, the dead-letter
topic and the changelog writer (pure unit tests; the real broker is in tests/)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiokafka.errors import KafkaConnectionError

from analytics import offsets
from analytics.aggregate import Aggregate
from analytics.appeal_counting import appeal_figures, apply_appeal, deadline_of
from analytics.consumers import Counting, handle_batch
from analytics.counting import State
from minsheng.events import AppealReceived
from testkit.unit.analytics import payload
from testkit.unit.events import NOW, domain_event

TOPIC = "minsheng.appeals.v1"


@dataclass
class Message:
    partition: int
    offset: int
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
    event = domain_event(data, subject=appeal_id, time=NOW)
    return Event(Message(partition, offset, **message), event.to_json())


@dataclass
class Seeks:
    calls: list[tuple[int, int]] = field(default_factory=list)

    async def __call__(self, partition: int, offset: int) -> None:
        self.calls.append((partition, offset))


def counting(owned: dict[int, int] | None = None) -> tuple[Counting, Writes, DeadLetters]:
    """A counting that owns partitions 0-5 from offset 0 (or `owned`: partition -> next)."""
    writes, dead = Writes(), DeadLetters()
    c = Counting(
        Table(),
        Aggregate(appeal_figures, deadline_of),
        apply_appeal,
        dead,
        writes,  # type: ignore[arg-type]
        Seeks(),
    )
    resume = {p: 0 for p in range(6)} if owned is None else owned
    c.gate.reset(resume, resume)
    return c, writes, dead


async def test_a_batch_writes_each_state_and_then_each_partitions_last_offset() -> None:
    c, writes, _ = counting({0: 10, 3: 4})
    batch = [received("A-1", 0, 10), received("A-2", 3, 4), received("A-3", 0, 11)]
    await handle_batch(batch, c)
    [(_, states, applied)] = writes.calls
    assert set(states) == {"A-1", "A-2", "A-3"}
    assert applied == {0: 11, 3: 4}
    assert c.table.data[offsets.key(0)] == offsets.marker(0, 11)
    assert offsets.resume_at(c.table.data, [0, 3]) == {0: 12, 3: 5}


async def test_events_come_strictly_in_offset_order_or_the_partition_is_sought_back() -> None:
    """Records prefetched before a seek arrive among those after it: an event past a
    missing one waits, since the missing one would otherwise count as already applied."""
    c, writes, _ = counting({1: 433})
    first = [
        received("A-1", 1, 390),  # before the marker: applied before the restart
        received("A-2", 1, 435),  # 434 has not come: refused
        received("A-3", 1, 433),
    ]
    await handle_batch(first, c)
    assert c.rewind.calls == [(1, 434)]  # type: ignore[attr-defined]
    second = [received("A-4", 1, 434), received("A-4", 1, 434), received("A-2", 1, 435)]
    await handle_batch(second, c)  # 434 delivered twice, then what was refused
    assert [set(states) for _, states, _ in writes.calls] == [{"A-3"}, {"A-4", "A-2"}]
    assert [applied for _, _, applied in writes.calls] == [{1: 433}, {1: 435}]
    assert c.rewind.calls == [(1, 434)]  # type: ignore[attr-defined]


async def test_partitions_not_owned_are_left_to_their_owner() -> None:
    c, writes, _ = counting({1: 3})
    await handle_batch([received("A-1", 0, 10), received("A-2", 1, 3)], c)
    [(_, states, applied)] = writes.calls
    assert set(states) == {"A-2"}
    assert applied == {1: 3}
    assert "A-1" not in c.table.data
    c.gate.close()  # revoked: nothing is applied until the next recovery
    await handle_batch([received("A-3", 1, 4)], c)
    assert "A-3" not in c.table.data


async def test_a_poison_message_is_in_the_dlq_before_the_marker_passes_it() -> None:
    c, writes, dead = counting({2: 5})
    poison = Event(Message(2, 5), b"{not json")
    await handle_batch([poison, received("A-1", 2, 6)], c)
    assert dead.sent == [b"{not json"]
    assert dead.delivered == 1
    [(_, states, applied)] = writes.calls
    assert set(states) == {"A-1"}
    assert applied == {2: 6}


async def test_a_dead_letter_carries_no_full_number() -> None:
    c, _, dead = counting({2: 5})
    await handle_batch([Event(Message(2, 5), b'{"title": "13912345678", "bad": ')], c)
    assert dead.sent == [b'{"title": "139****5678", "bad": ']


async def test_a_redelivered_event_moves_the_marker_but_writes_no_state() -> None:
    c, writes, _ = counting({0: 1})
    await handle_batch([received("A-1", 0, 1)], c)
    await handle_batch([received("A-1", 0, 2)], c)  # the same event, published again
    assert [call[1].keys() for call in writes.calls] == [{"A-1"}, set()]
    assert [call[2] for call in writes.calls] == [{0: 1}, {0: 2}]


async def test_after_recovery_only_owned_partitions_are_summed_and_resumed() -> None:
    c, _, _ = counting({0: 10, 1: 3})
    await handle_batch([received("A-1", 0, 10), received("A-2", 1, 3), received("A-3", 1, 4)], c)
    assert await c.rebuild([1]) == {1: 5}
    assert received_in(c) == 2
    assert "A-1" in c.table.data  # the re-sum leaves it; the store forgets (state_store.py)
    assert await c.rebuild([0, 1]) == {0: 11, 1: 5}
    assert received_in(c) == 3


def received_in(c: Counting) -> int:
    return sum(v for (name, _), v in c.aggregate.figures.items() if name == "received")


async def test_a_batch_holds_until_its_changelog_write_succeeds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its states are in the store already: going on without the write would lose them."""
    c, writes, _ = counting({0: 1})
    failures = [KafkaConnectionError()]
    write = writes.write

    async def flaky(topic: str, states: Any, applied: Any) -> None:
        if failures:
            raise failures.pop()
        await write(topic, states, applied)

    monkeypatch.setattr(writes, "write", flaky)
    monkeypatch.setattr(asyncio, "sleep", fast_sleep)
    await handle_batch([received("A-1", 0, 1)], c)
    assert [set(states) for _, states, _ in writes.calls] == [{"A-1"}]


async def fast_sleep(delay: float) -> None:
    """The retry back-off, without the wait."""
