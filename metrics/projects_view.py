"""What the 项目 page shows: the portfolio as it stood at a month end.

Headline KPIs, the lifecycle funnel (by count or budget), the tier and category split,
the rule alerts with their policy clauses, one owner unit's Gantt timeline and one
project's detail. Every public function takes the viewer's ``scope`` and applies it in
SQL (``metrics/sql/projects_*.sql``, the engine and ``metrics.rules``); pages only draw.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TypedDict

import pandas as pd

from data import db
from data.scope import Scope, require
from metrics.cache import memo
from metrics.compile import named_sql
from metrics.engine import kpi_breakdown, kpi_results
from metrics.errors import UserError
from metrics.page_state import PageContext, page_context
from metrics.periods import parse_month
from metrics.regions import get_region
from metrics.rules import alert_summary, breaches, load_rules, project_alerts

TIERS = ("较小", "一般", "较大", "省重点")
CATEGORIES = ("基础设施", "应用系统", "数据资源", "安全保障", "运维服务")
HEADLINE = ("project_count", "project_budget", "overdue_projects", "not_started_6m", "over_budget",
            "acceptance_pending", "cloud_rate", "data_share_compliance")
FUNNEL_MEASURES = {"count": "项目数", "budget": "概算"}
# the Gantt's colour classes, in legend order (逾期 overrides the stage of an overdue project)
STATUSES = ("前期", "未开工", "建设中", "试运行", "已验收", "逾期", "已终止")
_PROJECT_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class ProjectsInputError(UserError, ValueError):
    """A URL parameter of the 项目 page that names nothing valid (the message is Chinese)."""


def month_end(month) -> date:
    """The last day of ``month`` ('2025-06' or a date): stage states are read there."""
    return (pd.Timestamp(parse_month(month)) + pd.offsets.MonthEnd(0)).date()


def stock_label(month) -> str:
    """截至2025年6月末: how every figure of this page names its point in time."""
    m = parse_month(month)
    return f"截至{m.year}年{m.month}月末"


def check_tier(tier: str | None) -> str | None:
    """``tier`` if it is one of 较小/一般/较大/省重点 (None: every tier)."""
    if tier in (None, ""):
        return None
    if tier not in TIERS:
        raise ProjectsInputError(f"未知的项目档次：{tier!r}（可选：{'、'.join(TIERS)}）")
    return tier


def check_funnel(funnel: str | None) -> str:
    """``count`` (default) or ``budget``."""
    funnel = funnel or "count"
    if funnel not in FUNNEL_MEASURES:
        raise ProjectsInputError(f"未知的漏斗口径：{funnel!r}（可选：count 项目数、budget 概算）")
    return funnel


def check_rule(rule: str | None) -> str | None:
    """A rule id of ``rules.toml`` (None: every rule)."""
    if rule in (None, ""):
        return None
    rules = load_rules().rules
    if rule not in rules:
        options = "、".join(f"{r.id} {r.name}" for r in rules.values())
        raise ProjectsInputError(f"未知的预警规则：{rule!r}（可选：{options}）")
    return rule


# ------------------------------------------------------------------ queries


@memo(maxsize=64)
def _state(region: str, as_of: date, tier: str | None, scope: Scope) -> pd.DataFrame:
    return db.query(named_sql("projects_state.sql"), {"region": region, "as_of": as_of, "tier": tier,
                                                      **scope.params()})


@memo(maxsize=4)
def _stages() -> pd.DataFrame:
    return db.query(named_sql("projects_stages.sql"))


def portfolio_state(region: str, month, *, scope: Scope, tier: str | None = None) -> pd.DataFrame:
    """One row per visible project of ``region`` with an event by the end of ``month``:
    its current stage (the latest event; 终止 wins a tie), milestone dates up to the month
    end, the Gantt status (前期/未开工/建设中/试运行/已验收/逾期/已终止) and bar span."""
    scope = require(scope)
    get_region(region, scope=scope)
    return _state(region, month_end(month), check_tier(tier), scope)


def _funnel(state: pd.DataFrame) -> pd.DataFrame:
    stages = _stages()
    agg = state.groupby("stage").agg(count=("project_id", "size"), budget=("approved_budget", "sum"))
    out = stages.merge(agg, left_on="stage", right_index=True, how="left")
    out["count"] = out["count"].fillna(0).astype(int)
    out["budget"] = out["budget"].fillna(0.0).astype(float)
    out["terminated"] = out["stage"] == "terminated"
    return out.reset_index(drop=True)


def stage_funnel(region: str, month, *, scope: Scope, tier: str | None = None) -> pd.DataFrame:
    """Projects by current stage at the end of ``month``, in lifecycle order: stage, seq,
    label, count (个), budget (批复概算, 万元) and ``terminated`` (终止, shown apart)."""
    return _funnel(portfolio_state(region, month, scope=scope, tier=tier))


@memo(maxsize=128)
def _split(kpi_id: str, region: str, month, dim: str, scope: Scope) -> pd.Series:
    df = kpi_breakdown(kpi_id, region, month, "month", dim=dim, scope=scope)
    return df.set_index("member")["value"] if not df.empty else pd.Series(dtype=float)


def portfolio_split(region: str, month, *, scope: Scope, dim: str = "tier") -> pd.DataFrame:
    """在库项目数 (个) and 在库项目概算 (万元) at the end of ``month`` by ``tier`` or
    ``category``, from the engine's breakdown, members in their fixed order (zeros kept)."""
    order = {"tier": TIERS, "category": CATEGORIES}[dim]
    counts = _split("project_count", region, month, dim, scope)
    budgets = _split("project_budget", region, month, dim, scope)
    members = list(order) + sorted(set(counts.index) - set(order))
    return pd.DataFrame({"member": members,
                         "count": [float(counts.get(m, 0.0)) for m in members],
                         "budget": [float(budgets.get(m, 0.0)) for m in members]})


