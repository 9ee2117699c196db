"""One plain data structure for a briefing, gathered from the engine and the view modules.

Everything takes the viewer's ``scope``: a county viewer's briefing sees only that county.
No SQL here: the engine, the rules and the spending view already answer every question.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict

import pandas as pd

from briefing import narrative, outlook
from data.scope import Scope, ScopeError
from metrics.catalogue import load_catalogue
from metrics.display import KpiDisplay, kpi_display
from metrics.engine import KpiResult, kpi_regions, kpi_results, kpi_series
from metrics.errors import UserError, user_message
from metrics.format import PP, as_number
from metrics.freshness import LATE_TEXT, Freshness, freshness_groups, kpis_freshness
from metrics.periods import PeriodError, parse_month
from metrics.regions import as_of, children, descendants, get_region
from metrics.rules import alert_summary, project_alerts
from metrics.spending_view import below_progress, unit_execution

LEAD_KPI = "online_available_rate"  # the first sentence and the map speak of it
MONEY_KPI = "paid_total"
TOP_N = 3


class BriefingError(UserError, ValueError):
    """A request the briefing cannot serve (bad region, month without data): a Chinese message."""


@dataclass
class Briefing:
    region: str
    region_name: str
    level: str
    month: str  # YYYY-MM
    month_label: str  # 2025年6月
    period_label: str  # 2025年1—6月
    as_of: str
    kpis: list[dict]  # one row per headline KPI (当月, 累计, target, progress, rag; "display": its model)
    money: KpiDisplay | None  # 累计支付 (万元)
    children: dict[str, pd.DataFrame] = field(default_factory=dict)  # KPI → child regions, ranked
    child_level: str | None = None  # "city" / "county"
    highlights: Highlights | dict[str, Any] = field(default_factory=dict)  # a test may give only some keys
    problems: Problems | dict[str, Any] = field(default_factory=dict)
    outlook: list[dict] = field(default_factory=list)
    trend: pd.DataFrame | None = None  # 累计 series of the lead KPI in the year
    map_frame: pd.DataFrame | None = None  # lead KPI by county (province and city briefings)
    lead_kpi: str = LEAD_KPI
    paragraphs: list[str] = field(default_factory=list)  # filled by narrative
    highlight_lines: list[str] = field(default_factory=list)
    problem_lines: list[str] = field(default_factory=list)
    outlook_lines: list[str] = field(default_factory=list)
    freshness: list[Freshness] = field(default_factory=list)  # the families the briefing reports

    @property
    def title(self) -> str:
        return f"{self.region_name}数字政府建设月度简报"

    @property
    def freshness_groups(self) -> list[tuple[str, str, str]]:
        """(families, 数据截至 … · 更新于 …, 数据未按期更新 or "") for the cover."""
        return freshness_groups(self.freshness)

    @property
    def running_line(self) -> str:
        """The running head (PDF) and foot (PPTX); every page says when some data is late."""
        late = f" · {LATE_TEXT}" if any(f.late for f in self.freshness) else ""
        return f"{self.region_name} · {self.month_label} · 月度简报{late}"


_f = as_number


def progress(value: float | None, target: float | None, higher_is_better: bool) -> float | None:
    """Completion of the target in percent (value ÷ target); none for a target of zero or a
    lower-is-better KPI, where a ratio would not read as progress."""
    value, target = _f(value), _f(target)
    if value is None or target is None or target <= 0 or not higher_is_better:
        return None
    return value / target * 100


def check_request(region: str, month: str, *, scope: Scope):
    """The region and month, validated with Chinese messages (raises BriefingError)."""
    try:
        reg = get_region(str(region), scope=scope)
        m = parse_month(month)
    except (LookupError, PeriodError, ScopeError) as exc:
        raise BriefingError(user_message(exc) or str(exc)) from exc
    first, last = as_of()
    if not first <= m <= last:
        raise BriefingError(f"{m.year}年{m.month}月没有数据（可选 {first:%Y-%m} 至 {last:%Y-%m}）")
    return reg, m


class RankedRegions(TypedDict):
    """A KPI and some of the child regions with their values (the best, or the tail)."""

    kpi_id: str
    name: str
    unit: str
    regions: list[tuple[str, float]]


class Highlights(TypedDict):
    best: list[RankedRegions]
    improved: list[KpiDisplay]
    on_target: list[dict[str, Any]]


class Problems(TypedDict):
    red: list[dict[str, Any]]
    amber: list[dict[str, Any]]
    lagging: list[dict[str, Any]]
    alerts_total: int
    alerts: list[dict[str, Any]]
    units_total: int
    units_below: int
    units_worst: list[dict[str, Any]]
    tail_counties: NotRequired[RankedRegions | None]  # added for a province's briefing


def _kpi_row(ytd: KpiResult, cur: KpiResult | None, higher: bool) -> dict[str, Any]:
    d = ytd.to_dict()
    d["ytd_value"] = _f(ytd.value)
    d["month_value"] = _f(cur.value) if cur is not None else None
    d["month_label"] = cur.period_label if cur is not None else None
    d["higher_is_better"] = higher
    d["progress"] = progress(ytd.value, ytd.target, higher)
    d["display"] = kpi_display(ytd)  # every sentence, table cell and bar label reads it
    d["month_display"] = kpi_display(cur) if cur is not None else None
    return d


def _children_frames(reg, month, ids, scope) -> tuple[dict[str, pd.DataFrame], str | None]:
    kids = children(reg.code, scope=scope)
    if not kids:
        return {}, None
    return {k: kpi_regions(k, kids, month, "ytd", scope=scope) for k in ids}, kids[0].level


def _highlights(kpis: list[dict], frames: dict[str, pd.DataFrame]) -> Highlights:
    """Best performers among the children and the biggest improvements (同比, pp)."""
    best: list[RankedRegions] = []
    for k in kpis:
        df = frames.get(k["kpi_id"])
        if df is None or df.empty or df["value"].isna().all():
            continue
        top = df.sort_values("value", ascending=not k["higher_is_better"]).dropna(subset=["value"]).head(TOP_N)
        best.append({"kpi_id": k["kpi_id"], "name": k["name"], "unit": k["unit"],
                     "regions": [(r.region_name, float(r.value)) for r in top.itertuples()]})
    # a change that reads as an improvement (持平 does not), largest rate changes first
    improved = [k["display"] for k in kpis if k["display"].yoy.tone == "good"]
    improved.sort(key=lambda d: -abs(d.yoy.value or 0) if d.yoy.unit == PP else 0)
    on_target = [k for k in kpis if k["rag"] == "green"]
    return {"best": best, "improved": improved[:TOP_N + 1], "on_target": on_target}


def _lagging(kpis: list[dict], frames: dict[str, pd.DataFrame]) -> list[dict]:
    """Child regions red on at least one headline KPI, worst (most red KPIs) first."""
    names: dict[str, str] = {}
    reds: dict[str, list[str]] = {}
    for k in kpis:
        df = frames.get(k["kpi_id"])
        if df is None or df.empty:
            continue
        for r in df[df["rag"] == "red"].itertuples():
            names[r.region_code] = r.region_name
            reds.setdefault(r.region_code, []).append(k["name"])
    rows = [{"region_code": c, "region_name": names[c], "kpis": v} for c, v in reds.items()]
    return sorted(rows, key=lambda r: (-len(r["kpis"]), r["region_code"]))


def _tail(frame: pd.DataFrame | None, kpi) -> RankedRegions | None:
    """The counties at the bottom of the lead KPI (a province briefing names counties too)."""
    if frame is None or frame.empty or frame["value"].isna().all():
        return None
    tail = frame.dropna(subset=["value"]).sort_values("value", ascending=kpi.higher_is_better).head(TOP_N)
    return {"kpi_id": kpi.id, "name": kpi.name, "unit": kpi.unit,
            "regions": [(r.region_name, float(r.value)) for r in tail.itertuples()]}


def _problems(reg, month, kpis, frames, scope) -> Problems:
    alerts = project_alerts(reg.code, month, scope=scope)
    summary = alert_summary(alerts)
    units = unit_execution(reg.code, month, scope=scope)
    below = below_progress(units) if not units.empty else units
    return {
        "red": [k for k in kpis if k["rag"] == "red"],
        "amber": [k for k in kpis if k["rag"] == "amber"],
        "lagging": _lagging(kpis, frames),
        "alerts_total": len(alerts),
        "alerts": [{"rule_name": r.rule_name, "clause": r.clause, "count": int(r.count)}
                   for r in summary.sort_values("count", ascending=False).itertuples()],
        "units_total": len(units),
        "units_below": len(below),
        "units_worst": [{"owner_unit": r.owner_unit, "region_label": r.region_label, "execution": _f(r.execution),
                         "gap": _f(r.gap)} for r in below.head(5).itertuples()],
    }


def briefing_content(region: str, month: str, *, scope: Scope) -> Briefing:
    """Everything a briefing says about ``region`` in ``month`` (YYYY-MM), as the viewer sees it."""
    reg, m = check_request(region, month, scope=scope)
    cat = load_catalogue()
    ids = [k.id for k in cat.headline()]
    ytd = kpi_results(ids, reg.code, m, "ytd", scope=scope)
    month_ids = [k for k in ids if "month" in cat.kpi(k).periods]
    cur = {r.kpi_id: r for r in kpi_results(month_ids, reg.code, m, "month", scope=scope)}
    kpis = [_kpi_row(r, cur.get(r.kpi_id), cat.kpi(r.kpi_id).higher_is_better) for r in ytd]
    money = kpi_display(kpi_results([MONEY_KPI], reg.code, m, "ytd", scope=scope)[0]) if MONEY_KPI in cat.kpis else None
    frames, child_level = _children_frames(reg, m, ids, scope)
    trend = kpi_series(LEAD_KPI, reg.code, scope=scope, start=m.replace(month=1), end=m, cumulative=True)
    map_frame = None
    if reg.level != "county":
        counties = descendants(reg.code, "county", scope=scope)
        map_frame = kpi_regions(LEAD_KPI, counties, m, "ytd", scope=scope) if counties else None
    b = Briefing(
        region=reg.code, region_name=reg.name, level=reg.level, month=m.strftime("%Y-%m"),
        month_label=f"{m.year}年{m.month}月", period_label=ytd[0].period_label, as_of=ytd[0].as_of,
        kpis=kpis, money=money, children=frames, child_level=child_level, trend=trend, map_frame=map_frame,
    )
    b.freshness = kpis_freshness([*ids, MONEY_KPI] if money else ids)
    b.highlights = _highlights(kpis, frames)
    b.problems = _problems(reg, m, kpis, frames, scope)
    b.problems["tail_counties"] = _tail(map_frame, cat.kpi(LEAD_KPI)) if reg.level == "province" else None
    b.outlook = outlook.attainments(kpis, reg.code, m, scope=scope)
    narrative.write(b)
    return b
