"""Generates the published event contracts from the models: JSON Schemas and AsyncAPI 3.

Other government systems publish into the platform from these files, without our code,
so they are committed, and `--check` (and a test) fails when they drift from the models.
The output is byte-deterministic: sorted keys, fixed indentation, a trailing newline.

    python -m minsheng.contracts          # (re)writes contracts/
    python -m minsheng.contracts --check  # exit 1 and list the drifting files
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from minsheng import topics
from minsheng.events import (
    ALL_EVENTS,
    APPEAL_EVENTS,
    CONTENT_TYPE,
    INTAKE_APPEAL_EVENTS,
    INTAKE_PROJECT_EVENTS,
    NOTIFICATION_EVENTS,
    PROJECT_EVENTS,
    CloudEvent,
    EventData,
    EventTypes,
    InvalidEvent,
)
from minsheng.events.binding import CONTENT_TYPE_HEADER, DATA_TYPE, PREFIX
from minsheng.events.envelope import SCHEMA_BASE

CONTRACTS_DIR = Path(__file__).resolve().parents[2] / "contracts"
SCHEMAS = "schemas"
ENVELOPE_FILE = "cloudevent.json"
ASYNCAPI_FILE = "asyncapi.yaml"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
KAFKA_BINDING_VERSION = "0.5.0"
DEAD_LETTER = "DeadLetter"
BINARY = "Binary"  # suffix of a message in binary content mode

Json = dict[str, Any]
Action = Literal["send", "receive"]


@dataclass(frozen=True)
class Topic:
    """One Kafka topic as the platform sees it: what flows on it and who does what."""

    channel: str
    address: str
    events: EventTypes
    description: str
    actions: tuple[Action, ...]
    binary: bool = False  # also takes binary content mode (outside systems publish here)


TOPICS = (
    Topic(
        "appeals",
        topics.APPEALS,
        APPEAL_EVENTS,
        "The appeal workflow, written by the appeals service and read by analytics and "
        "notifications. Key: the appeal id.",
        ("send", "receive"),
    ),
    Topic(
        "projects",
        topics.PROJECTS,
        PROJECT_EVENTS,
        "The secretary-project ledger, written by the projects service and read by "
        "analytics and notifications. Key: the project id.",
        ("send", "receive"),
    ),
    Topic(
        "intakeAppeals",
        topics.INTAKE_APPEALS,
        INTAKE_APPEAL_EVENTS,
        "Appeals and call-back results from other systems (e.g. a hotline vendor), read by "
        "the appeals service. Key: the source's own id.",
        ("receive",),
        binary=True,
    ),
    Topic(
        "intakeProjects",
        topics.INTAKE_PROJECTS,
        INTAKE_PROJECT_EVENTS,
        "Milestones and resident ratings from other systems (e.g. a bureau's project "
        "system), read by the projects service. Key: the project id.",
        ("receive",),
        binary=True,
    ),
    Topic(
        "notifications",
        topics.NOTIFICATIONS,
        NOTIFICATION_EVENTS,
        "Delivery outcomes of the notifications service, read by analytics. Key: the "
        "notification id.",
        ("send", "receive"),
    ),
)


def envelope_schema() -> Json:
    """The CloudEvents envelope alone, whatever the event type."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"{SCHEMA_BASE}/{ENVELOPE_FILE}",
        **CloudEvent.model_json_schema(),
    }


def event_schema(model: type[EventData]) -> Json:
    """A full CloudEvent of one type: the envelope with `type` fixed and `data` the payload."""
    schema = CloudEvent.model_json_schema()
    payload = model.model_json_schema()
    defs: Json = {**schema.pop("$defs", {}), **payload.pop("$defs", {})}
    defs[model.__name__] = payload
    properties = schema["properties"]
    properties["type"] = {**properties["type"], "const": model.event_type()}
    del properties["type"]["pattern"]
    properties["data"] = {"$ref": f"#/$defs/{model.__name__}"}
    return {
        **schema,
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": model.schema_url(),
        "$defs": defs,
        "title": model.event_type(),
        "description": f"The {model.event_type()} CloudEvent. {payload.get('description', '')}",
    }


def schema_file(model: type[EventData]) -> str:
    return f"{SCHEMAS}/{model.event_type()}.json"


