"""The public edge every HTTP service shares, on the real services (their real database
and broker): a body over the limit is a 413 problem, the Open311 POST is rate-limited
per key (429 with Retry-After), CORS admits only the named origins, and an unexpected
error answers a problem naming an error id, never a traceback or SQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from minsheng.platform.kafka import KafkaBroker
from minsheng.platform.postgres import PostgresServer
from minsheng.problems import PROBLEM_JSON
from testkit.e2e.analytics import Workers
from testkit.integration.appeals import APPEAL
from testkit.integration.apps import DEV_KEY, app_pool, appeals_client, grant, projects_client

LIMIT = 4096
ALLOWED = "https://civic.example"
FORM = "application/x-www-form-urlencoded"
OPEN311_POST = "/open311/v2/requests.json"


@pytest.fixture
async def appeals(kafka: KafkaBroker, postgres: PostgresServer) -> AsyncIterator[httpx.AsyncClient]:
    async with appeals_client(
        postgres.url,
        kafka.access(),
        max_body_bytes=LIMIT,
        cors_origins=(ALLOWED,),
        open311_posts_burst=2,
        open311_posts_per_minute=6,  # one every 10 s after the burst
    ) as client:
        yield client


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body: dict[str, object] = response.json()
    assert body["status"] == status
    return body


@pytest.mark.integration
async def test_a_body_over_the_limit_is_a_413_problem_whether_declared_or_streamed(
    appeals: httpx.AsyncClient, kafka: KafkaBroker, postgres: PostgresServer
) -> None:
    big = {**APPEAL, "description": "噪" * LIMIT}  # 3 bytes a character in UTF-8
    assert_problem(await appeals.post("/v1/appeals", json=big), 413)

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: chunked
        for _ in range(LIMIT // 1024 + 1):
            yield b" " * 1024

    streamed = await appeals.post(
        "/v1/appeals", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert_problem(streamed, 413)
    form = await appeals.post(
        OPEN311_POST, content="x" * (LIMIT + 1), headers={"Content-Type": FORM}
    )
    assert_problem(form, 413)
    assert await app_pool(appeals).fetchval("SELECT count(*) FROM appeals") == 0
    assert (await appeals.post("/v1/appeals", json=APPEAL)).status_code == 201

    async with projects_client(postgres.url, kafka.access(), max_body_bytes=LIMIT) as projects:
        body = assert_problem(await projects.post("/v1/projects", content=b"{" * (LIMIT + 1)), 413)
        assert str(LIMIT) in str(body["detail"])


@pytest.mark.integration
async def test_the_open311_post_is_limited_per_key_with_retry_after(
    appeals: httpx.AsyncClient,
) -> None:
    def form(key: str) -> str:
        return f"api_key={key}&service_code=help&address_string=洮北区明仁街道&description=井盖松动"

    async def post(key: str) -> httpx.Response:
        return await appeals.post(
            OPEN311_POST, content=form(key), headers={"Content-Type": FORM, "Authorization": ""}
        )

    assert [(await post(DEV_KEY)).status_code for _ in range(2)] == [201, 201]
    refused = await post(DEV_KEY)
    body = assert_problem(refused, 429)
    assert 1 <= int(refused.headers["Retry-After"]) <= 10
    assert "api_key" in str(body["detail"])
    other = (await grant(appeals, "operator"))["Authorization"].removeprefix("Bearer ")
    assert (await post(other)).status_code == 201, "another key has its own allowance"
    assert await app_pool(appeals).fetchval("SELECT count(*) FROM appeals") == 3


@pytest.mark.integration
async def test_cors_admits_the_named_origins_only(appeals: httpx.AsyncClient) -> None:
    def preflight(origin: str) -> dict[str, str]:
        return {
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        }

    allowed = await appeals.options("/v1/appeals", headers=preflight(ALLOWED))
    assert allowed.status_code == 204, allowed.text
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "authorization" in allowed.headers["access-control-allow-headers"]
    assert "POST" in allowed.headers["access-control-allow-methods"]

    refused = await appeals.options("/v1/appeals", headers=preflight("https://evil.example"))
    assert_problem(refused, 403)
    assert "access-control-allow-origin" not in refused.headers

    actual = await appeals.get("/v1/categories", headers={"Origin": ALLOWED})
    assert actual.status_code == 200
    assert actual.headers["access-control-allow-origin"] == ALLOWED
    assert "Location" in actual.headers["access-control-expose-headers"]
    foreign = await appeals.get("/v1/categories", headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 200  # the browser, not the server, withholds it
    assert "access-control-allow-origin" not in foreign.headers


@pytest.mark.integration
async def test_an_unexpected_error_shows_no_traceback_nor_sql(
    appeals: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    created = await appeals.post("/v1/appeals", json=APPEAL)
    appeal_id = created.json()["id"]
    await app_pool(appeals).execute("ALTER TABLE appeals RENAME TO appeals_away")
    # as a server answers: the app's exception is not raised into the client
    transport = httpx.ASGITransport(app=appeals.app, raise_app_exceptions=False)  # type: ignore[attr-defined]
    async with httpx.AsyncClient(
        transport=transport,
        base_url="http://appeals",
        headers={"Authorization": f"Bearer {DEV_KEY}"},
    ) as raw:
        answers = [
            await raw.get(f"/v1/appeals/{appeal_id}"),
            await raw.get("/v1/appeals"),
            await raw.post("/v1/appeals", json=APPEAL),  # the direct route
        ]
    for response in answers:
        body = assert_problem(response, 500)
        text = response.text
        for leak in ("Traceback", "SELECT", "appeals_away", "relation", "asyncpg", ".py"):
            assert leak not in text, (leak, text)
        assert str(body["error_id"]) in caplog.text, "the log has it under the same id"


@pytest.mark.e2e
async def test_an_analytics_worker_keeps_the_same_cors_policy(
    private_kafka: KafkaBroker, tmp_path: Path
) -> None:
    workers = Workers(private_kafka.access(), tmp_path, {"MINSHENG_CORS_ORIGINS": ALLOWED})
    worker = await workers.start()
    try:
        async with httpx.AsyncClient(base_url=worker.url, timeout=10) as http:
            asked = {"Access-Control-Request-Method": "GET"}
            allowed = await http.options("/v1/counters", headers={"Origin": ALLOWED, **asked})
            assert allowed.status_code == 204, allowed.text
            assert allowed.headers["access-control-allow-origin"] == ALLOWED
            evil = {"Origin": "https://evil.example", **asked}
            refused = await http.options("/v1/counters", headers=evil)
            assert_problem(refused, 403)
            assert "access-control-allow-origin" not in refused.headers
            page = await http.get("/openapi.json", headers={"Origin": ALLOWED})
            assert page.headers["access-control-allow-origin"] == ALLOWED
            foreign = await http.get("/openapi.json", headers={"Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in foreign.headers
    finally:
        await worker.stop()
