"""The fault suite's bookkeeping: the faults in turn, what happened in each window, and
which fault a lost or duplicated event is charged to; and the checks on the outboxes, the
topics and the sinks' receipts, on histories made up here."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from testkit.chaos.checks import (
    OutboxRow,
    check_events,
    receipt_times,
    receipts,
    resent_after_kill,
)
from testkit.chaos.report import (
    Fault,
    Findings,
    Request,
    Window,
    attribute,
    cluster_plan,
    plan,
    render,
    rows,
)


def test_the_plan_kills_each_service_then_stops_the_broker_then_postgres() -> None:
    faults = plan(["appeals", "analytics"], broker_outage=60, postgres_outage=5)
    assert [f.name for f in faults] == [
        "kill -9 appeals",
        "kill -9 analytics",
        "broker stopped 60s",
        "postgres restarted (5s down)",
    ]


def test_the_cluster_plan_kills_the_leader_then_stops_one_broker_then_all_but_one() -> None:
    faults = cluster_plan(3, outage=60)
    assert [f.name for f in faults] == [
        "kill -9 leading broker",
        "1 of 3 brokers stopped 60s",
        "2 of 3 brokers stopped 60s",
    ]
    assert [f.name for f in cluster_plan(3, 8, ("leader",))] == ["kill -9 leading broker"]


def test_a_cluster_row_shows_its_failover_and_its_note() -> None:
    window = Window(Fault("leader", "kafka", brokers=3), injected=10.0, ended=10.0)
    window.recovered, window.failover, window.note = 25.0, 9.5, "broker 2 killed"
    [row] = rows([window], [Request(12.0, "POST", "/v1/appeals", 201)])
    assert (row.failover_seconds, row.note) == (9.5, "broker 2 killed")
    text = render([row], Findings())
    assert "failover" in text.splitlines()[0]
    assert "9.5 s" in text
    assert "  broker 2 killed" in text.splitlines()
    assert "failover" not in render(rows([Window(Fault("kill", "appeals"), 1.0)], []), Findings())


def test_a_row_counts_the_requests_of_its_window_and_the_time_to_recover() -> None:
    window = Window(Fault("broker", "kafka", 10), injected=100.0, ended=110.0, recovered=113.5)
    requests = [
        Request(99.0, "POST", "/v1/appeals", 201),  # before
        Request(100.0, "POST", "/v1/appeals", 201),
        Request(105.0, "POST", "/v1/appeals/x/accept", 409),  # answered: not failed
        Request(106.0, "POST", "/v1/appeals", 0),  # no answer
        Request(112.0, "GET", "/v1/appeals/x", 503),
        Request(114.0, "POST", "/v1/appeals", 201),  # after
    ]
    [row] = rows([window], requests)
    assert (row.accepted, row.failed, row.recovery_seconds) == (1, 2, 3.5)


def test_an_unrecovered_window_holds_everything_after_it_and_says_never() -> None:
    window = Window(Fault("kill", "appeals"), injected=1.0, ended=1.5)
    [row] = rows([window], [Request(1e9, "GET", "/", 200)])
    assert row.accepted == 1
    assert row.recovery_seconds is None
    assert "never" in render([row], Findings())


def test_losses_and_duplicates_are_charged_to_the_window_they_were_written_in() -> None:
    first = Window(Fault("kill", "appeals"), injected=10, ended=10, recovered=20)
    second = Window(Fault("kill", "analytics"), injected=30, ended=30, recovered=40)
    table = rows([first, second], [])
    f = Findings(
        lost_events={"e1"},
        copies={"e1": 0, "e2": 3, "e3": 1},
        duplicate_deliveries={"d1": 2},
        lost_deliveries=set(),
    )
    created = {"e1": 15.0, "e2": 35.0, "e3": 36.0, "d1": 35.5}
    attribute(table, [first, second], created, f)
    assert (table[0].lost, table[0].duplicates, table[0].redelivered) == (1, 0, 0)
    assert (table[1].lost, table[1].duplicates, table[1].redelivered) == (0, 1, 2)
    f.fail("1 events never reached their topic")
    text = render(table, f)
    assert "FAILED" in text
    assert "never reached" in text


def test_a_clean_run_says_every_invariant_held() -> None:
    assert render([], Findings()).endswith("every invariant held")


def test_a_repeat_across_a_kill_is_shown_and_does_not_fail_the_run() -> None:
    text = render([], Findings(resent_after_kill={"d1": 2}))
    assert "1 deliveries sent again after notifications was killed" in text
    assert text.endswith("every invariant held")


def _row(event_id: str, aggregate: str, published: bool = True) -> OutboxRow:
    at = datetime(2026, 1, 5, tzinfo=UTC)
    return OutboxRow("minsheng.appeals.v1", 0, 1, b"{}", [], event_id, aggregate, at, published)


def test_the_event_checks_find_losses_leftovers_strays_and_201s_without_events() -> None:
    rows = [_row("e1", "A1"), _row("e2", "A1", published=False), _row("e3", "A2")]
    copies = Counter({"e1": 1, "e3": 2, "e9": 1})  # e2 never published, e9 from nowhere
    f = Findings()
    check_events(f, rows, copies, {"/v1/appeals": ["A1", "A2", "A3"], "/v1/projects": []})
    assert f.lost_events == {"e2"}
    assert f.copies == {"e1": 1, "e2": 0, "e3": 2}
    assert f.problems == [
        "1 outbox rows left unpublished",
        "1 events never reached their topic",
        "1 events on the topics that no outbox wrote",
        "1 of the 3 created by POST /v1/appeals have no events",
    ]


def test_a_clean_history_passes_the_event_checks() -> None:
    f = Findings()
    check_events(f, [_row("e1", "A1")], Counter({"e1": 1}), {"/v1/appeals": ["A1"]})
    assert f.problems == []


def test_receipts_count_accepted_deliveries_over_every_channel(tmp_path: Path) -> None:
    hooks = [{"webhook-id": "d1", "status": 200}, {"webhook-id": "d1", "status": 500}]
    hooks.append({"webhook-id": "d1", "status": 200})  # the same delivery accepted twice
    (tmp_path / "webhooks.jsonl").write_text("".join(json.dumps(h) + "\n" for h in hooks))
    (tmp_path / "sms.jsonl").write_text(json.dumps({"reference": "d2", "status": 200}) + "\n")
    (tmp_path / "mail").mkdir()
    (tmp_path / "mail" / "1.eml").write_bytes(b"X-Minsheng-Delivery: d3\nSubject: x\n\nbody\n")
    assert receipts(tmp_path) == Counter({"d1": 2, "d2": 1, "d3": 1})


def test_a_repeat_is_excused_only_across_a_kill_about_the_first_receipt() -> None:
    assert resent_after_kill([100.0, 130.0], kills=[101.5])  # answered, killed, resent
    assert not resent_after_kill([100.0, 130.0], kills=[])  # no kill: sent twice
    assert not resent_after_kill([100.0, 130.0], kills=[110.0])  # the kill came long after
    assert resent_after_kill([100.0, 130.0], kills=[99.8])  # killed with the request sent
    assert not resent_after_kill([100.0, 130.0], kills=[99.0])  # the kill came before
    assert not resent_after_kill([100.0, 130.0], kills=[130.0])  # killed as it was resent
    assert not resent_after_kill([100.0, 130.0, 160.0], kills=[101.0])  # a third receipt
    assert not resent_after_kill([100.0], kills=[100.5])  # one receipt is no repeat


def test_receipt_times_keep_each_accepted_receipts_time_in_order(tmp_path: Path) -> None:
    hooks = [
        {"webhook-id": "d1", "status": 200, "received_at": 20.0},
        {"webhook-id": "d1", "status": 500, "received_at": 15.0},
        {"webhook-id": "d1", "status": 200, "received_at": 10.0},
    ]
    (tmp_path / "webhooks.jsonl").write_text("".join(json.dumps(h) + "\n" for h in hooks))
    assert receipt_times(tmp_path) == {"d1": [10.0, 20.0]}
