"""One valid sample payload per catalogue type, and the CloudEvents that carry them.

Tests of the envelope, the catalogue and the contracts share these, so a new event type
needs one sample here and is then covered everywhere.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from minsheng import events as ev
from minsheng.events import CloudEvent, EventData, Milestone, new_event
from minsheng.topics import APPEALS, NOTIFICATIONS, OWNERS, PROJECTS

CITY = ZoneInfo("Asia/Shanghai")
NOW = datetime(2019, 10, 8, 9, 30, tzinfo=CITY)
DEADLINE = NOW + timedelta(days=17)
EVENT_ID = uuid.UUID("7d1c2a4e-5b6f-4a8b-9c0d-e1f2a3b4c5d6")
SOURCE = "gov/12345-hotline"
FORGER = "gov/not-the-owner"
E = TypeVar("E", bound=EventData)

APPEAL: dict[str, Any] = {
    "appeal_id": "BC20191008000001",
    "district": "洮北区",
    "category": "complaint",
}
PROJECT: dict[str, Any] = {
    "project_id": "P2019-0386",
    "district": "洮北区",
    "level": "community",
    "year": 2019,
}
NOTIFICATION: dict[str, Any] = {
    "notification_id": "N-000042",
    "channel": "sms",
    "recipient": "unit:transport",
    "rule": "appeal-overdue",
    "subject_event_id": EVENT_ID,
    "attempts": 3,
}
LIST_ITEM: dict[str, Any] = {
    "list_item_id": "QD-2019-000001",
    "district": "洮南市",
    "community": "光华社区",
    "year": 2019,
    "kind": "need",
}
PAIRING: dict[str, Any] = {
    "pairing_id": "GZR-0001",
    "unit": "市交通运输局",
    "district": "洮南市",
    "community": "光华社区",
    "month": "2019-03",
}
PLACE: dict[str, Any] = {"street": "长庆街道", "community": "百福社区"}
UNIT = "市交通运输局"


def _payloads() -> list[EventData]:
    return [
        ev.AppealReceived(
            **APPEAL,
            title="社区门前道路积水",
            description="百福社区活动中心门前约100米道路雨后积水。",
            **PLACE,
            channel="hotline",
            contact_ref="c_1a2b3c4d5e6f7a8b",
            phone_masked="138****5678",
            received_at=NOW,
            deadline=DEADLINE,
        ),
        ev.AppealDispatched(
            **APPEAL,
            unit=UNIT,
            assisting_units=("市住建局",),
            deadline=DEADLINE,
            dispatched_by="router",
        ),
        ev.AppealAccepted(**APPEAL, unit=UNIT),
        ev.AppealReturned(**APPEAL, unit="市妇联", reason="不属于本单位职责"),
        ev.AppealExtended(
            **APPEAL,
            unit=UNIT,
            previous_deadline=DEADLINE,
            new_deadline=DEADLINE + timedelta(days=7),
            reason="需待雨季结束后施工",
            approved_by="supervisor-01",
        ),
        ev.AppealEscalated(**APPEAL, unit=UNIT, level="criticism", deadline=DEADLINE),
        ev.AppealResolved(
            **APPEAL,
            unit=UNIT,
            resolution="已修复路面并疏通排水。",
            resolved_at=NOW + timedelta(days=10),
            on_time=True,
        ),
        ev.SatisfactionRecorded(
            subject_type="appeal",
            subject_id=APPEAL["appeal_id"],
            rating="dissatisfied",
            comment="仍有积水",
            channel="callback",
            district="洮北区",
            recorded_at=NOW + timedelta(days=11),
            reason="handling",
        ),
        ev.AppealReopened(**APPEAL, reason="回访不满意：仍有积水", by="callback"),
        ev.AppealClosed(**APPEAL, outcome="resolved"),
        ev.ProjectClaimed(
            **PROJECT,
            secretary_name="张书记",
            secretary_organisation="百福社区党委",
            title="社区读书中心",
            category="public_services",
            **PLACE,
            unit="洮北区长庆街道办事处",
            planned_start=date(2019, 3, 1),
            planned_end=date(2019, 9, 30),
            milestones=(
                Milestone(milestone_id="m1", title="选址", due=date(2019, 4, 1), weight=1),
                Milestone(milestone_id="m2", title="装修", due=date(2019, 8, 1), weight=3),
            ),
        ),
        ev.ProjectMilestone(
            **PROJECT,
            milestone_id="m2",
            status="rescheduled",
            progress=60,
            new_due=date(2019, 8, 20),
            reason="材料延迟",
        ),
        ev.ProjectProgressReported(**PROJECT, progress=80, note="现场办公日"),
        ev.ProjectCompleted(**PROJECT, completed_on=date(2019, 9, 28), on_time=True),
        ev.ProjectVerified(
            **PROJECT, method="on_site", inspector="inspection-team-3", result="passed"
        ),
        ev.ProjectFlagged(**PROJECT, kind="notice", reason="项目未按期推进"),
        ev.ListItemPosted(
            **LIST_ITEM,
            street="光明街道",
            source="appeal",
            appeal_id=APPEAL["appeal_id"],
            title="老旧小区缺少健身器材",
            description="居民座谈提出，希望在小区广场安装健身器材。",
        ),
        ev.ListItemMatched(
            **LIST_ITEM,
            matched_item_id="QD-2019-000002",
            claimed_by="市住建局",
            due=date(2019, 9, 30),
        ),
        ev.ListItemCompleted(
            **LIST_ITEM, completed_on=date(2019, 9, 20), on_time=True, note="已安装十件器材"
        ),
        ev.ListItemWithdrawn(**LIST_ITEM, reason="已由社区自筹解决"),
        ev.WorkDayVisitRecorded(
            **PAIRING,
            visited_on=date(2019, 3, 15),
            cadres=21,
            services={"party_lesson": 1, "help_pairing": 5},
            appeals_solved=2,
            appeal_ids=(APPEAL["appeal_id"],),
            goods_value_yuan=3600,
            note="走访困难户并送去米面油",
        ),
        ev.WorkDayVisitMissed(**PAIRING),
        ev.NotificationDelivered(**NOTIFICATION),
        ev.NotificationFailed(**NOTIFICATION, error="sms gateway timeout"),
    ]


SAMPLES: dict[type[EventData], EventData] = {type(p): p for p in _payloads()}
AGGREGATE_FIELDS = (
    "list_item_id",
    "pairing_id",
    "appeal_id",
    "project_id",
    "subject_id",
    "notification_id",
)


def sample(model: type[E]) -> E:
    data = SAMPLES[model]
    assert isinstance(data, model)
    return data


def subject_of(data: EventData) -> str:
    """The aggregate id a payload belongs to: what the envelope's subject must be."""
    return next(str(getattr(data, f)) for f in AGGREGATE_FIELDS if hasattr(data, f))


