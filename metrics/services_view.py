"""What the 政务服务 page shows, assembled from the engine and the ``services_*.sql`` files.

Pure functions, importable without Dash. Each public function takes the viewer's
``scope`` and applies it in SQL (through the engine or the bound ``$scope_*`` params).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TypedDict

import pandas as pd

from data import db
from data.scope import Scope, ScopeError, require
from metrics.cache import memo
from metrics.catalogue import Kpi, load_catalogue
from metrics.compile import named_sql
from metrics.engine import kpi_breakdown, kpi_regions, kpi_results, kpi_series, kpi_value
from metrics.errors import UserError
from metrics.page_state import PAGE_PERIODS, PageContext, page_context
from metrics.periods import PeriodError, Window, add_months, parse_month, period_name, windows
from metrics.regions import as_of, children, get_region, visible_children

try:  # the page works without forecasts where the forecasting stack cannot be imported
    from metrics.forecasting import kpi_forecast
except ImportError:  # pragma: no cover — statsmodels missing: the page shows 「预测暂不可用」
    kpi_forecast = None  # type: ignore[assignment]

FAMILY = "service"
DEFAULT_KPI = "online_available_rate"
TREND_MONTHS = 24
HOTLINE_MONTHS = 12
FORECAST_HORIZON = 6
HOTLINE_CARDS = ("hotline_on_time_rate", "hotline_satisfaction")
ITEM_FALLBACK_KPI = "online_handling_rate"  # an item's history when the KPI is a hotline one
FLAGS = {"online_capable": "网上可办", "full_online": "全程网办", "mobile": "掌上办", "one_visit": "最多跑一次"}


class ServicesInputError(UserError, ValueError):
    """A department, item or KPI in the URL that this page cannot show (message in Chinese)."""


# ------------------------------------------------------------------ KPIs


def service_kpis() -> list[Kpi]:
    """The KPIs of the service family (政务服务 and 12345), in catalogue order."""
    return [k for k in load_catalogue().kpis.values() if k.family == FAMILY]


def service_kpi(kpi_id: str | None) -> Kpi:
    """The declaration of ``kpi_id`` (default 网上可办率) if it is a service KPI."""
    kpi = load_catalogue().kpi(kpi_id or DEFAULT_KPI)
    if kpi.family != FAMILY:
        raise ServicesInputError(f"指标「{kpi.name}」不属于政务服务，请在本页的指标列表中选择")
    return kpi


def is_stock(kpi: Kpi) -> bool:
    """A KPI read at month end (网上可办率 …): its 累计 and 当月 values coincide."""
    return all(m.kind == "stock" for m in load_catalogue().measures_of(kpi))


def has_departments(kpi: Kpi) -> bool:
    """Whether the KPI's fact is split by department (12345 hotline KPIs are not)."""
    return "dept_code" in load_catalogue().facts[kpi.fact].dims


def period_text(kpi: Kpi, period: str, month: date) -> str:
    """累计 / 当月 for flows; 截至X年X月末 for stocks."""
    if is_stock(kpi):
        return f"截至{month.year}年{month.month}月末"
    return period_name(period)


def _window(month, period: str) -> tuple[date, Window]:
    """(month, the period's window capped at the last month with data)."""
    m = parse_month(month)
    _, last = as_of()
    return m, windows(period, m).cur.capped(last)


# ------------------------------------------------------------------ departments and items


@memo(maxsize=32)
def departments(*, scope: Scope) -> pd.DataFrame:
    """dept_code, dept_name, short_name of every department the scope covers."""
    return db.query(named_sql("services_departments.sql"), require(scope).params())


def check_department(dept: str | None, *, scope: Scope) -> str | None:
    """The name of department ``dept`` (None for no filter); a Chinese error if unknown."""
    if not dept:
        return None
    found = departments(scope=scope).set_index("dept_code")["dept_name"]
    if dept not in found.index:
        raise ServicesInputError(f"未知的部门代码：{dept}（或无权查看该部门）")
    return str(found[dept])


