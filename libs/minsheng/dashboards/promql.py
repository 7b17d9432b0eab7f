"""PromQL of the KPIs, written once so every dashboard computes a rate the same way as
/v1/counters does (services/analytics/README.md, "KPI definitions"), over the city's
series (`city:<metric>:sum`), optionally grouped (`by`: "district", "level, year" ...).

A ratio whose numerator has no series for a group (no appeal resolved on time in a
district yet) reads 0, not "no data": `or 0 * denominator` fills the gap.
"""

from __future__ import annotations

DISTRICT = 'district=~"$district"'


def city(metric: str, *matchers: str) -> str:
    """The city-wide series of an analytics metric, in the selected districts."""
    return f"city:{metric}:sum{{{', '.join((DISTRICT, *matchers))}}}"


def total(metric: str, *matchers: str, by: str = "") -> str:
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} ({city(metric, *matchers)})"


def per_interval(metric: str, interval: str, *matchers: str, by: str = "") -> str:
    """How much a city counter grew over each `interval` (delta: shares move at rebalances)."""
    grouping = f" by ({by})" if by else ""
    return f"sum{grouping} (delta({city(metric, *matchers)}[{interval}]))"


def ratio(numerator: str, denominator: str) -> str:
    return f"({numerator} or 0 * {denominator}) / {denominator}"


RECEIVED = "minsheng_appeals_received_total"
RESOLVED = "minsheng_appeals_resolved_total"
OVERDUE = "minsheng_appeals_overdue"
OPEN = "minsheng_appeals_open"
RESPONSES = "minsheng_satisfaction_responses_total"
APPEAL = 'subject_type="appeal"'
SATISFIED = 'rating=~"satisfied|basically_satisfied"'
CLAIMED = "minsheng_projects_claimed_total"
COMPLETED = "minsheng_projects_completed_total"


def resolution_rate(by: str = "") -> str:
    """办结率: resolutions over appeals received."""
    return ratio(total(RESOLVED, by=by), total(RECEIVED, by=by))


def on_time_rate(by: str = "") -> str:
    """按时办结率: resolved on time over (resolved + open and past the deadline)."""
    resolved = total(RESOLVED, by=by)
    overdue = f"({total(OVERDUE, by=by)} or 0 * {resolved})"
    return ratio(total(RESOLVED, 'on_time="true"', by=by), f"({resolved} + {overdue})")


def satisfaction_rate(by: str = "", subject: str = APPEAL) -> str:
    """满意率: satisfied and basically satisfied over all responses."""
    return ratio(total(RESPONSES, subject, SATISFIED, by=by), total(RESPONSES, subject, by=by))


def callback_rate(by: str = "") -> str:
    """回访率: call-backs recorded over appeals resolved."""
    return ratio(total(RESPONSES, APPEAL, by=by), total(RESOLVED, by=by))


def completion_rate(by: str = "") -> str:
    """The ledger's completion rate (完成率): projects completed over projects claimed."""
    return ratio(total(COMPLETED, by=by), total(CLAIMED, by=by))
