"""The fault suite's bookkeeping: the faults in turn, what happened in each window, and
which fault a lost or duplicated event is charged to."""

from __future__ import annotations

from testkit.chaos.report import Fault, Findings, Request, Window, attribute, plan, render, rows


def test_the_plan_kills_each_service_then_stops_the_broker_then_postgres() -> None:
    faults = plan(["appeals", "analytics"], broker_outage=60, postgres_outage=5)
    assert [f.name for f in faults] == [
        "kill -9 appeals",
        "kill -9 analytics",
        "broker stopped 60s",
        "postgres restarted (5s down)",
    ]


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
