"""The few panel shapes every Minsheng dashboard is made of, so that each dashboard module
says only what it shows: a table of `Shown` rows (a title, its PromQL, a unit and a
description) in `Section`s, each with the `Look` of its panels, which `board` builds.

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
from minsheng.dashboards.units import APPEALS

DATASOURCE = dashboard_models.DataSourceRef(type_val="prometheus", uid="${datasource}")
# The series that names every district with appeals: the district variable's values.
DISTRICTS = "label_values(city:minsheng_appeals_received_total:sum, district)"


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
class Look:
    """How a panel is drawn: its kind, its width (of the dashboard's 24) and options."""

    kind: Kind
    width: int
    height: int = 8  # rankings only: figures are 4 high, trends 8
    bars: bool = False
    stacked: bool = False
    since: str = ""  # a time range of the panel's own (Grafana's timeFrom), "now/d": today
    interval: str = ""
    maximum: float | None = None


@dataclass(frozen=True)
class Shown:
    """One panel as a row of data: what it shows and in what unit; drawn the way its
    section draws its panels unless it has a `look` of its own."""

    title: str
    expr: str
    unit: str
    description: str
    legend: str = ""
    look: Look | None = None
    also: tuple[Query, ...] = ()  # further targets, after the first

    def panel(self, default: Look) -> Panel:
        look = self.look or default
        queries = (Query(self.expr, self.legend), *self.also)
        shown = (self.title, self.description, self.unit)
        built: Panel
        if look.kind == "figure":
            built = figure(*shown, queries[0], width=look.width)
        elif look.kind == "ranking":
            built = ranking(*shown, *queries, width=look.width, height=look.height)
        else:
            built = trend(*shown, *queries, width=look.width, bars=look.bars, stacked=look.stacked)
        if look.since:
            built = built.time_from(look.since)
        if look.interval:
            built = built.interval(look.interval)
        if look.maximum is not None:
            built = built.max(look.maximum)
        return built


@dataclass(frozen=True)
class Section:
    """A dashboard row: its title, how its panels are drawn, and the panels in order."""

    title: str
    look: Look
    panels: tuple[Shown, ...]


def per_hour(title: str, metric: str, unit: str, description: str, by: str, width: int) -> Shown:
    """A city counter's growth in each hour, as bars stacked by the `by` labels, which
    name the series."""
    legend = " ".join(f"{{{{{label.strip()}}}}}" for label in by.split(","))
    look = Look("trend", width, bars=True, stacked=True)
    return Shown(title, q.per_interval(metric, "1h", by=by), unit, description, legend, look)


def intake_per_hour(title: str, description: str, look: Look) -> Shown:
    """Appeals received in each hour by district: the city's dashboard and the operations'
    one both show it, over different times."""
    hourly = q.per_interval(q.RECEIVED, "1h", by="district")
    return Shown(title, hourly, APPEALS, description, "{{district}}", look)


def board(
    uid: str,
    title: str,
    description: str,
    sections: Iterable[Section],
    *,
    district: bool = True,
) -> dashboard.Dashboard:
    """A dashboard of these sections, with the data source variable (and the district
    one), in the city's time zone, refreshed every 30 seconds."""
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
    for section in sections:
        built = built.with_row(row(section.title))
        for shown in section.panels:
            built = built.with_panel(shown.panel(section.look))
    return built
