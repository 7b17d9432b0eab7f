"""What the services' OpenAPI documents promise, read from the documents themselves (no
server runs): every text a request carries refuses NUL (or is an enum, a format or a
stricter pattern), every route's 4xx answers are problem documents, and a route that
needs a key says so. The fuzz tests then hold the services to these documents."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analytics.openapi import DOCUMENT as ANALYTICS
from appeals.main import AppealsSettings
from appeals.main import create_app as appeals_app
from minsheng.problems import PROBLEM_JSON
from notifications.main import create_app as notifications_app
from notifications.settings import NotificationsSettings
from projects.main import ProjectsSettings
from projects.main import create_app as projects_app

OPEN311 = "/open311/"
EDGE = ("413", "429")  # the body limit and the rate limit: problems on every route
PUBLIC = {"/v1/lists"}  # the four lists' public listing (上墙公示) takes no key


def documents(data: Path) -> dict[str, dict[str, Any]]:
    return {
        "appeals": appeals_app(AppealsSettings()).openapi(),
        "projects": projects_app(ProjectsSettings()).openapi(),
        "notifications": notifications_app(NotificationsSettings(data_dir=data)).openapi(),
        "analytics": ANALYTICS,
    }


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    return documents(tmp_path_factory.mktemp("data"))


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def strings(doc: dict[str, Any], schema: Any, where: str) -> Iterator[tuple[str, Any]]:
    """(where, schema) of every string schema inside `schema`, $refs followed."""
    if not isinstance(schema, dict):
        return
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        yield from strings(doc, doc["components"]["schemas"][name], f"{where}>{name}")
        return
    if schema.get("type") == "string":
        yield where, schema
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for i, part in enumerate(schema.get(key, [])):
            yield from strings(doc, part, f"{where}[{i}]")
    for name, part in schema.get("properties", {}).items():
        yield from strings(doc, part, f"{where}.{name}")
    for key in ("items", "additionalProperties", "propertyNames"):
        yield from strings(doc, schema.get(key), f"{where}.{key}")


def request_schemas(operation: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    for parameter in operation.get("parameters", []):
        yield f"{parameter['in']}:{parameter['name']}", parameter.get("schema")
    for media, content in operation.get("requestBody", {}).get("content", {}).items():
        yield f"body({media})", content.get("schema")


def test_every_text_of_a_request_refuses_what_postgresql_cannot_store(
    docs: dict[str, dict[str, Any]],
) -> None:
    loose = [
        f"{service} {method.upper()} {path} {where}"
        for service, doc in docs.items()
        for path, method, operation in operations(doc)
        for name, schema in request_schemas(operation)
        for where, text in strings(doc, schema, name)
        if not {"pattern", "enum", "const", "format"} & set(text)
    ]
    assert loose == []


def test_every_4xx_is_a_documented_problem_and_keys_are_declared(
    docs: dict[str, dict[str, Any]],
) -> None:
    for service, doc in docs.items():
        assert "Problem" in doc["components"]["schemas"], service
        for path, method, operation in operations(doc):
            errors = {code: r for code, r in operation["responses"].items() if code[0] == "4"}
            if OPEN311 in path:  # Open311's own errors, but for the edge's problems
                edge = {code: r for code, r in errors.items() if code in EDGE}
                own = {code: r for code, r in errors.items() if code not in EDGE}
                assert all("application/json" in r["content"] for r in own.values()), path
                assert all(PROBLEM_JSON in r["content"] for r in edge.values()), path
                continue
            assert all(PROBLEM_JSON in r["content"] for r in errors.values()), (method, path)
            if path in PUBLIC:
                assert "security" not in operation, (method, path)
                assert not {"401", "403"} & set(errors), (method, path)
            elif service != "analytics":  # the worker's views take no key
                assert {"401", "403"} <= set(errors), (method, path)
                assert operation["security"] == [{"bearer": []}], (method, path)
            if "{" in path:
                assert "404" in errors, (method, path)


def test_every_body_may_be_too_large_and_the_open311_post_rate_limited(
    docs: dict[str, dict[str, Any]],
) -> None:
    for service, doc in docs.items():
        for path, method, operation in operations(doc):
            if "requestBody" in operation:
                assert PROBLEM_JSON in operation["responses"]["413"]["content"], (
                    service,
                    method,
                    path,
                )
    post = docs["appeals"]["paths"]["/open311/v2/requests.json"]["post"]
    assert PROBLEM_JSON in post["responses"]["429"]["content"]
