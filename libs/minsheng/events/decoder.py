"""The event catalogue's fast decoder: msgspec on the hot path, the pydantic models for the
rest, so it takes and rejects exactly what `Registry.parse` does, for the same reasons.

msgspec decodes a structured-mode record (the way our services write them) straight from
its bytes into structs derived from the pydantic models at import, with the same types
and limits (lengths, bounds, patterns, literals, no unknown fields); what the models do in
Python (masking free text, reading instants) runs on the decoded values through the very
functions the models use, and the models are then built from those values without a
second validation. Whatever the fast path does not take (a binary-mode record, a number
where text belongs, a foreign source, anything invalid) goes to `Registry.parse`, which
then decides, with the reasons and details of the dead letters. So the fast path may be
stricter than the models, never looser: libs/minsheng/tests/test_event_decoder.py checks
that both take and reject the same records, with the same values and reasons.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import types
import typing
import uuid
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, TypeAlias, Union

import annotated_types as at
import msgspec
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, WithJsonSchema
from pydantic.fields import FieldInfo

from minsheng.events.binding import CONTENT_TYPE_HEADER, Headers
from minsheng.events.envelope import CloudEvent
from minsheng.events.registry import ParsedEvent, Registry
from minsheng.inputs import NO_NUL, RFC3339, in_range, iso
from minsheng.masking import mask_personal

Post: TypeAlias = Callable[[Any], Any]  # a decoded value -> the model's; raises if it is not one
FAST_ERRORS = (msgspec.ValidationError, msgspec.DecodeError, ValueError, TypeError)
STRUCTURED = b"application/cloudevents+json"
# JSON text holds a NUL only as this escape (a raw control character is not JSON): records
# without it need no check of `inputs.Text`'s pattern, which the structs leave out
NUL_ESCAPE = b"\\u0000"
NUL_TEXT = NUL_ESCAPE.decode()
# AfterValidators that keep a text's length and its NUL characters: the limits checked
# before them hold after them too, as in the models (where some are checked after)
LENGTH_KEEPING: frozenset[Callable[..., Any]] = frozenset({mask_personal})


class Unsupported(TypeError):
    """A model uses something the fast path cannot mirror: its events take the slow path."""


class Decoder:
    """`Registry.parse` with a fast path: the same signature, events and rejections."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        # the envelope's `type` is looked up in the types the fast path knows, which are
        # checked against its pattern here, once, rather than in every record
        pattern, _ = _type_of(CloudEvent.model_fields["type"].annotation, _field_metadata("type"))
        envelope = _Mirror(CloudEvent, raw_data=True, looked_up=frozenset({"type"}))
        self._envelope = envelope.decoder
        self._build_envelope = envelope.build
        self._document: msgspec.json.Decoder[dict[str, Any]] = msgspec.json.Decoder(dict[str, Any])
        self._models: dict[str, _Mirror] = {}
        for model in registry.models:
            try:
                msgspec.convert(model.event_type(), pattern)
                self._models[model.event_type()] = _mirror(model)
            except (Unsupported, msgspec.ValidationError):
                continue  # every event of this type is parsed by the registry
        self.fast_types = frozenset(self._models)

    def parse(
        self, raw: bytes | str | None, headers: Headers = (), *, owner: str | None = None
    ) -> ParsedEvent:
        """As `Registry.parse`; the fast path when it can, the registry when not."""
        if raw is not None and (not headers or _structured(headers)):
            try:
                event = self._fast(raw, owner)
            except FAST_ERRORS:
                event = None
            if event is not None:
                return event
        return self.registry.parse(raw, headers, owner=owner)

    def _fast(self, raw: bytes | str, owner: str | None) -> ParsedEvent | None:
        """The event if every check passes on the fast path, else None (or an error)."""
        if NUL_ESCAPE in raw if isinstance(raw, bytes) else NUL_TEXT in raw:
            return None  # may hold a NUL: the structs leave text without one to this
        decoded: Any = self._envelope.decode(raw)
        if owner is not None and (
            decoded.source != owner
            or decoded.sequence in (None, UNSET)
            or (_CANONICAL_UUID.fullmatch(decoded.id) is None and not _is_uuid(decoded.id))
        ):
            return None
        mirror = self._models.get(decoded.type)
        if mirror is None:
            return None
        raw_data = decoded.data
        data = mirror.build(mirror.decoder.decode(raw_data))
        decoded.data = self._document.decode(raw_data)
        return ParsedEvent(self._build_envelope(decoded), data)


