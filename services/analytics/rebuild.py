"""`minsheng-analytics rebuild`: fold the domain topics again from their first offset and
show that the counters equal those the workers hold.

    minsheng-analytics rebuild [--no-progress] [--write]

It takes the end offsets of the domain topics, folds every event up to them through the
same pure rules the workers use (parse, sequence guard, apply) with a progress bar on
stderr (events done, events/s, ETA), then reads the workers' state as they would recover
it (the tables' changelog topics, last value per key) and compares the figures of both at
one instant: every metric sample and every KPI. It prints the comparison and exits 1 if
anything differs. It writes nothing, so it is safe while the workers run; when they are
busy, a difference can be work in progress: run it again at a quiet moment.

With `--write` (the workers stopped: it refuses while the consumer group has members) it
then makes the workers' state the rebuilt one: it writes every rebuilt state to the
tables' changelogs, a tombstone for every state the rebuild has not, and offset markers
at the end offsets it folded up to, reads the changelogs back and compares again. Workers
started afterwards recover exactly that and go on from there. This is how a fix to a
counting rule reaches the states of the past.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TextIO, TypeAlias

import rich.progress
from aiokafka import ConsumerRecord, TopicPartition
from rich.console import Console

from analytics import offsets
from analytics.aggregate import share
from analytics.app import AnalyticsSettings, changelog_topic
from analytics.changelog import ChangelogWriter
from analytics.consumers import Apply, parser
from analytics.counting import Figures, State
from analytics.kpis import aggregates, report
from analytics.main import TABLES
from minsheng.events import InvalidEvent, ParsedEvent
from minsheng.kafka import KafkaAccess

Record: TypeAlias = ConsumerRecord[bytes, bytes]
Records = Callable[[Record], None]
Parse = Callable[[bytes | None, Any], ParsedEvent]


class Progress:
    """The rebuild's progress bar on stderr (rich): events done of total, events/s, ETA.
    On a terminal it redraws in place; to a file or pipe rich writes its final line."""

    def __init__(self, out: TextIO | None = None) -> None:
        self.started = time.monotonic()
        self.bar = rich.progress.Progress(
            rich.progress.TextColumn("rebuild"),
            rich.progress.BarColumn(bar_width=24),
            rich.progress.TextColumn("{task.completed:,.0f}/{task.total:,.0f} events"),
            rich.progress.TextColumn("{task.fields[speed]:,.0f} events/s"),
            rich.progress.TextColumn("ETA"),
            rich.progress.TimeRemainingColumn(),
            console=Console(file=out or sys.stderr, width=120),
        )
        self.task = self.bar.add_task("rebuild", total=0, speed=0.0)
        self.bar.start()

    @property
    def total(self) -> int:
        return int(self.bar.tasks[0].total or 0)

    @total.setter
    def total(self, total: int) -> None:
        self.started = time.monotonic()
        self.bar.update(self.task, total=total)

    def advance(self, n: int = 1) -> None:
        done = self.bar.tasks[0].completed + n
        elapsed = time.monotonic() - self.started
        self.bar.update(self.task, completed=done, speed=done / elapsed if elapsed > 0 else 0.0)

    def finish(self) -> None:
        self.bar.stop()


async def read_until_end(
    kafka: KafkaAccess, topics: Sequence[str], on_record: Records, progress: Progress | None = None
) -> int:
    """Reads every partition of `topics` from its first offset to the end offset taken
    when this starts; returns how many records that was (raises if fewer were read)."""
    consumer = kafka.consumer(
        enable_auto_commit=False,
        auto_offset_reset="earliest",  # also for the reset that assign() starts on its own
        max_partition_fetch_bytes=4 << 20,
    )
    partitions = await _partitions(kafka, topics)
    if not partitions:
        return 0
    await consumer.start()
    collecting = gc.isenabled()
    gc.disable()  # full collections over the growing heap of states cost more and more;
    try:  # what the fold allocates (records, states) is acyclic: refcounting frees it
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        starts = await consumer.beginning_offsets(partitions)
        left = {tp: ends[tp] for tp in partitions if ends[tp] > starts[tp]}
        if progress is not None:
            progress.total = sum(ends[tp] - starts[tp] for tp in left)
        await consumer.seek_to_beginning(*partitions)
        count = 0
        while left:
            batches = await consumer.getmany(*left, timeout_ms=500)
            for tp, records in batches.items():
                end = left[tp]
                if records and records[-1].offset >= end:  # past the end taken at the start
                    records = [record for record in records if record.offset < end]
                for record in records:
                    on_record(record)
                count += len(records)
                if progress is not None:
                    progress.advance(len(records))
            for tp in [tp for tp, end in left.items() if await consumer.position(tp) >= end]:
                del left[tp]
        expected = sum(ends[tp] - starts[tp] for tp in partitions)
        if count < expected:  # offsets are dense on these topics (no transactions)
            raise RuntimeError(f"read {count} of the {expected} records of {list(topics)}")
        return count
    finally:
        if collecting:
            gc.enable()
        await consumer.stop()


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
    states: dict[str, dict[str, State]] = field(default_factory=dict)
    rejected: int = 0
    last: dict[str, dict[int, int]] = field(default_factory=dict)  # topic -> partition -> offset
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


def changelog_states() -> tuple[dict[str, dict[str, State]], Records]:
    """The tables as a worker recovers them: last value per key, a tombstone deletes."""
    tables: dict[str, dict[str, State]] = {}

    def on_record(record: Record) -> None:
        topic, key, value = record.topic, record.key, record.value
        if key is None or offsets.is_marker(json.loads(key)):
            return
        table = tables.setdefault(topic, {})
        if value is None:
            table.pop(json.loads(key), None)
        else:
            table[json.loads(key)] = json.loads(value)

    return tables, on_record


def figures_of(states: dict[str, dict[str, State]], topics: list[str], now: datetime) -> Figures:
    appeals, projects, notifications = (list(states.get(t, {}).values()) for t in topics)
    return share(aggregates(appeals, projects, notifications), now)


def compare(before: Figures, after: Figures, now: datetime) -> tuple[bool, str]:
    """Whether the figures are equal, and a report of the comparison for people."""
    lines = [f"{'figure':<58} {'workers':>10} {'rebuilt':>10}"]
    city_before, city_after = report(before, now)["city"], report(after, now)["city"]
    for name in ("received", "open", "overdue", "resolved", "resolved_on_time", "called_back"):
        lines.append(f"{'city ' + name:<58} {city_before[name]:>10} {city_after[name]:>10}")
    keys = sorted(set(before) | set(after))
    differ = [k for k in keys if before.get(k, 0) != after.get(k, 0)]
    for name, labels in differ[:50]:
        label = f"{name}{{{','.join(labels)}}}"
        lines.append(
            f"{label[:58]:<58} {before.get((name, labels), 0):>10} "
            f"{after.get((name, labels), 0):>10}  DIFFERS"
        )
    verdict = (
        f"all {len(keys)} figures equal (every metric sample and KPI input)"
        if not differ
        else f"{len(differ)} of {len(keys)} figures differ"
    )
    return not differ, "\n".join([*lines, verdict])


async def rebuild(
    settings: AnalyticsSettings, show_progress: bool, out: TextIO, write: bool = False
) -> int:
    topics = [topic for _, topic, _, _, _ in TABLES]
    if write and (members := await _group_members(settings)):
        print(
            f"refusing to write: {members} worker(s) of group {settings.analytics_app_id!r} "
            "are running; stop them first",
            file=out,
        )
        return 2
    replay = Replay({topic: fold for _, topic, _, fold, _ in TABLES})
    progress = Progress() if show_progress else None
    started = time.monotonic()
    events = await read_until_end(settings.kafka, topics, replay.apply, progress)
    if progress is not None:
        progress.finish()
    seconds = time.monotonic() - started
    changelogs = [changelog_topic(settings, table) for _, _, table, _, _ in TABLES]
    held, on_record = changelog_states()
    await read_until_end(settings.kafka, changelogs, on_record)
    now = datetime.now(UTC)
    after = figures_of(replay.states, topics, now)
    equal, text = compare(figures_of(held, changelogs, now), after, now)
    print(
        f"rebuilt from {events:,} events in {seconds:.1f} s "
        f"({replay.rejected:,} rejected as the workers did), as of {now.isoformat()}",
        file=out,
    )
    print(text, file=out)
    if not write:
        return 0 if equal else 1
    written = await _write(settings, replay, held, dict(zip(topics, changelogs, strict=True)))
    print(written, file=out)
    held, on_record = changelog_states()
    await read_until_end(settings.kafka, changelogs, on_record)
    equal, text = compare(figures_of(held, changelogs, now), after, now)
    print("the changelogs now:", text, sep="\n", file=out)
    return 0 if equal else 1


async def _group_members(settings: AnalyticsSettings) -> int:
    """How many members the workers' consumer group has now."""
    admin = settings.kafka.admin()
    await admin.start()
    try:
        responses = await admin.describe_consumer_groups([settings.analytics_app_id])
    finally:
        await admin.close()
    return sum(len(group["members"]) for r in responses for group in r.to_object()["groups"])


