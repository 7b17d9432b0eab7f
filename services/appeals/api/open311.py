"""Open311 GeoReport v2 facade (JSON only) under `/open311/v2/`, for civic apps.

Mapping: a service is one of our categories (`service_code` = category code); a
service request is an appeal (`service_request_id` = appeal id), received through
`store.receipts.receive` like any other; `agency_responsible` is the lead unit and
`expected_datetime` our deadline. Status is `closed` once resolved (or closed), else
`open`. We hold no map data, so a request is placed by an `address_string` naming one of
our districts, streets or communities; `lat`/`long` alone cannot be placed (400).

As the specification says, `POST requests.json` carries the API key in the body
(`api_key`, form-encoded or JSON), and each key may post at most a configured rate (a
token bucket; past it a 429 problem with `Retry-After`). The GET routes need no key, as
GeoReport expects: `GET requests.json` lists requests and `GET requests/{id}.json` looks
one up by its number, and without a key each request shows only its public fields
(status, dates, service, responsible unit, public notes, the district, street or
community), never the citizen's own text, phone or name. A key of a reading role (the
`api_key` query parameter or the usual `Authorization: Bearer` header) gets the
description too. Every error is the Open311 array
`[{"code": 400, "description": "..."}]`, but for the edge's 413 and 429 problems.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from appeals import store
from appeals.api.open311_doc import KEY_DOC, LIST_DOC, POST_DOC, errors
from appeals.receiving import ReceiveAppeal
from appeals.store import open311 as requests
from appeals.store.receipts import receive
from minsheng import auth
from minsheng.clock import CITY_TZ, clock_of
from minsheng.edge import TokenBucket, retry_after
from minsheng.events import fields as limits
from minsheng.inputs import Text, check_text, parse_instant
from minsheng.openapi import problems
from minsheng.problems import Problem
from minsheng.reference import Category, categories, places

PREFIX = "/open311/v2"
DEFAULT_WINDOW = timedelta(days=90)  # the specification's default for GET requests.json
SUBMITTERS: tuple[auth.Role, ...] = ("operator", "supervisor", "system")
READERS: tuple[auth.Role, ...] = (*SUBMITTERS, "viewer", "unit")


class Open311Error(Exception):
    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code, self.description = code, description


def _error(code: int, description: str) -> JSONResponse:
    return JSONResponse([{"code": code, "description": description}], status_code=code)


class Open311Route(APIRoute):
    """Answers this router's errors in the Open311 format, not problem+json; refuses
    text PostgreSQL cannot store in the path or the query (400), as `_body` does in the
    body."""

    minsheng_own_errors = True  # see minsheng.openapi.OWN_ERRORS

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                for name, value in [*request.path_params.items(), *request.query_params.items()]:
                    _text(str(value), name)
                return await handler(request)
            except Open311Error as exc:
                return _error(exc.code, exc.description)

        return guarded


def build_open311_router(pool: Any, identify: auth.Identify, posts: TokenBucket) -> APIRouter:
    """`pool` returns the live pool; `identify` is the service's key check; `posts`
    limits each key's `POST requests.json`."""
    router = APIRouter(prefix=PREFIX, route_class=Open311Route, tags=["open311"])

    @router.get("/services.json")
    async def services() -> list[dict[str, Any]]:
        """Our categories as Open311 services."""
        return [_service(category) for category in categories().values()]

    @router.get("/services/{code}.json", responses=errors(400, 404))
    async def service_definition(code: Text) -> dict[str, Any]:
        if code not in categories():
            raise Open311Error(404, f"service_code {code} not found")
        return {"service_code": code, "attributes": []}  # metadata is false for every service

    @router.post(
        "/requests.json",
        status_code=201,
        responses={**errors(400, 403), **problems(429)},
        openapi_extra=POST_DOC,
    )
    async def create_request(request: Request) -> list[dict[str, Any]]:
        fields = await _body(request)
        key = fields.get("api_key")
        await _authorise(identify, key, SUBMITTERS)
        assert key is not None  # `_authorise` refuses none
        if wait := posts.take(auth.hash_key(key)):
            raise Problem(
                429,
                "Too Many Requests",
                f"this api_key may post {posts.burst} requests at once, then "
                f"{posts.rate * 60:g} a minute",
                headers={"Retry-After": retry_after(wait)},
            )
        db = pool()
        cmd = _command(fields)
        async with db.acquire() as conn, conn.transaction():
            appeal_id = await receive(conn, cmd, clock_of(request))
            deadline = await store.deadline_of(conn, appeal_id)
        notice = f"受理编号 {appeal_id}; expected by {_w3c(deadline)}"
        return [{"service_request_id": appeal_id, "service_notice": notice, "account_id": None}]

    @router.get("/requests.json", responses=errors(400, 403), openapi_extra=LIST_DOC)
    async def list_requests(request: Request) -> list[dict[str, Any]]:
        query = request.query_params
        shown = await _view_for(identify, _key(request))
        db = pool()
        ids = _list(query.get("service_request_id"))
        async with db.acquire() as conn:
            if ids:  # the specification: other parameters are then ignored
                return [shown(row) for row in await requests.requests_by_id(conn, ids)]
            at = clock_of(request)
            end = _date(query.get("end_date"), "end_date") or at
            start = _date(query.get("start_date"), "start_date") or end - DEFAULT_WINDOW
            codes, statuses = _list(query.get("service_code")), _list(query.get("status"))
            if unknown := [s for s in statuses if s not in ("open", "closed")]:
                raise Open311Error(400, f"unknown status {', '.join(unknown)}; use open, closed")
            closed = [status == "closed" for status in statuses]
            rows = await requests.requests_between(conn, start, end, codes, closed)
            return [shown(row) for row in rows]

    @router.get(
        "/requests/{request_id}.json", responses=errors(400, 403, 404), openapi_extra=KEY_DOC
    )
    async def get_request(request_id: Text, request: Request) -> list[dict[str, Any]]:
        shown = await _view_for(identify, _key(request))
        db = pool()
        async with db.acquire() as conn:
            rows = await requests.requests_by_id(conn, [request_id])
        found = [shown(row) for row in rows]
        if not found:
            raise Open311Error(404, f"service_request_id {request_id} not found")
        return found

    return router


