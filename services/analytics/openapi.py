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
                    "503": {
                        "description": "The workers are rebalancing: retry shortly",
                        "headers": {"Retry-After": {"schema": {"type": "string"}}},
                        "content": PROBLEM,
                    },
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
