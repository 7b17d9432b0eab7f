"""The four lists' rules, pure: what may be matched with what, and an item's life."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from minsheng.aggregate import CommandRejected, IllegalTransition
from minsheng.clock import CITY_TZ
from minsheng.events import ListItemMatched, ListItemPosted, SatisfactionRecorded
from projects import lists
from projects.lists import COUNTERPART, ItemState

NOW = datetime(2019, 6, 1, 9, 0, tzinfo=CITY_TZ)
DUE = date(2019, 9, 30)


def posted(n: int, kind: str, community: str = "光华社区", year: int = 2019) -> ItemState:
    state, emitted = lists.post(
        ListItemPosted(
            list_item_id=f"QD-{n}",
            district="洮南市",
            community=community,
            year=year,
            kind=kind,
            source="forum",
            title=f"事项{n}",
        )
    )
    assert [e.sequence for e in emitted] == [1]
    return state


def matched(a: ItemState, b: ItemState) -> tuple[ItemState, ItemState]:
    (first, _), (second, _) = lists.match(a, b, claimed_by="市住建局", due=DUE, now=NOW)
    return first, second


@pytest.mark.parametrize(("kind", "other"), sorted(COUNTERPART.items()))
def test_a_need_goes_with_a_resource_and_a_project_with_a_responsibility(
    kind: str, other: str
) -> None:
    (a, ea), (b, eb) = lists.match(
        posted(1, kind), posted(2, other), claimed_by="市住建局", due=DUE, now=NOW
    )
    assert (a.status, a.matched_item_id, b.status, b.matched_item_id) == (
        "matched",
        "QD-2",
        "matched",
        "QD-1",
    )
    for event, me, them in ((ea[0], "QD-1", "QD-2"), (eb[0], "QD-2", "QD-1")):
        assert isinstance(event.data, ListItemMatched)
        assert (event.sequence, event.data.list_item_id, event.data.matched_item_id) == (
            2,
            me,
            them,
        )
        assert (event.data.claimed_by, event.data.due) == ("市住建局", DUE)


@pytest.mark.parametrize(
    ("a", "b", "why"),
    [
        (posted(1, "need"), posted(2, "project"), "a need is matched with a resource"),
        (posted(1, "need"), posted(2, "need"), "not a need"),
        (posted(1, "project"), posted(2, "resource"), "with a responsibility"),
        (posted(1, "need"), posted(2, "resource", community="百福社区"), "same community"),
        (posted(1, "need"), posted(2, "resource", year=2020), "same year"),
        (posted(1, "need"), posted(1, "need"), "itself"),
    ],
)
def test_what_may_not_be_matched_is_refused_with_the_rule(
    a: ItemState, b: ItemState, why: str
) -> None:
    with pytest.raises(CommandRejected, match=why):
        lists.match(a, b, claimed_by="市住建局", due=DUE, now=NOW)


def test_a_matched_item_is_not_matched_again_nor_withdrawn() -> None:
    need, _resource = matched(posted(1, "need"), posted(2, "resource"))
    with pytest.raises(IllegalTransition, match="allowed: complete"):
        lists.match(need, posted(3, "resource"), claimed_by="x", due=DUE, now=NOW)
    with pytest.raises(IllegalTransition):
        lists.withdraw(need, reason="不再需要", now=NOW)


def test_a_due_day_before_the_lists_year_and_a_blank_claimant_are_refused() -> None:
    with pytest.raises(CommandRejected, match="before the lists' year"):
        lists.match(
            posted(1, "need"),
            posted(2, "resource"),
            claimed_by="x",
            due=date(2018, 12, 31),
            now=NOW,
        )
    with pytest.raises(CommandRejected, match="claimed_by"):
        lists.match(posted(1, "need"), posted(2, "resource"), claimed_by=" ", due=DUE, now=NOW)


def test_completion_is_on_time_by_the_due_day_and_then_residents_rate_it() -> None:
    need, _ = matched(posted(1, "need"), posted(2, "resource"))
    with pytest.raises(IllegalTransition):
        lists.evaluate(need, rating="satisfied", now=NOW)
    with pytest.raises(CommandRejected, match="future"):
        lists.complete(need, now=NOW, completed_on=date(2019, 6, 2))
    done, _ = lists.complete(need, now=NOW)
    assert (done.status, done.on_time) == ("completed", True)
    late, _ = lists.complete(need, now=datetime(2019, 10, 2, tzinfo=CITY_TZ))
    assert late.on_time is False
    rated, emitted = lists.evaluate(done, rating="dissatisfied", reason="other", now=NOW)
    data = emitted[0].data
    assert isinstance(data, SatisfactionRecorded)
    assert (data.subject_type, data.subject_id, emitted[0].sequence) == ("list_item", "QD-1", 4)
    assert rated.ratings == ("dissatisfied",)
    with pytest.raises(CommandRejected, match="only when the resident is dissatisfied"):
        lists.evaluate(done, rating="satisfied", reason="other", now=NOW)


def test_an_item_from_an_appeal_names_it_and_only_such_an_item_does() -> None:
    base = {
        "list_item_id": "QD-9",
        "district": "洮南市",
        "community": "光华社区",
        "year": 2019,
        "kind": "need",
        "title": "路灯",
    }
    with pytest.raises(CommandRejected, match="appeal_id"):
        lists.post(ListItemPosted(**base, source="appeal"))
    with pytest.raises(CommandRejected, match="appeal_id"):
        lists.post(ListItemPosted(**base, source="visit", appeal_id="BC20190101000001"))
    state, _ = lists.post(ListItemPosted(**base, source="appeal", appeal_id="BC20190101000001"))
    assert lists.allowed_actions(state) == ["match", "withdraw"]


def test_the_state_is_the_replay_of_what_was_emitted() -> None:
    a, b = posted(1, "project"), posted(2, "responsibility")
    (a2, ea), _ = lists.match(a, b, claimed_by="市委组织部", due=DUE, now=NOW)
    a3, ec = lists.complete(a2, now=NOW)
    history = [
        ListItemPosted(
            list_item_id="QD-1",
            district="洮南市",
            community="光华社区",
            year=2019,
            kind="project",
            source="forum",
            title="事项1",
        ),
        *(e.data for e in ea + ec),
    ]
    assert lists.replay(history) == a3
