"""The committed contracts/ folder is what the models generate, and it is well formed."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from minsheng import contracts, topics
from minsheng.events import ALL_EVENTS, CONTENT_TYPE, EventData

TOPICS = [
    topics.APPEALS,
    topics.PROJECTS,
    topics.INTAKE_APPEALS,
    topics.INTAKE_PROJECTS,
    topics.NOTIFICATIONS,
]


@pytest.fixture(scope="module")
def committed() -> dict[str, str]:
    return contracts.read()


@pytest.fixture(scope="module")
def asyncapi(committed: dict[str, str]) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load(committed[contracts.ASYNCAPI_FILE])
    return doc


def test_committed_contracts_match_the_models(committed: dict[str, str]) -> None:
    drift = contracts.changes(committed, contracts.render())
    assert drift == [], "contracts/ drifted; run `python -m minsheng.contracts` and commit"


def test_generation_is_deterministic() -> None:
    assert contracts.render() == contracts.render()


def test_check_passes_on_the_committed_folder(capsys: pytest.CaptureFixture[str]) -> None:
    assert contracts.main(["--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_changes_name_missing_changed_and_stale_files() -> None:
    expected = {"a.json": "1\n", "b.json": "2\n", "c.json": "3\n"}
    found = {"a.json": "1\n", "b.json": "old\n", "z.json": "?\n"}
    assert contracts.changes(found, expected) == [
        ("changed", "b.json"),
        ("missing", "c.json"),
        ("stale", "z.json"),
    ]


@pytest.mark.parametrize("path", sorted(contracts.render()))
def test_files_are_canonical_text(committed: dict[str, str], path: str) -> None:
    text = committed[path]
    assert text.endswith("\n")
    assert not text.endswith("\n\n")
    if path.endswith(".json"):
        doc = json.loads(text)
        assert text == json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        Draft202012Validator.check_schema(doc)


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.event_name)
def test_each_type_has_its_schema_file(committed: dict[str, str], model: type[EventData]) -> None:
    schema = json.loads(committed[f"schemas/{model.event_type()}.json"])
    assert schema["$id"] == model.schema_url()
    assert schema["properties"]["type"]["const"] == model.event_type()


def test_asyncapi_is_version_3_with_a_local_kafka(asyncapi: dict[str, Any]) -> None:
    assert asyncapi["asyncapi"] == "3.0.0"
    assert asyncapi["info"]["title"]
    assert asyncapi["defaultContentType"] == CONTENT_TYPE
    assert {"host": "localhost:9092", "protocol": "kafka"}.items() <= asyncapi["servers"][
        "local"
    ].items()


def test_asyncapi_names_every_topic_and_its_dead_letters(asyncapi: dict[str, Any]) -> None:
    addresses = {c["address"] for c in asyncapi["channels"].values()}
    assert addresses == set(TOPICS) | {topics.dlq(t) for t in TOPICS}


def test_asyncapi_messages_are_cloudevents_with_a_schema(
    asyncapi: dict[str, Any], committed: dict[str, str]
) -> None:
    messages = asyncapi["components"]["messages"]
    for model in ALL_EVENTS:
        message = messages[model.event_name]
        assert message["contentType"] == CONTENT_TYPE
        assert message["payload"]["$ref"] == f"./schemas/{model.event_type()}.json"
        assert message["payload"]["$ref"][2:] in committed


def _expected_actions(address: str) -> set[str]:
    """The platform writes dead letters, only reads intake, and both writes and reads the rest."""
    if address.endswith(topics.DLQ_SUFFIX):
        return {"send"}
    if ".intake." in address:
        return {"receive"}
    return {"send", "receive"}


def test_asyncapi_operations_send_and_receive_their_channels_messages(
    asyncapi: dict[str, Any],
) -> None:
    for name, channel in asyncapi["channels"].items():
        ref = f"#/channels/{name}"
        ops = [op for op in asyncapi["operations"].values() if op["channel"]["$ref"] == ref]
        assert {op["action"] for op in ops} == _expected_actions(channel["address"]), name
        for op in ops:
            sent = {m["$ref"] for m in op["messages"]}
            assert sent == {f"{ref}/messages/{m}" for m in channel["messages"]}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def test_asyncapi_internal_references_resolve(asyncapi: dict[str, Any]) -> None:
    internal = [r for r in _refs(asyncapi) if r.startswith("#/")]
    assert internal
    for ref in internal:
        node: Any = asyncapi
        for part in ref[2:].split("/"):
            node = node[part]
        assert isinstance(node, dict), ref