@memo(maxsize=256)
def item_info(item: str, *, scope: Scope) -> dict[str, Any]:
    """An item's declaration (name, department, type, audience, time limits)."""
    df = db.query(named_sql("services_item.sql"), {"item": item, **require(scope).params()})
    if df.empty:
        raise ServicesInputError(f"未知的政务服务事项编码：{item}（或无权查看该事项）")
    return df.iloc[0].to_dict()


def _flag_text(n, total) -> tuple[str, str]:
    """(是 / 否 / 部分, how many of the counties carrying the item have the flag)."""
    if not total or pd.isna(n):
        return "—", "期末无该事项"
    n, total = int(n), int(total)
    short = "是" if n == total else ("否" if n == 0 else "部分")
    return short, f"{n}/{total} 个县（市、区）"


@memo(maxsize=64)
def service_items(region: str, month, period: str, *, scope: Scope, dept: str | None = None) -> pd.DataFrame:
    """Every service item of ``region`` for the period, one query: applications, online
    applications, 网上办件率, 按时办结率, 好评率 and the flags (是 / 否 / 部分 over the counties
    carrying the item at the period's last month; ``<flag>_detail`` says how many of them)."""
    scope = require(scope)
    get_region(region, scope=scope)
    _, w = _window(month, period)
    df = db.query(named_sql("services_items.sql"),
                  {"region": region, "start": w.start, "end": w.end, "dept": dept, **scope.params()})
    for flag in FLAGS:
        texts = [_flag_text(n, t) for n, t in zip(df[f"{flag}_counties"], df["counties"], strict=True)]
        df[flag] = [short for short, _ in texts]
        df[f"{flag}_detail"] = [detail for _, detail in texts]
    return df


@memo(maxsize=128)  # engine results per URL state: interactions re-render the whole page
def dept_breakdown(kpi_id: str, region: str, month, period: str, *, scope: Scope) -> pd.DataFrame:
    """The KPI for ``region`` split by department, ranked, with department names
    (empty when the KPI's fact has no departments)."""
    kpi = service_kpi(kpi_id)
    if not has_departments(kpi):
        return pd.DataFrame()
    df = kpi_breakdown(kpi.id, region, month, period, dim="dept_code", scope=scope)
    if df.empty:
        return df
    names = departments(scope=scope).set_index("dept_code")
    df["dept_code"] = df["member"]
    df["dept_name"] = df["member"].map(names["short_name"]).fillna(df["member"])
    return df


# ------------------------------------------------------------------ map and trend


class MapView(TypedDict):
    """The regions the map colours (:func:`map_view`)."""

    frame: pd.DataFrame
    level: str
    parent: str | None
    highlight: str | None
    title: str


@memo(maxsize=128)
def map_view(kpi_id: str, region: str, month, period: str, *, scope: Scope, dept: str | None = None) -> MapView:
    """The regions the map colours: a province's cities, a city's counties, a county among
    its city's counties (highlighted). Returns frame, level, parent (for the boundaries),
    highlight and title."""
    kpi = service_kpi(kpi_id)
    reg = get_region(region, scope=scope)
    highlight = None
    if reg.level == "province":
        regions, level, parent = children(reg.code, scope=scope), "city", None
        title = f"{reg.name}各设区市"
    elif reg.level == "city":
        regions, level, parent = children(reg.code, scope=scope), "county", reg.code
        title = f"{reg.name}各县（市、区）"
    else:
        parent = reg.parent_code
        regions = visible_children(parent, scope=scope) if parent else [reg]
        level, highlight = "county", reg.code
        title = f"{reg.name}所在设区市各县（市、区）"
    frame = kpi_regions(kpi.id, regions, month, period, scope=scope,
                        dept=dept if has_departments(kpi) else None)
    return {"frame": frame, "level": level, "parent": parent, "highlight": highlight, "title": title}