def _structured(headers: Headers) -> bool:
    """Whether the binding reads the record as a whole JSON event with nothing more to
    check in its headers: no `ce_specversion`, no content type or exactly ours."""
    if not headers:
        return True
    named = {name.lower(): raw for name, raw in headers}
    return "ce_specversion" not in named and named.get(CONTENT_TYPE_HEADER) in (None, STRUCTURED)


_CANONICAL_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
)


def _is_uuid(text: str) -> bool:
    """What `uuid.UUID` takes, as the owner check asks (`_fast` takes the canonical form
    without asking it)."""
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


class _Mirror:
    """A model's msgspec struct and `build`, which makes the model's instance of a decoded
    struct as validation would have: the model's steps run on the values, the fields in
    the model's order, the absent ones their defaults and not among the fields set. With
    `raw_data`, a `dict[str, Any]` field `data` is left undecoded (`msgspec.Raw`); the
    text fields `looked_up` are taken as they are (the caller checks them)."""

    def __init__(
        self,
        model: type[BaseModel],
        raw_data: bool = False,
        looked_up: frozenset[str] = frozenset(),
    ) -> None:
        self.model = model
        fields: list[tuple[str, Any, Any]] = []
        steps: list[str] = []  # the lines of `build`, each field's in the model's order
        absent: list[str] = []
        scope: dict[str, Any] = {"asdict": msgspec.structs.asdict, "UNSET": UNSET}
        scope.update(model=model, new=model.__new__, set_=object.__setattr__, copy=copy)
        for i, (name, info) in enumerate(model.model_fields.items()):
            if info.alias not in (None, name) or info.validation_alias is not None:
                raise Unsupported(f"{model.__name__}.{name}: an alias")
            kind: Any
            post: Post | None
            if raw_data and name == "data" and info.annotation == dict[str, Any]:
                kind, post = msgspec.Raw, None
            elif name in looked_up and info.annotation is str and info.is_required():
                kind, post = str, None  # its caller checks it (`Decoder` the envelope's type)
            else:
                kind, post = _type_of(info.annotation, info.metadata)
            optional = not info.is_required()
            if post is not None:
                scope[f"post{i}"] = post
                step = f"state[{name!r}] = post{i}(value)"
                if optional or _takes_none(kind):
                    step = f"if value is not None and value is not UNSET: {step}"
                steps += [f"value = state[{name!r}]", step]
            if not optional:
                fields.append((name, kind, msgspec.NODEFAULT))
                continue
            if info.default_factory is not None:
                raise Unsupported(f"{model.__name__}.{name}: a default factory")
            scope[f"default{i}"] = info.default
            default = (
                f"default{i}"
                if isinstance(info.default, IMMUTABLE)
                else f"copy.deepcopy(default{i})"
            )
            absent += [
                f"if state[{name!r}] is UNSET:",
                f"    state[{name!r}] = {default}",
                f"    given.discard({name!r})",
            ]
            fields.append((name, kind | msgspec.UnsetType, msgspec.UNSET))
        _no_model_validators(model)
        self.struct = msgspec.defstruct(
            f"{model.__name__}Struct", fields, forbid_unknown_fields=True, kw_only=True
        )
        self.decoder: msgspec.json.Decoder[Any] = msgspec.json.Decoder(self.struct)
        lines = [
            "def build(decoded):",
            "    state = asdict(decoded)",  # in the struct's order, the model's
            *(f"    {line}" for line in steps),
            "    given = set(state)",
            *(f"    {line}" for line in absent),
            "    instance = new(model)",
            "    set_(instance, '__dict__', state)",
            "    set_(instance, '__pydantic_fields_set__', given)",
            "    set_(instance, '__pydantic_extra__', None)",
            "    set_(instance, '__pydantic_private__', None)",
            "    return instance",
        ]
        # one function of straight lines per model, as dataclasses make their __init__:
        # the per-field loop and its tests would cost as much as the steps themselves
        exec("\n".join(lines), scope)  # our own lines, of field names
        self.build: Callable[[Any], Any] = scope["build"]


