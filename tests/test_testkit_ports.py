"""The ports the tests give their servers: never one the kernel may hand to an outgoing connection
while the server is still starting, never one handed out twice, never one a server holds."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from testkit.integration import helpers
from testkit.integration.helpers import free_port


def ephemeral_range() -> range:
    low, high = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    return range(low, high + 1)


def test_ports_lie_below_the_ephemeral_range_and_are_never_repeated() -> None:
    ports = [free_port() for _ in range(500)]
    assert len(set(ports)) == len(ports)
    assert not set(ports) & set(ephemeral_range())


def test_a_port_a_server_holds_is_never_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    first = free_port()
    monkeypatch.setattr(helpers, "_listening_ports", lambda: range(first, first + 3))
    monkeypatch.setattr(helpers, "_handed_out", set())
    with socket.socket() as server:
        server.bind(("127.0.0.1", first))
        server.listen()
        assert {free_port(), free_port()} == {first + 1, first + 2}
        with pytest.raises(RuntimeError, match="no free port"):
            free_port()


def test_parallel_workers_draw_from_disjoint_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[set[int]] = []
    for worker in ("gw0", "gw1", "gw2"):
        monkeypatch.setenv("PYTEST_XDIST_WORKER", worker)
        monkeypatch.setenv("PYTEST_XDIST_WORKER_COUNT", "3")
        monkeypatch.setattr(helpers, "_handed_out", set())
        drawn.append({free_port() for _ in range(200)})
    assert all(len(ports) == 200 for ports in drawn)
    assert sum(map(len, drawn)) == len(drawn[0] | drawn[1] | drawn[2])
    assert {port % 3 for port in drawn[1]} == {10001 % 3}
