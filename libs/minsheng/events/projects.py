"""Payloads of the projects topic (`minsheng.projects.v1`): the secretary-project ledger.

Every project event repeats the project's district, the claiming secretary's level and
the ledger year: the dashboards count by them, and a consumer should not need the claim
to label a later event. The projects service checks them against its ledger on intake.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from minsheng.events.envelope import EventData
from minsheng.events.fields import Community, District, Street, Unit, Year
from minsheng.events.masked import MaskedNote, MaskedReason, MaskedText, Title
from minsheng.inputs import Text

Level = Literal["city", "county", "street", "community", "department"]
ProjectCategory = Literal[
    "party_building", "city_management", "community_governance", "public_services", "basic_support"
]
MilestoneStatus = Literal["reached", "missed", "at_risk", "rescheduled"]
VerificationMethod = Literal["on_site", "resident_interview", "dynamic_tracking"]
VerificationResult = Literal["passed", "failed"]
FlagKind = Literal["notice", "formal_talk"]
MilestoneId = Annotated[
    str, Field(min_length=1, description="Stable id of the milestone within its project.")
]
Progress = Annotated[int, Field(ge=0, le=100, description="Percent done, 0 to 100.")]


class Milestone(BaseModel):
    """A step of the project book, scheduled back from the deadline (倒排工期)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    milestone_id: MilestoneId
    title: Title
    due: date
    weight: float = Field(
        default=1.0, gt=0, description="Relative weight in the project's overall progress."
    )


class ProjectEvent(EventData):
    """The key and labels every project event carries, so no consumer has to join."""

    project_id: Text = Field(min_length=1, description="The project id; the event subject.")
    district: District
    level: Level = Field(description="Level of the claiming secretary.")
    year: Year = Field(description="Ledger year (年初立账, 年底交账).")


class ProjectClaimed(ProjectEvent):
    """年初立账: a secretary claimed a project and is accountable for it."""

    event_name = "ProjectClaimed"

    secretary_name: MaskedText = Field(min_length=1, description="The accountable Party secretary.")
    secretary_organisation: MaskedText = Field(
        min_length=1, description="The secretary's organisation."
    )
    title: Title
    category: ProjectCategory
    street: Street = None
    community: Community = None
    unit: Unit
    planned_start: date
    planned_end: date
    milestones: tuple[Milestone, ...] = Field(default=(), description="The project book's plan.")


class ProjectMilestone(ProjectEvent):
    """挂图作战: a milestone's state changed; outside project systems report these too."""

    event_name = "ProjectMilestone"

    milestone_id: MilestoneId
    status: MilestoneStatus
    progress: Progress
    new_due: date | None = Field(default=None, description="Set when status is rescheduled.")
    reason: MaskedReason | None = Field(
        default=None, description="Why missed, at risk or rescheduled."
    )
    approved_by: MaskedText | None = Field(
        default=None,
        min_length=1,
        description="The supervisor who approved a reschedule; set when status is rescheduled.",
    )


class ProjectProgressReported(ProjectEvent):
    """随时查账: a progress report between milestones, so stalls show early."""

    event_name = "ProjectProgressReported"

    progress: Progress
    note: MaskedNote = ""


class ProjectCompleted(ProjectEvent):
    """The unit declares the project done; verification decides whether it counts."""

    event_name = "ProjectCompleted"

    completed_on: date
    on_time: bool = Field(description="Completed no later than the planned end.")


class ProjectVerified(ProjectEvent):
    """动态调度+实地查看+座谈访谈: the result of one verification of a project."""

    event_name = "ProjectVerified"

    method: VerificationMethod
    inspector: MaskedText = Field(min_length=1, description="Inspector's account or team.")
    result: VerificationResult
    notes: MaskedNote = ""


class ProjectFlagged(ProjectEvent):
    """Accountability: named city-wide (通报) or, when serious, a formal talk (约谈)."""

    event_name = "ProjectFlagged"

    kind: FlagKind
    reason: MaskedReason
