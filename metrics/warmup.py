"""The cache warm-up: what a process reads before its first views (at start and after a
publish), and how far it has got (:data:`WARM_STATE`, reported by ``/healthz``).

The public surface that ``/healthz`` and the serving code use is :data:`WARM_STATE` (read
with ``dict(WARM_STATE)``) and :func:`warm_caches`; both are re-exported by ``metrics.dashboard``."""

from __future__ import annotations

import time

from data.geo import geojson
from metrics.catalogue import load_catalogue
from metrics.engine import compute, kpi_series_many
from metrics.overview_view import overview_data
from metrics.page_state import PAGE_PERIODS
from metrics.periods import add_months
from metrics.regions import as_of, region_tree, root_region

WARM_STATE: dict = {"running": False, "done": False, "months": 0, "regions": 0, "seconds": None}


def mark_stale() -> None:
    """A new data version is served: its warm-up has not run yet (``running`` is left to the
    warm-up that may still be going, which starts over when it ends)."""
    WARM_STATE.update(done=False, months=0, regions=0, seconds=None)


def warm_caches(scope, *, every_month: bool = True) -> None:
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
        if every_month and not results.ready():
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
