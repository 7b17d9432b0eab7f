"""Acceptance: a whole appeal's life over HTTP yields exactly the expected events, in
order, on `minsheng.appeals.v1`, each valid against its committed JSON Schema."""

from __future__ import annotations

import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator

from minsheng.clock import CITY_TZ
from minsheng.platform.kafka import KafkaBroker
from minsheng.topics import APPEALS
from testkit.integration.appeals import APPEAL, BUREAU, STREET_OFFICE, act
from testkit.integration.apps import app_pool, grant
from testkit.integration.helpers import Records, read_topic
from testkit.unit.appeals import T0
from testkit.unit.clock import FakeClock

pytestmark = pytest.mark.integration

SCHEMAS = Path(__file__).resolve().parents[3] / "contracts" / "schemas"
EXPECTED = [
    "AppealReceived",
    "AppealDispatched",  # by the routing rules, to the street office
    "AppealReturned",
    "AppealDispatched",  # by an operator, to the bureau
    "AppealAccepted",
    "AppealExtended",
    "AppealResolved",
    "SatisfactionRecorded",  # dissatisfied with the handling ...
    "AppealReopened",  # ... reopens it in the same transaction
    "AppealDispatched",
    "AppealAccepted",
    "AppealResolved",
    "SatisfactionRecorded",
    "AppealClosed",
]


def schema_for(event_type: str) -> Draft202012Validator:
    doc = json.loads((SCHEMAS / f"{event_type}.json").read_text(encoding="utf-8"))
    return Draft202012Validator(doc, format_checker=Draft202012Validator.FORMAT_CHECKER)


async def live_the_whole_life(client: httpx.AsyncClient, clock: FakeClock) -> str:
    office = await grant(client, "unit", STREET_OFFICE)
    bureau = await grant(client, "unit", BUREAU)
    supervisor = await grant(client, "supervisor", name="督查中心")
    appeal = (await client.post("/v1/appeals", json=APPEAL)).json()["id"]
    clock.advance(hours=1)
    await act(client, appeal, "return", {"reason": "管网属住建部门"}, office)
    await act(client, appeal, "dispatch", {"unit": BUREAU})
    await act(client, appeal, "accept", headers=bureau)
    clock.now = datetime(2019, 10, 9, 10, 0, tzinfo=CITY_TZ)
    await act(client, appeal, "extend", {"reason": "需更换管道", "days": 2}, supervisor)
    clock.now = datetime(2019, 10, 11, 16, 0, tzinfo=CITY_TZ)
    await act(client, appeal, "resolve", {"resolution": "已疏通"}, bureau)
    clock.now = datetime(2019, 10, 12, 10, 0, tzinfo=CITY_TZ)
    body = {"rating": "dissatisfied", "reason": "handling", "comment": "还在堵"}
    await act(client, appeal, "callback", body)
    await act(client, appeal, "dispatch", {"unit": BUREAU})
    await act(client, appeal, "accept", headers=bureau)
    clock.now = datetime(2019, 10, 14, 15, 0, tzinfo=CITY_TZ)
    await act(client, appeal, "resolve", {"resolution": "更换了管道"}, bureau)
    clock.now = datetime(2019, 10, 15, 10, 0, tzinfo=CITY_TZ)
    await act(client, appeal, "callback", {"rating": "satisfied"})
    await act(client, appeal, "close", {"outcome": "resolved"})
    return str(appeal)


async def test_the_scripted_lifecycle_yields_exactly_the_expected_events(
    client: httpx.AsyncClient, kafka: KafkaBroker
) -> None:
    clock = FakeClock(T0)
    client.app.state.clock = clock  # type: ignore[attr-defined]
    # Appeal numbers are unique per database; other tests' databases share this broker
    # and the same day, so start this one's numbers somewhere of their own.
    pool = app_pool(client)
    await pool.execute(f"ALTER SEQUENCE appeal_number RESTART WITH {random.randint(1000, 999999)}")
    appeal = await live_the_whole_life(client, clock)

    def mine(records: Records) -> list[dict[str, Any]]:
        return [json.loads(r.value) for r in records if r.key == appeal.encode()]

    records = await read_topic(
        kafka.access(), APPEALS, until=lambda rs: len(mine(rs)) >= len(EXPECTED), timeout=60
    )
    events = mine(records)
    assert [e["type"] for e in events] == [f"minsheng.{name}.v1" for name in EXPECTED]
    assert [e["sequence"] for e in events] == list(range(1, len(EXPECTED) + 1))
    assert {e["subject"] for e in events} == {appeal}
    for event in events:
        errors = [e.message for e in schema_for(event["type"]).iter_errors(event)]
        assert errors == [], (event["type"], errors)
    assert "13812345678" not in json.dumps(events, ensure_ascii=False)

    by_type = {e["type"].split(".")[1]: e["data"] for e in events}  # the last of each type
    assert by_type["AppealExtended"]["new_deadline"] == "2019-10-12T23:59:59.999999+08:00"
    assert by_type["AppealResolved"]["on_time"] is True
    # The reopened appeal's fresh time limit runs from the call-back (Saturday Oct 12, an
    # adjusted working day): 3 working days are Oct 14, 15, 16.
    assert by_type["AppealDispatched"]["deadline"] == "2019-10-16T23:59:59.999999+08:00"
    assert by_type["AppealClosed"]["outcome"] == "resolved"

    final = (await client.get(f"/v1/appeals/{appeal}")).json()
    assert (final["status"], final["sequence"], final["allowed_actions"]) == ("closed", 14, [])
    assert [h["data"] for h in final["history"]] == [e["data"] for e in events]