def _message(model: type[EventData]) -> Json:
    doc = (model.__doc__ or "").strip()
    return {
        "name": model.event_type(),
        "title": model.event_name,
        "summary": doc.splitlines()[0] if doc else model.event_name,
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {"content-type": {"type": "string", "const": CONTENT_TYPE}},
        },
        "payload": {"$ref": f"./{schema_file(model)}"},
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": "The CloudEvent `subject` (the aggregate id), so that one "
                    "aggregate's events keep their order.",
                },
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _binary_message(model: type[EventData]) -> Json:
    """The same event in binary content mode: attributes in `ce_` headers, data alone."""
    schema = CloudEvent.model_json_schema()
    headers: Json = {
        f"{PREFIX}{name}": {
            "type": "string",
            "description": field.get("description", f"The CloudEvents `{name}` attribute."),
        }
        for name, field in schema["properties"].items()
        if name not in ("data", "datacontenttype")
    }
    headers[f"{PREFIX}specversion"]["const"] = "1.0"
    headers[f"{PREFIX}type"]["const"] = model.event_type()
    headers[f"{PREFIX}id"]["minLength"] = 1
    headers[f"{PREFIX}time"]["format"] = "date-time"
    headers[f"{PREFIX}sequence"]["pattern"] = "^[1-9][0-9]*$"
    headers[CONTENT_TYPE_HEADER] = {"type": "string", "const": DATA_TYPE}
    required = [f"{PREFIX}{n}" for n in schema["required"] if n != "data"]
    message = _message(model)
    return {
        **message,
        "name": f"{model.event_type()}.binary",
        "title": f"{model.event_name} (binary mode)",
        "contentType": DATA_TYPE,
        "headers": {"type": "object", "properties": headers, "required": sorted(required)},
        "payload": {"$ref": f"./{schema_file(model)}#/$defs/{model.__name__}"},
    }


def _dead_letter_message() -> Json:
    headers = {
        "dlq.reason": "Why it was rejected.",
        "dlq.detail": "A human-readable detail of the reason.",
        "dlq.service": "The consumer that rejected it.",
        "dlq.topic": "The topic it was read from.",
        "dlq.partition": "Its partition there.",
        "dlq.offset": "Its offset there.",
        "dlq.time": "When it was rejected (ISO 8601).",
    }
    properties: Json = {k: {"type": "string", "description": v} for k, v in headers.items()}
    properties["dlq.reason"]["enum"] = list(InvalidEvent.REASONS)
    return {
        "name": DEAD_LETTER,
        "title": "Dead letter",
        "summary": "A rejected message: the original key and bytes with personal numbers "
        "masked (a JSON document keeps its shape), the reason in headers.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": properties,
            "required": sorted(headers),
        },
        "payload": {"description": "The original message value, unchanged."},
    }


def _operation(action: Action, channel: str, messages: Sequence[str], what: str) -> Json:
    return {
        "action": action,
        "channel": {"$ref": f"#/channels/{channel}"},
        "summary": what,
        "messages": [{"$ref": f"#/channels/{channel}/messages/{m}"} for m in messages],
    }


def _camel(verb: str, name: str) -> str:
    return verb + name[0].upper() + name[1:]


