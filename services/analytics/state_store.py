"""The tables' store: the states of the partitions this worker owns, compact, by partition,
each changelog partition read in bulk when the worker is given it.

Faust's memory store keeps decoded dicts (about 4.7 KB an appeal) and recovers a
changelog one message at a time through its recovery service: an event object, a queue,
a few bookkeeping calls each, some 1,500 states/s on the shared two-core machine. It also
keeps, after a rebalance, the states the agents wrote to partitions the worker gave up.
This store:

- holds each partition's states apart, encoded (state_codec.py), so that a partition the
  worker no longer owns is dropped whole at the rebalance (`forget`) and memory follows
  the worker's share;
- reads a partition it is newly given with a consumer of its own, in large fetches, up
  to the end offset it had at the assignment, straight into the store; and tells Faust
  that it holds the partition up to there (`persisted_offset`, as Faust's RocksDB store
  says what it has on disk), so Faust's own recovery reads only what comes after (nothing:
  the previous owner stopped writing before the partitions moved, see consumers.settle);
- makes the recovery wait for that read (`on_recovery_completed`, before the table's
  callbacks re-sum the states and the agents resume).

A partition kept through a rebalance is held up to its end offset: every record on it was
read by this store or written by this worker's agents after their store write. A partition
given up is forgotten, so if it comes back it is read again from its first offset.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from typing import Any, cast

import msgspec
from aiokafka import TopicPartition
from faust.stores import STORES, memory
from faust.types import TP

from analytics import state_codec
from analytics.counting import State
from analytics.state_codec import Codec
from minsheng.kafka import KafkaAccess
from minsheng.resilience import until_done

log = logging.getLogger(__name__)
URL = "states://"  # the store of create_app's tables
HOT_STATES = 20_000  # states kept decoded: about 100 MB at 4.7 KB each
FETCH_RECORDS = 20_000  # records per getmany of the bulk read
FETCH_BYTES = 32 << 20
EXIT_READ_FAILED = 70  # EX_SOFTWARE: a changelog the store could not read


class States(MutableMapping[Any, State]):
    """A table's states by partition, each encoded; a state says its partition.

    The states written last stay decoded (`hot`, at most `hot_size`, the oldest encoded
    first): the live fold reads and writes the same appeals again and again within a few
    batches, and decoding and encoding a state costs some 70 µs, more than the rest of an
    event's fold. A key is either hot or encoded, never both."""

    def __init__(self, codec: Codec | None = None, hot_size: int = HOT_STATES) -> None:
        self.codec = codec or Codec()
        self.partitions: dict[int, dict[Any, bytes]] = {}
        self.hot: dict[Any, State] = {}  # oldest first
        self.hot_size = hot_size

    def of(self, partition: int) -> dict[Any, bytes]:
        """The encoded states of one partition (created empty)."""
        return self.partitions.setdefault(partition, {})

    def put(self, partition: int, key: Any, state: State) -> None:
        """A state read from a changelog (encoded at once: a recovery writes millions)."""
        state.setdefault("partition", partition)
        self.hot.pop(key, None)
        self.of(partition)[key] = self.codec.encode(state)

    def put_encoded(self, partition: int, key: Any, data: bytes) -> None:
        """A changelog value as it was read: a compact state (kept as it is), a shape
        (learnt) or a state written as JSON (encoded)."""
        first = data[:1]
        if first == b"{":
            self.put(partition, key, msgspec.json.decode(data))
        elif first == b"[":
            state_codec.learn(data)
        else:
            self.hot.pop(key, None)
            self.of(partition)[key] = data

    def shaped(self, partitions: Iterable[int]) -> Iterator[tuple[Any, int | None, State]]:
        """(key, shape digest or None, state) of the states of `partitions`: what the
        re-sum reads, the shape telling equal figures apart without computing them."""
        mine = set(partitions)
        for key, state in list(self.hot.items()):
            if state["partition"] in mine:
                yield key, None, state
        decode = self.codec.decode_shaped
        for partition in [p for p in self.partitions if p in mine]:
            for key, data in list(self.of(partition).items()):
                yield key, *decode(data)

    def drop(self, partition: int, key: Any) -> None:
        """A changelog's tombstone."""
        self.hot.pop(key, None)
        self.of(partition).pop(key, None)

    def forget(self, partitions: Iterable[int]) -> int:
        """Drops every state of `partitions`; returns how many."""
        gone = set(partitions)
        hot = [key for key, state in self.hot.items() if state["partition"] in gone]
        for key in hot:
            del self.hot[key]
        return len(hot) + sum(len(self.partitions.pop(p, {})) for p in gone)

    def get(self, key: Any, default: Any = None) -> Any:
        state = self.hot.get(key)
        if state is not None:
            return state
        for states in self.partitions.values():
            data = states.get(key)
            if data is not None:
                return self.codec.decode(data)
        return default

    def __getitem__(self, key: Any) -> State:
        state = self.get(key)
        if state is None:
            raise KeyError(key)
        return cast(State, state)

    def __setitem__(self, key: Any, state: State) -> None:
        partition = state.get("partition")
        if not isinstance(partition, int):
            raise ValueError(f"state of {key!r} names no partition")
        hot = self.hot
        if hot.pop(key, None) is None:
            self.of(partition).pop(key, None)
        hot[key] = state
        if len(hot) > self.hot_size:
            oldest = next(iter(hot))
            cold = hot.pop(oldest)
            self.of(cold["partition"])[oldest] = self.codec.encode(cold)

    def __delitem__(self, key: Any) -> None:
        if self.hot.pop(key, None) is not None:
            return
        for states in self.partitions.values():
            if key in states:
                del states[key]
                return
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        return key in self.hot or any(key in states for states in self.partitions.values())

    def __iter__(self) -> Iterator[Any]:
        yield from list(self.hot)
        for states in list(self.partitions.values()):
            yield from list(states)

    def __len__(self) -> int:
        return len(self.hot) + sum(len(states) for states in self.partitions.values())

    def items(self) -> Iterator[tuple[Any, State]]:  # type: ignore[override]
        yield from list(self.hot.items())
        decode = self.codec.decode
        for states in list(self.partitions.values()):
            for key, data in list(states.items()):
                yield key, decode(data)


