"""What the big screen (数据大屏, ``/screen``) shows: one JSON-able dict per region and focus KPI,
assembled only from the engine and the existing view modules, plus the validation of the
screen's query string (region playlist, panel sets, timings, layout).

The ribbon, map, ranking, red KPIs and project alerts come from
:func:`metrics.overview_view.overview_data` (memoised, so the screen and the overview page share
one computation); the trend adds the forecast band, the funnel and the spending curve come
from the projects and spending views. :func:`screen_frames` keeps those tables: the wall's
charts are drawn from them by the pages' own chart builders (``web/screen_figures.py``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from data.scope import Scope
from metrics.cache import memo
from metrics.catalogue import Kpi, load_catalogue
from metrics.display import KpiDisplay, kpi_display, replace_freshness, time_progress_gap_text
from metrics.engine import kpi_series
from metrics.errors import UserError
from metrics.format import DASH, as_number, fmt_value
from metrics.freshness import LATE_TEXT, family_freshness, kpi_family
from metrics.overview_view import OverviewData, overview_data
from metrics.periods import Month, add_months
from metrics.projects_view import stage_funnel
from metrics.regions import Region, as_of, children, get_region, root_region
from metrics.spending_view import execution_curves, time_progress_line

# panel sets: which KPI the map, ranking and trend are about (the ribbon, alerts, funnel and
# spending panels are the same in every set)
PANEL_SETS = {
    "services": ("政务服务", "online_handling_rate"),
    "satisfaction": ("办事体验", "satisfaction_rate"),
    "spending": ("资金执行", "budget_execution_rate"),
    "hotline": ("12345 热线", "hotline_on_time_rate"),
    "cloud": ("基础设施", "cloud_rate"),
}
DEFAULT_SETS = ("services", "spending")
LAYOUTS = ("letterbox", "wide")
DWELL_RANGE = (1, 3600)  # seconds
REFRESH_RANGE = (5, 86400)
TREND_MONTHS = 24
FORECAST_HORIZON = 6
TICKER_LIMIT = 30
# the KPIs whose families feed the funnel (the project register) and the spending curve
PANEL_FRESHNESS_KPIS = ("project_count", "budget_execution_rate")
SPENDING_KPI = "budget_execution_rate"  # the spending panel's figures are its card's
# the funnel's twelve lifecycle stages read as six phases from five metres
FUNNEL_PHASES = (
    ("申报论证", ("applied", "assessed", "joint_reviewed")),
    ("批复立项", ("approved",)),
    ("招标采购", ("procured",)),
    ("建设实施", ("started", "trial")),
    ("验收", ("initial_accepted", "final_accepted", "completed")),
    ("运维评价", ("in_operation", "evaluated")),
)


class ScreenInputError(UserError, ValueError):
    """A screen query-string value that is wrong (shown in Chinese on the screen itself)."""


@dataclass(frozen=True)
class ScreenConfig:
    """The validated query string: the playlist (region × panel set) and the timings."""

    playlist: tuple[dict, ...]
    dwell: float
    refresh: float
    layout: str

    def to_dict(self) -> dict[str, Any]:
        return {"playlist": list(self.playlist), "dwell": self.dwell, "refresh": self.refresh, "layout": self.layout}


def _seconds(raw, name: str, default: float, bounds: tuple[int, int]) -> float:
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ScreenInputError(f"参数 {name} 应为秒数（{bounds[0]}—{bounds[1]}），收到：{raw}") from None
    if not math.isfinite(value) or not bounds[0] <= value <= bounds[1]:
        raise ScreenInputError(f"参数 {name} 应在 {bounds[0]}—{bounds[1]} 秒之间，收到：{raw}")
    return value


def _regions(region, regions, scope: Scope) -> list:
    """The region playlist: ``regions`` = cities / counties / children / comma-separated codes."""
    top = region or (scope.regions[0] if len(scope.regions) == 1 else root_region())
    base = get_region(top, scope=scope)
    if regions in (None, ""):
        return [base]
    if regions in ("cities", "children", "counties"):
        kids = children(base.code, scope=scope)
        if regions == "counties":
            kids = [g for k in kids for g in children(k.code, scope=scope)] if base.level == "province" else kids
        if not kids:
            raise ScreenInputError(f"{base.name}没有可轮播的下级地区")
        return [base, *kids] if regions != "counties" else kids
    out = []
    for code in [c.strip() for c in str(regions).split(",") if c.strip()]:
        if not code.isdigit() or len(code) != 6:
            raise ScreenInputError(f"地区代码应为 6 位数字，收到：{code}")
        out.append(get_region(code, scope=scope))
    if not out:
        raise ScreenInputError("参数 regions 为空")
    return out


def _sets(sets, kpi) -> list[tuple[str, str]]:
    """Panel sets as (title, focus KPI): named sets or KPI ids; ``kpi`` alone = one set."""
    cat = load_catalogue()
    if sets in (None, ""):
        if kpi not in (None, ""):
            k = cat.kpi(kpi)
            return [(k.name, k.id)]
        return [PANEL_SETS[s] for s in DEFAULT_SETS]
    out = []
    for name in [s.strip() for s in str(sets).split(",") if s.strip()]:
        if name in PANEL_SETS:
            out.append(PANEL_SETS[name])
        elif name in cat.kpis:
            out.append((cat.kpi(name).name, name))
        else:
            raise ScreenInputError(f"未知的面板组：{name}（可选：{'、'.join(PANEL_SETS)}，或指标代码）")
    return out


def screen_config(params: dict, *, scope: Scope) -> ScreenConfig:
    """Validate the screen's query string (Chinese :class:`ScreenInputError` / user errors)."""
    layout = params.get("layout") or "letterbox"
    if layout not in LAYOUTS:
        raise ScreenInputError(f"参数 layout 应为 letterbox（等比留边）或 wide（宽屏铺满），收到：{layout}")
    dwell = _seconds(params.get("dwell"), "dwell", 20.0, DWELL_RANGE)
    refresh = _seconds(params.get("refresh"), "refresh", 60.0, REFRESH_RANGE)
    regions = _regions(params.get("region"), params.get("regions"), scope)
    sets = _sets(params.get("sets") or params.get("panels"), params.get("kpi"))  # panels: an alias
    playlist = tuple({"region": r.code, "region_name": r.name, "set": title, "kpi": kid}
                     for r in regions for title, kid in sets)
    return ScreenConfig(playlist=playlist, dwell=dwell, refresh=refresh, layout=layout)


