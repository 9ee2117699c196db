"""What the 资金 (spending) page shows: budget execution against 序时进度, assembled from the
engine and from the page's own scoped SQL (``metrics/sql/spending_*.sql``). Importable
without Dash; every public function takes the viewer's ``scope`` and applies it in SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TypedDict

import pandas as pd

from data import db
from data.scope import Scope, require
from metrics.cache import memo
from metrics.catalogue import load_catalogue
from metrics.compile import named_sql
from metrics.display import time_progress_gap_text
from metrics.engine import PP, compute, kpi_breakdown, kpi_series, rag_status
from metrics.errors import UserError
from metrics.format import RAG_LABELS
from metrics.page_state import DictAccess
from metrics.periods import Window, label, parse_month, period_name, time_progress
from metrics.regions import as_of, get_region, visible_children

CARD_KPIS = ["budget_total", "paid_total", "budget_execution_rate", "execution_gap_pp", "om_share",
             "recovered_funds", "surplus_returned"]
# the split dimensions of the spending fact the page draws, with their Chinese names
SPLITS = {"dept_code": "部门", "fund_source": "资金来源", "kind": "类别"}
FUND_SOURCES = ["中央", "省级", "市级", "县级", "社会资本"]
CURVE_YEARS = 3
SHOW_OPTIONS = ("below", "all")


class SpendingInputError(UserError, ValueError):
    """A spending-page URL parameter (department, unit, project, table filter) that is wrong."""


def _month_end(month) -> date:
    """The month the figures are read at: the selected month, capped at the data's last month."""
    return min(parse_month(month), as_of()[1])


def _ytd_window(month) -> Window:
    end = _month_end(month)
    return Window(end.replace(month=1), end)


@memo()
def _rows(sql_name: str, scope: Scope, **params) -> pd.DataFrame:
    """One of the page's scoped queries, memoised per data version, scope and parameters."""
    return db.query(named_sql(sql_name), {**params, **require(scope).params()})


def _gap_rags(gaps) -> list[str | None]:
    """RAG of each gap to 序时进度, on the thresholds of the catalogue's execution_gap_pp."""
    kpi = load_catalogue().kpi("execution_gap_pp")
    return [None if g is None or pd.isna(g) else rag_status(kpi, float(g), 0.0)[1] for g in gaps]


def departments(*, scope: Scope) -> dict[str, str]:
    """Department code → name, for the departments the viewer may see."""
    df = _rows("spending_departments.sql", require(scope))
    return dict(zip(df["code"], df["name"], strict=True))


def check_department(dept: str | None, *, scope: Scope) -> str | None:
    """``dept`` if it is a department the viewer may see (None passes); a Chinese error otherwise."""
    if dept in (None, ""):
        return None
    if dept not in departments(scope=scope):
        raise SpendingInputError(f"未知的部门代码或无权查看：{dept}")
    return dept


def spending_cards(region: str, month, *, scope: Scope, dept: str | None = None) -> list[dict]:
    """The headline cards (累计): 年度预算, 累计支付, 预算执行率 (target 序时进度), 与序时进度差,
    运维经费占比, 应收回资金, 结余资金 — one query per fact, cross-filtered by ``dept``."""
    cat = load_catalogue()
    df = compute(CARD_KPIS, [region], month, "ytd", scope=scope, filters={"dept": dept})
    window, last = df.attrs["window"], df.attrs["as_of"]
    out = []
    for row in df.to_dict("records"):
        kpi = cat.kpi(row["kpi_id"])
        row = {k: (None if not isinstance(v, str) and v is not None and pd.isna(v) else v) for k, v in row.items()}
        out.append({
            **row, "name": kpi.name, "unit": kpi.unit, "period": "ytd", "period_name": period_name("ytd"),
            "period_label": label("ytd", window), "change_unit": PP if kpi.is_rate else "%",
            "as_of": last.strftime("%Y-%m"), "caliber": kpi.caliber, "source": kpi.source,
            "higher_is_better": kpi.higher_is_better,
        })
    return out


