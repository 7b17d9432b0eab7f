"""The offset markers a worker resumes from after recovery."""

from __future__ import annotations

from analytics import offsets


def test_a_marker_is_never_mistaken_for_an_aggregate() -> None:
    assert offsets.is_marker(offsets.key(3))
    assert not offsets.is_marker("SA-2026-000001")
    assert not offsets.is_marker(None)


def test_resume_after_the_last_applied_offset_of_owned_partitions_only() -> None:
    entries = [
        ("SA-1", {"sequence": 2, "partition": 0}),
        (offsets.key(0), offsets.marker(0, 41)),
        (offsets.key(4), offsets.marker(4, 7)),
        (offsets.key(5), offsets.marker(5, 0)),
    ]
    assert offsets.resume_at(entries, [0, 1, 5]) == {0: 42, 5: 1}


def test_last_offsets_keeps_the_highest_per_partition_whatever_the_order() -> None:
    pairs = [(2, 10), (1, 5), (2, 12), (2, 11), (1, 4)]
    assert offsets.last_offsets(pairs) == {2: 12, 1: 5}