def asyncapi_document() -> Json:
    """AsyncAPI 3.0.0 of the platform's topics, from the platform's point of view."""
    channels: Json = {}
    operations: Json = {}
    for topic in TOPICS:
        names = [m.event_name for m in topic.events]
        if topic.binary:
            names += [m.event_name + BINARY for m in topic.events]
        channels[topic.channel] = {
            "address": topic.address,
            "description": topic.description,
            "messages": {n: {"$ref": f"#/components/messages/{n}"} for n in names},
        }
        for action in topic.actions:
            verb = "Publishes to" if action == "send" else "Consumes"
            operations[_camel(action, topic.channel)] = _operation(
                action, topic.channel, names, f"{verb} {topic.address}."
            )
        dlq = f"{topic.channel}Dlq"
        channels[dlq] = {
            "address": topics.dlq(topic.address),
            "description": f"Messages of {topic.address} that a consumer rejected.",
            "messages": {DEAD_LETTER: {"$ref": f"#/components/messages/{DEAD_LETTER}"}},
        }
        operations[_camel("send", dlq)] = _operation(
            "send", dlq, [DEAD_LETTER], f"Dead-letters rejected messages of {topic.address}."
        )
    messages = {m.event_name: _message(m) for m in ALL_EVENTS}
    binary = {m for topic in TOPICS if topic.binary for m in topic.events}
    messages.update({m.event_name + BINARY: _binary_message(m) for m in binary})
    messages[DEAD_LETTER] = _dead_letter_message()
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Minsheng events",
            "version": "1.0.0",
            "description": "The Kafka topics of the Minsheng livelihood platform. Events are "
            "CloudEvents 1.0 under the Kafka protocol binding. On every topic, structured "
            "JSON mode: one JSON object per Kafka value, header `content-type: "
            "application/cloudevents+json`. On the intake topics also binary mode: the "
            "attributes in `ce_` headers (`ce_specversion`, `ce_id`, `ce_source`, `ce_type`, "
            "`ce_subject`, `ce_time`, extensions such as `ce_sequence`), header "
            "`content-type: application/json`, and the value the data alone (the messages "
            "named `...Binary`). The Kafka key is the event's `subject`. `id` is any "
            "non-empty string, unique per `source`: (source, id) names an event, and the "
            "intake applies each once. `sequence` counts 1, 2, 3, ... per subject; it is "
            "required on the domain topics, whose consumers take only events whose `source` "
            "is the topic's owner (else dead letter `foreign_source`), and optional on the "
            "intake topics. Each message links the JSON Schema of its full CloudEvent "
            "(binary mode: of its data).",
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "local": {
                "host": "localhost:9092",
                "protocol": "kafka",
                "description": "The development broker (`make up`).",
                "security": [{"$ref": "#/components/securitySchemes/scram"}],
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "securitySchemes": {
                "scram": {
                    "type": "scramSha512",
                    "description": "SASL/SCRAM-SHA-512 over SASL_PLAINTEXT; every client "
                    "authenticates. An outside system's principal (`minsheng-platform "
                    "outside-system NAME`) may write the intake topics only.",
                }
            },
        },
    }


def _json(doc: Json) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def render() -> dict[str, str]:
    """Every generated file: its path relative to the contracts folder, and its text."""
    files = {f"{SCHEMAS}/{ENVELOPE_FILE}": _json(envelope_schema())}
    files.update({schema_file(m): _json(event_schema(m)) for m in ALL_EVENTS})
    files[ASYNCAPI_FILE] = yaml.safe_dump(
        asyncapi_document(), sort_keys=True, allow_unicode=True, width=1000
    )
    return files


def read(folder: Path = CONTRACTS_DIR) -> dict[str, str]:
    """The generated files as they are in the folder, with any stray schema file."""
    paths = {p.relative_to(folder).as_posix() for p in (folder / SCHEMAS).glob("*.json")}
    paths.add(ASYNCAPI_FILE)
    return {p: (folder / p).read_text(encoding="utf-8") for p in paths if (folder / p).is_file()}


def changes(found: Mapping[str, str], expected: Mapping[str, str]) -> list[tuple[str, str]]:
    """`(missing | changed | stale, path)` for every file where `found` is not `expected`."""
    result = [("stale", path) for path in found.keys() - expected.keys()]
    for path, text in expected.items():
        if path not in found:
            result.append(("missing", path))
        elif found[path] != text:
            result.append(("changed", path))
    return sorted(result, key=lambda change: change[1])


def drift(folder: Path = CONTRACTS_DIR) -> list[str]:
    """What in the folder differs from what the models generate, one line a file."""
    return [f"{kind} {path}" for kind, path in changes(read(folder), render())]


def write(folder: Path = CONTRACTS_DIR) -> list[str]:
    """Brings the folder in line with the models; returns what it changed, as `drift` does."""
    expected = render()
    todo = changes(read(folder), expected)
    (folder / SCHEMAS).mkdir(parents=True, exist_ok=True)
    for kind, path in todo:
        if kind == "stale":
            (folder / path).unlink()
        else:
            (folder / path).write_text(expected[path], encoding="utf-8")
    return [f"{kind} {path}" for kind, path in todo]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m minsheng.contracts", description=__doc__)
    parser.add_argument("--check", action="store_true", help="fail if the files drifted")
    parser.add_argument("--folder", type=Path, default=CONTRACTS_DIR, help="contracts folder")
    args = parser.parse_args(argv)
    if args.check:
        problems = drift(args.folder)
        if problems:
            print(f"{args.folder}: contracts drifted from the models:", file=sys.stderr)
            for problem in problems:
                print(f"  {problem}", file=sys.stderr)
            print("run `python -m minsheng.contracts` and commit the result", file=sys.stderr)
            return 1
        print(f"{args.folder}: contracts up to date")
        return 0
    changed = write(args.folder)
    for problem in changed:
        print(problem)
    print(f"{args.folder}: {len(changed)} file(s) updated")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
