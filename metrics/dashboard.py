"""What each cockpit page shows, assembled from the engine (pages only draw it)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from data.geo import geojson
from data.scope import ScopeError
from metrics.access import visible_kpis
from metrics.cache import memo
from metrics.catalogue import load_catalogue
from metrics.engine import compute, kpi_regions, kpi_results, kpi_series_many
from metrics.periods import PeriodError, add_months, label, parse_month, period_name, windows
from metrics.regions import (
    as_of,
    children,
    descendants,
    get_region,
    lineage,
    region_tree,
    root_region,
    visible_children,
)
from metrics.rules import alert_summary, project_alerts

PAGE_PERIODS = ("ytd", "month")
_BESIDE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="overview-beside")


def resolve_state(region, month, period, *, scope) -> dict:
    """Validate URL state: region (default: the top of the scope), month (default: latest), period."""
    first, last = as_of()
    root = root_region()
    code = region or (scope.regions[0] if len(scope.regions) == 1 else root)
    reg = get_region(code, scope=scope)
    m = parse_month(month) if month else last
    if period not in PAGE_PERIODS:
        raise PeriodError(f"未知的统计期：{period!r}（可选：累计 ytd、当月 month）")
    return {"region": reg, "month": m, "period": period, "first": first, "last": last, "root": root}


def page_context(region, month, period, *, scope, periods=PAGE_PERIODS) -> dict:
    """What every page's header needs: the region and its lineage, the picker options,
    the month and period with their Chinese labels, and the data's as-of month."""
    st = resolve_state(region, month, period if period in periods else periods[0], scope=scope)
    reg, m = st["region"], st["month"]
    return {
        "region": reg.code,
        "region_name": reg.name,
        "level": reg.level,
        "province": st["root"],
        "lineage": lineage(reg.code, scope=scope),
        "regions": region_tree(scope=scope),
        "month": m.strftime("%Y-%m"),
        "months": (st["first"], st["last"]),
        "period": st["period"],
        "period_name": period_name(st["period"]),
        "period_label": label(st["period"], windows(st["period"], m).cur.capped(st["last"])),
        "as_of": st["last"].strftime("%Y-%m"),
    }


@memo(maxsize=512)
def overview_data(region, month, period, kpi, *, scope, map_level: str = "county") -> dict:
    """Headline cards with sparklines, the map and the children ranking of the overview.

    At province level the map shows the cities or the counties (``map_level``); below it,
    the counties of the city (a county is shown among its city's counties)."""
    st = resolve_state(region, month, period, scope=scope)
    reg, m = st["region"], st["month"]
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
    spark_start = max(add_months(m, -11), st["first"])
    sparks = kpi_series_many(headline, reg.code, scope=scope, start=spark_start, end=min(m, st["last"]))
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
    return {
        "region": reg.code,
        "region_name": reg.name,
        "province": st["root"],
        "month": m.strftime("%Y-%m"),
        "months": (st["first"], st["last"]),
        "period": period,
        "period_name": period_name(period),
        "period_label": head.period_label,
        "as_of": head.as_of,
        "regions": region_tree(scope=scope),
        "cards": cards,
        "kpi": kpi_id,
        "map": map_df,
        "map_parent": map_parent,
        "map_level": map_level,
        "map_title": (f"{reg.name}各设区市" if map_level == "city" else
                      f"{reg.name}各县（市、区）" if reg.level != "county" else
                      f"{reg.name}所在设区市各县（市、区）" if len(map_regions) > 1 else reg.name),
        "lineage": lineage(reg.code, scope=scope),
        "ranking": ranking,
        # a county viewer who may not see its neighbours has nothing to be ranked against
        "ranking_title": ranking_title if len(ranking_regions) > 1 or reg.level != "county" else reg.name,
        "red_kpis": [c for c in cards if c["rag"] == "red"]
        + [r.to_dict() for k, r in every.items() if k not in headline and r.rag == "red"],
        "alert_summary": alert_summary(alerts),
        "top_alerts": alerts.sort_values("days_over", ascending=False, na_position="last").head(8),
    }


WARM_STATE: dict = {"running": False, "done": False, "months": 0, "regions": 0, "seconds": None}


def warm_caches(scope) -> None:
    """Fill what first views read (run in a background thread at start and after a publish).

    Every month's KPI snapshot and every region's card series are read from the results the
    publish computed (metrics/results.py): the first view of a month costs a read of its rows,
    so nothing is computed per month or per region here. What a process reads once is read
    now: the top overview of the latest month in both periods (the catalogue, the region tree,
    the results table, the alerts), the targets of every year and the boundaries of every map.
    A file without current results (an older version not yet upgraded) is warmed as before:
    every month's snapshot, the province's overview of every month, every region's card
    series and overview of the latest month. Progress is in ``WARM_STATE`` (see /healthz)."""
    from metrics import engine, results

    started = time.perf_counter()
    WARM_STATE.update(running=True, done=False, months=0, regions=0, seconds=None)
    try:
        first, last = as_of()
        for period in PAGE_PERIODS:
            overview_data(None, last.strftime("%Y-%m"), period, "online_handling_rate", scope=scope)
        for year in range(first.year, last.year + 1):
            engine._targets(year)  # the sparklines of any month read their years' targets
        regions = region_tree(scope=scope)
        root = root_region()
        geojson(root, "city")
        geojson(root, "county")
        for reg in regions:  # a city's counties are its map
            if reg.level == "city":
                geojson(root, "county", parent_code=reg.code)
        if not results.ready():
            _warm_every_month(scope, first, last, regions)
        WARM_STATE.update(months=(last.year - first.year) * 12 + last.month - first.month + 1, regions=len(regions))
        WARM_STATE["done"] = True
    finally:
        WARM_STATE.update(running=False, seconds=round(time.perf_counter() - started, 1))


def _warm_every_month(scope, first, last, regions) -> None:
    """Compute what a file without results would compute on first views: every month's
    snapshots, the province's overview of every month (newest first), every region's card
    series, then every region's overview of the latest month."""
    m = last
    while m >= first:
        for period in PAGE_PERIODS:
            compute(["online_handling_rate"], [root_region()], m, period, scope=scope)
            overview_data(None, m.strftime("%Y-%m"), period, "online_handling_rate", scope=scope)
        m = add_months(m, -1)
    headline = [k.id for k in load_catalogue().headline()]
    for reg in regions:
        kpi_series_many(headline, reg.code, scope=scope)
    for reg in regions:
        overview_data(reg.code, last.strftime("%Y-%m"), "ytd", "online_handling_rate", scope=scope)
