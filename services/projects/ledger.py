"""The ledger (台账) of a year as pure functions: the counts per level and per district
that leaders read any time (随时查账), and the CSV of the year-end settlement (年底交账).

Completed counts completed and verified projects (a failed verification takes a project
back out); the completion rate is completed / claimed in percent, one decimal; on time
means completed no later than the planned end. Every level and every district appears,
with zeros, so a settlement sheet has the same rows every year. Once a supervisor has
closed a year (年底交账), its projects change only with a supervisor key (`closed_to`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from typing import Any, get_args

from minsheng.events.projects import Level
from minsheng.reference import places

COUNTS = ("claimed", "in_progress", "completed", "completed_on_time", "verified", "flagged")
COLUMNS = ("scope", "name", *COUNTS, "completion_rate")
LEVELS: tuple[Level, ...] = get_args(Level)


def completion_rate(completed: int, claimed: int) -> float | None:
    """Percent with one decimal; None for a scope with no projects."""
    return round(100 * completed / claimed, 1) if claimed else None


def _line(row: dict[str, Any] | None) -> dict[str, Any]:
    counts = {name: int(row[name]) if row else 0 for name in COUNTS}
    return {**counts, "completion_rate": completion_rate(counts["completed"], counts["claimed"])}


def closed_to(role: str | None, year: int, closed: Mapping[str, Any] | None) -> str | None:
    """Why a change to one of `year`'s projects is refused, or None: after 年底交账
    (`closed`, from `store.ledger_closed`) only a supervisor key (`role`) changes them,
    and other systems' intake (`role` None) never does."""
    if closed is None or role == "supervisor":
        return None
    if role is None:
        return f"the {year} ledger is closed"
    return f"the {year} ledger was closed by {closed['closed_by']}; changes need a supervisor key"


def summarise(year: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The ledger from `store.ledger_rows` (grouping sets: all, per level, per district)."""
    total = next((r for r in rows if r["by_level_row"] and r["by_district_row"]), None)
    level_rows = {r["level"]: r for r in rows if not r["by_level_row"]}
    district_rows = {r["district"]: r for r in rows if not r["by_district_row"]}
    districts = [*places().districts, *sorted(set(district_rows) - set(places().districts))]
    return {
        "year": year,
        "total": _line(total),
        "by_level": [{"level": lv, **_line(level_rows.get(lv))} for lv in LEVELS],
        "by_district": [{"district": d, **_line(district_rows.get(d))} for d in districts],
    }


def to_csv(ledger: dict[str, Any]) -> str:
    """The settlement sheet: one row for the city, then each level, then each district."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    lines = [
        ("total", str(ledger["year"]), ledger["total"]),
        *(("level", line["level"], line) for line in ledger["by_level"]),
        *(("district", line["district"], line) for line in ledger["by_district"]),
    ]
    for scope, name, line in lines:
        rate = line["completion_rate"]
        writer.writerow([scope, name, *(line[c] for c in COUNTS), "" if rate is None else rate])
    return out.getvalue()
