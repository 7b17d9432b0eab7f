"""Receiving an appeal, as pure rules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from appeals import receiving

NOW = datetime(2019, 10, 8, 9, 30, tzinfo=UTC)


def command(**change: str | None) -> receiving.ReceiveAppeal:
    fields: dict[str, str | None] = {
        "title": "下水道堵塞",
        "description": "",
        "category": "help",
        "district": "洮北区",
        "street": "明仁街道",
        "community": "兴业社区",
        "grid": None,
        "channel": "hotline",
        "phone": "138-1234-5678",
        "contact_name": "王女士",
    }
    fields.update(change)
    return receiving.ReceiveAppeal(**fields)  # type: ignore[arg-type]


def test_receive_numbers_the_appeal_and_emits_only_masked_contact_data() -> None:
    appeal, event = receiving.receive(command(), serial=42, now=NOW)
    assert appeal.id == "BC20191008000042"
    assert appeal.status == "received"
    assert appeal.sequence == 1
    assert event.appeal_id == appeal.id
    assert event.phone_masked == "138****5678"
    assert event.contact_ref == appeal.contact_ref
    assert "1234" not in event.model_dump_json()


@pytest.mark.parametrize(
    ("street", "community"),
    [("不存在街道", None), ("明仁街道", "百福社区"), (None, "明仁社区")],
)
def test_unknown_or_mismatched_places_are_refused(
    street: str | None, community: str | None
) -> None:
    with pytest.raises(receiving.UnknownPlace):
        receiving.receive(command(street=street, community=community), serial=1, now=NOW)


def test_contact_ref_is_stable_and_opaque() -> None:
    ref = receiving.contact_ref("BC1", "13812345678")
    assert ref == receiving.contact_ref("BC1", "13812345678")
    assert ref != receiving.contact_ref("BC2", "13812345678")
    assert "5678" not in ref


def test_phone_numbers_typed_into_the_text_are_masked_in_the_event() -> None:
    cmd = command(title="请回电13812345678", description="或拨 13987654321 找王女士")
    appeal, event = receiving.receive(cmd, serial=1, now=NOW)
    assert event.title == "请回电138****5678"
    assert event.description == "或拨 139****4321 找王女士"
    assert appeal.command == cmd, "the appeal keeps the text as typed"


def test_a_grid_of_its_community_is_kept_in_the_event() -> None:
    cmd = command(street="明仁街道", community="明仁社区", grid="明仁社区第3网格")
    appeal, event = receiving.receive(cmd, serial=1, now=NOW)
    assert event.grid == "明仁社区第3网格"
    assert appeal.command.grid == "明仁社区第3网格"


@pytest.mark.parametrize(
    ("community", "grid", "says"),
    [
        ("明仁社区", "明仁社区第4网格", "the community's grids: 明仁社区第1网格"),  # no such grid
        ("兴业社区", "明仁社区第1网格", "the community's grids: none"),  # another's grid
        (None, "明仁社区第1网格", "named with its street and community"),
    ],
)
def test_a_grid_only_under_its_community(community: str | None, grid: str, says: str) -> None:
    cmd = command(street="明仁街道", community=community, grid=grid)
    with pytest.raises(receiving.UnknownPlace, match=says):
        receiving.receive(cmd, serial=1, now=NOW)