@memo(maxsize=128)
def trend(kpi_id: str, region: str, month, period: str, *, scope: Scope, dept: str | None = None,
          months: int = TREND_MONTHS) -> pd.DataFrame:
    """The KPI for ``region`` over the ``months`` months to ``month``: monthly for 当月,
    year-to-date for 累计; month, value, numerator, denominator, target."""
    kpi = service_kpi(kpi_id)
    _m, w = _window(month, period)
    first, _ = as_of()
    start = max(add_months(w.end, 1 - months), first)
    if start > w.end:
        return pd.DataFrame(columns=["month", "value", "numerator", "denominator", "target"])
    return kpi_series(kpi.id, region, scope=scope, start=start, end=w.end, cumulative=period == "ytd",
                      dept=dept if has_departments(kpi) else None)


def forecast_available() -> bool:
    """Whether the forecasting module is installed in this tree."""
    return kpi_forecast is not None


@memo(maxsize=64)
def _forecast(kpi_id: str, region: str, cumulative: bool, horizon: int, scope: Scope) -> pd.DataFrame:
    return kpi_forecast(kpi_id, region, scope=scope, horizon=horizon, cumulative=cumulative)


def trend_forecast(kpi_id: str, region: str, period: str, *, scope: Scope, dept: str | None = None,
                   horizon: int = FORECAST_HORIZON) -> tuple[pd.DataFrame | None, str]:
    """(forecast frame or None, a Chinese note): the next ``horizon`` months after the data's
    last month, with 80%/95% bands. None, with the reason, when it cannot be given."""
    kpi = service_kpi(kpi_id)
    if not forecast_available():
        return None, "预测暂不可用"
    if dept and has_departments(kpi):
        return None, "按部门筛选时不提供预测"
    try:
        fc = _forecast(kpi.id, region, period == "ytd", horizon, require(scope))
    except ScopeError:
        return None, "无权查看该预测"
    except (ValueError, LookupError, ArithmeticError):
        return None, "预测暂不可用（历史数据不足）"
    if fc is None or fc.empty:
        return None, "预测暂不可用（历史数据不足）"
    start = fc.index[0]
    return fc, f"预测自{start.year}年{start.month}月起{len(fc)}个月（虚线），阴影为80%/95%区间"


# ------------------------------------------------------------------ item history


class ItemHistory(TypedDict):
    """One item's declaration, the KPI shown and its monthly series (:func:`item_history`)."""

    info: dict[str, Any]
    kpi: str
    series: pd.DataFrame


def item_history(item: str, kpi_id: str, region: str, month, *, scope: Scope,
                 months: int = TREND_MONTHS) -> ItemHistory:
    """One item's monthly (当月) history in ``region``: its declaration, the KPI shown (the
    page's KPI when it applies to items, else 网上办件率) and the series."""
    info = item_info(item, scope=scope)
    kpi = service_kpi(kpi_id)
    if "item_code" not in load_catalogue().facts[kpi.fact].dims:
        kpi = service_kpi(ITEM_FALLBACK_KPI)
    _, w = _window(month, "month")
    first, _ = as_of()
    start = max(add_months(w.end, 1 - months), first)
    series = kpi_series(kpi.id, region, scope=scope, start=start, end=w.end, item=item)
    return {"info": info, "kpi": kpi.id, "series": series}


# ------------------------------------------------------------------ 12345 hotline


@memo(maxsize=64)
def hotline_categories(region: str, month, *, scope: Scope, months: int = HOTLINE_MONTHS) -> pd.DataFrame:
    """12345 tickets received per month × category over the ``months`` months to ``month``
    (one query): month, category, received."""
    scope = require(scope)
    get_region(region, scope=scope)
    _, w = _window(month, "month")
    return db.query(named_sql("services_hotline_categories.sql"),
                    {"region": region, "start": add_months(w.end, 1 - months), "end": w.end, **scope.params()})


