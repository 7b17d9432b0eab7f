"""Every free-text field of every event is masked, by its type.

The text fields are found from the catalogue (every model, and the models nested in
them), not listed by hand: each must mask a typed number, refuse it (a pattern), or be
named below as an id or label, with why. A new text field that does none of these fails.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator
from typing import Any, Union, get_args, get_origin

import pytest
from pydantic import BaseModel

from minsheng.events import ALL_EVENTS, CATALOGUE, AppealResolved, EventData, new_event
from testkit.unit.events import SOURCE, document_with, encode, sample, subject_of

NUMBERS = "请回电+86 139-1234-5678或0436-1234567，身份证22080219900101123X"
FULL = ("139-1234-5678", "1234567", "22080219900101123X")

# Text that is not free text: the ids and labels consumers key, join and count by. They
# come from our rules or reference lists (places, units, categories), not from a person.
IDS_AND_LABELS = {
    "appeal_id": "the appeal number, BC…; the subject",
    "project_id": "the project id; the subject",
    "subject_id": "the appeal or project id rated",
    "milestone_id": "a milestone's id within its project",
    "notification_id": "the notification id; the subject",
    "contact_ref": "an opaque hash, c_…",
    "category": "a category code of the reference list",
    "district": "a division of the reference list",
    "street": "a street office of the reference list",
    "community": "a community of the reference list",
    "grid": "a grid of the reference list (grids.yaml)",
    "unit": "a handling unit of the reference list",
    "assisting_units": "handling units of the reference list",
    "rule": "the name of a notification rule",
    "list_item_id": "the list item id, QD-…; the subject",
    "matched_item_id": "the counterpart list item's id",
    "pairing_id": "the work-day pairing id of the reference list; the subject",
    "appeal_ids": "appeal numbers, BC…",
}
# Text whose pattern refuses a number outright
REFUSED = {
    "phone_masked": "only 138****5678",
    "recipient": "a masked phone or kind:ref with no run of 11 digits",
    "channel": "a channel name, [a-z_]",
    "month": "a month, YYYY-MM",
}


def _holds(annotation: Any, kind: type) -> bool:
    """Whether `kind` is the annotation or one of its arguments, however nested."""
    if annotation is kind:
        return True
    return any(_holds(arg, kind) for arg in get_args(annotation))


def _nested(annotation: Any) -> list[type[BaseModel]]:
    found = [a for a in get_args(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]
    return found + [m for a in get_args(annotation) for m in _nested(a)]


def _is_sequence(annotation: Any) -> bool:
    if get_origin(annotation) in (Union, types.UnionType):
        return any(_is_sequence(a) for a in get_args(annotation))
    return get_origin(annotation) in (tuple, list)


def text_fields() -> Iterator[tuple[type[EventData], tuple[str, ...], Any]]:
    """(model, path to the field, its annotation) of every field holding text, in every
    catalogue model and one level of the models nested in them."""
    for model in ALL_EVENTS:
        for name, field in model.model_fields.items():
            if _holds(field.annotation, str):
                yield model, (name,), field.annotation
            for inner in _nested(field.annotation):
                for inner_name, inner_field in inner.model_fields.items():
                    if _holds(inner_field.annotation, str):
                        yield model, (name, inner_name), inner_field.annotation


FIELDS = list(text_fields())


def _with_numbers(model: type[EventData], path: tuple[str, ...], annotation: Any) -> Any:
    """The sample event as JSON with the numbers typed into the field at `path`."""
    typed: Any = [NUMBERS] if _is_sequence(annotation) else NUMBERS
    data = sample(model).model_dump(mode="json")
    if len(path) == 1:
        return document_with(model, data={path[0]: typed})
    outer, inner = path
    items = [{**data[outer][0], inner: typed}, *data[outer][1:]]
    return document_with(model, data={outer: items})


@pytest.mark.parametrize(
    ("model", "path", "annotation"),
    FIELDS,
    ids=[f"{m.event_name}.{'.'.join(p)}" for m, p, _ in FIELDS],
)
def test_a_number_typed_into_any_text_field_never_leaves_unmasked(
    model: type[EventData], path: tuple[str, ...], annotation: Any
) -> None:
    name = path[-1]
    raw = encode(_with_numbers(model, path, annotation))
    if name in REFUSED:
        with pytest.raises(Exception, match=name):
            CATALOGUE.parse(raw)
        return
    parsed = CATALOGUE.parse(raw)  # as a consumer reads it, from Kafka or intake
    out = new_event(parsed.data, subject=subject_of(parsed.data), sequence=1, source=SOURCE)
    published = out.to_json().decode()  # as the outbox would publish it again
    if name in IDS_AND_LABELS:
        assert FULL[0] in json.dumps(parsed.data.model_dump(mode="json")), "kept as it is"
        return
    for number in FULL:
        assert number not in published, f"{model.event_name}.{'.'.join(path)}"
    assert "139-****-5678" in published


def test_the_lists_name_only_fields_that_exist() -> None:
    names = {path[-1] for _, path, _ in FIELDS}
    assert set(IDS_AND_LABELS) | set(REFUSED) <= names
    assert not set(IDS_AND_LABELS) & set(REFUSED)


def test_models_built_by_our_rules_are_masked_too() -> None:
    """Built in code (a service's rules), not parsed: the same types mask."""
    data = sample(AppealResolved).model_dump()
    resolved = AppealResolved(**{**data, "resolution": NUMBERS})
    assert resolved.resolution == "请回电+86 139-****-5678或0436-*****67，身份证2208**********123X"
    assert resolved.appeal_id == data["appeal_id"] == "BC20191008000001"
