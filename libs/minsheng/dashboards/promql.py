"""PromQL of the figures and KPIs, written once for every dashboard.

The KPIs read the recording rules of deploy/prometheus/recording/kpis.yml, which compute
them with the definitions of GET /v1/counters: per district, the inputs
(`district:minsheng_appeals_resolved:sum`, ...) and the rates
(`district:minsheng_appeals_resolution:ratio`, ...). A rate over the selected districts
is the ratio of the summed inputs, never a mean of the districts' rates. Figures without
a KPI rule read the `city:<metric>:sum` series (every label kept; the analytics workers'
shares summed); their change over time is `delta()`, never `rate()`, because a share
moves between workers at a rebalance.
"""

from __future__ import annotations

from dataclasses import dataclass

DISTRICT = 'district=~"$district"'


def selector(metric: str, *matchers: str) -> str:
    """`metric` in the selected districts, with further label matchers."""
    return f"{metric}{{{', '.join((DISTRICT, *matchers))}}}"


def city(metric: str, *matchers: str) -> str:
    """The city-wide series of an analytics metric, in the selected districts."""
    return selector(f"city:{metric}:sum", *matchers)


def _sum(series: str, by: str) -> str:
    return f"sum{f' by ({by})' if by else ''} ({series})"


def total(metric: str, *matchers: str, by: str = "") -> str:
    return _sum(city(metric, *matchers), by)


def per_interval(metric: str, interval: str, *matchers: str, by: str = "") -> str:
    """How much a city counter grew over each `interval`."""
    return _sum(f"delta({city(metric, *matchers)}[{interval}])", by)


def ratio(numerator: str, denominator: str) -> str:
    """A rate with no sample where the denominator is 0 (/v1/counters says null)."""
    return f"{numerator} / ({denominator} > 0)"


@dataclass(frozen=True)
class Kpi:
    """A published rate of appeals: its recorded per-district ratio and its inputs."""

    name: str  # district:minsheng_appeals_<name>:ratio
    numerator: str  # district:<numerator>:sum
    denominator: tuple[str, ...]  # district:<each>:sum, added

    def by_district(self) -> str:
        return selector(f"district:minsheng_appeals_{self.name}:ratio")

    def selected(self) -> str:
        """The rate over the selected districts (all of them: the city's)."""
        summed = [_sum(selector(f"district:{part}:sum"), "") for part in self.denominator]
        return ratio(_sum(selector(f"district:{self.numerator}:sum"), ""), " + ".join(summed))


RECEIVED_INPUT = "minsheng_appeals_received"
RESOLUTION = Kpi("resolution", "minsheng_appeals_resolved", (RECEIVED_INPUT,))
ON_TIME = Kpi(
    "on_time",
    "minsheng_appeals_resolved_on_time",
    ("minsheng_appeals_resolved", "minsheng_appeals_overdue"),
)
SATISFACTION = Kpi(
    "satisfaction",
    "minsheng_appeal_satisfied_responses",
    ("minsheng_appeal_satisfaction_responses",),
)
CALLBACK = Kpi("callback", "minsheng_appeals_called_back", ("minsheng_appeals_resolved",))
RETURN = Kpi("return", "minsheng_appeals_returned", (RECEIVED_INPUT,))


def appeals_input(name: str, by: str = "") -> str:
    """A KPI input (`received`, `overdue`, ...) summed over the selected districts."""
    return _sum(selector(f"district:minsheng_appeals_{name}:sum"), by)


LEDGER = "district_level_year:minsheng_projects_{}:sum"


def ledger(figure: str, by: str = "") -> str:
    """Projects `claimed` or `completed` (standing status) in the selected districts."""
    return _sum(selector(LEDGER.format(figure)), by)


def completion_rate(by: str = "") -> str:
    """The ledger's completion rate (完成率): completed over claimed."""
    return ratio(ledger("completed", by), ledger("claimed", by))


RECEIVED = "minsheng_appeals_received_total"
OPEN = "minsheng_appeals_open"
