"""The incremental aggregates, the overdue gauge on an injected clock, the windows, the
notifications and the merge of several workers' shares."""

from __future__ import annotations

from array import array
from collections import Counter
from datetime import datetime, timedelta

import pytest

from analytics.aggregate import Aggregate, share
from analytics.appeal_counting import appeal_figures, apply_appeal, deadline_of
from analytics.collector import FiguresCollector
from analytics.counting import State
from analytics.kpis import city_counters, report
from analytics.notification_counting import apply_notification
from analytics.peers import Incomplete, encode, merge
from analytics.windows import CITY, expired_window, hour_window
from minsheng.events import (
    AppealDispatched,
    AppealReceived,
    AppealResolved,
    InvalidEvent,
    NotificationDelivered,
    NotificationFailed,
    SatisfactionRecorded,
)
from testkit.unit.analytics import fold, parsed, payload
from testkit.unit.counters import metric_samples
from testkit.unit.events import DEADLINE, NOW, sample


def appeal(n: int, received_at: datetime = NOW) -> State:
    events = [payload(AppealReceived, received_at=received_at), sample(AppealDispatched)]
    return fold(apply_appeal, [e.model_copy(update={"appeal_id": f"A{n}"}) for e in events])


def overdue_on_metrics(aggregate: Aggregate, clock: list[datetime]) -> Counter[tuple[str, ...]]:
    collector = FiguresCollector(lambda: share([aggregate], clock[0]))
    return metric_samples(collector.collect())["minsheng_appeals_overdue"]


def test_the_overdue_gauge_moves_when_a_deadline_passes_without_any_event() -> None:
    aggregate = Aggregate(appeal_figures, deadline_of)
    a1, a2 = appeal(1), appeal(2)
    aggregate.replace(None, a1)
    aggregate.replace(None, a2)
    clock = [DEADLINE - timedelta(seconds=1)]  # the injected clock
    assert overdue_on_metrics(aggregate, clock) == Counter()
    clock[0] = DEADLINE + timedelta(seconds=1)
    assert overdue_on_metrics(aggregate, clock) == Counter({("洮北区",): 2})
    resolved = fold(apply_appeal, [sample(AppealResolved)], a1)
    aggregate.replace(a1, resolved)  # a resolution takes it off the deadline index
    assert overdue_on_metrics(aggregate, clock) == Counter({("洮北区",): 1})


def test_deadlines_are_kept_as_sorted_doubles_by_deltas_and_by_a_rebuild() -> None:
    """8 bytes a deadline, not a float object and its list slot (32): a tenth of a
    worker's memory with millions of open appeals."""
    states = [appeal(n) for n in range(3)]
    states[1] = {**states[1], "deadline": states[1]["deadline"] - 86400}  # a day earlier
    deltas, rebuilt = Aggregate(appeal_figures, deadline_of), Aggregate(appeal_figures, deadline_of)
    for state in states:
        deltas.replace(None, state)
    rebuilt.rebuild(states, [0])
    for aggregate in (deltas, rebuilt):
        assert aggregate.deadlines
        for moments in aggregate.deadlines.values():
            assert isinstance(moments, array)
            assert moments.typecode == "d"
            assert list(moments) == sorted(moments)
    assert deltas.deadlines == rebuilt.deadlines


def test_deltas_and_a_rebuild_agree_and_nothing_is_left_when_states_go_back() -> None:
    aggregate = Aggregate(appeal_figures, deadline_of)
    a1 = appeal(1)
    aggregate.replace(None, a1)
    later = fold(apply_appeal, [sample(AppealResolved), sample(SatisfactionRecorded)], a1)
    aggregate.replace(a1, later)
    rebuilt = Aggregate(appeal_figures, deadline_of)
    rebuilt.rebuild([later], [0])
    assert aggregate.figures == rebuilt.figures
    assert aggregate.deadlines == rebuilt.deadlines == {}
    aggregate.replace(later, a1)  # as if undone: exactly the first state's figures
    assert aggregate.figures == appeal_figures(a1)


def test_received_per_hour_and_today_in_the_city_time_zone() -> None:
    midnight = datetime(2019, 10, 8, tzinfo=CITY)
    states = [
        appeal(1, midnight - timedelta(minutes=1)),  # yesterday, 23:59 in Baicheng
        appeal(2, midnight + timedelta(minutes=1)),
        appeal(3, midnight + timedelta(hours=9, minutes=5)),
        appeal(4, midnight + timedelta(hours=9, minutes=55)),
    ]
    today = city_counters(states, [], NOW)["city"]["today"]
    assert today == {"date": "2019-10-08", "received": 3, "received_by_hour": {"00": 1, "09": 2}}
    assert hour_window((midnight - timedelta(minutes=1)).timestamp()) == "2019-10-07T23"


def test_windows_expire_after_a_week() -> None:
    aggregate = Aggregate(appeal_figures, deadline_of)
    aggregate.rebuild([appeal(1, NOW - timedelta(days=8)), appeal(2, NOW)], [0])
    aggregate.drop(expired_window(NOW))
    windows = {labels[1] for name, labels in aggregate.figures if name == "received_hour"}
    assert windows == {"2019-10-08T09"}


def test_notifications_count_once_each_by_their_standing_outcome() -> None:
    failed = apply_notification(None, parsed(payload(NotificationFailed, attempts=3), 1))
    assert failed is not None
    resent = apply_notification(failed, parsed(payload(NotificationDelivered, attempts=4), 2))
    assert resent is not None
    assert apply_notification(resent, parsed(payload(NotificationFailed, attempts=3), 1)) is None
    other = apply_notification(None, parsed(payload(NotificationFailed, notification_id="N2"), 1))
    assert other is not None
    counted = city_counters([], [], NOW, [resent, other])["notifications"]
    channel = resent["channel"]
    assert counted["delivered"] == counted["failed"] == 1
    assert counted["delivery_rate"] == 0.5
    assert counted["by_channel"][channel]["attempts"] == 4 + other["attempts"]


def test_an_appeal_event_on_the_notifications_topic_is_rejected() -> None:
    with pytest.raises(InvalidEvent) as caught:
        apply_notification(None, parsed(sample(AppealReceived), 1))
    assert caught.value.reason == "rejected"


def test_the_shares_of_two_workers_add_up_only_when_they_cover_every_partition_once() -> None:
    states = [appeal(n) for n in range(4)]
    whole, first, second = (Aggregate(appeal_figures, deadline_of) for _ in range(3))
    whole.rebuild(states, range(6))
    first.rebuild(states[:1], [0, 1, 2])
    second.rebuild(states[1:], [3, 4, 5])
    shares = [
        encode(f"w{i}", share([a], NOW), {"appeals": a.partitions}, settled=True)
        for i, a in enumerate((first, second))
    ]
    assert report(merge(shares, 6), NOW) == report(share([whole], NOW), NOW)
    with pytest.raises(Incomplete, match="partitions"):
        merge(shares[:1], 6)
    with pytest.raises(Incomplete, match="partitions"):
        merge([shares[0], shares[0], shares[1]], 6)  # a partition counted twice
    with pytest.raises(Incomplete, match="rebalancing"):
        merge([shares[0], {**shares[1], "settled": False}], 6)
