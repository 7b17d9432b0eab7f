"""The offset markers a worker resumes from after recovery."""

from __future__ import annotations

from analytics import offsets


def test_a_marker_is_never_mistaken_for_an_aggregate() -> None:
    assert offsets.is_marker(offsets.key(3))
    assert not offsets.is_marker("SA-2026-000001")
    assert not offsets.is_marker(None)


def test_resume_after_the_last_applied_offset_of_owned_partitions_only() -> None:
    table = {
        "SA-1": {"sequence": 2, "partition": 0},
        offsets.key(0): offsets.marker(0, 41),
        offsets.key(4): offsets.marker(4, 7),
        offsets.key(5): offsets.marker(5, 0),
    }
    assert offsets.resume_at(table, [0, 1, 5]) == {0: 42, 5: 1}


def test_the_gate_admits_each_owned_partition_in_offset_order() -> None:
    gate = offsets.Gate()
    gate.reset([0, 1], {0: 5})
    assert gate.admit(0, 4) is offsets.Verdict.SEEN
    assert gate.admit(0, 6) is offsets.Verdict.AHEAD
    assert gate.admit(0, 5) is offsets.Verdict.APPLY
    assert gate.admit(0, 6) is offsets.Verdict.APPLY
    assert gate.last_applied([0]) == {0: 6}
    assert gate.admit(1, 0) is offsets.Verdict.APPLY  # no marker: from the start
    assert gate.admit(2, 0) is offsets.Verdict.FOREIGN
    gate.close()
    assert gate.admit(0, 7) is offsets.Verdict.FOREIGN


def test_an_offset_missing_through_every_seek_is_taken_as_a_hole() -> None:
    gate = offsets.Gate()
    gate.reset([0], {0: 5})
    for _ in range(offsets.PATIENCE):
        assert gate.admit(0, 6) is offsets.Verdict.AHEAD
        gate.sought(0)
    assert gate.admit(0, 6) is offsets.Verdict.APPLY  # a transaction marker, say
    assert gate.admit(0, 8) is offsets.Verdict.AHEAD  # patience starts again at 7