def home_topic(fields: Mapping[str, Any]) -> str:
    """The domain topic a payload (its fields) belongs on."""
    if "notification_id" in fields:
        return NOTIFICATIONS
    if {"project_id", "list_item_id", "pairing_id"} & set(fields) or fields.get("subject_type") in (
        "project",
        "list_item",
    ):
        return PROJECTS
    return APPEALS


def domain_event(
    data: EventData,
    *,
    subject: str | None = None,
    sequence: int = 1,
    time: datetime | None = None,
    event_id: uuid.UUID | None = None,
) -> CloudEvent:
    """`new_event` as the service that owns the payload's domain topic writes it: under its
    source, the one a consumer of that topic takes (others are dead-lettered)."""
    return new_event(
        data,
        subject=subject or subject_of(data),
        sequence=sequence,
        source=OWNERS[home_topic(data.model_dump())],
        time=time,
        event_id=event_id,
    )


def forged(data: EventData, source: str = FORGER) -> CloudEvent:
    """A domain-topic event as another would forge it: right in all but its source."""
    return domain_event(data).model_copy(update={"source": source})


def sample_event(model: type[EventData]) -> CloudEvent:
    data = sample(model)
    return new_event(
        data, subject=subject_of(data), sequence=1, source=SOURCE, time=NOW, event_id=EVENT_ID
    )


def sample_document(model: type[EventData]) -> dict[str, Any]:
    """The sample event as a JSON object, as a publisher would send it."""
    doc: dict[str, Any] = json.loads(sample_event(model).to_json())
    return doc


def document_with(
    model: type[EventData], *, data: dict[str, Any] | None = None, **attributes: Any
) -> dict[str, Any]:
    """The sample document with envelope attributes and payload fields changed.

    A value of None drops the attribute or field, so tests can take things away too.
    """
    doc = sample_document(model)
    doc["data"] = _changed(doc["data"], data or {})
    return _changed(doc, attributes)


def encode(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode()


def _changed(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in {**doc, **changes}.items() if v is not None}


def sample_appeal_event(subject: str, sequence: int, district: str = "洮北区") -> CloudEvent:
    """A valid AppealReceived envelope, for plumbing tests that do not care about payloads."""
    data = ev.AppealReceived(
        appeal_id=subject,
        title="路灯不亮",
        category="complaint",
        district=district,
        channel="hotline",
        received_at=datetime.now(UTC),
    )
    return domain_event(data, subject=subject, sequence=sequence)
