"""DirectRoutes: a marked endpoint answers straight from the middleware, errors as problems."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError

from minsheng.kafka import KafkaAccess
from minsheng.problems import Problem
from minsheng.web import add_direct_routes, direct, install_platform_routes


def app_with_routes() -> FastAPI:
    app = FastAPI()
    install_platform_routes(
        app,
        service="test",
        pool=lambda: None,
        kafka=lambda: KafkaAccess("127.0.0.1:1", "nobody", "nothing"),
    )
    router = APIRouter(prefix="/v1")

    @router.post("/things")
    @direct
    async def post_thing(request: Request) -> Response:
        body = await request.body()
        if body == b"bad":
            raise Problem(409, "Conflict", "a bad thing")
        if body == b"invalid":
            raise RequestValidationError([{"loc": ("body", "name"), "msg": "missing"}])
        # the routing layers were skipped: FastAPI's router would have set the endpoint
        return Response(str("endpoint" in request.scope).encode(), 201)

    @router.get("/things")
    async def list_things() -> dict[str, str]:
        return {"served": "by FastAPI"}

    app.include_router(router)
    add_direct_routes(app, router)
    return app


async def test_a_direct_route_answers_past_the_router_and_keeps_problem_errors() -> None:
    transport = httpx.ASGITransport(app=app_with_routes())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        created = await client.post("/v1/things", content=b"ok")
        assert (created.status_code, created.text) == (201, "False")
        conflict = await client.post("/v1/things", content=b"bad")
        assert conflict.status_code == 409
        assert conflict.headers["content-type"] == "application/problem+json"
        assert conflict.json()["detail"] == "a bad thing"
        invalid = await client.post("/v1/things", content=b"invalid")
        assert invalid.status_code == 422
        assert invalid.json()["errors"] == [{"field": "body.name", "message": "missing"}]
        listed = await client.get("/v1/things")
        assert listed.json() == {"served": "by FastAPI"}
        metrics = (await client.get("/metrics")).text
        assert 'route="/v1/things",service="test",status="201"' in metrics
