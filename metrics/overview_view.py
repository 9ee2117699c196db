"""The overview (总览) page's view: headline cards with sparklines, the map, the children
ranking and the alerts of one region, month and period (pages/overview.py only draws it;
the big screen reads it too)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pandas as pd

from data.scope import ScopeError
from metrics.access import visible_kpis
from metrics.cache import memo
from metrics.catalogue import load_catalogue
from metrics.engine import kpi_regions, kpi_results, kpi_series_many
from metrics.page_state import PageContext, resolve_state
from metrics.periods import add_months, period_name
from metrics.regions import children, descendants, lineage, region_tree, visible_children
from metrics.rules import alert_summary, project_alerts

# the alert query of an overview runs here, in DuckDB (no GIL), while its cards are assembled
_BESIDE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="overview-beside")



@dataclass(frozen=True, eq=False)
class OverviewData(PageContext):
    """What the overview draws besides its header: the headline cards (display dicts with a
    ``spark`` series), the KPI of the map and the ranking, the map (its frame, parent, level
    and title), the ranking (frame and title) and the alerts (red KPIs, summary, top rows)."""

    cards: list[dict]
    kpi: str
    map: pd.DataFrame
    map_parent: str | None
    map_level: str
    map_title: str
    ranking: pd.DataFrame
    ranking_title: str
    red_kpis: list[dict]
    alert_summary: pd.DataFrame
    top_alerts: pd.DataFrame

@memo(maxsize=512)
def overview_data(region, month, period, kpi, *, scope, map_level: str = "county") -> OverviewData:
    """Headline cards with sparklines, the map and the children ranking of the overview.

    At province level the map shows the cities or the counties (``map_level``); below it,
    the counties of the city (a county is shown among its city's counties)."""
    st = resolve_state(region, month, period, scope=scope)
    reg, m = st.region, st.month
    # the alert query runs in DuckDB (no GIL) while the cards are assembled here
    alerts_job = _BESIDE.submit(project_alerts, reg.code, m, scope=scope)
    cat = load_catalogue()
    kpi_id = cat.kpi(kpi).id
    # a department user sees the KPIs that can be split by department (the others fail closed)
    shown = visible_kpis(scope)
    headline = [k.id for k in cat.headline() if k.id in shown]
    if kpi_id not in shown or not headline:
        raise ScopeError(f"指标「{cat.kpi(kpi_id).name}」不按部门划分，部门范围受限的用户无权查看")
    # every KPI in one pass (one query per fact): the cards and the red list share it
    every = {r.kpi_id: r for r in kpi_results(shown, reg.code, m, period, scope=scope)}
    results = [every[k] for k in headline]
    spark_start = max(add_months(m, -11), st.first)
    sparks = kpi_series_many(headline, reg.code, scope=scope, start=spark_start, end=min(m, st.last))
    cards = [{**r.to_dict(), "spark": [None if v != v else v for v in sparks[r.kpi_id]["value"].tolist()]}
             for r in results]
    k = cat.kpi(kpi_id)
    kpi_period = period if period in k.periods else k.periods[0]
    map_level = "city" if reg.level == "province" and map_level == "city" else "county"
    if reg.level == "county":
        map_parent = reg.parent_code
        map_regions = visible_children(map_parent, scope=scope) if map_parent else [reg]
        ranking_regions = map_regions
        ranking_title = "同级县（市、区）排名"
    else:
        map_parent = None if reg.level == "province" else reg.code
        map_regions = (children(reg.code, scope=scope) if map_level == "city"
                       else descendants(reg.code, "county", scope=scope))
        ranking_regions = children(reg.code, scope=scope)
        ranking_title = "各设区市排名" if reg.level == "province" else "各县（市、区）排名"
    alerts = alerts_job.result()
    map_df = kpi_regions(kpi_id, map_regions, m, kpi_period, scope=scope)
    ranking = kpi_regions(kpi_id, ranking_regions, m, kpi_period, scope=scope)
    head = results[0]
    return OverviewData(
        region=reg.code,
        region_name=reg.name,
        level=reg.level,
        province=st.root,
        month=m.strftime("%Y-%m"),
        months=(st.first, st.last),
        period=period,
        period_name=period_name(period),
        period_label=head.period_label,
        as_of=head.as_of,
        month_start=m,
        regions=region_tree(scope=scope),
        cards=cards,
        kpi=kpi_id,
        map=map_df,
        map_parent=map_parent,
        map_level=map_level,
        map_title=(f"{reg.name}各设区市" if map_level == "city" else
                   f"{reg.name}各县（市、区）" if reg.level != "county" else
                   f"{reg.name}所在设区市各县（市、区）" if len(map_regions) > 1 else reg.name),
        lineage=lineage(reg.code, scope=scope),
        ranking=ranking,
        # a county viewer who may not see its neighbours has nothing to be ranked against
        ranking_title=ranking_title if len(ranking_regions) > 1 or reg.level != "county" else reg.name,
        red_kpis=[c for c in cards if c["rag"] == "red"]
        + [r.to_dict() for k, r in every.items() if k not in headline and r.rag == "red"],
        alert_summary=alert_summary(alerts),
        top_alerts=alerts.sort_values("days_over", ascending=False, na_position="last").head(8),
    )
