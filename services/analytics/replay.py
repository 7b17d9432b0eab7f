"""The fold of topics from their first offset, as the rebuild does it: what to read (each
partition's span, taken once), the read up to those ends, and `Replay`, the states the
domain topics fold into through the workers' own rules.

Apart from `rebuild.py` so that the rebuild's worker processes (`fold_processes.py`)
import the fold without the command around it.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from aiokafka import ConsumerRecord, TopicPartition

from analytics.counting import State
from analytics.parsing import parser
from analytics.tables import TABLES, Apply
from minsheng.events import InvalidEvent, ParsedEvent
from minsheng.kafka import KafkaAccess

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Records = Callable[[Record], None]
Counted = Callable[[int], None]  # after each poll, told how many more records were read
Parse = Callable[[bytes | None, Any], ParsedEvent]
Span = tuple[int, int]  # a partition's first offset and its end offset (the next to come)
Spans = dict[TopicPartition, Span]
Tables = dict[str, dict[str, State]]  # topic -> aggregate id -> state
Offsets = dict[str, dict[int, int]]  # topic -> partition -> last offset folded


def _consumer(kafka: KafkaAccess) -> Any:
    return kafka.consumer(
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # also for the reset that assign() starts on its own
        max_partition_fetch_bytes=4 << 20,
    )


async def spans_of(kafka: KafkaAccess, topics: Sequence[str]) -> Spans:
    """Every partition of those of `topics` that exist, with its first and end offsets
    now: what a fold up to this instant reads."""
    partitions = await _partitions(kafka, topics)
    if not partitions:
        return {}
    consumer = _consumer(kafka)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
    finally:
        await consumer.stop()
    return {tp: (starts[tp], ends[tp]) for tp in partitions}


async def read(
    kafka: KafkaAccess,
    spans: Mapping[TopicPartition, Span],
    on_record: Records,
    on_count: Counted | None = None,
) -> int:
    """Reads each partition of `spans` from its first offset up to its end offset; returns
    how many records that was (raises if fewer were read)."""
    left = {tp: end for tp, (start, end) in spans.items() if end > start}
    if not left:
        return 0
    consumer = _consumer(kafka)
    await consumer.start()
    collecting = gc.isenabled()
    gc.disable()  # full collections over the growing heap of states cost more and more;
    try:  # what the fold allocates (records, states) is acyclic: refcounting frees it
        consumer.assign(list(spans))
        for tp in left:
            consumer.seek(tp, spans[tp][0])
        count = 0
        while left:
            batches = await consumer.getmany(*left, timeout_ms=500)
            polled = count
            for tp, records in batches.items():
                end = left[tp]
                if records and records[-1].offset >= end:  # past the end taken at the start
                    records = [record for record in records if record.offset < end]
                for record in records:
                    on_record(record)
                count += len(records)
            if on_count is not None:  # every poll, none read too: a report can be due
                on_count(count - polled)
            for tp in [tp for tp, end in left.items() if await consumer.position(tp) >= end]:
                del left[tp]
        expected = sum(end - start for start, end in spans.values())
        if count < expected:  # offsets are dense on these topics (no transactions)
            topics = sorted({tp.topic for tp in spans})
            raise RuntimeError(f"read {count} of the {expected} records of {topics}")
        return count
    finally:
        if collecting:
            gc.enable()
        await consumer.stop()


async def read_until_end(
    kafka: KafkaAccess, topics: Sequence[str], on_record: Records, on_count: Counted | None = None
) -> int:
    """Reads every partition of `topics` from its first offset to the end offset taken
    when this starts; returns how many records that was (raises if fewer were read)."""
    return await read(kafka, await spans_of(kafka, topics), on_record, on_count)


async def _partitions(kafka: KafkaAccess, topics: Sequence[str]) -> list[TopicPartition]:
    """Every partition of those of `topics` that exist."""
    admin = kafka.admin()
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in described
        if topic["error_code"] == 0
        for partition in sorted(topic["partitions"], key=lambda p: p["partition"])
    ]


@dataclass
class Replay:
    """The states the domain topics fold into, by table and aggregate id."""

    folds: dict[str, Apply]  # topic -> fold
    states: Tables = field(default_factory=dict)
    rejected: int = 0
    last: Offsets = field(default_factory=dict)  # topic -> partition -> offset
    # topic -> its states, parse, fold and last offsets: looked up once a record
    _topics: dict[str, tuple[dict[str, State], Parse, Apply, dict[int, int]]] = field(
        default_factory=dict, repr=False
    )

    def apply(self, record: Record) -> None:
        topic = record.topic
        if topic not in self._topics:
            table, last = self.states.setdefault(topic, {}), self.last.setdefault(topic, {})
            self._topics[topic] = table, parser(topic), self.folds[topic], last
        table, parse, fold, last = self._topics[topic]
        last[record.partition] = record.offset
        try:
            parsed = parse(record.value, record.headers)
            subject = parsed.envelope.subject
            new = fold(table.get(subject), parsed)
        except InvalidEvent:
            self.rejected += 1  # the workers dead-lettered it too (foreign sources too)
            return
        if new is not None:
            new["partition"] = record.partition
            table[subject] = new

    def merge(self, states: Tables, last: Offsets, rejected: int) -> None:
        """Adds the fold of other partitions (another process's): an aggregate lives in
        one partition, so no state can come twice; one that does is refused, not chosen."""
        for topic, table in states.items():
            mine = self.states.setdefault(topic, {})
            if twice := table.keys() & mine.keys():
                raise ValueError(f"{len(twice)} aggregates of {topic} folded twice: {min(twice)}")
            mine.update(table)
        for topic, offsets in last.items():
            self.last.setdefault(topic, {}).update(offsets)
        self.rejected += rejected


def domain_replay() -> Replay:
    """An empty Replay of the domain topics with the workers' folds."""
    return Replay({topic: fold for _, topic, _, fold, _ in TABLES})
