"""Compose files read as Docker Compose reads them, without Docker: the YAML with the
merge tags (`!reset`, `!override`), files given with several `-f` merged by the Compose
Specification's merge rules, and the schema check of the result.

Only what the repository's compose files use is implemented; a form the merge does not
know fails loudly rather than merging wrongly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from importlib.metadata import distribution
from pathlib import Path
from typing import Any

import yaml
from jsonschema.validators import validator_for

# Where each service listens, in and out of its container (docs/contract.md, "HTTP").
PORTS = {"appeals": 8001, "projects": 8002, "notifications": 8003, "analytics": 8004}
# Sequences a later file replaces rather than extends (shell commands).
REPLACED = {"command", "entrypoint", "test"}
# Sequences of unique resources: a later entry replaces the earlier one of the same key.
VOLUME_LISTS = {"volumes"}
# Sequences Compose reads as mappings ("KEY=value", or service names).
MAPPINGS = {"environment", "labels", "depends_on"}


@dataclass(frozen=True)
class Reset:
    """`!reset`: the key is removed from what earlier files said."""


@dataclass(frozen=True)
class Override:
    """`!override value`: the value replaces what earlier files said, unmerged."""

    value: Any


class ComposeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that also reads the Compose Specification's merge tags."""


def _reset(loader: yaml.SafeLoader, node: yaml.Node) -> Reset:
    return Reset()


def _override(loader: yaml.SafeLoader, node: yaml.Node) -> Override:
    if isinstance(node, yaml.SequenceNode):
        return Override(loader.construct_sequence(node, deep=True))
    if isinstance(node, yaml.MappingNode):
        return Override(loader.construct_mapping(node, deep=True))
    return Override(loader.construct_scalar(node))  # type: ignore[arg-type]


ComposeLoader.add_constructor("!reset", _reset)
ComposeLoader.add_constructor("!override", _override)


def load(path: Path) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.load(path.read_text(encoding="utf-8"), Loader=ComposeLoader)
    return doc


def merged(*paths: Path) -> dict[str, Any]:
    """What `docker compose -f first -f second ...` runs, as one document."""
    result: dict[str, Any] = {}
    for path in paths:
        result = _merge_mapping(result, load(path), ())
    return result


def _merge_mapping(base: dict[str, Any], over: dict[str, Any], at: tuple[str, ...]) -> Any:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Reset):
            out.pop(key, None)
        elif isinstance(value, Override):
            out[key] = value.value
        elif key in out:
            out[key] = _merge(out[key], value, (*at, key))
        else:
            out[key] = _plain(value, (*at, key))
    return out


def _merge(base: Any, over: Any, at: tuple[str, ...]) -> Any:
    key = at[-1]
    if _is_service_key(at) and key in MAPPINGS:
        return _merge_mapping(_as_mapping(base, key), _as_mapping(over, key), at)
    if isinstance(base, dict) and isinstance(over, dict):
        return _merge_mapping(base, over, at)
    if isinstance(base, list) and isinstance(over, list):
        if key in REPLACED:
            return over
        if _is_service_key(at) and key in VOLUME_LISTS:
            by_target = {_volume_target(v): v for v in base}
            by_target.update({_volume_target(v): v for v in over})
            return list(by_target.values())
        if key in {"ports", "configs", "secrets", "networks", "tmpfs"}:
            return base + [v for v in over if v not in base]
        raise NotImplementedError(f"no merge rule here for the sequence {'.'.join(at)}")
    return over


def _plain(value: Any, at: tuple[str, ...]) -> Any:
    """A value no earlier file had: the tags inside it resolved against nothing."""
    if isinstance(value, dict):
        return _merge_mapping({}, value, at)
    return value


def _is_service_key(at: tuple[str, ...]) -> bool:
    return len(at) == 3 and at[0] == "services"


def _as_mapping(value: Any, key: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    if key == "depends_on":
        return {name: {"condition": "service_started"} for name in value}
    return dict(entry.split("=", 1) for entry in value)


def _volume_target(volume: Any) -> str:
    if isinstance(volume, dict):
        return str(volume["target"])
    return str(volume).split(":")[1]


def specification_errors(doc: dict[str, Any]) -> list[str]:
    """Where `doc` breaks the Compose Specification schema vendored in check-jsonschema."""
    # Located through the distribution's metadata, not imported: importing
    # check_jsonschema loads its CLI, which is broken with the locked click.
    vendored = "check_jsonschema/builtin_schemas/vendor/compose-spec.json"
    schema = json.loads(
        Path(str(distribution("check-jsonschema").locate_file(vendored))).read_text()
    )
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator_class(schema).iter_errors(doc)
    ]


def app_services(services: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The services built from this repository's Dockerfile."""

    def context(build: Any) -> Any:
        return build.get("context") if isinstance(build, dict) else build

    return {name: s for name, s in services.items() if context(s.get("build")) == "."}


def volume_sources(service: dict[str, Any]) -> list[str]:
    """Named volumes by name, bind mounts by host path (short or long syntax)."""
    return [
        v["source"] if isinstance(v, dict) else v.split(":")[0] for v in service.get("volumes", ())
    ]


def is_bind(source: str) -> bool:
    return source.startswith((".", "/"))


def promtool_check_config(config: Path) -> subprocess.CompletedProcess[str]:
    """`promtool check config` of a Prometheus file, from its folder (its rule files are
    relative to it): Debian's promtool, which `make test` installs."""
    promtool = shutil.which("promtool")
    assert promtool, "promtool missing: `make test` installs Debian's prometheus package"
    return subprocess.run(
        [promtool, "check", "config", config.name],
        cwd=config.parent,
        capture_output=True,
        text=True,
        check=False,
    )