@memo(maxsize=64)
def _alerts(region: str, month, scope: Scope) -> pd.DataFrame:
    # this page lists the reminders (即将到期) too, apart from the breaches
    return project_alerts(region, month, scope=scope, reminders=True)


def _tier_alerts(region: str, month, scope: Scope, tier: str | None) -> pd.DataFrame:
    alerts = _alerts(region, month, scope)
    return alerts[alerts["tier"] == tier] if tier else alerts


def _narrow(alerts: pd.DataFrame, rule: str | None) -> pd.DataFrame:
    # every rule's rows when one is picked; else every breach (reminders have their own chip)
    alerts = alerts[alerts["rule_id"] == rule] if rule else breaches(alerts)
    alerts = alerts.sort_values(["days_over", "project_id"], ascending=[False, True], na_position="last").copy()
    alerts["row_key"] = alerts["project_id"] + "|" + alerts["rule_id"]
    alerts["amount_wan"] = alerts["amount_wan"].astype(float)
    alerts["days_over"] = alerts["days_over"].astype(float)
    return alerts.reset_index(drop=True)


def alert_table(region: str, month, *, scope: Scope, tier: str | None = None,
                rule: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(alerts, summary): every rule breach of the visible projects (of ``tier``) at the end
    of ``month``, most days over first, or the rows of ``rule`` (a reminder rule too); the
    summary counts every rule, reminders included, before that narrowing. Each alert row
    carries ``row_key`` = project_id|rule_id."""
    tier, rule = check_tier(tier), check_rule(rule)
    alerts = _tier_alerts(region, month, scope, tier)
    return _narrow(alerts, rule), alert_summary(alerts, reminders=True)


def _units(state: pd.DataFrame, alerts: pd.DataFrame) -> pd.DataFrame:
    units = state.groupby("owner_unit").agg(projects=("project_id", "size"), budget=("approved_budget", "sum"))
    units["alerts"] = breaches(alerts).groupby("owner_unit").size().reindex(units.index).fillna(0).astype(int)
    units = units.reset_index().sort_values(["alerts", "projects", "owner_unit"], ascending=[False, False, True])
    return units.reset_index(drop=True)


def owner_units(region: str, month, *, scope: Scope, tier: str | None = None) -> pd.DataFrame:
    """The owner units (建设单位) of the visible projects with their project count, budget
    (万元) and breach count at the end of ``month``, most breaches first."""
    state = portfolio_state(region, month, scope=scope, tier=tier)
    return _units(state, _tier_alerts(region, month, scope, check_tier(tier)))


def _gantt(state: pd.DataFrame, unit: str) -> pd.DataFrame:
    rows = state[state["owner_unit"] == unit].sort_values(["bar_start", "project_id"])
    return rows.reset_index(drop=True)


def unit_gantt(region: str, month, unit: str, *, scope: Scope, tier: str | None = None) -> pd.DataFrame:
    """One owner unit's visible projects, earliest first: bar from approval (or application)
    to completion/final acceptance/termination (or the month end while ongoing), status,
    current stage and planned finish."""
    return _gantt(portfolio_state(region, month, scope=scope, tier=tier), unit)


# ------------------------------------------------------------------ one project


def _flag(value: bool, yes: str = "是", no: str = "否") -> str:
    return yes if bool(value) else no


class Money(TypedDict):
    """建设 or 运维 money of a project: budget and paid (万元), progress in % (None without a
    budget) and the drawn bar (the progress clamped to 0–100)."""

    kind: str
    budget_name: str
    budget: float
    paid: float
    progress: float | None
    bar: float


class ProjectEvent(TypedDict):
    stage: str
    label: str
    date: date | None
    note: str | None


class ProjectFlag(TypedDict):
    name: str
    value: str
    ok: bool | None


class ProjectDetail(TypedDict):
    """One project as :func:`project_detail` gives it (the project page's detail panel)."""

    project_id: str
    name: str
    owner_unit: str
    owner_level: str
    county_code: str
    county_name: str
    dept_name: str
    category: str
    tier: str
    fund_source: str
    apply_year: int
    as_of: date
    as_of_label: str
    stage: str | None
    stage_label: str
    planned_start: date | None
    planned_finish: date | None
    money: list[Money]
    events: list[ProjectEvent]
    flags: list[ProjectFlag]
    alerts: pd.DataFrame


def _money(kind: str, budget_name: str, budget, paid) -> Money:
    budget, paid = float(budget), float(paid)
    progress = paid / budget * 100 if budget else None
    # the drawn bar is clamped to its track; the text keeps the true percentage
    return {"kind": kind, "budget_name": budget_name, "budget": budget, "paid": paid, "progress": progress,
            "bar": min(max(progress or 0.0, 0.0), 100.0)}


def project_detail(project_id: str, month, *, scope: Scope) -> ProjectDetail | None:
    """One visible project as it stood at the end of ``month``: attributes, 建设 (批复概算
    vs paid) and 运维 (budgets allotted vs paid) money with progress in %, every stage with
    the date reached, the compliance flags and its active alerts (即将到期 reminders included).
    None: unknown or out of scope."""
    scope = require(scope)
    if not isinstance(project_id, str) or not _PROJECT_ID.match(project_id):
        return None
    as_of = month_end(month)
    params = {"project_id": project_id, "as_of": as_of, **scope.params()}
    rows = db.query(named_sql("projects_detail.sql"), params)
    if rows.empty:
        return None
    p = rows.iloc[0].to_dict()
    events = db.query(named_sql("projects_events.sql"), params)
    reached = events.dropna(subset=["event_date"])
    current = reached.sort_values(["event_date", "seq"]).iloc[-1] if not reached.empty else None
    alerts = _alerts(p["county_code"], month, scope)
    alerts = alerts[alerts["project_id"] == project_id].reset_index(drop=True)
    evaluated = bool(((events["stage"] == "evaluated") & events["event_date"].notna()).any())
    score = p["performance_score"]
    mlps = p["mlps_level"]
    return {
        "project_id": p["project_id"], "name": p["name"], "owner_unit": p["owner_unit"],
        "owner_level": p["owner_level"], "county_code": p["county_code"], "county_name": p["county_name"],
        "dept_name": p["dept_name"], "category": p["category"], "tier": p["tier"],
        "fund_source": p["fund_source"], "apply_year": p["apply_year"],
        "as_of": as_of,
        "as_of_label": stock_label(month),
        "stage": None if current is None else current["stage"],
        "stage_label": "截至该月尚未申报" if current is None else current["label"],
        "planned_start": None if pd.isna(p["planned_start"]) else pd.Timestamp(p["planned_start"]).date(),
        "planned_finish": None if pd.isna(p["planned_finish"]) else pd.Timestamp(p["planned_finish"]).date(),
        "money": [_money("建设", "批复概算", p["approved_budget"], p["paid_build_wan"]),
                  _money("运维", "已下达运维预算", p["om_budget_wan"], p["paid_om_wan"])],
        "events": [{"stage": e.stage, "label": e.label,
                    "date": None if pd.isna(e.event_date) else pd.Timestamp(e.event_date).date(),
                    "note": e.note if isinstance(e.note, str) else None}
                   for e in events.itertuples()],
        "flags": [
            {"name": "上政务云", "value": "涉密系统免于上云" if p["classified"] else _flag(p["on_gov_cloud"]),
             "ok": bool(p["classified"] or p["on_gov_cloud"])},
            {"name": "数据共享确认", "value": _flag(p["data_sharing_confirmed"], "已确认", "未确认"),
             "ok": bool(p["data_sharing_confirmed"])},
            {"name": "密码测评", "value": _flag(p["crypto_assessed"], "已测评", "未测评"),
             "ok": bool(p["crypto_assessed"])},
            {"name": "等保级别", "value": "未定级" if pd.isna(mlps) else f"第{int(mlps)}级",
             "ok": not pd.isna(mlps)},
            {"name": "绩效得分", "value": f"{float(score):.1f} 分" if evaluated and not pd.isna(score) else "尚未评价",
             "ok": None if not evaluated or pd.isna(score) else float(score) >= 80.0},
        ],
        "alerts": alerts,
    }


# ------------------------------------------------------------------ the page


@memo(maxsize=64)
def _headline(region: str, month: str, scope: Scope) -> tuple[dict, ...]:
    return tuple(r.to_dict() for r in kpi_results(list(HEADLINE), region, month, "month", scope=scope))


@dataclass(frozen=True, eq=False)
class _Portfolio:
    """The pieces shared by every view of one region × month × tier (read only)."""

    state: pd.DataFrame
    funnel: pd.DataFrame
    alerts: pd.DataFrame
    summary: pd.DataFrame
    units: pd.DataFrame
    tiers: pd.DataFrame
    categories: pd.DataFrame


@memo(maxsize=64)
def _portfolio(region: str, month: str, tier: str | None, scope: Scope) -> _Portfolio:
    """The pieces shared by every view of one region × month × tier, computed once per data
    version (callers only read them): state, funnel, splits, tier alerts, owner units."""
    state = portfolio_state(region, month, scope=scope, tier=tier)
    alerts = _tier_alerts(region, month, scope, tier)
    return _Portfolio(state=state, funnel=_funnel(state), alerts=alerts,
                      summary=alert_summary(alerts, reminders=True),
                      units=_units(state, alerts),
                      tiers=portfolio_split(region, month, scope=scope, dim="tier"),
                      categories=portfolio_split(region, month, scope=scope, dim="category"))


@dataclass(frozen=True, eq=False)
class ProjectsPage(PageContext):
    """What the 项目 page draws besides its header (dated 截至…月末): the filters as
    validated, the headline cards, the funnel, tier and category splits, the alerts and
    their summary, the owner units and the chosen unit's Gantt."""

    as_of_date: date
    stock_label: str
    tier: str | None
    funnel_measure: str
    rule: str | None
    cards: list[dict]
    funnel: pd.DataFrame
    tiers: pd.DataFrame
    categories: pd.DataFrame
    alerts: pd.DataFrame
    alert_summary: pd.DataFrame
    units: pd.DataFrame
    unit: str | None
    unit_note: str | None
    gantt: pd.DataFrame


def projects_view(region, month, *, scope: Scope, tier=None, funnel=None, rule=None, unit=None) -> ProjectsPage:
    """Everything the 项目 page draws for one URL: header context, headline KPIs, the
    funnel, tier and category splits, alerts with their summary, the owner units and the
    chosen unit's Gantt (default: the unit with most alerts). Bad input raises a Chinese
    error (:class:`ProjectsInputError`, or the engine's own)."""
    scope = require(scope)
    ctx = page_context(region, month, "month", scope=scope, periods=("month",))
    tier, funnel, rule = check_tier(tier), check_funnel(funnel), check_rule(rule)
    reg, m = ctx["region"], ctx["month"]
    first, last = ctx["months"]
    if not first <= ctx.month_start <= last:
        raise ProjectsInputError(f"月份超出数据范围：{m}（可选 {first:%Y-%m} 至 {last:%Y-%m}）")
    label = stock_label(m)
    header = {**ctx, "period_label": label, "period_name": "时点"}
    cards = [{**r, "period_name": "时点", "period_label": label} for r in _headline(reg, m, scope)]
    shared = _portfolio(reg, m, tier, scope)
    state, units = shared.state, shared.units
    default = units["owner_unit"].iloc[0] if not units.empty else None
    known = not unit or unit in set(units["owner_unit"])
    chosen = unit if unit and known else default
    return ProjectsPage(
        **header,
        as_of_date=month_end(m),
        stock_label=label,
        tier=tier,
        funnel_measure=funnel,
        rule=rule,
        cards=cards,
        funnel=shared.funnel.copy(),
        tiers=shared.tiers.copy(),
        categories=shared.categories.copy(),
        alerts=_narrow(shared.alerts, rule),
        alert_summary=shared.summary.copy(),
        units=units.copy(),
        unit=chosen,
        unit_note=None if known else f"建设单位「{unit}」在所选地区和档次下没有项目，已改为显示预警最多的单位",
        gantt=_gantt(state, chosen) if chosen else state.iloc[0:0],
    )
