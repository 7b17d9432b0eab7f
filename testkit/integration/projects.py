"""A project claim for the HTTP tests of projects: a street secretary's project with two
milestones of `year` (both past once the year is: their timers come due)."""

from __future__ import annotations

from datetime import date
from typing import Any


def claim(title: str, year: int, district: str = "洮北区") -> dict[str, Any]:
    """The body of POST /v1/projects."""
    return {
        "secretary": {"name": "王书记", "organisation": "明仁街道党工委", "level": "street"},
        "year": year,
        "title": title,
        "category": "basic_support",
        "district": district,
        "street": "明仁街道",
        "community": "明仁社区",
        "unit": "明仁街道办事处",
        "planned_start": date(year, 1, 1).isoformat(),
        "planned_end": date(year, 12, 31).isoformat(),
        "milestones": [
            {"milestone_id": "m1", "title": "方案设计", "due": date(year, 3, 31).isoformat()},
            {"milestone_id": "m2", "title": "施工", "due": date(year, 6, 30).isoformat()},
        ],
    }
