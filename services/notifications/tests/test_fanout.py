"""From an event to its deliveries, and every template of every default rule rendered."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from minsheng.clock import CITY_TZ
from minsheng.events import CloudEvent
from notifications.fanout import (
    NAMESPACE,
    NewDelivery,
    Target,
    delivery_id,
    plan,
    template_context,
)
from notifications.messages import LOCALES, render, working_days_left
from notifications.pager import Alert, notify
from notifications.quiet import QuietHours
from testkit.unit.notifications import (
    APPEAL,
    CONTACT,
    DEADLINE,
    EXTENDED,
    GRID_PATH,
    IN_GRID,
    PHONE_MASKED,
    RECEIVED,
    RESOLVED,
    SAMPLES,
    T0,
    UNIT,
    default_rules,
    directory,
    envelope,
    remembered,
)

QUIET = QuietHours()


@pytest.mark.parametrize("sample", list(SAMPLES))
@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_of_every_default_rule_renders(sample: str, locale: str) -> None:
    data = SAMPLES[sample]
    rules = [r for r in default_rules().rules if r.event == data.event_name]
    assert rules, f"no default rule for {sample}"
    for rule in rules:
        received = IN_GRID if "grid_chiefs" in rule.recipients else RECEIVED
        context = template_context(data, remembered(data, received))
        message = render(
            rule.template,
            locale,  # type: ignore[arg-type]
            {
                **context,
                "recipient": "收件人",
                "recipient_unit": None,
                "delivery_id": "ntf_x",
                "page": False,
                "working_days_left": working_days_left(T0, context["deadline"]),
            },
        )
        assert message.title
        assert message.body
        if data.event_name.startswith("Appeal"):
            assert APPEAL in message.title + message.body
        assert "None" not in message.body


@pytest.mark.parametrize("locale", LOCALES)
def test_a_message_shows_the_numbers_of_the_event_masked(locale: str) -> None:
    """Free text arrives masked (the event's types); the templates render it as it is."""
    data = type(RESOLVED).model_validate(
        {**RESOLVED.model_dump(), "resolution": "已处理，有问题请拨 0436-1234567 或 13912345678"}
    )
    (rule,) = (r for r in default_rules().rules if r.event == "AppealResolved")
    context = template_context(data, remembered(data))
    extra = {"recipient": "收件人", "recipient_unit": None, "delivery_id": "ntf_x", "page": False}
    message = render(rule.template, locale, {**context, **extra})  # type: ignore[arg-type]
    assert "有问题请拨 0436-*****67 或 139****5678" in message.body
    assert "1234567" not in message.body


def test_default_rules_cover_what_the_service_promises() -> None:
    covered = {(r.event, k) for r in default_rules().rules for k in r.recipients}
    assert covered >= {
        ("AppealDispatched", "unit"),
        ("AppealReturned", "dispatch_centre"),
        ("AppealEscalated", "unit"),
        ("AppealEscalated", "supervision_centre"),
        ("AppealExtended", "citizen"),
        ("AppealResolved", "citizen"),
        ("AppealReopened", "unit"),
        ("AppealReopened", "supervision_centre"),
        ("ProjectMilestone", "secretary"),
        ("ProjectFlagged", "secretary"),
        ("ProjectFlagged", "organisation_department"),
    }


def planned(sample: str, at: datetime = T0, event: CloudEvent | None = None) -> list[NewDelivery]:
    data = SAMPLES[sample]
    return plan(
        event or envelope(data),
        data,
        remembered(data),
        default_rules(),
        directory(),
        now=at,
        quiet=QUIET,
    )


def test_a_dispatch_reaches_the_lead_and_co_handling_units_by_webhook_and_email() -> None:
    found = {(d.target.recipient, d.channel) for d in planned("AppealDispatched")}
    assert found == {
        ("unit-housing", "webhook"),
        ("unit-housing", "email"),
        ("unit-changqing", "webhook"),
        ("unit-changqing", "email"),
    }
    lead = next(d for d in planned("AppealDispatched") if d.target.recipient == "unit-housing")
    assert "2026年12月8日 23:59" in lead.body
    assert "剩余 5 个工作日" in lead.body
    assert "承办" in lead.body
    helper = next(d for d in planned("AppealDispatched") if d.target.recipient == "unit-changqing")
    assert "协办" in helper.body
    assert lead.payload["event"]["subject"] == APPEAL
    assert lead.payload["recipient"] == "unit:unit-housing"


def in_grid(sample: str) -> list[NewDelivery]:
    data = SAMPLES[sample]
    return plan(
        envelope(data),
        data,
        remembered(data, IN_GRID),
        default_rules(),
        directory(),
        now=T0,
        quiet=QUIET,
    )


def test_an_appeal_in_a_grid_reaches_its_grid_chief_and_overdue_goes_up_the_chain() -> None:
    chief = "tb-bf-002-grid-1"
    dispatched = {d.target.recipient: d for d in in_grid("AppealDispatched")}
    assert set(dispatched) == {"unit-housing", "unit-changqing", chief}
    mail = dispatched[chief]
    assert mail.channel == "email"
    assert mail.address == f"{chief}@grids.baicheng.example"
    assert mail.payload["recipient"] == f"grid_chief:{chief}"
    assert "百福社区第2网格" in mail.title
    assert "百福社区第2网格网格长1" in mail.body
    assert UNIT in mail.body
    overdue = in_grid("AppealEscalated/overdue")
    chain = {d.target.recipient for d in overdue if d.target.kind == "grid_chief"}
    assert chain == {"tb-bf-002-street-1", "tb-bf-002-lane-1", chief}
    reminder = {d.target.kind for d in in_grid("AppealEscalated/reminder")}
    assert "grid_chief" not in reminder
    assert not [d for d in planned("AppealDispatched") if d.target.kind == "grid_chief"]


def test_the_directory_gives_a_grid_s_chiefs_by_level_top_first() -> None:
    grid = "/".join(GRID_PATH)
    chiefs = directory().grid_chiefs(grid, ("unit", "street"))
    assert chiefs[0].id == "tb-bf-002-street-1"
    assert {c.id.split("-")[3] for c in chiefs} == {"street", "unit"}
    assert len(directory().grid_chiefs(grid, ("street", "lane", "grid", "building", "unit"))) == 21
    assert directory().grid_chiefs("洮北区/长庆街道/百福社区/无此网格", ("grid",)) == ()


def test_overdue_reaches_the_supervision_centre_too_and_a_reminder_does_not() -> None:
    reminder = {d.target.recipient for d in planned("AppealEscalated/reminder")}
    overdue = {d.target.recipient for d in planned("AppealEscalated/overdue")}
    assert reminder == {"unit-housing"}
    assert overdue == {"unit-housing", "office-supervision"}


def test_the_citizen_gets_one_sms_by_contact_ref_never_a_number() -> None:
    (sms,) = planned("AppealExtended")
    assert (sms.channel, sms.address, sms.target.recipient) == ("sms", CONTACT, PHONE_MASKED)
    assert sms.payload["recipient"] == PHONE_MASKED
    new_date = (DEADLINE + timedelta(days=7)).astimezone(CITY_TZ)
    assert f"{new_date.month}月{new_date.day}日" in sms.body
    assert EXTENDED.reason in sms.body
    assert "回访" in planned("AppealResolved")[0].body


def test_a_citizen_without_a_phone_gets_nothing() -> None:
    data = SAMPLES["AppealResolved"]
    held = replace(remembered(data), phone_masked=None)
    assert plan(envelope(data), data, held, default_rules(), directory(), now=T0, quiet=QUIET) == []


def test_quiet_hours_hold_the_citizen_and_not_the_units() -> None:
    night = T0.replace(hour=22)
    (sms,) = planned("AppealResolved", night)
    assert sms.deferred
    assert sms.first_attempt_at == (night + timedelta(days=1)).replace(hour=8)
    assert all(
        not d.deferred and d.first_attempt_at == night for d in planned("AppealReopened", night)
    )


def test_the_same_event_plans_the_same_deliveries() -> None:
    event = envelope(SAMPLES["ProjectFlagged/notice"])
    first = planned("ProjectFlagged/notice", event=event)
    second = planned("ProjectFlagged/notice", event=event)
    assert [d.id for d in first] == [d.id for d in second]
    assert {d.target.recipient for d in first} == {"secretary-taobei", "office-organisation"}
    assert "老旧小区改造" in first[0].body
    assert "李书记" in first[0].body


def test_a_delivery_id_is_the_uuid5_of_event_recipient_and_channel() -> None:
    """Ids stay what they were: the same deliveries keep the same ids across versions."""
    for n in range(50):
        event_id, recipient = uuid.uuid4(), f"unit-{n}-新华"
        expected = uuid.uuid5(NAMESPACE, f"{event_id}/{recipient}/webhook").hex
        assert delivery_id(event_id, recipient, "webhook") == "ntf_" + expected


@pytest.mark.parametrize("status", ["firing", "resolved"])
@pytest.mark.parametrize("locale", LOCALES)
def test_the_alert_templates_render(status: str, locale: str) -> None:
    alert = Alert(
        status=status,
        labels={"alertname": "OutboxStuck", "severity": "critical"},
        annotations={"summary": "the outbox is not draining"},
        startsAt=T0,
        endsAt=T0 + timedelta(minutes=10) if status == "resolved" else None,
        fingerprint="abc123",
    )
    person = replace(Target.of("oncall", directory().person("oncall-zhang")), locale=locale)  # type: ignore[arg-type]
    (page,) = notify(alert, [person], rule="page-critical", now=T0, page="page_1")
    assert "OutboxStuck" in page.title
    assert "the outbox is not draining" in page.body
    assert ("/ack" in page.body) == (status == "firing")
    assert page.channel == "webhook"