# ------------------------------------------------------------------ data


_clean = as_number  # JSON-safe: NaN and NA become None


def _month_label(ym: str) -> str:
    y, m = ym.split("-")[:2]
    return f"{int(y)}年{int(m)}月"


def _card(d: KpiDisplay) -> dict[str, Any]:
    """A ribbon card as JSON: the display model's texts and tokens, verbatim (the wall shows
    one change: 同比 for 累计, 环比 for a month)."""
    ch = d.change
    return {
        "kpi": d.kpi_id, "name": d.name, "unit": d.unit, "value": d.value, "value_text": d.value_text,
        "target": d.target, "target_text": d.target_text, "rag": d.rag, "rag_label": d.rag_label,
        "rag_token": d.rag_token, "change": ch.shown, "change_text": ch.text, "change_tone": ch.tone,
        "change_good": {"good": True, "bad": False}.get(ch.tone), "change_name": ch.name,
        "period_name": d.period_name, "period_label": d.period_label,
        "fresh_text": d.fresh_text, "late": d.late, "late_text": d.late_text,
    }


@dataclass(frozen=True)
class ScreenFrames:
    """The tables one screen is drawn from: its numbers and the chart builders' inputs."""

    region: Region
    kpi: Kpi
    month: str  # YYYY-MM
    overview: OverviewData
    trend: pd.DataFrame  # the focus KPI by month: month, value, target (kpi_series)
    trend_name: str  # 当月, or 累计 where the KPI has no monthly value
    forecast: pd.DataFrame | None  # mean, lo80/hi80, lo95/hi95 by month (None: no forecast)
    funnel: pd.DataFrame  # the lifecycle stages (stage_funnel)
    phases: pd.DataFrame  # the same grouped into FUNNEL_PHASES, 终止 left out
    curves: pd.DataFrame  # this year's execution curve (execution_curves)
    progress: pd.DataFrame  # 序时进度 by month (time_progress_line)


