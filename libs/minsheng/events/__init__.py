"""Event contracts: the CloudEvents envelope and the v1 catalogue of payload models.

The per-topic tuples say which types may appear on which topic (docs/contract.md, "Topics");
a consumer builds its `Registry` from the tuple of the topic it reads.
"""

from minsheng.events.appeals import (
    AppealAccepted,
    AppealClosed,
    AppealDispatched,
    AppealEscalated,
    AppealExtended,
    AppealReceived,
    AppealReopened,
    AppealResolved,
    AppealReturned,
)
from minsheng.events.envelope import CONTENT_TYPE, CloudEvent, EventData, new_event
from minsheng.events.notifications import NotificationDelivered, NotificationFailed
from minsheng.events.projects import (
    Milestone,
    ProjectClaimed,
    ProjectCompleted,
    ProjectFlagged,
    ProjectMilestone,
    ProjectProgressReported,
    ProjectVerified,
)
from minsheng.events.registry import InvalidEvent, ParsedEvent, Registry
from minsheng.events.satisfaction import SatisfactionRecorded

EventTypes = tuple[type[EventData], ...]

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
    "NOTIFICATION_EVENTS",
    "PROJECT_EVENTS",
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
    "new_event",
]