class HotlinePanel(TypedDict):
    """The 12345 cards (KpiResult dicts), the received-by-category months, and why they are
    hidden (None: shown)."""

    cards: list[dict[str, Any]]
    categories: pd.DataFrame
    denied: str | None


@memo(maxsize=128)
def hotline_panel(region: str, month, period: str, *, scope: Scope) -> HotlinePanel:
    """Cards (received 当月 and 累计, then 按时办结率 and 满意率 on ``period``) and the
    received-by-category months; ``denied`` holds the reason when the scope forbids it."""
    try:
        received = [kpi_results(["hotline_received"], region, month, p, scope=scope)[0] for p in ("month", "ytd")]
        rates = kpi_results(list(HOTLINE_CARDS), region, month, period, scope=scope)
    except ScopeError as exc:
        return {"cards": [], "categories": pd.DataFrame(), "denied": str(exc)}
    return {"cards": [r.to_dict() for r in received + rates],
            "categories": hotline_categories(region, month, scope=scope), "denied": None}


# ------------------------------------------------------------------ the page


@dataclass(frozen=True, eq=False)
class ServicesPage(PageContext):
    """What the 政务服务 page draws besides its header: the service KPI and its headline,
    the department filter, the map, the trend (with its forecast when asked for), the
    department split, the service items (and the chosen item's history) and the 12345 hotline."""

    kpi: str
    kpi_period_text: str
    headline: dict[str, Any]
    dept: str | None
    dept_name: str | None
    dept_applies: bool
    map: MapView
    trend: pd.DataFrame
    forecast: pd.DataFrame | None
    forecast_note: str
    forecast_model: str
    forecast_available: bool
    depts: pd.DataFrame
    items: pd.DataFrame
    item: ItemHistory | None
    hotline: HotlinePanel
    kpi_options: list[dict]


def services_data(region, month, period, kpi, *, scope: Scope, dept: str | None = None,
                  item: str | None = None, forecast: bool = False) -> ServicesPage:
    """Everything the 政务服务 page draws for one URL state."""
    if period not in PAGE_PERIODS:  # page_context would quietly fall back to 累计
        raise PeriodError(f"未知的统计期：{period!r}（可选：累计 ytd、当月 month）")
    ctx = page_context(region, month, period, scope=scope)
    k = service_kpi(kpi)
    dept_name = check_department(dept, scope=scope)
    dept = dept or None
    if item:
        item_info(item, scope=scope)  # a bad item code is a message, before any chart
    reg, m = ctx.region, ctx.month_start
    per = ctx["period"]
    kdept = dept if has_departments(k) else None
    headline = kpi_value(k.id, reg, m, per, scope=scope, dept=kdept)
    fc, fc_note = trend_forecast(k.id, reg, per, scope=scope, dept=dept) if forecast else (None, "")
    fc_model = fc.attrs.get("model", "") if fc is not None else ""
    return ServicesPage(
        **ctx,
        kpi=k.id,
        kpi_period_text=period_text(k, per, m),
        headline=headline.to_dict(),
        dept=dept,
        dept_name=dept_name,
        dept_applies=has_departments(k),
        map=map_view(k.id, reg, m, per, scope=scope, dept=kdept),
        trend=trend(k.id, reg, m, per, scope=scope, dept=kdept),
        forecast=fc,
        forecast_note=fc_note,
        forecast_model=fc_model,
        forecast_available=forecast_available(),
        depts=dept_breakdown(k.id, reg, m, per, scope=scope),
        items=service_items(reg, m, per, scope=scope, dept=dept),
        item=item_history(item, k.id, reg, m, scope=scope) if item else None,
        hotline=hotline_panel(reg, m, per, scope=scope),
        kpi_options=[{"label": x.name, "value": x.id} for x in service_kpis()],
    )
