"""Where each source partition's fold has got to, kept in the table itself.

Faust's committed offsets cannot be trusted to say what was applied: around a rebalance
its streams skip messages fetched in an older generation and still acknowledge them, and
a worker killed mid-batch may have committed past states it never wrote. So every batch
that a worker writes to a table's changelog ends, on each partition it touched, with a
*marker* record: the last source offset whose effect is in the states before it (same
partition, same producer, so it lands after them or not at all). When Faust has recovered
a table, the markers are committed as the consumer group's offsets just before Faust seeks
to those, and consumption resumes right after the last event whose effect is durable.
Events after a marker may already be reflected in a state (a batch cut short by kill -9);
the per-aggregate sequence guard absorbs those.

Nor is the order of delivery to be trusted right after a seek: records prefetched from the
old position arrive interleaved with those from the new one (seen: 390-394, then 433 when
433 was the marker; offsets delivered twice). Applying an event past a missing one would
be a loss: the missing one, arriving later, would be older than the state and skipped. So
a `Gate` admits each owned partition's messages strictly in offset order from where its
fold resumes: earlier offsets are skipped as seen, later ones refused, and the partition
is sought back to the offset it waits for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

PREFIX = "#offset/"  # aggregate ids never start with "#"
PATIENCE = 20  # seeks to one missing offset before taking its absence as a real hole


def key(partition: int) -> str:
    """The marker's key in the table: one per partition (the store is one dict)."""
    return f"{PREFIX}{partition}"


def is_marker(table_key: Any) -> bool:
    return isinstance(table_key, str) and table_key.startswith(PREFIX)


def marker(partition: int, offset: int) -> dict[str, int]:
    """The marker's value: the source offset last applied on `partition`."""
    return {"partition": partition, "offset": offset}


def resume_at(table: Mapping[Any, Any], partitions: Iterable[int]) -> dict[int, int]:
    """partition -> the first source offset not yet applied, for those of `partitions`
    that have a marker in the table."""
    found = {p: table.get(key(p)) for p in partitions}
    return {p: mark["offset"] + 1 for p, mark in found.items() if mark is not None}


class Verdict(Enum):
    APPLY = "apply"  # the next offset of an owned partition
    SEEN = "seen"  # before the next offset: applied already, or before the marker
    AHEAD = "ahead"  # after the next offset: something in between has not come yet
    FOREIGN = "foreign"  # not a partition this worker owns now (or between rebalances)


@dataclass
class Gate:
    """The next offset of every partition this worker owns, admitted strictly in order."""

    expected: dict[int, int] = field(default_factory=dict)
    seeks: dict[int, tuple[int, int]] = field(default_factory=dict)  # p -> (offset, count)

    def reset(self, partitions: Iterable[int], resume: Mapping[int, int]) -> None:
        """After a recovery: own `partitions`, each from its marker or else its start."""
        self.expected = {p: resume.get(p, 0) for p in partitions}
        self.seeks.clear()

    def close(self) -> None:
        """At a revocation: own nothing until the next recovery."""
        self.expected.clear()

    def admit(self, partition: int, offset: int) -> Verdict:
        expected = self.expected.get(partition)
        if expected is None:
            return Verdict.FOREIGN
        if offset < expected:
            return Verdict.SEEN
        if offset > expected and not self._hole(partition, expected):
            return Verdict.AHEAD
        self.expected[partition] = offset + 1
        return Verdict.APPLY

    def last_applied(self, partitions: Iterable[int]) -> dict[int, int]:
        """partition -> the last offset admitted, for partitions admitted anything."""
        return {p: self.expected[p] - 1 for p in partitions}

    def sought(self, partition: int) -> None:
        """The partition was sought back to the offset it waits for."""
        expected = self.expected[partition]
        offset, count = self.seeks.get(partition, (expected, 0))
        self.seeks[partition] = (expected, count + 1 if offset == expected else 1)

    def _hole(self, partition: int, expected: int) -> bool:
        """Whether `expected` stayed missing through PATIENCE seeks: offsets are dense on
        our topics, but a transactional producer's commit markers would leave holes."""
        offset, count = self.seeks.get(partition, (expected, 0))
        return offset == expected and count >= PATIENCE
