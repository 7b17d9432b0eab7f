"""Event contracts: the CloudEvents envelope and the v1 catalogue of payload models.

The per-topic tuples say which types may appear on which topic (docs/contract.md, "Topics");
a consumer builds its `Registry` from the tuple of the topic it reads.
"""

from minsheng.events.appeals import AppealAccepted as AppealAccepted
from minsheng.events.appeals import AppealClosed as AppealClosed
from minsheng.events.appeals import AppealDispatched as AppealDispatched
from minsheng.events.appeals import AppealEscalated as AppealEscalated
from minsheng.events.appeals import AppealExtended as AppealExtended
from minsheng.events.appeals import AppealReceived as AppealReceived
from minsheng.events.appeals import AppealReopened as AppealReopened
from minsheng.events.appeals import AppealResolved as AppealResolved
from minsheng.events.appeals import AppealReturned as AppealReturned
from minsheng.events.envelope import CONTENT_TYPE, CloudEvent, EventData, new_event
from minsheng.events.lists import ListItemCompleted as ListItemCompleted
from minsheng.events.lists import ListItemMatched as ListItemMatched
from minsheng.events.lists import ListItemPosted as ListItemPosted
from minsheng.events.lists import ListItemWithdrawn as ListItemWithdrawn
from minsheng.events.lists import WorkDayVisitMissed as WorkDayVisitMissed
from minsheng.events.lists import WorkDayVisitRecorded as WorkDayVisitRecorded
from minsheng.events.notifications import NotificationDelivered, NotificationFailed
from minsheng.events.projects import Milestone as Milestone
from minsheng.events.projects import ProjectClaimed as ProjectClaimed
from minsheng.events.projects import ProjectCompleted as ProjectCompleted
from minsheng.events.projects import ProjectFlagged as ProjectFlagged
from minsheng.events.projects import ProjectMilestone as ProjectMilestone
from minsheng.events.projects import ProjectProgressReported as ProjectProgressReported
from minsheng.events.projects import ProjectVerified as ProjectVerified
from minsheng.events.registry import InvalidEvent, ParsedEvent, Registry
from minsheng.events.satisfaction import SatisfactionRecorded

EventTypes = tuple[type[EventData], ...]

# The four lists and community work days: aggregates of the projects topic of their own
LIST_EVENTS: EventTypes = (ListItemPosted, ListItemMatched, ListItemCompleted, ListItemWithdrawn)
WORKDAY_EVENTS: EventTypes = (WorkDayVisitRecorded, WorkDayVisitMissed)

APPEAL_EVENTS: EventTypes = (
    AppealReceived,
    AppealDispatched,
    AppealAccepted,
    AppealReturned,
    AppealExtended,
    AppealEscalated,
    AppealResolved,
    SatisfactionRecorded,
    AppealReopened,
    AppealClosed,
)
PROJECT_EVENTS: EventTypes = (
    ProjectClaimed,
    ProjectMilestone,
    ProjectProgressReported,
    ProjectCompleted,
    ProjectVerified,
    ProjectFlagged,
    SatisfactionRecorded,
    *LIST_EVENTS,
    *WORKDAY_EVENTS,
)
NOTIFICATION_EVENTS: EventTypes = (NotificationDelivered, NotificationFailed)
INTAKE_APPEAL_EVENTS: EventTypes = (AppealReceived, SatisfactionRecorded)
INTAKE_PROJECT_EVENTS: EventTypes = (ProjectMilestone, SatisfactionRecorded)
ALL_EVENTS: EventTypes = tuple(dict.fromkeys(APPEAL_EVENTS + PROJECT_EVENTS + NOTIFICATION_EVENTS))
CATALOGUE = Registry(ALL_EVENTS)

__all__ = [
    "ALL_EVENTS",
    "APPEAL_EVENTS",
    "CATALOGUE",
    "CONTENT_TYPE",
    "INTAKE_APPEAL_EVENTS",
    "INTAKE_PROJECT_EVENTS",
    "LIST_EVENTS",
    "NOTIFICATION_EVENTS",
    "PROJECT_EVENTS",
    "WORKDAY_EVENTS",
    "AppealAccepted",
    "AppealClosed",
    "AppealDispatched",
    "AppealEscalated",
    "AppealExtended",
    "AppealReceived",
    "AppealReopened",
    "AppealResolved",
    "AppealReturned",
    "CloudEvent",
    "EventData",
    "EventTypes",
    "InvalidEvent",
    "ListItemCompleted",
    "ListItemMatched",
    "ListItemPosted",
    "ListItemWithdrawn",
    "Milestone",
    "NotificationDelivered",
    "NotificationFailed",
    "ParsedEvent",
    "ProjectClaimed",
    "ProjectCompleted",
    "ProjectFlagged",
    "ProjectMilestone",
    "ProjectProgressReported",
    "ProjectVerified",
    "Registry",
    "SatisfactionRecorded",
    "WorkDayVisitMissed",
    "WorkDayVisitRecorded",
    "new_event",
]
