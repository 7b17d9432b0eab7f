"""A project's columns, declared once: `ProjectSummary`.

Each field is a column of the `projects` table and of the API's view of a project, in
this order; the store's SELECTs and the list pages derive from this class.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel

from minsheng.history import HistoryEntry


class ProjectSummary(BaseModel):
    id: str
    status: str
    sequence: int
    year: int
    title: str
    category: str
    level: str
    secretary_name: str
    secretary_organisation: str
    district: str
    street: str | None
    community: str | None
    unit: str
    planned_start: date
    planned_end: date
    progress: int
    milestones: list[dict[str, Any]]
    completed_on: date | None
    on_time: bool | None
    flags: list[str]
    ratings: list[str]
    claimed_at: datetime
    updated_at: datetime


class ProjectOut(ProjectSummary):
    allowed_actions: list[str] = []
    history: list[HistoryEntry] = []
