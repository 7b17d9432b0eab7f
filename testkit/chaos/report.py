"""The fault suite's bookkeeping, pure: the faults in turn, the requests the load made,
each fault's window, and the table it prints.

A fault's window runs from the moment it is injected to the moment the platform has
recovered from it: every service answers /readyz again and every outbox row written
before the fault ended is published.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["kill", "broker", "postgres", "leader", "node", "quorum"]
CLUSTER_KINDS: tuple[Kind, ...] = ("leader", "node", "quorum")  # the faults of a cluster


@dataclass(frozen=True)
class Fault:
    """One fault: `kill -9` of a service, the broker stopped, or PostgreSQL restarted; on
    a cluster of `brokers`, `kill -9` of the broker leading the most partitions, one
    broker stopped, or all brokers but one stopped."""

    kind: Kind
    target: str  # the service killed; "kafka" or "postgres" for the others
    outage: float = 0.0  # seconds the broker(s) or PostgreSQL stay down
    brokers: int = 1

    @property
    def name(self) -> str:
        if self.kind == "kill":
            return f"kill -9 {self.target}"
        if self.kind == "broker":
            return f"broker stopped {self.outage:.0f}s"
        if self.kind == "leader":
            return "kill -9 leading broker"
        if self.kind == "node":
            return f"1 of {self.brokers} brokers stopped {self.outage:.0f}s"
        if self.kind == "quorum":
            return f"{self.brokers - 1} of {self.brokers} brokers stopped {self.outage:.0f}s"
        return f"postgres restarted ({self.outage:.0f}s down)"


def plan(services: Sequence[str], broker_outage: float, postgres_outage: float) -> list[Fault]:
    """Every fault once, in turn: each service killed, then the broker, then PostgreSQL."""
    return [
        *(Fault("kill", name) for name in services),
        Fault("broker", "kafka", broker_outage),
        Fault("postgres", "postgres", postgres_outage),
    ]


def cluster_plan(brokers: int, outage: float, kinds: Sequence[Kind] = CLUSTER_KINDS) -> list[Fault]:
    """The faults of a cluster in turn: the leader killed, one broker down, all but one."""
    return [Fault(kind, "kafka", 0.0 if kind == "leader" else outage, brokers) for kind in kinds]


@dataclass(frozen=True)
class Request:
    """One request of the load: when (loop seconds), what, and the status (0: no answer)."""

    at: float
    method: str
    path: str
    status: int

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    @property
    def failed(self) -> bool:
        """No answer, or a server error (a 4xx is an answer: an action no longer allowed)."""
        return self.status == 0 or self.status >= 500


@dataclass
class Window:
    fault: Fault
    injected: float
    ended: float | None = None  # the service killed, or the server back up
    recovered: float | None = None
    # a cluster's own figure: after a kill, seconds until every partition of the domain
    # topic has a live leader; after a restart, until no partition is under-replicated
    failover: float | None = None
    note: str = ""  # what else the fault showed (writes refused, the node's catch-up)
    unsafe: int = 0  # writes acknowledged (or marked published) without a quorum

    def holds(self, at: float) -> bool:
        end = self.recovered if self.recovered is not None else float("inf")
        return self.injected <= at <= end

    @property
    def recovery_seconds(self) -> float | None:
        if self.recovered is None or self.ended is None:
            return None
        return self.recovered - self.ended


@dataclass
class Row:
    fault: str
    accepted: int
    failed: int
    recovery_seconds: float | None
    lost: int = 0
    duplicates: int = 0
    redelivered: int = 0  # copies on a topic that the consumers skipped (at least once)
    failover_seconds: float | None = None
    note: str = ""


def rows(windows: Iterable[Window], requests: Sequence[Request]) -> list[Row]:
    """A row per fault: the requests answered and not answered during its window."""
    found = []
    for window in windows:
        during = [r for r in requests if window.holds(r.at)]
        found.append(
            Row(
                window.fault.name,
                accepted=sum(r.accepted for r in during),
                failed=sum(r.failed for r in during),
                recovery_seconds=window.recovery_seconds,
                failover_seconds=window.failover,
                note=window.note,
            )
        )
    return found


@dataclass
class Findings:
    """What the checks at quiescence found; `problems` empty means every invariant held."""

    problems: list[str] = field(default_factory=list)
    lost_events: set[str] = field(default_factory=set)  # event ids
    copies: dict[str, int] = field(default_factory=dict)  # event id -> copies on its topic
    duplicate_deliveries: dict[str, int] = field(default_factory=dict)  # delivery -> receipts
    resent_after_kill: dict[str, int] = field(default_factory=dict)  # the same, excused
    lost_deliveries: set[str] = field(default_factory=set)

    def fail(self, problem: str) -> None:
        self.problems.append(problem)


def attribute(
    table: list[Row], windows: Sequence[Window], created: dict[str, float], f: Findings
) -> None:
    """Charges each lost or duplicated event, and each event copied twice on its topic, to
    the fault whose window holds the moment it was written (`created`, loop seconds)."""
    for row, window in zip(table, windows, strict=True):

        def held(ids: Iterable[str], window: Window = window) -> list[str]:
            return [i for i in ids if i in created and window.holds(created[i])]

        row.lost = len(held(f.lost_events)) + len(held(f.lost_deliveries))
        row.duplicates = sum(f.duplicate_deliveries[i] - 1 for i in held(f.duplicate_deliveries))
        row.redelivered = sum(f.copies[i] - 1 for i in held(f.copies) if f.copies[i] > 1)


def render(table: Sequence[Row], f: Findings) -> str:
    """The per-fault table (a failover column when a fault has one), a totals line and
    the verdict; each row's note below it."""
    failover = any(r.failover_seconds is not None for r in table)
    head = (
        f"{'fault':<32} {'accepted':>8} {'failed':>6} {'recovered in':>12} "
        f"{'lost':>5} {'dup':>4} {'redelivered':>11}"
    ) + (f" {'failover':>9}" if failover else "")
    lines = [head, "-" * len(head)]
    for r in table:
        took = f"{r.recovery_seconds:.1f} s" if r.recovery_seconds is not None else "never"
        line = (
            f"{r.fault:<32} {r.accepted:>8} {r.failed:>6} {took:>12} "
            f"{r.lost:>5} {r.duplicates:>4} {r.redelivered:>11}"
        )
        if failover:
            over = f"{r.failover_seconds:.1f} s" if r.failover_seconds is not None else "-"
            line += f" {over:>9}"
        lines.append(line)
        if r.note:
            lines.append(f"  {r.note}")
    lost = len(f.lost_events) + len(f.lost_deliveries)
    dup = sum(n - 1 for n in f.duplicate_deliveries.values())
    lines.append(f"{'whole run':<32} {'':>8} {'':>6} {'':>12} {lost:>5} {dup:>4}")
    if resent := sum(n - 1 for n in f.resent_after_kill.values()):
        lines.append(
            f"{resent} deliveries sent again after notifications was killed between the"
            " receiver's answer and its record (at least once: receivers dedupe by webhook-id)"
        )
    verdict = "every invariant held" if not f.problems else "FAILED:\n  " + "\n  ".join(f.problems)
    return "\n".join([*lines, verdict])
