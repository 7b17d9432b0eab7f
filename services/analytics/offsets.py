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
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

PREFIX = "#offset/"  # aggregate ids never start with "#"


def key(partition: int) -> str:
    """The marker's key in the table: one per partition (the store is one dict)."""
    return f"{PREFIX}{partition}"


def is_marker(table_key: Any) -> bool:
    return isinstance(table_key, str) and table_key.startswith(PREFIX)


def marker(partition: int, offset: int) -> dict[str, int]:
    """The marker's value: the source offset last applied on `partition`."""
    return {"partition": partition, "offset": offset}


def resume_at(entries: Iterable[tuple[Any, Any]], partitions: Iterable[int]) -> dict[int, int]:
    """partition -> the first source offset not yet applied, for the given partitions
    that have a marker among the table's (key, value) entries."""
    wanted = frozenset(partitions)
    found: dict[int, int] = {}
    for table_key, value in entries:
        if is_marker(table_key) and value["partition"] in wanted:
            found[value["partition"]] = value["offset"] + 1
    return found


def last_offsets(offsets: Iterable[tuple[int, int]]) -> Mapping[int, int]:
    """partition -> the highest offset among (partition, offset) pairs of a batch."""
    last: dict[int, int] = {}
    for partition, offset in offsets:
        if offset > last.get(partition, -1):
            last[partition] = offset
    return last