def _trend_frames(kpi: Kpi, region: str, month, scope: Scope) -> tuple[pd.DataFrame, str, pd.DataFrame | None]:
    """The focus KPI by month (当月; 累计 where the KPI has no monthly value) with its target,
    and the forecast band (80%/95%) of :func:`metrics.forecasting.kpi_forecast` when available."""
    cumulative = "month" not in kpi.periods
    first, last = as_of()
    end = min(month, last)
    start = max(add_months(end, -(TREND_MONTHS - 1)), first)
    s = kpi_series(kpi.id, region, scope=scope, start=start, end=end, cumulative=cumulative)
    name = "累计" if cumulative else "当月"
    if end != last:  # a forecast is made from the latest data only
        return s, name, None
    try:
        from metrics.forecasting import kpi_forecast  # heavy (statsmodels): optional for the screen

        fc = kpi_forecast(kpi.id, region, scope=scope, horizon=FORECAST_HORIZON, cumulative=cumulative)
    except ImportError:
        return s, name, None
    if fc.empty or fc.attrs.get("model") is None:
        return s, name, None
    return s, name, fc


def phase_funnel(funnel: pd.DataFrame) -> pd.DataFrame:
    """The lifecycle stages grouped into the wall's six phases (FUNNEL_PHASES), 终止 left out: the
    same columns as :func:`metrics.projects_view.stage_funnel` (label: the phase; stage and
    seq: its first stage's; stages: the stages' names)."""
    f = funnel.set_index("stage")
    return pd.DataFrame([{
        "stage": stages[0], "seq": int(f.loc[list(stages), "seq"].min()), "label": name,
        "stages": "、".join(f.loc[list(stages), "label"]), "count": int(f.loc[list(stages), "count"].sum()),
        "budget": float(f.loc[list(stages), "budget"].sum()), "terminated": False,
    } for name, stages in FUNNEL_PHASES])


@memo(maxsize=256)
def screen_frames(region: str, kpi_id: str, *, scope: Scope, month=None) -> ScreenFrames:
    """The tables of one screen of ``region`` with focus KPI ``kpi_id`` (the latest month by default)."""
    reg = get_region(region, scope=scope)
    kpi = load_catalogue().kpi(kpi_id)
    _first, last = as_of()
    m = last if month is None else min(Month.parse(month).first_day, last)  # PeriodError (Chinese) if malformed
    month_s = m.strftime("%Y-%m")
    ov = overview_data(reg.code, month_s, "ytd", kpi.id, scope=scope, map_level="city")
    trend, trend_name, forecast = _trend_frames(kpi, reg.code, m, scope)
    funnel = stage_funnel(reg.code, month_s, scope=scope)
    return ScreenFrames(region=reg, kpi=kpi, month=month_s, overview=ov, trend=trend, trend_name=trend_name,
                        forecast=forecast, funnel=funnel, phases=phase_funnel(funnel),
                        curves=execution_curves(reg.code, month_s, scope=scope, years=1),
                        progress=time_progress_line())


def _trend(f: ScreenFrames) -> dict[str, Any]:
    s, fc = f.trend, f.forecast
    return {"months": [m.strftime("%Y-%m") for m in s["month"]], "values": [_clean(v) for v in s["value"]],
            "targets": [_clean(v) for v in s["target"]], "name": f.trend_name,
            "forecast": None if fc is None else {
                "months": [p.strftime("%Y-%m") for p in fc.index],
                **{c: [_clean(v) for v in fc[c]] for c in ("mean", "lo80", "hi80", "lo95", "hi95")}}}