def apply_records(states: States, partition: int, records: Iterable[Any], end: int) -> int:
    """Changelog records (JSON key; value compact, a shape or JSON, see state_codec.py; no
    value: deleted) of one partition, those before offset `end`, into `states`; returns how
    many were read. A compact state, nearly every record, is stored as the bytes read."""
    decode, target, hot = msgspec.json.decode, states.of(partition), states.hot
    count = 0
    for record in records:
        if record.offset >= end:
            continue
        count += 1
        key, value = decode(record.key), record.value
        if value is None:
            states.drop(partition, key)
        elif value[:1] in b"{[" or hot:
            states.put_encoded(partition, key, value)
        else:
            target[key] = value
    return count


class StateStore(memory.Store[Any, State]):
    """A table's store (see the module docstring); `options={"kafka": KafkaAccess}`."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.data: States = States()
        self.held: dict[int, int] = {}  # partition -> last changelog offset in `data`
        self.loading: asyncio.Task[None] | None = None
        self.loading_partitions: frozenset[int] = frozenset()
        self.read = 0  # changelog records read in bulk: the recovery watchdog's progress

    @property
    def kafka(self) -> KafkaAccess:
        kafka = (self.options or {}).get("kafka")
        assert isinstance(kafka, KafkaAccess), "create_app passes the broker's access"
        return kafka

    def persisted_offset(self, tp: TP) -> int | None:
        return self.held.get(tp.partition)

    async def on_rebalance(
        self,
        assigned: set[TP],
        revoked: set[TP],
        newly_assigned: set[TP],
        generation_id: int = 0,
    ) -> None:
        topic = self.table.changelog_topic.get_topic_name()
        mine = {tp.partition for tp in assigned if tp.topic == topic}
        if self.loading is not None and not self.loading.done():
            self.loading.cancel()  # read again, from the start, what it had not finished
            self._forget(self.loading_partitions)
        self._forget(set(self.partitions_held()) - mine)
        ends = await self._end_offsets(topic, mine)
        new = {p: ends[p] for p in mine if p not in self.held}
        self.held.update({p: end - 1 for p, end in ends.items()})
        self.loading_partitions = frozenset(new)
        self.loading = asyncio.ensure_future(self._read(topic, new)) if new else None

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        """Faust has read what follows the held offsets; the bulk read must be done too."""
        if self.loading is not None:
            await asyncio.shield(self.loading)

    def apply_changelog_batch(
        self,
        batch: Iterable[Any],
        to_key: Callable[[Any], Any],
        to_value: Callable[[Any], Any],
    ) -> None:
        """What Faust's recovery read after the held offsets."""
        for event in batch:
            key, message = to_key(event.key), event.message
            if message.value is None:
                self.data.drop(message.partition, key)
            else:  # the bytes, whatever the table's serializer made of them
                self.data.put_encoded(message.partition, key, message.value)

    def partitions_held(self) -> set[int]:
        return set(self.held) | set(self.data.partitions)

    def _forget(self, partitions: Iterable[int]) -> None:
        gone = set(partitions)
        if not gone:
            return
        for p in gone:
            self.held.pop(p, None)
        dropped = self.data.forget(gone)
        log.info("%s: forgot %d states of partitions %s", self.table_name, dropped, sorted(gone))

    async def _end_offsets(self, topic: str, partitions: Iterable[int]) -> dict[int, int]:
        tps = [TP(topic, p) for p in partitions]
        if not tps:
            return {}
        what = f"end offsets of {topic}"
        ends = await until_done(lambda: self.app.consumer.highwaters(*tps), what=what)
        return {tp.partition: int(ends.get(tp) or 0) for tp in tps}

    async def _read(self, topic: str, ends: dict[int, int]) -> None:
        started, before = asyncio.get_running_loop().time(), self.read
        try:
            await until_done(lambda: self._read_once(topic, ends), what=f"bulk read of {topic}")
        except Exception:
            # Faust ignores a failed recovery callback and lets the agents run with the
            # table half read and never re-summed: a worker that counts nothing while it
            # looks settled. Better to end it, to be started again (as the watchdog does).
            log.exception("%s: the bulk read of %s failed; exiting", self.table_name, topic)
            logging.shutdown()
            os._exit(EXIT_READ_FAILED)
        seconds = asyncio.get_running_loop().time() - started
        log.info(
            "%s: read %d changelog records of partitions %s in %.1f s",
            self.table_name,
            self.read - before,
            sorted(ends),
            seconds,
        )

    async def _read_once(self, topic: str, ends: dict[int, int]) -> None:
        """Partitions `ends` (partition -> end offset) from their first offset to the end."""
        self._forget_data(ends)  # a retry starts again from the first offset
        left = {TopicPartition(topic, p): end for p, end in ends.items() if end > 0}
        if not left:
            return
        consumer = self.kafka.consumer(
            enable_auto_commit=False,
            max_partition_fetch_bytes=FETCH_BYTES,
            fetch_max_bytes=FETCH_BYTES,
        )
        await consumer.start()
        try:
            consumer.assign(list(left))
            await consumer.seek_to_beginning(*left)
            while left:
                fetched = await consumer.getmany(*left, timeout_ms=1000, max_records=FETCH_RECORDS)
                for tp, records in fetched.items():
                    self.read += apply_records(self.data, tp.partition, records, left[tp])
                    await asyncio.sleep(0)  # let the web server and heartbeats run
                for tp in [tp for tp, end in left.items() if await consumer.position(tp) >= end]:
                    del left[tp]
        finally:
            await consumer.stop()

    def _forget_data(self, partitions: Iterable[int]) -> None:
        self.data.forget(partitions)


STORES.aliases["states"] = f"{__name__}:StateStore"
