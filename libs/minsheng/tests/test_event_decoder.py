"""The fast decoder takes and rejects exactly what the catalogue's pydantic models do: the
same events (the same values, the same fields given), the same reasons and details."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from pydantic import AfterValidator, Field

from minsheng.events import CATALOGUE, EventData, InvalidEvent, ParsedEvent, ProjectClaimed
from minsheng.events.decoder import FAST_ERRORS, Decoder, Unsupported, _type_of
from minsheng.topics import APPEALS, OWNERS, PROJECTS
from testkit.unit.events import SAMPLES, domain_event, home_topic
from testkit.unit.workload import workload

DECODER = Decoder(CATALOGUE)
CHECKED = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Outcome = tuple[Any, ...]


def outcome(parse: Callable[[], ParsedEvent]) -> tuple[Outcome, ParsedEvent | None]:
    """What a parse comes to, in every detail a consumer sees, and the event if taken."""
    try:
        event = parse()
    except InvalidEvent as error:
        return ("rejected", error.reason, error.detail), None
    parts: list[Any] = ["taken"]
    for model in (event.envelope, event.data):
        parts += [
            type(model).__name__,
            repr(model),  # the values and their types (a datetime's zone too)
            model.model_dump_json(),
            sorted(model.model_fields_set),
        ]
    return tuple(parts), event


Headers = list[tuple[str, bytes | None]]


def same(raw: bytes | str | None, headers: Headers, owner: str | None) -> str:
    """Parses with both; they agree in every detail. Returns "taken" or "rejected"."""
    slow, slow_event = outcome(lambda: CATALOGUE.parse(raw, headers, owner=owner))
    fast, fast_event = outcome(lambda: DECODER.parse(raw, headers, owner=owner))
    assert fast == slow
    assert fast_event == slow_event  # as pydantic compares them
    if slow[0] != "taken":
        return str(slow[1])
    return "taken" if _fast_takes(raw, headers, owner) else "taken by the models"


def _fast_takes(raw: bytes | str | None, headers: Headers, owner: str | None) -> bool:
    """Whether the fast path took the record (else the models decided it)."""
    if raw is None or headers:
        return False
    try:
        return DECODER._fast(raw, owner) is not None
    except FAST_ERRORS:
        return False


# What a field may be sent as: right, wrong, at and past the limits, and the unusual
TEXTS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(
        [
            "",
            "a",
            "\x00",
            "a\x00b",
            "minsheng.AppealReceived.v1",
            "minsheng.AppealReceived.v1\n",
            "minsheng.Unknown.v1",
            "138****5678",
            "138****5678\n",
            "13912345678",
            "电话 8765432，身份证 220802199001011234",
            "6222021234567890123",
            "unit:transport",
            "unit:transport\n",
            "oncall:\x1cprimary",
            "sms",
            "SMS",
            "2019-03",
            "2019-13",
            "2019-03\n",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n",
            "7d1c2a4e-5b6f-4a8b-9c0d-e1f2a3b4c5d6",
            "{7d1c2a4e-5b6f-4a8b-9c0d-e1f2a3b4c5d6}",
            "7d1c2a4e5b6f4a8b9c0de1f2a3b4c5d6",
            "urn:uuid:7d1c2a4e-5b6f-4a8b-9c0d-e1f2a3b4c5d6",
            "minsheng/appeals",
            "application/json",
            "1.0",
            "hotline",
            "callback",
            "complaint",
            "true",
            "3",
        ]
    ),
    st.builds(
        lambda n, c: c * n,
        st.sampled_from([199, 200, 201, 1999, 2000, 2001, 5000, 5001]),
        st.sampled_from(["a", "字", "1"]),
    ),
)
INSTANTS = st.builds(
    lambda year, sep, frac, offset: f"{year}-12-03{sep}09:08:22{frac}{offset}",
    st.sampled_from(["2026", "0001", "0000", "9999", "1970"]),
    st.sampled_from(["T", "t", " ", "_"]),
    st.sampled_from(["", ".5", ".972968", ".9999995", ".1234567", "."]),
    st.sampled_from(
        ["Z", "z", "+00:00", "-00:00", "+08:00", "+0800", "+23:59", "+24:00", "", "-16:00"]
    ),
) | st.sampled_from(
    [
        "2026-12-31T23:59:60Z",
        "2026-02-30T00:00:00Z",
        "20261203T090822Z",
        "9999-12-31T15:59:59.999999Z",
        "0001-01-01T00:00:00Z",
        "2026-12-03",
    ]
)
DATES = st.sampled_from(
    [
        "2019-03-15",
        "2019-02-30",
        "2019-3-15",
        "20190315",
        "2019-03-15T00:00:00",
        "0000-01-01",
        "9999-12-31",
    ]
)
NUMBERS = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from(
        [
            0,
            1,
            -1,
            100,
            101,
            1999,
            2000,
            2100,
            2101,
            1_000_000,
            1_000_001,
            2**31 - 1,
            2**31,
            2**63,
            2**64,
        ]
    ),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 1.0, 2.5, -0.0, 1e300]),
    st.booleans(),
)
SCALARS = st.one_of(st.none(), TEXTS, INSTANTS, DATES, NUMBERS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXTS, inner, max_size=3),
    max_leaves=6,
)
DROP = object()


def field_values(sample: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Changes to some of the fields (or new ones): other values, or the field dropped."""
    names = st.sampled_from([*sample, "unknown_field"])
    return st.dictionaries(names, VALUES | st.just(DROP), max_size=3)


