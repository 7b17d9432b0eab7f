"""The OpenAPI document of the worker's web views (served at /openapi.json, with /docs),
written out by hand: Faust's web server has no generator. Its errors are the problem
documents every service answers (`minsheng.openapi.PROBLEM_SCHEMA`)."""

from __future__ import annotations

from typing import Any

from analytics.peers import SHARE_PATH
from minsheng.openapi import PROBLEM_SCHEMA
from minsheng.problems import PROBLEM_JSON

PROBLEM = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
OBJECT: dict[str, Any] = {"type": "object", "additionalProperties": True}
LIGHTS_PATH = "/v1/units/lights"
RATE: dict[str, Any] = {"type": ["number", "null"], "minimum": 0, "maximum": 1}
COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}
LIGHT: dict[str, Any] = {"type": "string", "enum": ["green", "yellow", "red"]}
UNIT_LIGHT: dict[str, Any] = {
    "type": "object",
    "required": ["unit", "light", "on_time_rate", "satisfaction_rate", "return_rate"],
    "properties": {
        "unit": {"type": "string"},
        "light": LIGHT,
        **{name: RATE for name in ("on_time_rate", "satisfaction_rate", "return_rate")},
        **{
            name: COUNT
            for name in (
                "resolved",
                "resolved_on_time",
                "overdue",
                "satisfaction_responses",
                "dispatched",
                "returned",
            )
        },
    },
}


REBALANCING: dict[str, Any] = {
    "description": "The workers are rebalancing: retry shortly",
    "headers": {"Retry-After": {"schema": {"type": "string"}}},
    "content": PROBLEM,
}


def _ok(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Minsheng analytics",
        "version": "1",
        "description": "City-wide KPIs from the domain topics; any worker answers for the "
        "city (services/analytics/README.md).",
    },
    "paths": {
        "/v1/counters": {
            "get": {
                "operationId": "counters",
                "summary": "The city's and each district's KPIs, now",
                "responses": {
                    "200": _ok("City, districts and notifications", OBJECT),
                    "503": REBALANCING,
                },
            }
        },
        LIGHTS_PATH: {
            "get": {
                "operationId": "unit_lights",
                "summary": "Each handling unit's traffic light (绿灯率) in a month",
                "parameters": [
                    {
                        "name": "month",
                        "in": "query",
                        "required": False,
                        "description": "The city's calendar month, YYYY-MM; this month if omitted.",
                        "schema": {"type": "string", "pattern": r"^\d{4}-(0[1-9]|1[0-2])$"},
                    }
                ],
                "responses": {
                    "200": _ok(
                        "Every unit's light and the rates it came from",
                        {
                            "type": "object",
                            "required": ["month", "as_of", "units", "lights", "by_unit"],
                            "properties": {
                                "month": {"type": "string"},
                                "as_of": {"type": "string", "format": "date-time"},
                                "thresholds_version": {"type": "integer"},
                                "units": COUNT,
                                "lights": {
                                    "type": "object",
                                    "properties": {c: COUNT for c in LIGHT["enum"]},
                                },
                                "by_unit": {"type": "array", "items": UNIT_LIGHT},
                            },
                        },
                    ),
                    "400": {"description": "`month` is not YYYY-MM", "content": PROBLEM},
                    "503": REBALANCING,
                },
            }
        },
        SHARE_PATH: {
            "get": {
                "operationId": "counters_share",
                "summary": "This worker's share of the figures (its peers read it)",
                "parameters": [
                    {
                        "name": "at",
                        "in": "query",
                        "required": False,
                        "description": "The instant of the figures (ISO 8601 with an offset); "
                        "now if omitted.",
                        "schema": {"type": "string", "format": "date-time"},
                    }
                ],
                "responses": {
                    "200": _ok(
                        "The worker, its partitions and figures",
                        {
                            "type": "object",
                            "required": ["worker", "settled", "partitions", "figures"],
                            "properties": {
                                "worker": {"type": "string"},
                                "settled": {"type": "boolean"},
                                "partitions": OBJECT,
                                "figures": {"type": "array"},
                            },
                        },
                    ),
                    "400": {"description": "`at` is not an ISO 8601 time", "content": PROBLEM},
                },
            }
        },
    },
    "components": {"schemas": {"Problem": PROBLEM_SCHEMA}},
}