def _alerts(ov: OverviewData) -> list[dict]:
    """The ticker: red KPIs first (each line its display model's ``alert_text``), then
    project-rule alerts (longest overdue first)."""
    out = []
    for c in ov.red_kpis:
        out.append({"kind": "kpi", "text": kpi_display(c).alert_text})
    for a in ov.top_alerts.to_dict("records"):
        days = _clean(a.get("days_over"))
        over = f"，超期 {int(days)} 天" if days is not None else ""
        out.append({"kind": "project", "text": f"{a['rule_name']}：{a['project_name']}{over}"})
    return out[:TICKER_LIMIT]


def _spending(f: ScreenFrames, budget: KpiDisplay | None) -> dict[str, Any]:
    """This year's execution curve against 序时进度; the figures above it are the budget
    execution card's display model (rate, 序时进度, the gap in words and its RAG token)."""
    curves, line = f.curves, f.progress
    return {"months": curves["month_no"].tolist(), "values": [_clean(v) for v in curves["value"]],
            "progress_months": line["month_no"].tolist(), "progress": [_clean(v) for v in line["value"]],
            "year": int(curves["year"].iloc[-1]) if len(curves) else None,
            "rate_text": budget.value_text if budget else fmt_value(None, "%"),
            "progress_text": budget.target_text if budget else fmt_value(None, "%"),
            "gap": budget.gap if budget else None,
            "gap_text": (budget.gap_text if budget and budget.gap_text else time_progress_gap_text(None)),
            "gap_token": budget.rag_token if budget else "none"}


def _freshness(doc: dict, kpi_id: str, today) -> dict[str, Any]:
    """Each ribbon card, with its family's freshness, and the panels' families: the focus
    KPI's family is said in the header, and every late one is named in the header's mark."""
    every = family_freshness(today)
    cards = [_card(replace_freshness(d, every.get(kpi_family(d.kpi_id)))) for d in doc["cards"]]
    kpis = [kpi_id, *(d.kpi_id for d in doc["cards"]), *PANEL_FRESHNESS_KPIS]
    families = [every[n] for n in dict.fromkeys(kpi_family(k) for k in kpis) if n in every]
    late = [f.label for f in families if f.late]
    focus = every.get(kpi_family(kpi_id))
    return {"cards": cards, "freshness": {
        "focus": focus.to_dict() if focus else None,
        "families": [f.to_dict() for f in families],
        "late_text": f"{LATE_TEXT}：{'、'.join(late)}" if late else "",
    }}


def screen_data(region: str, kpi_id: str, *, scope: Scope, month=None, today=None) -> dict[str, Any]:
    """Everything one screen of ``region`` with focus KPI ``kpi_id`` shows, JSON-able.

    The ribbon is 累计 (the headline KPIs' values, targets, RAG and 同比); the map and the
    ranking are the focus KPI for the region's children (a county: its city's counties).
    Freshness is added outside the memo: lateness moves with the clock, not the data version.
    """
    doc = _screen_data(region, kpi_id, scope=scope, month=month)
    return {**doc, **_freshness(doc, load_catalogue().kpi(kpi_id).id, today)}