def changed(doc: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(doc)
    for name, value in changes.items():
        if value is DROP:
            out.pop(name, None)
        else:
            out[name] = value
    return out


def document(model: type[EventData], sequence: int = 1) -> dict[str, Any]:
    """The sample of `model` as its owner writes it on its domain topic."""
    doc: dict[str, Any] = json.loads(domain_event(SAMPLES[model], sequence=sequence).to_json())
    return doc


RARELY = st.integers(0, 9).map(lambda n: n == 9)  # one time in ten, or so
BY_TYPE: list[type[EventData]] = sorted(SAMPLES, key=lambda m: m.event_type())
MODELS = st.sampled_from(BY_TYPE)


@st.composite
def records(draw: st.DrawFn) -> tuple[bytes | str | None, Headers, str | None]:
    """A record of some domain topic: a sample changed in its envelope and its data, as
    JSON of either kind, perhaps cut or with headers, read as that topic's owner's."""
    model = draw(MODELS)
    doc = document(model)
    doc["data"] = changed(doc["data"], draw(field_values(doc["data"])))
    if draw(st.booleans()):
        doc = changed(doc, draw(field_values(doc)))
    if draw(RARELY):
        doc["type"] = draw(MODELS).event_type()  # the data of another type
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()))
    raw: bytes | str | None
    try:
        raw = text.encode() if draw(st.booleans()) else text
    except UnicodeEncodeError:  # a lone surrogate: as text, or escaped
        raw = json.dumps(doc).encode()
    if isinstance(raw, bytes) and draw(RARELY):
        cut = draw(st.integers(0, len(raw)))
        raw = raw[:cut] + draw(st.binary(max_size=3)) + raw[cut + 1 :]
    if draw(RARELY) and draw(RARELY):
        raw = None
    headers: Headers = draw(
        st.sampled_from(
            [
                [],
                [],
                [],
                [],
                [("content-type", b"application/cloudevents+json")],
                [("Content-Type", b"application/cloudevents+json; charset=utf-8")],
                [("content-type", b"application/cloudevents+xml")],
                [("content-type", None)],
                [("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")],
                [("ce_specversion", b"1.0"), ("ce_type", model.event_type().encode())],
            ]
        )
    )
    topic = home_topic(SAMPLES[model].model_dump())
    owner = draw(st.sampled_from([OWNERS[topic], OWNERS[APPEALS], None]))
    return raw, headers, owner