def execution_curves(region: str, month, *, scope: Scope, dept: str | None = None,
                     years: int = CURVE_YEARS) -> pd.DataFrame:
    """累计 budget execution by month for the year of ``month`` (up to ``month``) and the
    ``years - 1`` years before it (whole years): year, month_no, month, value (%), paid and
    budget (万元), time_progress (%). Months without data are left out."""
    end = _month_end(month)
    start = date(end.year - years + 1, 1, 1)
    s = kpi_series("budget_execution_rate", region, scope=scope, start=start, end=end, cumulative=True, dept=dept)
    s = s.dropna(subset=["value"])
    out = pd.DataFrame({
        "year": s["month"].dt.year.astype(int), "month_no": s["month"].dt.month.astype(int), "month": s["month"],
        "value": s["value"].astype(float), "paid": s["numerator"].astype(float),
        "budget": s["denominator"].astype(float), "time_progress": s["target"].astype(float),
    })
    return out.reset_index(drop=True)


def time_progress_line() -> pd.DataFrame:
    """序时进度 at the end of each month of a year (month ÷ 12, in %)."""
    months = range(1, 13)
    return pd.DataFrame({"month_no": list(months),
                         "value": [time_progress(Window(date(2000, m, 1), date(2000, m, 1))) for m in months]})


@memo()
def execution_split(region: str, month, dim: str, *, scope: Scope, dept: str | None = None) -> pd.DataFrame:
    """累计 execution split by ``dim`` (dept_code, fund_source, kind): member, label, value (%),
    paid and budget (万元), gap to 序时进度 (个百分点) and its RAG, worst first."""
    if dim not in SPLITS:
        raise SpendingInputError(f"不支持的拆分维度：{dim}（可选：{'、'.join(SPLITS)}）")
    df = kpi_breakdown("budget_execution_rate", region, month, "ytd", dim=dim, scope=scope, dept=dept)
    cols = ["member", "label", "value", "paid", "budget", "target", "gap", "rag", "note"]
    if df.empty:
        return pd.DataFrame(columns=cols)
    names = departments(scope=scope) if dim == "dept_code" else {}
    out = pd.DataFrame({
        "member": df["member"], "label": [names.get(m, m) for m in df["member"]],
        "value": df["value"].astype(float), "paid": df["numerator"].astype(float),
        "budget": df["denominator"].astype(float), "target": df["target"].astype(float),
        "gap": df["gap"].astype(float), "rag": df["rag"],
    })
    out = out[(out["budget"] > 0) | (out["paid"] > 0)]
    out["note"] = [time_progress_gap_text(g) for g in out["gap"]]
    if dim == "fund_source":  # the fiscal order 中央 → 社会资本, not the code order
        out = out.assign(_o=out["member"].map({m: i for i, m in enumerate(FUND_SOURCES)})).sort_values("_o")
        return out.drop(columns="_o").reset_index(drop=True)
    return out.sort_values(["gap", "label"], na_position="last").reset_index(drop=True)


def region_execution(region: str, month, *, scope: Scope, dept: str | None = None) -> pd.DataFrame:
    """累计 execution of the visible regions one level below ``region`` (cities of a province,
    counties of a city; none below a county), in one query: region_code, region_name, budget,
    paid, execution, gap, rag, worst first."""
    kids = visible_children(get_region(region, scope=scope).code, scope=scope)
    cols = ["region_code", "region_name", "budget", "paid", "execution", "gap", "rag", "rag_label"]
    if not kids:
        return pd.DataFrame(columns=cols)
    ids = ["budget_total", "paid_total", "budget_execution_rate", "execution_gap_pp"]
    df = compute(ids, [r.code for r in kids], month, "ytd", scope=scope, filters={"dept": dept})
    wide = df.pivot(index="region_code", columns="kpi_id", values="value")
    rags = df[df["kpi_id"] == "execution_gap_pp"].set_index("region_code")["rag"]
    out = pd.DataFrame({
        "region_code": [r.code for r in kids], "region_name": [r.name for r in kids],
    })
    out["budget"] = out["region_code"].map(wide["budget_total"]).astype(float)
    out["paid"] = out["region_code"].map(wide["paid_total"]).astype(float)
    out["execution"] = out["region_code"].map(wide["budget_execution_rate"]).astype(float)
    out["gap"] = out["region_code"].map(wide["execution_gap_pp"]).astype(float)
    out["rag"] = out["region_code"].map(rags)
    out["rag_label"] = out["rag"].map(RAG_LABELS)
    return out.sort_values(["gap", "region_code"], na_position="last").reset_index(drop=True)[cols]


