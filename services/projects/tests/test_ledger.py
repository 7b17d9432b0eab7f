"""The ledger's arithmetic, its CSV and who may change a closed year, pure: rates, zero
rows, grouping-set rows."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest

from projects import ledger


@pytest.mark.parametrize(
    ("completed", "claimed", "rate"),
    [(386, 474, 81.4), (280, 474, 59.1), (0, 3, 0.0), (3, 3, 100.0), (0, 0, None), (1, 3, 33.3)],
)
def test_completion_rate_in_percent_with_one_decimal(
    completed: int, claimed: int, rate: float | None
) -> None:
    assert ledger.completion_rate(completed, claimed) == rate


def row(level: str | None, district: str | None, claimed: int, completed: int) -> dict[str, Any]:
    return {
        "by_level_row": int(level is None),
        "by_district_row": int(district is None),
        "level": level,
        "district": district,
        "claimed": claimed,
        "in_progress": claimed - completed,
        "completed": completed,
        "completed_on_time": completed - 1,
        "verified": 1,
        "flagged": 2,
    }


ROWS = [
    row(None, None, 10, 8),
    row("city", None, 4, 4),
    row("street", None, 6, 4),
    row(None, "洮北区", 7, 6),
    row(None, "洮南市", 3, 2),
]


def test_summary_lists_every_level_and_district_with_zeros() -> None:
    summary = ledger.summarise(2019, ROWS)
    assert summary["total"]["claimed"] == 10
    assert summary["total"]["completion_rate"] == 80.0
    assert [line["level"] for line in summary["by_level"]] == list(ledger.LEVELS)
    by_level = {line["level"]: line for line in summary["by_level"]}
    assert by_level["street"]["completion_rate"] == 66.7
    assert by_level["county"] == {
        **{c: 0 for c in ledger.COUNTS},
        "level": "county",
        "completion_rate": None,
    }
    districts = [line["district"] for line in summary["by_district"]]
    assert districts[:2] == ["洮北区", "镇赉县"]
    assert len(districts) == 6
    assert {line["district"]: line["claimed"] for line in summary["by_district"]}["洮南市"] == 3


def test_an_empty_year_is_all_zeros() -> None:
    summary = ledger.summarise(2030, [])
    assert summary["total"] == {**{c: 0 for c in ledger.COUNTS}, "completion_rate": None}


def test_the_csv_has_the_city_then_levels_then_districts() -> None:
    text = ledger.to_csv(ledger.summarise(2019, ROWS))
    lines = list(csv.reader(io.StringIO(text)))
    assert lines[0] == list(ledger.COLUMNS)
    assert lines[1] == ["total", "2019", "10", "2", "8", "7", "1", "2", "80.0"]
    assert [line[0] for line in lines[1:]] == ["total"] + ["level"] * 5 + ["district"] * 6
    assert lines[2][:3] == ["level", "city", "4"]
    assert lines[3][-1] == ""  # county: no projects, no rate


def test_a_closed_year_changes_only_with_a_supervisor_key_and_never_through_intake() -> None:
    closed = {"closed_by": "审计组", "closed_at": datetime(2020, 1, 5, tzinfo=UTC)}
    assert ledger.closed_to("unit", 2019, None) is None
    assert ledger.closed_to(None, 2019, None) is None
    assert ledger.closed_to("supervisor", 2019, closed) is None
    assert ledger.closed_to("operator", 2019, closed) == (
        "the 2019 ledger was closed by 审计组; changes need a supervisor key"
    )
    assert ledger.closed_to(None, 2019, closed) == "the 2019 ledger is closed"