@settings(CHECKED, max_examples=1000)
@given(records())
@example((b'{"a": 1}', [], None))
@example((b"[]", [], None))
@example((b"", [], None))
@example(("\ufeff{}", [], None))
def test_the_decoder_takes_and_rejects_what_the_models_do(
    record: tuple[bytes | str | None, Headers, str | None],
) -> None:
    event(same(*record))


@CHECKED
@given(MODELS, st.sampled_from(["data", "envelope"]), st.data())
def test_one_field_changed_anywhere_is_judged_alike(
    model: type[EventData], where: str, data: st.DataObject
) -> None:
    """Each field of each type in turn, against values of every kind."""
    doc = document(model)
    target = doc["data"] if where == "data" else doc
    name = data.draw(st.sampled_from(sorted(target)))
    value = data.draw(VALUES | INSTANTS | st.just(DROP))
    if value is DROP:
        del target[name]
    else:
        target[name] = value
    topic = home_topic(SAMPLES[model].model_dump())
    event(same(json.dumps(doc).encode(), [], OWNERS[topic]))


@pytest.mark.parametrize("model", BY_TYPE, ids=lambda m: m.__name__)
def test_every_sample_takes_the_fast_path_with_the_models_values(model: type[EventData]) -> None:
    """Else the equivalence above would hold by never taking the fast path."""
    raw = json.dumps(document(model, sequence=7)).encode()
    owner = OWNERS[home_topic(SAMPLES[model].model_dump())]
    assert DECODER._fast(raw, owner) is not None
    assert same(raw, [], owner) == "taken"


def test_the_workload_takes_the_fast_path() -> None:
    """The benchmark's and the demo's events, as the services write them."""
    events = workload(11, 20, 10, datetime(2026, 12, 3, 9, tzinfo=UTC), 10).events
    assert len(events) > 100
    for cloud_event in events:
        owner, raw = cloud_event.source, cloud_event.to_json()
        assert owner in OWNERS.values()
        assert DECODER._fast(raw, owner) is not None
        assert same(raw, [], owner) == "taken"


def test_every_catalogue_type_has_a_fast_path() -> None:
    assert DECODER.fast_types == {model.event_type() for model in CATALOGUE.models}


def test_what_the_structs_cannot_mirror_is_refused() -> None:
    """A type the fast path does not know goes to the models, not through unchecked."""
    with pytest.raises(Unsupported):
        _type_of(Annotated[str, AfterValidator(str.upper)])
    with pytest.raises(Unsupported):
        _type_of(Annotated[str, Field(multiple_of=2)])
    with pytest.raises(Unsupported):
        _type_of(int | str)
    with pytest.raises(Unsupported):
        _type_of(set[int])


def test_a_nul_anywhere_takes_the_models_path() -> None:
    doc = document(next(iter(SAMPLES)))
    doc["data"]["title"] = "a\x00b"
    raw = json.dumps(doc).encode()
    assert DECODER._fast(raw, None) is None
    assert same(raw, [], None) == "schema_violation"


def test_ids_other_than_canonical_uuids_are_judged_by_uuid() -> None:
    model = next(iter(SAMPLES))
    owner = OWNERS[home_topic(SAMPLES[model].model_dump())]
    for event_id in (
        str(uuid.uuid4()).upper(),
        uuid.uuid4().hex,
        "not-a-uuid",
        "{" + str(uuid.uuid4()) + "}",
    ):
        doc = document(model)
        doc["id"] = event_id
        same(json.dumps(doc).encode(), [], owner)


@CHECKED
@given(st.sampled_from(["milestone_id", "title", "due", "weight", "unknown"]), st.data())
def test_a_nested_model_is_judged_alike(name: str, data: st.DataObject) -> None:
    """A project's milestones: a model inside a tuple inside the payload."""
    doc = document(ProjectClaimed)
    value = data.draw(VALUES | st.floats() | st.just(DROP))
    milestone = doc["data"]["milestones"][data.draw(st.integers(0, 1))]
    if value is DROP:
        milestone.pop(name, None)
    else:
        milestone[name] = value
    event(same(json.dumps(doc).encode(), [], OWNERS[PROJECTS]))
