"""The Faust agents: validate, dead-letter, apply a batch to the per-aggregate tables;
and what a worker does once Faust has recovered a table (re-sum, resume at the markers)."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import faust
from faust.types import TP

from analytics import offsets
from analytics.aggregate import Aggregate, Resum
from analytics.app import MarkerConsumer
from analytics.changelog import ChangelogWriter
from analytics.counting import State
from analytics.parsing import headers_of, parse
from analytics.tables import Apply
from minsheng import metrics
from minsheng.deadletter import Read, count_dead_letter, dead_letter
from minsheng.events import InvalidEvent
from minsheng.resilience import until_done

log = logging.getLogger(__name__)
SERVICE = "analytics"
BATCH, BATCH_WINDOW = 1000, 0.01  # events per batch at most; seconds a batch waits at most
RESUM_PART = 10_000  # states re-summed between two turns of the event loop


@dataclass
class Counting:
    """One domain topic's fold: its state table (the truth), the aggregate of this
    worker's share, and where rejected messages go."""

    table: Any  # faust.Table of State by aggregate id
    aggregate: Aggregate
    apply: Apply
    dead_letters: Any  # faust topic
    changelog: ChangelogWriter
    rewind: Callable[[int, int], Awaitable[None]]  # seeks a source partition to an offset
    gate: offsets.Gate = field(default_factory=offsets.Gate)
    # held by a batch from its first apply to its changelog ack
    applying: asyncio.Lock = field(default_factory=asyncio.Lock)
    resummed: int = 0  # states re-summed in this process's life (the watchdog's progress)

    async def rebuild(self, partitions: Iterable[int]) -> dict[int, int]:
        """After Faust recovered the table: re-sum the states of the partitions this worker
        owns now, and return where each one's fold resumes (partition -> source offset).

        The store holds the states of those partitions only: it forgets a partition at
        the rebalance that takes it away (state_store.py). The states are decoded and
        summed a part at a time, the event loop running in between (heartbeats, the web
        server): millions take a minute."""
        mine = frozenset(partitions)
        store = self.table.data
        recovered = getattr(store, "_key_partition", {})  # states written before "partition"
        shaped = getattr(store, "shaped", None)  # the compact store's (state_codec.py)
        states = (
            shaped(mine)
            if shaped is not None
            else (
                (key, None, state)
                for key, state in store.items()
                if state.get("partition", recovered.get(key)) in mine
            )
        )
        resum, part = Resum(self.aggregate), []
        for key, shape, state in states:
            if not offsets.is_marker(key):
                part.append((shape, state))
                if len(part) == RESUM_PART:
                    resum.add_shaped(part)
                    self.resummed += len(part)
                    part.clear()
                    await asyncio.sleep(0)  # lets the loop run, not a wait
        resum.add_shaped(part)
        resum.done(mine)
        resume = offsets.resume_at(store, mine)
        self.gate.reset(mine, resume)
        log.info(
            "%s: re-summed %d states of partitions %s; resuming at %s",
            self.table.name,
            resum.states,
            sorted(mine),
            resume,
        )
        return resume

    def states_held(self) -> int:
        """The aggregates' states in this worker's memory (the markers left out)."""
        store = self.table.data
        markers = sum(1 for p in self.aggregate.partitions if offsets.key(p) in store)
        return len(store) - markers


async def settle(countings: Iterable[Counting]) -> None:
    """Waits for the batch under way of every fold to be written (or not begun), then
    closes the gates: from here on the agents drop what they take and write nothing.
    Before partitions move (no write of this worker lands after the next owner has
    recovered) and before the changelog writer stops (no write is cut short)."""
    for counting in countings:
        async with counting.applying:
            counting.gate.close()


async def stop_writing(countings: Iterable[Counting], changelog: ChangelogWriter) -> None:
    """At shutdown: Faust signals it while the agents still run, so the batch under way
    is written first, and the gates closed, before the writer stops."""
    await settle(countings)
    await changelog.stop()


def count_agent(app: faust.App, name: str, source: Any, counting: Counting) -> None:
    """The agent `name` folding `source` into `counting`, a batch at a time."""

    async def count(stream: Any) -> None:
        async for events in stream.take_events(BATCH, within=BATCH_WINDOW):
            async with counting.applying:
                await handle_batch(events, counting)

    count.__name__ = name.replace("-", "_")
    app.agent(source, name=name)(count)


def rewinder(app: faust.App, topic: str) -> Callable[[int, int], Awaitable[None]]:
    """Seeks a partition of `topic` to an offset (`Counting.rewind`)."""

    async def rewind(partition: int, offset: int) -> None:
        await app.consumer.seek(TP(topic, partition), offset)

    return rewind


def rebuilder(app: faust.App, topic: str, counting: Counting) -> Callable[[], Awaitable[None]]:
    """The table's recovery callback (`Table.on_recover`)."""

    async def rebuilt() -> None:
        """Faust finished recovering this worker's partitions: re-sum them, and make the
        group's offsets the table's markers, which Faust seeks to right after this."""
        resume = await counting.rebuild(
            tp.partition for tp in app.consumer.assignment() if tp.topic == topic
        )
        if resume:  # Faust's own commit() would commit what it acknowledged instead
            consumer = app.consumer
            assert isinstance(consumer, MarkerConsumer), "create_app sets the transport"
            await consumer.commit_offsets({TP(topic, p): o for p, o in resume.items()})

    return rebuilt


