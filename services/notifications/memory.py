"""What the consumer remembers of an appeal or a project (pure): the facts later events
do not repeat but rules need, folded event by event.

AppealReopened names no unit, AppealExtended no contact, ProjectMilestone no title or
secretary, no event after AppealReceived the place; so the lead and co-handling units,
the current deadline, the citizen's opaque `contact_ref` and masked phone, the appeal's
grid (its path district/street/community/grid, for its chiefs), and a project's title
and secretary are kept from the events that carried them. Never a phone number: events carry none.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Literal

from minsheng.events import (
    AppealDispatched,
    AppealEscalated,
    AppealExtended,
    AppealReceived,
    EventData,
    ProjectClaimed,
    SatisfactionRecorded,
)
from minsheng.events.appeals import AppealEvent
from minsheng.events.projects import ProjectEvent

Kind = Literal["appeal", "project"]


@dataclass(frozen=True)
class Subject:
    kind: Kind
    id: str
    unit: str | None = None
    assisting_units: tuple[str, ...] = ()
    deadline: datetime | None = None
    contact_ref: str | None = None
    phone_masked: str | None = None
    secretary_name: str | None = None
    title: str | None = None
    grid: str | None = None  # district/street/community/grid, when the appeal names one


def subject_of(data: EventData) -> tuple[Kind, str] | None:
    """The appeal or project an event is about; None for the other aggregates of the
    projects topic (list items, work-day pairings), which the rules do not address."""
    if isinstance(data, AppealEvent):
        return "appeal", data.appeal_id
    if isinstance(data, ProjectEvent):
        return "project", data.project_id
    if isinstance(data, SatisfactionRecorded) and data.subject_type != "list_item":
        return data.subject_type, data.subject_id
    return None  # the four lists and work days: nothing to notify yet


def grid_path(data: AppealReceived) -> str | None:
    """The appeal's grid as one path, or None when it names no grid."""
    if not (data.grid and data.street and data.community):
        return None
    return "/".join((data.district, data.street, data.community, data.grid))


def evolve(held: Subject, data: EventData) -> Subject:
    """What is remembered after `data`."""
    match data:
        case AppealReceived():
            return replace(
                held,
                contact_ref=data.contact_ref,
                phone_masked=data.phone_masked,
                deadline=data.deadline or held.deadline,
                title=data.title,
                grid=grid_path(data),
            )
        case AppealDispatched():
            return replace(
                held,
                unit=data.unit,
                assisting_units=data.assisting_units,
                deadline=data.deadline,
            )
        case AppealExtended():
            return replace(held, unit=data.unit, deadline=data.new_deadline)
        case AppealEscalated():
            return replace(held, unit=data.unit, deadline=data.deadline)
        case ProjectClaimed():
            return replace(
                held, unit=data.unit, secretary_name=data.secretary_name, title=data.title
            )
    unit = data.get("unit")
    return replace(held, unit=unit) if isinstance(unit, str) else held
