"""GET /v1/contacts/{ref}: only a system key reads a number; every lookup is audited."""

from __future__ import annotations

import logging

import httpx
import pytest

from appeals.api.contacts import dialable
from minsheng.auth import Role
from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from testkit.integration.appeals import APPEAL, STREET_OFFICE
from testkit.integration.apps import app_pool, appeals_client, grant

pytestmark = pytest.mark.integration

PHONE = str(APPEAL["phone"])
UNKNOWN = "c_0123456789abcdef"


@pytest.fixture(autouse=True)
def every_log(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


async def contact_ref(client: httpx.AsyncClient) -> str:
    response = await client.post("/v1/appeals", json=APPEAL)
    assert response.status_code == 201, response.text
    return str(response.json()["contact_ref"])


async def lookups(client: httpx.AsyncClient) -> list[dict[str, object]]:
    rows = await app_pool(client).fetch(
        "SELECT contact_ref, key_name, role, purpose, allowed, found FROM contact_lookups"
        " ORDER BY id"
    )
    return [dict(row) for row in rows]


async def test_a_system_key_reads_the_number_and_the_lookup_is_recorded(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    ref = await contact_ref(client)
    system = await grant(client, "system", name="notifications")
    response = await client.get(
        f"/v1/contacts/{ref}", headers={**system, "X-Purpose": "notification d_1"}
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"contact_ref": ref, "phone": PHONE}
    assert await lookups(client) == [
        {
            "contact_ref": ref,
            "key_name": "notifications",
            "role": "system",
            "purpose": "notification d_1",
            "allowed": True,
            "found": True,
        }
    ]
    assert PHONE not in caplog.text


@pytest.mark.parametrize("role", ["operator", "unit", "supervisor", "viewer"])
async def test_other_roles_are_refused_and_recorded(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture, role: Role
) -> None:
    ref = await contact_ref(client)
    headers = await grant(client, role, STREET_OFFICE if role == "unit" else None, name="who")
    response = await client.get(f"/v1/contacts/{ref}", headers=headers)
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert PHONE not in response.text
    assert await lookups(client) == [
        {
            "contact_ref": ref,
            "key_name": "who",
            "role": role,
            "purpose": None,
            "allowed": False,
            "found": False,
        }
    ]
    assert PHONE not in caplog.text


async def test_the_dev_system_key_given_at_start_reads_numbers(
    kafka: KafkaBroker, postgres: PostgresServer
) -> None:
    key = "test-system-key"
    async with appeals_client(postgres.url, kafka.access(), dev_system_key=key) as client:
        ref = await contact_ref(client)
        response = await client.get(
            f"/v1/contacts/{ref}", headers={"Authorization": f"Bearer {key}"}
        )
        assert response.status_code == 200, response.text
        [row] = await lookups(client)
        assert (row["key_name"], row["role"]) == ("development system", "system")


async def test_an_unknown_ref_or_an_appeal_without_phone_is_a_404(
    client: httpx.AsyncClient,
) -> None:
    system = await grant(client, "system", name="notifications")
    no_phone = {k: v for k, v in APPEAL.items() if k != "phone"}
    created = await client.post("/v1/appeals", json=no_phone)
    silent = created.json()["contact_ref"]
    for ref in (UNKNOWN, silent):
        response = await client.get(f"/v1/contacts/{ref}", headers=system)
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert [row["found"] for row in await lookups(client)] == [False, False]


async def test_bad_input_is_a_4xx_problem(client: httpx.AsyncClient) -> None:
    system = await grant(client, "system")
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