async def handle_batch(events: Sequence[Any], counting: Counting) -> None:
    """A batch of messages of a domain topic; never raises on bad input.

    O(1) per event in the number of aggregates: one store read, at most one store write,
    and the aggregate moved by the difference between the old and new state's figures.
    The changed states go to the changelog once each at the end, before Faust may
    acknowledge the batch (see changelog.py).
    """
    events = await _in_order(events, counting)
    store = counting.table.data  # the store: no changelog record per assignment
    changed: dict[str, State] = {}
    dead_lettered: list[Any] = []
    now = datetime.now(UTC)
    processed: Counter[tuple[str, str]] = Counter()  # (topic, type) -> events applied
    duplicates: Counter[str] = Counter()  # topic -> events not newer than their state
    ages: list[tuple[str, float]] = []  # topic, seconds since the event's time
    for event in events:
        message = event.message
        try:
            parsed = parse(message.topic, event.value, message.headers)
            subject = parsed.envelope.subject
            held = store.get(subject)
            new_state = counting.apply(held, parsed)
        except InvalidEvent as error:
            dead_lettered.append(await _dead_letter(event, counting.dead_letters, error))
            continue
        if new_state is None:
            duplicates[message.topic] += 1
            continue
        if new_state["sequence"] > (held["sequence"] if held else 0) + 1:
            metrics.SEQUENCE_GAPS.labels(SERVICE, message.topic).inc()
        new_state["partition"] = message.partition  # the aggregate's, for rebuilds
        store[subject] = changed[subject] = new_state
        counting.aggregate.replace(held, new_state)
        processed[message.topic, parsed.envelope.type] += 1
        ages.append((message.topic, (now - parsed.envelope.time).total_seconds()))
    _count_batch(processed, duplicates, ages)
    await asyncio.gather(*dead_lettered)  # in the DLQ before the marker passes them
    applied = counting.gate.last_applied({e.message.partition for e in events})
    for partition, offset in applied.items():
        store[offsets.key(partition)] = offsets.marker(partition, offset)
    topic = counting.table.changelog_topic.get_topic_name()
    await until_done(  # the batch holds until it is durable: its states are in the store
        lambda: counting.changelog.write(topic, changed, applied), what=f"changelog {topic}"
    )


def _count_batch(
    processed: Counter[tuple[str, str]], duplicates: Counter[str], ages: list[tuple[str, float]]
) -> None:
    """A batch's plumbing metrics, one label lookup per label set rather than per event."""
    for (topic, kind), count in processed.items():
        metrics.EVENTS_PROCESSED.labels(SERVICE, topic, kind).inc(count)
    for topic, count in duplicates.items():
        metrics.DUPLICATES.labels(SERVICE, topic).inc(count)
    histograms: dict[str, Any] = {}
    for topic, age in ages:
        if topic not in histograms:
            histograms[topic] = metrics.EVENT_AGE.labels(SERVICE, topic)
        histograms[topic].observe(max(age, 0.0))


async def _in_order(events: Sequence[Any], counting: Counting) -> list[Any]:
    """The events the gate admits (see offsets.Gate); a partition still waiting for its
    next offset at the end of the batch is sought back to it."""
    admitted: list[Any] = []
    behind: dict[int, int] = {}  # partition -> first offset refused
    dropped = 0
    for event in events:
        message = event.message
        verdict = counting.gate.admit(message.partition, message.offset)
        if verdict is offsets.Verdict.APPLY:
            admitted.append(event)
        elif verdict is offsets.Verdict.AHEAD:
            behind.setdefault(message.partition, message.offset)
        elif verdict is offsets.Verdict.FOREIGN:
            dropped += 1
    if dropped:
        log.info("dropped %d events of partitions this worker does not own now", dropped)
    for partition, refused in behind.items():
        expected = counting.gate.expected[partition]
        if refused < expected:
            continue  # what it waited for came later in the batch
        log.warning(
            "%s[%d]: offset %d came before %d; seeking back to it",
            events[0].message.topic,
            partition,
            refused,
            expected,
        )
        try:
            await counting.rewind(partition, expected)
        except Exception:  # the next batch refuses again and tries again
            log.exception("could not seek partition %d back to %d", partition, expected)
            continue
        counting.gate.sought(partition)
    return admitted


async def _dead_letter(event: Any, dead_letters: Any, error: InvalidEvent) -> Any:
    """Sends the message to the dead-letter topic (again while Kafka is away); returns the
    delivery to await."""
    message = event.message
    record = Read(message.topic, message.partition, message.offset, event.key, event.value)
    original = headers_of(message.headers)
    letter = dead_letter(error, service=SERVICE, record=record, original=original)

    async def deliver() -> None:
        await (await dead_letters.send(key=letter.key, value=letter.value, headers=letter.headers))

    count_dead_letter(SERVICE, message.topic, error.reason)
    log.warning(
        "dead-lettered %s[%d]@%d: %s", message.topic, message.partition, message.offset, error
    )
    return asyncio.ensure_future(until_done(deliver, what=f"dead letter of {message.topic}"))