def unit_execution(region: str, month, *, scope: Scope, dept: str | None = None) -> pd.DataFrame:
    """累计 execution per project owner unit (项目单位) in ``region``: owner_unit, owner_level,
    county/city, projects, budget and paid (万元), execution (%), gap to 序时进度 (个百分点),
    rag, worst first (units without a budget last)."""
    scope = require(scope)
    window = _ytd_window(month)
    df = _rows("spending_units.sql", scope, region=region, month_end=window.end, dept=dept,
               time_progress=time_progress(window))
    df["rag"] = _gap_rags(df["gap"])
    df["rag_label"] = df["rag"].map(RAG_LABELS)
    df["region_label"] = [f"{c} {n}" if isinstance(c, str) and c != n else n
                          for c, n in zip(df["city_name"], df["county_name"], strict=True)]
    return df


def below_progress(df: pd.DataFrame) -> pd.DataFrame:
    """The rows of a region or unit table whose execution is below 序时进度 (gap < 0)."""
    return df[df["gap"] < 0].reset_index(drop=True)


def unit_projects(region: str, month, unit: str, *, scope: Scope, dept: str | None = None) -> pd.DataFrame:
    """The projects of owner unit ``unit`` in ``region``: the year's budget, 累计 payments and
    execution, 批复概算 and payments since approval (万元); empty when the unit has none there."""
    scope = require(scope)
    window = _ytd_window(month)
    df = _rows("spending_unit_projects.sql", scope, region=region, month_end=window.end, unit=unit, dept=dept,
               time_progress=time_progress(window))
    df["rag"] = _gap_rags(df["gap"])
    df["rag_label"] = df["rag"].map(RAG_LABELS)
    return df


class ProjectPayments(TypedDict):
    """One project's facts and payments (:func:`project_payments`); money in 万元."""

    project_id: str
    name: str
    owner_unit: str
    county_name: str
    dept_name: str
    fund_source: str
    approved_budget: float
    approved_on: str | None
    year: int
    month_end: str
    payments: pd.DataFrame
    paid_year: float
    paid_since_approval: float


def project_payments(project: str, month, *, scope: Scope) -> ProjectPayments | None:
    """One project's payments up to ``month``: its facts, the monthly payments since approval
    (month, kind, fund_source, amount_wan), and the totals for the year of ``month`` and since
    approval (万元). None when the project is unknown or outside the viewer's scope."""
    scope = require(scope)
    end = _month_end(month)
    df = _rows("spending_project_payments.sql", scope, project=project, month_end=end)
    if df.empty:
        return None
    head = df.iloc[0]
    approved_on = head["approved_on"] if not pd.isna(head["approved_on"]) else None
    pays = df.dropna(subset=["month"])[["month", "kind", "fund_source", "amount_wan"]].copy()
    pays["month"] = pd.to_datetime(pays["month"])
    if approved_on is not None:
        since = pd.Timestamp(approved_on).to_period("M").to_timestamp()
        pays = pays[pays["month"] >= since]
    in_year = pays[pays["month"].dt.year == end.year]
    return {
        "project_id": head["project_id"], "name": head["name"], "owner_unit": head["owner_unit"],
        "county_name": head["county_name"], "dept_name": head["dept_name"],
        "fund_source": head["project_fund_source"], "approved_budget": float(head["approved_budget"]),
        "approved_on": pd.Timestamp(approved_on).strftime("%Y-%m-%d") if approved_on is not None else None,
        "year": end.year, "month_end": end.strftime("%Y-%m"),
        "payments": pays.sort_values(["month", "kind", "fund_source"]).reset_index(drop=True),
        "paid_year": float(in_year["amount_wan"].sum()),
        "paid_since_approval": float(pays["amount_wan"].sum()),
    }


