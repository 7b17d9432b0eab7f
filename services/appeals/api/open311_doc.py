"""What the OpenAPI document says of the Open311 routes, which read their request
themselves (form fields or JSON, the key in the body or the query): their fields and
parameters, and their errors as Open311 answers them, `[{"code": ..., "description": ...}]`.
"""

from __future__ import annotations

from typing import Any

from minsheng.events.fields import DESCRIPTION_LIMIT, PHONE
from minsheng.inputs import NO_NUL

TEXT: dict[str, Any] = {"type": "string", "pattern": NO_NUL}
KEY = {"name": "api_key", "in": "query", "required": False, "schema": TEXT}
MEANINGS = {
    400: "A field or parameter cannot be read or placed",
    403: "No api_key, or one that may not do this",
    404: "No such service or request",
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
FIELDS: dict[str, Any] = {
    "type": "object",
    "required": ["api_key", "service_code", "address_string"],
    "properties": {
        "api_key": TEXT,
        "service_code": {**TEXT, "description": "A category code (services.json)."},
        "address_string": {
            **TEXT,
            "description": "Names a district, street, community or grid of Baicheng.",
        },
        "description": {**TEXT, "maxLength": DESCRIPTION_LIMIT},
        "phone": {"type": "string", "pattern": PHONE},
        "first_name": TEXT,
        "last_name": TEXT,
        "lat": {"type": "number"},
        "long": {"type": "number"},
    },
}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` of an Open311 route: these statuses as Open311 error arrays."""
    content = {"application/json": {"schema": ERROR_SCHEMA}}
    return {code: {"description": MEANINGS[code], "content": content} for code in codes}


POST_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {"schema": FIELDS},
            "application/json": {"schema": FIELDS},
        },
    }
}
LIST_DOC: dict[str, Any] = {
    "parameters": [
        KEY,
        *(  # lists are comma-separated; dates W3C datetimes (the city's time if naive)
            {"name": name, "in": "query", "required": False, "schema": TEXT}
            for name in ("service_request_id", "service_code", "status", "start_date", "end_date")
        ),
    ]
}
KEY_DOC: dict[str, Any] = {"parameters": [KEY]}
