"""Input PostgreSQL cannot take is refused at the edge, on every way in: text with NUL,
times out of range, in a body, a query, a path, a header or Open311's fields (4xx, never
a 500); a 405 names the path's methods."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from testkit.integration.apps import DEV_KEY

pytestmark = pytest.mark.integration
APPEAL = {"title": "井盖缺失", "category": "complaint", "district": "洮北区"}
FAR = "0001-01-01T00:00:00+14:00"


@pytest.mark.parametrize(
    ("method", "path", "request_args"),
    [
        ("POST", "/v1/appeals", {"json": {**APPEAL, "title": "井盖\x00"}}),
        ("POST", "/v1/appeals", {"json": APPEAL, "headers": {"Idempotency-Key": "k\x00"}}),
        ("GET", "/v1/appeals", {"params": {"district": "\x00"}}),
        ("GET", "/v1/appeals", {"params": {"received_from": FAR}}),
        ("GET", "/v1/appeals/BC%00", {}),
        ("POST", "/v1/appeals/BC%00/dispatch", {"json": {}}),
        ("POST", "/v1/appeals/BC-1/extend", {"json": {"reason": "r", "until": FAR}}),
        ("GET", "/v1/contacts/c_00", {"headers": {"X-Purpose": "\x00"}}),
    ],
)
async def test_problem_not_a_server_error(
    client: httpx.AsyncClient, method: str, path: str, request_args: dict[str, Any]
) -> None:
    response = await client.request(method, path, **request_args)
    assert response.status_code in (403, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("method", "path", "request_args"),
    [
        ("POST", "/open311/v2/requests.json", {"data": {"description": "井盖\x00"}}),
        ("POST", "/open311/v2/requests.json", {"json": {"address_string": "\x00"}}),
        ("GET", "/open311/v2/requests.json", {"params": {"service_code": "\x00"}}),
        ("GET", "/open311/v2/requests.json", {"params": {"start_date": FAR}}),
        ("GET", "/open311/v2/requests/BC%00.json", {}),
    ],
)
async def test_open311_answers_400_in_its_own_format(
    client: httpx.AsyncClient, method: str, path: str, request_args: dict[str, Any]
) -> None:
    params = {"api_key": DEV_KEY, **request_args.pop("params", {})}
    response = await client.request(method, path, params=params, **request_args)
    assert response.status_code == 400, response.text
    assert response.json()[0]["code"] == 400


async def test_a_405_names_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    response = await client.request("TRACE", "/open311/v2/requests.json")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.headers["content-type"] == "application/problem+json"
    assert (await client.delete("/v1/units")).headers["allow"] == "GET"
