"""GET /v1/contacts/{ref}: notifications, the call-back operator and the handling unit
read a number, for an appeal and with a reason; everyone else is refused; every lookup
is audited."""

from __future__ import annotations

import logging

import httpx
import pytest

from appeals.api.contacts import dialable
from minsheng.auth import Role
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from testkit.integration.appeals import APPEAL, STREET_OFFICE, act
from testkit.integration.apps import app_pool, appeals_client, grant

pytestmark = pytest.mark.integration

PHONE = str(APPEAL["phone"])
UNKNOWN = "c_0123456789abcdef"
PURPOSE = {"X-Purpose": "test"}


@pytest.fixture(autouse=True)
def every_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


async def contact_ref(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/appeals", json=APPEAL)
    assert response.status_code == 201, response.text
    return str(response.json()["contact_ref"])


async def lookups(client: httpx.AsyncClient) -> list[dict[str, object]]:
    rows = await app_pool(client).fetch(
        "SELECT contact_ref, appeal_id, key_name, role, unit, purpose, allowed, found"
        " FROM contact_lookups ORDER BY id"
    )
    return [dict(row) for row in rows]


async def appeal_in(client: httpx.AsyncClient, status: str) -> tuple[str, str]:
    """A new appeal (dispatched to `STREET_OFFICE` on receipt) brought to `status`:
    its id and contact_ref."""
    created = await client.post("/v1/appeals", json=APPEAL)
    assert created.status_code == 201, created.text
    appeal, ref = created.json()["id"], created.json()["contact_ref"]
    office = await grant(client, "unit", STREET_OFFICE)
    Step = tuple[str, dict[str, str] | None, dict[str, str] | None]  # action, body, by
    accept: Step = ("accept", None, office)
    resolve: Step = ("resolve", {"resolution": "已疏通"}, office)
    plan: dict[str, list[Step]] = {
        "dispatched": [],
        "accepted": [accept],
        "resolved": [accept, resolve],
        "closed": [("close", {"outcome": "duplicate"}, None)],  # by the operator
    }
    for action, body, by in plan[status]:
        await act(client, appeal, action, body, headers=by)
    return appeal, ref


async def test_a_system_key_reads_the_number_and_the_lookup_is_recorded(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    appeal, ref = await appeal_in(client, "dispatched")
    system = await grant(client, "system", name="notifications")
    response = await client.get(
        f"/v1/contacts/{ref}", headers={**system, "X-Purpose": "notification d_1"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"contact_ref": ref, "appeal_id": appeal, "phone": PHONE}
    assert await lookups(client) == [
        {
            "contact_ref": ref,
            "appeal_id": appeal,  # unnamed: the contact's latest appeal is recorded
            "key_name": "notifications",
            "role": "system",
            "unit": None,
            "purpose": "notification d_1",
            "allowed": True,
            "found": True,
        }
    ]
    assert PHONE not in caplog.text


OTHER_UNIT = "市住建局"
# (role, its unit, the appeal's status) -> may it read? Everyone else: 403.
MATRIX = [
    ("operator", None, "resolved", True),  # the call-back
    ("operator", None, "dispatched", False),
    ("operator", None, "closed", False),
    ("unit", STREET_OFFICE, "dispatched", True),  # the lead unit, while in hand
    ("unit", STREET_OFFICE, "accepted", True),
    ("unit", STREET_OFFICE, "resolved", False),
    ("unit", STREET_OFFICE, "closed", False),
    ("unit", OTHER_UNIT, "accepted", False),
    ("supervisor", None, "accepted", False),
    ("viewer", None, "resolved", False),
    ("system", None, "closed", True),
]


@pytest.mark.parametrize(("role", "unit", "status", "allowed"), MATRIX)
async def test_who_may_read_for_which_appeal_and_every_read_is_recorded(
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
    role: Role,
    unit: str | None,
    status: str,
    allowed: bool,
) -> None:
    appeal, ref = await appeal_in(client, status)
    headers = {**await grant(client, role, unit, name="who"), "X-Purpose": "callback"}
    response = await client.get(
        f"/v1/contacts/{ref}", params={"appeal_id": appeal}, headers=headers
    )
    assert response.status_code == (200 if allowed else 403), response.text
    if allowed:
        assert response.json()["phone"] == PHONE
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert PHONE not in response.text
    assert await lookups(client) == [
        {
            "contact_ref": ref,
            "appeal_id": appeal,
            "key_name": "who",
            "role": role,
            "unit": unit,
            "purpose": "callback",
            "allowed": allowed,
            "found": allowed,
        }
    ]
    assert PHONE not in caplog.text


async def test_a_staff_read_names_an_appeal_of_that_contact(client: httpx.AsyncClient) -> None:
    appeal, ref = await appeal_in(client, "resolved")
    other, _ = await appeal_in(client, "resolved")
    operator = {**await grant(client, "operator", name="回访"), "X-Purpose": "callback"}
    for params in [{}, {"appeal_id": other}, {"appeal_id": "BC00000000000000"}]:
        response = await client.get(f"/v1/contacts/{ref}", params=params, headers=operator)
        assert response.status_code == 403, (params, response.text)
    rows = await lookups(client)
    assert [(row["appeal_id"], row["allowed"]) for row in rows] == [
        (None, False),
        (other, False),
        ("BC00000000000000", False),
    ]
    granted = await client.get(
        f"/v1/contacts/{ref}", params={"appeal_id": appeal}, headers=operator
    )
    assert granted.status_code == 200, granted.text


async def test_a_read_without_a_reason_is_refused_before_anything_is_read(
    client: httpx.AsyncClient,
) -> None:
    _, ref = await appeal_in(client, "dispatched")
    system = await grant(client, "system")
    response = await client.get(f"/v1/contacts/{ref}", headers=system)
    assert response.status_code == 422, response.text
    assert "x-purpose" in response.text.lower()
    assert await lookups(client) == []


async def test_the_dev_system_key_given_at_start_reads_numbers(
    kafka: KafkaBroker, postgres: PostgresServer
) -> None:
    key = "test-system-key"
    async with appeals_client(postgres.url, kafka.access(), dev_system_key=key) as client:
        ref = await contact_ref(client)
        response = await client.get(
            f"/v1/contacts/{ref}", headers={"Authorization": f"Bearer {key}", **PURPOSE}
        )
        assert response.status_code == 200, response.text
        [row] = await lookups(client)
        assert (row["key_name"], row["role"]) == ("development system", "system")


async def test_an_unknown_ref_or_an_appeal_without_phone_is_a_404(
    client: httpx.AsyncClient,
) -> None:
    system = {**await grant(client, "system", name="notifications"), **PURPOSE}
    no_phone = {k: v for k, v in APPEAL.items() if k != "phone"}
    created = await client.post("/v1/appeals", json=no_phone)
    silent = created.json()["contact_ref"]
    for ref in (UNKNOWN, silent):
        response = await client.get(f"/v1/contacts/{ref}", headers=system)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert [row["found"] for row in await lookups(client)] == [False, False]


async def test_bad_input_is_a_4xx_problem(client: httpx.AsyncClient) -> None:
    system = {**await grant(client, "system"), **PURPOSE}
    too_long = {**system, "X-Purpose": "x" * 201}
    for path, headers in [
        ("/v1/contacts/13812345678", system),
        (f"/v1/contacts/{UNKNOWN}", too_long),
        (f"/v1/contacts/{UNKNOWN}", {"Authorization": ""}),
    ]:
        response = await client.get(path, headers=headers)
        assert response.status_code in (401, 422), response.text
        assert response.headers["content-type"] == "application/problem+json"


def test_numbers_are_given_as_gateways_take_them() -> None:
    assert dialable("138-1234 5678") == "13812345678"
    assert dialable("+86 138 1234 5678") == "+8613812345678"