async def _write(
    settings: AnalyticsSettings,
    replay: Replay,
    held: dict[str, dict[str, State]],
    changelogs: dict[str, str],
) -> str:
    """The rebuilt states, tombstones for the others and markers, to every changelog."""
    writer = ChangelogWriter(settings.kafka)
    states = tombstones = 0
    try:
        for topic, changelog in changelogs.items():
            rebuilt = replay.states.get(topic, {})
            gone = {
                key: state["partition"]
                for key, state in held.get(changelog, {}).items()
                if key not in rebuilt
            }
            await writer.write(changelog, rebuilt, replay.last.get(topic, {}), gone)
            states, tombstones = states + len(rebuilt), tombstones + len(gone)
    finally:
        await writer.stop()
    markers = sum(len(last) for last in replay.last.values())
    return (
        f"wrote {states:,} states, {tombstones:,} tombstones and {markers} offset markers "
        "to the changelogs: workers started now recover them and go on from there"
    )


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(prog="minsheng-analytics rebuild", description=__doc__)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument(
        "--write",
        action="store_true",
        help="make the workers' state the rebuilt one (stop the workers first)",
    )
    args = parser.parse_args(argv)
    settings = AnalyticsSettings()
    return asyncio.run(rebuild(settings, not args.no_progress, out, write=args.write))