def _service(category: Category) -> dict[str, Any]:
    limit = (
        "the same day" if category.working_days == 0 else f"{category.working_days} working days"
    )
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": f"{category.name}: handled within {limit}",
        "metadata": False,
        "type": "realtime",
        "keywords": f"{category.code},{category.name}",
        "group": "12345 民生诉求",
    }


async def _body(request: Request) -> dict[str, str]:
    """The POST fields, form-encoded (as in the specification) or JSON."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    try:
        if kind == "application/x-www-form-urlencoded":
            pairs = parse_qsl(raw.decode(), keep_blank_values=True)
            return {name: _text(value, name) for name, value in pairs}
        if kind == "application/json":
            doc = json.loads(raw)
            if isinstance(doc, dict):
                return {str(k): _text(str(v), str(k)) for k, v in doc.items() if v is not None}
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Open311Error(400, f"unreadable body: {exc}") from exc
    raise Open311Error(
        400, "send application/x-www-form-urlencoded fields or a JSON object of them"
    )


def _key(request: Request) -> str | None:
    bearer = auth.bearer_key(request.headers.get("authorization"))
    return bearer or request.query_params.get("api_key")


async def _authorise(
    identify: auth.Identify, key: str | None, roles: tuple[auth.Role, ...]
) -> None:
    if not key:
        raise Open311Error(403, "api_key is required")
    who = await identify(key)
    if who is None:
        raise Open311Error(403, "invalid api_key")
    if who.role not in roles:
        raise Open311Error(403, f"an api_key of role {who.role} may not do this")


def _command(fields: Mapping[str, str]) -> ReceiveAppeal:
    code = fields.get("service_code", "")
    category = categories().get(code)
    if category is None:
        raise Open311Error(400, f"unknown service_code {code!r}; see services.json")
    place = _place(fields.get("address_string", ""))
    if place is None:
        raise Open311Error(
            400,
            "address_string must name a district, street, community or grid of Baicheng "
            "(lat/long alone cannot be placed); districts: " + ", ".join(places().districts),
        )
    description = fields.get("description", "").strip()
    if len(description) > limits.DESCRIPTION_LIMIT:
        raise Open311Error(400, f"description is longer than {limits.DESCRIPTION_LIMIT} characters")
    phone = fields.get("phone", "").strip() or None
    if phone is not None and not re.match(limits.PHONE, phone):
        raise Open311Error(400, f"phone {phone!r} is not a phone number")
    district, street, community, grid = place
    return ReceiveAppeal(
        title=(description.splitlines() or [category.name])[0][:60],
        description=description,
        category=category.code,
        district=district,
        street=street,
        community=community,
        grid=grid,
        channel="web",
        phone=phone,
        contact_name=_name(fields.get("first_name", ""), fields.get("last_name", "")),
    )


Place = tuple[str, str | None, str | None, str | None]


def _place(address: str) -> Place | None:
    """The most specific place of our reference data that the address names, down to
    the grid (a grid's name holds its community's, so naming a grid names both)."""
    best: tuple[int, Place] | None = None
    known = places()
    for district, streets in known.districts.items():
        candidates: list[tuple[str, Place]] = [(district, (district, None, None, None))]
        for street, communities in streets.items():
            candidates.append((street, (district, street, None, None)))
            for c in communities:
                candidates.append((c, (district, street, c, None)))
                grids = known.grids.get((district, street, c), ())
                candidates += [(g, (district, street, c, g)) for g in grids]
        for name, place in candidates:
            rank = sum(part is not None for part in place)
            if name in address and (best is None or rank > best[0]):
                best = (rank, place)
    return None if best is None else best[1]


def _name(first: str, last: str) -> str | None:
    first, last = first.strip(), last.strip()
    if not (first or last):
        return None
    if (first + last).isascii():
        return f"{first} {last}".strip()
    return f"{last}{first}"  # Chinese names: family name first, no space


def _list(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


def _date(value: str | None, name: str) -> datetime | None:
    """A W3C datetime; without an offset, the city's time."""
    if not value:
        return None
    try:
        return parse_instant(value, CITY_TZ, name)
    except ValueError as exc:
        raise Open311Error(400, str(exc)) from exc


