"""Input PostgreSQL cannot take is refused at the edge: a year past the ledger's range
(and an `integer` column's), text with NUL (422, never a 500)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("method", "path", "request_args"),
    [
        ("GET", "/v1/projects", {"params": {"year": "99999999999"}}),
        ("GET", "/v1/projects", {"params": {"year": "1999"}}),
        ("GET", "/v1/projects", {"params": {"district": "\x00"}}),
        ("GET", "/v1/projects/XM%00", {}),
        ("GET", "/v1/ledger", {"params": {"year": "2**40"}}),
        ("POST", "/v1/ledger/99999999999/close", {}),
        ("POST", "/v1/projects/XM-2019-000001/progress", {"json": {"progress": 5, "note": "\x00"}}),
    ],
)
async def test_problem_not_a_server_error(
    client: httpx.AsyncClient, method: str, path: str, request_args: dict[str, Any]
) -> None:
    response = await client.request(method, path, **request_args)
    assert response.status_code in (403, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