@memo(maxsize=256)
def _screen_data(region: str, kpi_id: str, *, scope: Scope, month=None) -> dict[str, Any]:
    f = screen_frames(region, kpi_id, scope=scope, month=month)
    reg, kpi, ov, phases = f.region, f.kpi, f.overview, f.phases
    ranking = ov.ranking.sort_values("rank", na_position="last") if len(ov.ranking) else ov.ranking
    cards = tuple(kpi_display(c) for c in ov.cards)  # freshness is added outside the memo
    budget = next((d for d in cards if d.kpi_id == SPENDING_KPI), None)
    terminated = f.funnel.loc[f.funnel["stage"] == "terminated", "count"]
    doc = {
        "region": reg.code, "region_name": reg.name, "level": reg.level, "province": ov.province,
        "month": f.month, "as_of": ov.as_of, "as_of_label": _month_label(ov.as_of),
        "period_label": ov.period_label,
        "cards": cards,
        "kpi": {"id": kpi.id, "name": kpi.name, "unit": kpi.unit, "higher_is_better": kpi.higher_is_better,
                "period_label": ranking["period_label"].iloc[0] if len(ranking) else ov.period_label},
        "map": {"level": ov.map_level, "parent": ov.map_parent, "title": ov.map_title,
                "codes": ov.map["region_code"].tolist() if len(ov.map) else [],
                "names": ov.map["region_name"].tolist() if len(ov.map) else [],
                "values": [_clean(v) for v in ov.map["value"]] if len(ov.map) else []},
        "ranking": {"title": ov.ranking_title, "rows": _ranking_rows(ranking, kpi.unit)},
        "trend": _trend(f),
        "alerts": _alerts(ov),
        "alert_counts": {"kpi": len(ov.red_kpis), "project": int(ov.alert_summary["count"].sum())},
        "funnel": [{"label": r["label"], "stages": r["stages"], "count": r["count"],
                    "count_text": fmt_value(r["count"], "个"), "budget": r["budget"]}
                   for r in phases.to_dict("records")],
        "terminated": int(terminated.iloc[0]) if len(terminated) else 0,
        "spending": _spending(f, budget),
    }
    return {**doc, "titles": _titles(doc)}


def _ranking_rows(ranking: pd.DataFrame, unit: str) -> list[dict]:
    """The ranking's rows with their texts, and each bar's length (% of the panel's bar, from the
    lower of 0 and the smallest value to the largest; 2% at least, so a bar is always seen)."""
    values = [v for v in (_clean(x) for x in ranking["value"]) if v is not None] if len(ranking) else []
    low = min([*values, 0.0])
    span = (max([*values, 0.0]) - low) or 1.0
    rows = []
    for r in ranking.to_dict("records"):
        value, rank = _clean(r["value"]), _clean(r.get("rank"))
        rows.append({"code": r["region_code"], "name": r["region_name"], "value": value,
                     "value_text": fmt_value(r["value"], unit), "rank": rank,
                     "rank_text": DASH if rank is None else str(int(rank)), "rag": r.get("rag"),
                     "bar": 0.0 if value is None else round(max(2.0, 100 * (value - low) / span), 2)})
    return rows


def _titles(doc: dict) -> dict[str, Any]:
    """Every heading and caption of the wall, worded here so the client only places text."""
    first = doc["cards"][0] if doc["cards"] else None
    funnel_total = sum(p["count"] for p in doc["funnel"])
    terminated = f"（另终止 {doc['terminated']}）" if doc["terminated"] else ""
    counts = doc["alert_counts"]
    year = doc["spending"]["year"]
    return {
        "screen": f"{doc['region_name']}数字政府建设运行监测",
        "as_of": f"数据截至 {doc['as_of_label']}",
        "cards": f"指标卡为{first.period_label}{first.period_name}，箭头为{first.change.name}" if first else "",
        "trend": f"{doc['kpi']['name']}走势与预测（{doc['trend']['name']}）",
        "funnel": f"项目全周期 {funnel_total} 个{terminated}",
        "map": f"{doc['map']['title']} · {doc['kpi']['name']}（{doc['kpi']['period_label']}）",
        "ranking": f"{doc['ranking']['title']} · {doc['kpi']['name']}",
        "alerts": f"预警播报 · 红色指标 {counts['kpi']} 项 · 项目预警 {counts['project']} 条",
        "alerts_none": "当前无红色指标和项目预警",
        "spending": "预算执行与序时进度" + (f"（{year}年累计）" if year else ""),
        "spending_rate": "执行率",
    }