def _field_metadata(name: str) -> list[Any]:
    return list(CloudEvent.model_fields[name].metadata)


def _takes_none(kind: Any) -> bool:
    return type(None) in typing.get_args(kind)


UNSET = msgspec.UNSET
IMMUTABLE = (type(None), str, int, float, bool, tuple, frozenset)  # defaults shared as they are
_MIRRORS: dict[tuple[type[BaseModel], bool], _Mirror] = {}


def _mirror(model: type[BaseModel], raw_data: bool = False) -> _Mirror:
    if (model, raw_data) not in _MIRRORS:
        _MIRRORS[model, raw_data] = _Mirror(model, raw_data)
    return _MIRRORS[model, raw_data]


def _no_model_validators(model: type[BaseModel]) -> None:
    """Model-level validators would see what the fast path does not run."""
    decorators = model.__pydantic_decorators__
    if decorators.model_validators or decorators.field_validators or decorators.validators:
        raise Unsupported(f"{model.__name__}: validators of its own")
    config = model.model_config
    if (
        config.get("extra") != "forbid"
        or config.get("strict")
        or config.get("str_strip_whitespace")
    ):
        raise Unsupported(f"{model.__name__}: a config the fast path does not mirror")


def _type_of(annotation: Any, metadata: Iterable[Any] = ()) -> tuple[Any, Post | None]:
    """The msgspec type that takes no more than the pydantic type with this metadata
    does, and the step that turns its decoded value into the model's."""
    annotation, metadata = _flatten(annotation, list(metadata))
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        members = typing.get_args(annotation)
        others = [m for m in members if m is not type(None)]
        if len(others) != 1 or len(members) != 2:
            raise Unsupported(f"a union {annotation}")
        kind, post = _type_of(others[0], metadata)  # the field's limits are the value's
        return kind | None, post
    if annotation is AwareDatetime:
        return _instant(metadata)
    if origin is Literal:
        _only(metadata, ())
        if not all(type(arg) is str for arg in typing.get_args(annotation)):
            raise Unsupported(f"a literal of other than text {annotation}")
        return annotation, None
    if annotation is str:
        return _text(metadata)
    if annotation in (int, float):
        return _number(annotation, metadata)
    if annotation in (bool, dt.date, uuid.UUID):
        _only(metadata, ())
        return annotation, None
    if origin is tuple:
        item, ellipsis = typing.get_args(annotation)
        if ellipsis is not Ellipsis:
            raise Unsupported(f"a fixed tuple {annotation}")
        _only(metadata, ())
        kind, post = _type_of(item)
        return tuple[kind, ...], None if post is None else _each(post)  # type: ignore[valid-type]
    if origin is dict:
        key, value = typing.get_args(annotation)
        _only(metadata, ())
        if value is Any and key is str:
            return dict[str, Any], None
        key_kind, key_post = _type_of(key)
        value_kind, value_post = _type_of(value)
        if key_post is not None or value_post is not None:
            raise Unsupported(f"a dict whose keys or values need a step {annotation}")
        return dict[key_kind, value_kind], None  # type: ignore[valid-type]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        _only(metadata, ())
        nested = _mirror(annotation)
        return nested.struct, nested.build
    raise Unsupported(f"the type {annotation}")