def _text(value: str, name: str) -> str:
    try:
        return check_text(value, name)
    except ValueError as exc:
        raise Open311Error(400, str(exc)) from exc


def _w3c(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(CITY_TZ).isoformat()


def _request(row: dict[str, Any]) -> dict[str, Any]:
    category = categories().get(row["category"])
    closed = row["status"] in requests.CLOSED
    return {
        "service_request_id": row["id"],
        "status": "closed" if closed else "open",
        "status_notes": _notes(row),
        "service_name": category.name if category else row["category"],
        "service_code": row["category"],
        "description": row["description"],
        "agency_responsible": row["unit"],
        "service_notice": None,
        "requested_datetime": _w3c(row["received_at"]),
        "updated_datetime": _w3c(row["updated_at"]),
        "expected_datetime": _w3c(row["deadline"]),
        "address": "".join(
            p for p in (row["district"], row["street"], row["community"], row["grid"]) if p
        ),
    }


PRIVATE = ("description",)  # what only a key of a reading role sees


async def _view_for(
    identify: auth.Identify, key: str | None
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """How a request is shown: in full to a key of a reading role; without a key (the
    GeoReport GET requests take none) only its public fields. A key given must be good."""
    if not key:
        return _public
    await _authorise(identify, key, READERS)
    return _request


def _public(row: dict[str, Any]) -> dict[str, Any]:
    """A request as anyone may see it: what the citizen wrote is left out."""
    return {name: value for name, value in _request(row).items() if name not in PRIVATE}


def _notes(row: dict[str, Any]) -> str:
    status = row["status"]
    if status == "resolved" or (status == "closed" and row["outcome"] == "resolved"):
        return str(row["resolution"] or status)  # from the event: masked
    if status == "closed":
        return f"closed as {row['outcome']}"
    return f"{status}; handled by {row['unit']}" if row["unit"] else status