@dataclass(frozen=True, eq=False)
class SpendingPage(DictAccess):
    """What the 资金 page draws below its header: the 序时进度 of the year, the cards, the
    cumulative curves (and their forecast when asked for), the splits by department, fund
    source and kind, the regions and owner units (below time progress or all), and the
    drill-through to a unit's projects and a project's payments."""

    month_end: str
    year: int
    period_label: str
    time_progress: float
    dept: str | None
    show: str
    dept_name: str | None
    cards: list[dict]
    curves: pd.DataFrame
    progress_line: pd.DataFrame
    by_dept: pd.DataFrame
    by_fund: pd.DataFrame
    by_kind: pd.DataFrame
    regions: pd.DataFrame
    regions_total: int
    units: pd.DataFrame
    units_total: int
    units_below: int
    unit: str | None
    unit_projects: pd.DataFrame | None
    project: str | None
    project_detail: ProjectPayments | None
    forecast: pd.DataFrame | None = None  # the execution forecast overlay (the page adds it)


def spending_page(region: str, month, *, scope: Scope, dept: str | None = None, unit: str | None = None,
                  project: str | None = None, show: str = "below") -> SpendingPage:
    """Everything the spending page draws for one URL state (region and month already resolved)."""
    scope = require(scope)
    if show not in SHOW_OPTIONS:
        raise SpendingInputError(f"未知的显示方式：{show!r}（可选：below 仅低于序时进度、all 全部）")
    dept = check_department(dept, scope=scope)
    window = _ytd_window(month)
    units = unit_execution(region, month, scope=scope, dept=dept)
    regions = region_execution(region, month, scope=scope, dept=dept)
    return SpendingPage(
        month_end=window.end.strftime("%Y-%m"),
        year=window.end.year,
        period_label=label("ytd", window),
        time_progress=time_progress(window),
        dept=dept,
        show=show,
        dept_name=departments(scope=scope).get(dept) if dept else None,
        cards=spending_cards(region, month, scope=scope, dept=dept),
        curves=execution_curves(region, month, scope=scope, dept=dept),
        progress_line=time_progress_line(),
        # the department split is not cross-filtered: it is where a department is picked
        by_dept=execution_split(region, month, "dept_code", scope=scope),
        by_fund=execution_split(region, month, "fund_source", scope=scope, dept=dept),
        by_kind=execution_split(region, month, "kind", scope=scope, dept=dept),
        regions=regions if show == "all" else below_progress(regions),
        regions_total=len(regions),
        units=units if show == "all" else below_progress(units),
        units_total=len(units),
        units_below=int((units["gap"] < 0).sum()),
        unit=unit or None,
        unit_projects=unit_projects(region, month, unit, scope=scope, dept=dept) if unit else None,
        project=project or None,
        project_detail=project_payments(project, month, scope=scope) if project else None,
    )


def execution_forecast(region: str, month, *, scope: Scope) -> pd.DataFrame:
    """The forecast of 累计 budget execution for the rest of the selected year (month_no,
    mean, lo80/hi80, lo95/hi95 in %), from the cached forecast engine; empty when the
    selected month is not the latest reported one or the year is complete."""
    from metrics.forecasting import kpi_forecast  # heavy (statsmodels): only when asked for

    _first, last = as_of()
    m = parse_month(month)
    if m != last or m.month == 12:
        return pd.DataFrame(columns=["month_no", "mean", "lo80", "hi80", "lo95", "hi95"])
    fc = kpi_forecast("budget_execution_rate", region, scope=scope, horizon=12 - m.month, cumulative=True)
    out = fc.reset_index(drop=True)
    out.insert(0, "month_no", [p.month for p in fc.index])  # fc's attrs (the model) come along
    return out
