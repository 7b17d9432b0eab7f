"""An appeal's columns, declared once: `AppealSummary`.

Each field is a column of the `appeals` table and of the API's view of an appeal, in
this order. A field marked `STATE` is the lifecycle state's attribute of that name,
saved after every action; `WRITTEN` is the instant of the latest write; the others are
what receipt recorded (the receive command's field, or the appeal's). The store's SQL,
the view built right after receipt and the list pages derive from this class;
`PRIVATE` names the columns that only receipt writes and no view shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel

from minsheng.history import HistoryEntry


@dataclass(frozen=True)
class Source:
    """Where a column's value comes from (see the module's docstring)."""

    of: Literal["receipt", "state", "written"]


STATE, WRITTEN = Source("state"), Source("written")
PRIVATE = ("phone", "contact_name")  # personal data: never leaves this database


class AppealSummary(BaseModel):
    """An appeal's columns, as lists show it."""

    id: str
    status: Annotated[str, STATE]
    sequence: Annotated[int, STATE]
    title: str
    description: str
    category: str
    district: str
    street: str | None
    community: str | None
    grid: str | None = None
    channel: str
    contact_ref: str
    received_at: datetime
    deadline: Annotated[datetime | None, STATE]
    unit: Annotated[str | None, STATE] = None
    assisting_units: Annotated[list[str], STATE] = []
    resolved_at: Annotated[datetime | None, STATE] = None
    on_time: Annotated[bool | None, STATE] = None
    rating: Annotated[str | None, STATE] = None
    outcome: Annotated[str | None, STATE] = None
    updated_at: Annotated[datetime | None, WRITTEN] = None


class AppealOut(AppealSummary):
    allowed_actions: list[str] = []
    history: list[HistoryEntry] = []


def source(column: str) -> Source:
    """Where the column `column` takes its value from (a `PRIVATE` one: receipt)."""
    field = AppealSummary.model_fields.get(column)
    found = [m for m in field.metadata if isinstance(m, Source)] if field else []
    return found[0] if found else Source("receipt")
