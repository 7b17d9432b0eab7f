"""The few panel shapes every Minsheng dashboard is made of, so that each dashboard module
says only what it shows: a table of `Shown` rows (a title, its PromQL, a unit and a
description) under section titles, which `laid_out` builds into panels.

Every panel reads the `$datasource` variable; expressions filter with `$district` where a
district label exists. Analytics figures are read from the `city:` recording rules
(deploy/prometheus/recording), which sum the workers' shares; their change over time is
`delta()`, never `rate()`, because a share moves between workers at a rebalance.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from grafana_foundation_sdk.builders import (
    bargauge,
    common,
    dashboard,
    prometheus,
    stat,
    timeseries,
)
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants
from grafana_foundation_sdk.models import common as common_models
from grafana_foundation_sdk.models import dashboard as dashboard_models

from minsheng.dashboards import promql as q

DATASOURCE = dashboard_models.DataSourceRef(type_val="prometheus", uid="${datasource}")
# The series that names every district with appeals: the district variable's values.
DISTRICTS = "label_values(city:minsheng_appeals_received_total:sum, district)"

# Grafana unit ids; counts of things get a suffix so a reader knows what is counted.
APPEALS = "suffix: appeals"
PROJECTS = "suffix: projects"
EVENTS = "suffix: events"
MESSAGES = "suffix: messages"
RATIO = "percentunit"
SECONDS = "s"
PER_SECOND = "reqps"


@dataclass(frozen=True)
class Query:
    """One target: a PromQL expression and how its series are named in the legend."""

    expr: str
    legend: str = ""


Target = cogbuilder.Builder[variants.Dataquery]


def _target(query: Query, ref: str, *, instant: bool) -> Target:
    target = (
        prometheus.Dataquery()
        .expr(query.expr)
        .legend_format(query.legend or "__auto")
        .ref_id(ref)
        .datasource(DATASOURCE)
    )
    return target.instant() if instant else target.range()


def _targets(queries: tuple[Query, ...], *, instant: bool) -> list[Target]:
    return [_target(q, chr(ord("A") + i), instant=instant) for i, q in enumerate(queries)]


def trend(
    title: str,
    description: str,
    unit: str,
    *queries: Query,
    width: int = 12,
    bars: bool = False,
    stacked: bool = False,
) -> timeseries.Panel:
    """A time series: how a figure moves (bars for counts per interval)."""
    panel = (
        timeseries.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=False))
        .span(width)
        .height(8)
        .min(0)
        .legend(
            common.VizLegendOptions()
            .display_mode(common_models.LegendDisplayMode.LIST)
            .placement(common_models.LegendPlacement.BOTTOM)
            .show_legend(True)
        )
    )
    if bars:
        panel = panel.draw_style(common_models.GraphDrawStyle.BARS).fill_opacity(80)
    if stacked:
        panel = panel.stacking(common.StackingConfig().mode(common_models.StackingMode.NORMAL))
    return panel


def figure(title: str, description: str, unit: str, query: Query, *, width: int = 4) -> stat.Panel:
    """One number now (a stat), with its trend drawn faintly behind it."""
    return (
        stat.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .targets(_targets((query,), instant=False))
        .span(width)
        .height(4)
        .graph_mode(common_models.BigValueGraphMode.AREA)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def ranking(
    title: str, description: str, unit: str, *queries: Query, width: int = 12, height: int = 8
) -> bargauge.Panel:
    """Bars side by side, one per district or unit, as of now: who is ahead, who behind."""
    return (
        bargauge.Panel()
        .title(title)
        .description(description)
        .unit(unit)
        .datasource(DATASOURCE)
        .targets(_targets(queries, instant=True))
        .span(width)
        .height(height)
        .min(0)
        .orientation(common_models.VizOrientation.HORIZONTAL)
        .display_mode(common_models.BarGaugeDisplayMode.GRADIENT)
        .reduce_options(common.ReduceDataOptions().calcs(["lastNotNull"]).values(False))
    )


def row(title: str) -> dashboard.Row:
    return dashboard.Row(title)


Kind = Literal["figure", "ranking", "trend"]
Panel = stat.Panel | bargauge.Panel | timeseries.Panel


@dataclass(frozen=True)
class Shown:
    """One panel as a row of data: what it shows, in what unit, and how it is drawn (its
    kind, size and options). A dashboard is a table of these under section titles."""

    kind: Kind
    title: str
    expr: str
    unit: str
    description: str
    legend: str = ""
    width: int | None = None  # the kind's default: figures 4 wide, the others 12
    height: int = 8  # rankings only: figures are 4 high, trends 8
    bars: bool = False
    stacked: bool = False
    also: tuple[Query, ...] = ()  # further targets, after the first
    since: str = ""  # a time range of the panel's own (Grafana's timeFrom), "now/d": today
    interval: str = ""
    maximum: float | None = None

    def panel(self) -> Panel:
        queries = (Query(self.expr, self.legend), *self.also)
        shown = (self.title, self.description, self.unit)
        built: Panel
        if self.kind == "figure":
            built = figure(*shown, queries[0], width=self.width or 4)
        elif self.kind == "ranking":
            built = ranking(*shown, *queries, width=self.width or 12, height=self.height)
        else:
            built = trend(
                *shown, *queries, width=self.width or 12, bars=self.bars, stacked=self.stacked
            )
        if self.since:
            built = built.time_from(self.since)
        if self.interval:
            built = built.interval(self.interval)
        if self.maximum is not None:
            built = built.max(self.maximum)
        return built


def intake_per_hour(
    title: str,
    description: str,
    *,
    width: int,
    bars: bool = False,
    since: str = "",
    interval: str = "",
) -> Shown:
    """Appeals received in each hour, stacked by district: the city's dashboard and the
    operations' one both show it, over different times."""
    return Shown(
        "trend",
        title,
        q.per_interval(q.RECEIVED, "1h", by="district"),
        APPEALS,
        description,
        "{{district}}",
        width=width,
        bars=bars,
        stacked=True,
        since=since,
        interval=interval,
    )


Section = tuple[str, tuple[Shown, ...]]  # a row's title and the panels under it


def laid_out(built: dashboard.Dashboard, sections: Iterable[Section]) -> dashboard.Dashboard:
    """The dashboard with each section's row and then its panels, in order."""
    for title, panels in sections:
        built = built.with_row(row(title))
        for shown in panels:
            built = built.with_panel(shown.panel())
    return built


def board(uid: str, title: str, description: str, *, district: bool = True) -> dashboard.Dashboard:
    """A dashboard with the data source variable (and the district one), in the city's
    time zone, refreshed every 30 seconds."""
    built = (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["minsheng"])
        .timezone("Asia/Shanghai")
        .time("now-24h", "now")
        .refresh("30s")
        .readonly()
        .with_variable(
            dashboard.DatasourceVariable("datasource")
            .label("Data source")
            .type("prometheus")
            .description("The Prometheus that scrapes the Minsheng services.")
        )
    )
    if district:
        built = built.with_variable(
            dashboard.QueryVariable("district")
            .label("District (区县)")
            .description("Districts of the reference data that have appeals.")
            .datasource(DATASOURCE)
            .query(DISTRICTS)
            .refresh(dashboard_models.VariableRefresh.ON_TIME_RANGE_CHANGED)
            .sort(dashboard_models.VariableSort.ALPHABETICAL_ASC)
            .multi(True)
            .include_all(True)
            .all_value(".*")
        )
    return built
