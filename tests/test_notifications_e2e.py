"""End to end, services as real processes, as a new user tries it: an appeal posted ->
the dispatched unit's signed webhook is in the dev sink within 2 s; extended and
resolved -> the citizen's two SMS reach the SMS sink, and no process logged the number;
GET /v1/deliveries lists them with their attempts."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from minsheng.platform.postgres import PostgresServer
from testkit.e2e.notifying import NotifyingStack, ready_stack
from testkit.integration import appeals
from testkit.integration.helpers import eventually

pytestmark = pytest.mark.e2e

PHONE = "13987654321"
STREET_OFFICE, RECIPIENT = appeals.STREET_OFFICE, "unit-mingren"  # the routing rules' choice
APPEAL = {**appeals.APPEAL, "phone": PHONE}
QUIET_HOURS_OFF = {  # the test runs at any hour: citizens' messages are not deferred
    "MINSHENG_NOTIFICATIONS_QUIET_START": "00:00",
    "MINSHENG_NOTIFICATIONS_QUIET_END": "00:00",
}


@pytest.fixture(scope="module")
async def stack(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresServer
) -> AsyncIterator[NotifyingStack]:
    folder = tmp_path_factory.mktemp("notifications-e2e")
    async with ready_stack(folder, postgres.url, **QUIET_HOURS_OFF) as s:
        yield s


async def post_appeal(stack: NotifyingStack, client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post(f"{stack.appeals.url}/v1/appeals", json=APPEAL)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["unit"] == STREET_OFFICE
    return body


def hooks_for(stack: NotifyingStack, appeal_id: str) -> list[dict[str, Any]]:
    return [
        line
        for line in stack.sinks.received("webhooks.jsonl")
        if line["recipient"] == RECIPIENT and appeal_id in str(line["body"])
    ]


def sms_for(stack: NotifyingStack) -> list[dict[str, Any]]:
    digest = hashlib.sha256(PHONE.encode()).hexdigest()
    return [line for line in stack.sinks.received("sms.jsonl") if line["to_sha256"] == digest]


async def act(
    stack: NotifyingStack,
    client: httpx.AsyncClient,
    appeal_id: str,
    action: str,
    body: dict[str, Any],
    headers: dict[str, str],
) -> None:
    url = f"{stack.appeals.url}/v1/appeals/{appeal_id}/{action}"
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 200, response.text


async def test_a_new_users_appeal_reaches_the_unit_and_the_citizen(stack: NotifyingStack) -> None:
    async with httpx.AsyncClient(headers=stack.headers, timeout=10) as client:
        # the first appeal waits out the consumer's start; the second is the timed one
        first = await post_appeal(stack, client)
        await eventually(
            lambda: _now(hooks_for(stack, first["id"])), bool, timeout=60, what="first webhook"
        )
        appeal = await post_appeal(stack, client)
        posted = time.monotonic()
        [hook] = await eventually(
            lambda: _now(hooks_for(stack, appeal["id"])), bool, timeout=2.0, what="webhook in 2 s"
        )
        assert time.monotonic() - posted < 2.0
        assert hook["signature_valid"] is True
        assert hook["status"] == 200

        office = await stack.grant("appeals", "unit", STREET_OFFICE)
        supervisor = await stack.grant("appeals", "supervisor")
        await act(stack, client, appeal["id"], "accept", {}, office)
        extension = {"reason": "需协调管网", "days": 2}
        await act(stack, client, appeal["id"], "extend", extension, supervisor)
        await act(stack, client, appeal["id"], "resolve", {"resolution": "已疏通"}, office)

        texts = await eventually(
            lambda: _now(sms_for(stack)), lambda found: len(found) >= 2, timeout=30, what="2 SMS"
        )
        assert len(texts) == 2
        assert {line["to"] for line in texts} == {"139****4321"}
        assert all(line["status"] == 200 for line in texts)

        deliveries = await eventually(
            lambda: listed(stack, client, appeal["id"]),
            lambda items: sum(i["status"] == "delivered" for i in items) >= 3,
            timeout=30,
            what="three deliveries delivered",
        )
    by_channel = {(d["channel"], d["event_type"]): d for d in deliveries}
    expected = [
        ("webhook", "AppealDispatched"),
        ("sms", "AppealExtended"),
        ("sms", "AppealResolved"),
    ]
    for key in expected:
        delivery = by_channel[key]
        assert delivery["status"] == "delivered", delivery
        assert [a["response_code"] for a in delivery["attempts"]] == [200], delivery
    webhook = by_channel[("webhook", "AppealDispatched")]
    assert webhook["id"] == hook["webhook-id"]  # stable across retries: the delivery id
    assert {line["reference"] for line in texts} == {
        by_channel[("sms", e)]["id"] for e in ("AppealExtended", "AppealResolved")
    }
    assert PHONE not in stack.logs()
    assert PHONE not in str(deliveries)


async def listed(
    stack: NotifyingStack, client: httpx.AsyncClient, appeal_id: str
) -> list[dict[str, Any]]:
    """The appeal's deliveries, each with its attempts (GET /v1/deliveries/{id})."""
    base = f"{stack.notifications.url}/v1/deliveries"
    response = await client.get(base, params={"appeal_id": appeal_id})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    detailed = []
    for item in items:
        one = await client.get(f"{base}/{item['id']}")
        assert one.status_code == 200, one.text
        detailed.append(one.json())
    return detailed


async def _now(value: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A value as an awaitable, for `eventually`'s probe."""
    return value