def _flatten(annotation: Any, metadata: list[Any]) -> tuple[Any, list[Any]]:
    """`Annotated[T, ...]` and `FieldInfo`s in the metadata as T and one flat list."""
    while typing.get_origin(annotation) is Annotated:
        annotation, *extra = typing.get_args(annotation)
        metadata = [*extra, *metadata]
    flat: list[Any] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            flat.extend(item.metadata)
        elif not isinstance(item, WithJsonSchema):  # what the schema says, not a check
            flat.append(item)
    return annotation, flat


def _only(metadata: list[Any], allowed: tuple[type, ...]) -> None:
    for item in metadata:
        if not isinstance(item, allowed):
            raise Unsupported(f"the constraint {item!r}")


def _text(metadata: list[Any]) -> tuple[Any, Post | None]:
    """Text with its limits; msgspec's pattern search with a match to the very end, as
    pydantic's (Rust) regex has it (Python's `$` also matches before a final newline)."""
    meta: dict[str, Any] = {}
    post: Post | None = None
    patterns: list[str] = []
    for item in metadata:
        if isinstance(item, at.MinLen):
            meta["min_length"] = max(meta.get("min_length", 0), item.min_length)
        elif isinstance(item, at.MaxLen):
            meta["max_length"] = min(meta.get("max_length", item.max_length), item.max_length)
        elif isinstance(item, AfterValidator) and item.func in LENGTH_KEEPING and post is None:
            post = typing.cast(Post, item.func)
        elif _pattern(item) == NO_NUL:
            continue  # `Decoder._fast` takes only records that cannot hold a NUL
        elif (pattern := _pattern(item)) is not None:
            if post is not None:
                raise Unsupported("a pattern checked on the masked text")
            patterns.append(pattern)
        else:
            raise Unsupported(f"the text constraint {item!r}")
    if patterns:  # all of them, each to the end of the text; searched from its start
        *first, last = patterns
        meta["pattern"] = "".join(rf"(?=(?:{p})\Z)" for p in first) + rf"(?:{last})\Z"
    return (Annotated[str, msgspec.Meta(**meta)] if meta else str), post


def _pattern(item: Any) -> str | None:
    """The pattern of pydantic's general metadata (`Field(pattern=...)`), if it has one."""
    pattern = getattr(item, "pattern", None)
    others = {k: v for k, v in getattr(item, "__dict__", {}).items() if k != "pattern"}
    if not isinstance(pattern, str) or any(v is not None for v in others.values()):
        return None
    return pattern


def _number(kind: type, metadata: list[Any]) -> tuple[Any, Post | None]:
    bounds: dict[str, Any] = {}
    for item in metadata:
        if isinstance(item, at.Ge):
            bounds["ge"] = max(bounds.get("ge", item.ge), item.ge)
        elif isinstance(item, at.Le):
            bounds["le"] = min(bounds.get("le", item.le), item.le)
        elif isinstance(item, at.Gt):
            bounds["gt"] = max(bounds.get("gt", item.gt), item.gt)
        else:
            raise Unsupported(f"the number constraint {item!r}")
    return (Annotated[kind, msgspec.Meta(**bounds)] if bounds else kind), None


def _instant(metadata: list[Any]) -> tuple[Any, Post | None]:
    """`inputs.Instant`: its text read by the model's own steps, on the decoded text."""
    steps = [(type(item), getattr(item, "func", None)) for item in metadata]
    if steps != [(BeforeValidator, iso), (AfterValidator, in_range)]:
        raise Unsupported(f"an instant other than inputs.Instant: {metadata}")
    return str, _read_instant


def _read_instant(text: str) -> dt.datetime:
    """`iso`'s steps for text, then `AwareDatetime`'s and `in_range`'s checks (a ValueError
    if one fails): as the model reads an instant, but with fewer calls."""
    if RFC3339.fullmatch(text) is None:
        raise ValueError("not an instant")
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:  # else a fixed offset (`datetime.timezone`)
        raise ValueError("not an aware instant")
    return moment if 1 < moment.year < 9999 else in_range(moment)  # a day off is in range


def _each(post: Post) -> Post:
    return lambda items: tuple(post(item) for item in items)


__all__ = ["Decoder", "Unsupported"]
