"""The analytics worker's edge middleware on a real aiohttp server: an unexpected error
is a problem naming an error id, with no traceback, and CORS answers as elsewhere."""

from __future__ import annotations

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from analytics.api import edge
from minsheng.edge import Cors
from minsheng.problems import PROBLEM_JSON

ALLOWED = "https://civic.example"


async def failing(request: web.Request) -> web.Response:
    raise RuntimeError('relation "secret_table" does not exist: SELECT phone FROM x')


async def test_an_unexpected_error_is_a_bare_problem_and_cors_headers_are_added() -> None:
    app = web.Application(middlewares=[edge(Cors.of([ALLOWED]))])
    app.router.add_get("/boom", failing)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/boom", headers={"Origin": ALLOWED})
        assert response.status == 500
        assert response.content_type == PROBLEM_JSON
        text = await response.text()
        for leak in ("SELECT", "secret_table", "Traceback", "RuntimeError"):
            assert leak not in text, leak
        assert (await response.json())["error_id"]
        assert response.headers["Access-Control-Allow-Origin"] == ALLOWED
        missing = await client.get("/nowhere")
        assert missing.status == 404
        assert missing.content_type == PROBLEM_JSON
