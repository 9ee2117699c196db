"""What the 预测 page shows, assembled from the engine and :mod:`metrics.forecasting`.

Pure functions, importable without Dash; every public function takes the viewer's ``scope``.
The Chinese sentences are built here so that the page only lays them out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TypedDict

import pandas as pd

from data.scope import Scope
from metrics.catalogue import load_catalogue
from metrics.display import pace_texts
from metrics.engine import kpi_series
from metrics.forecast import Backtest
from metrics.forecasting import KpiAttainment, YearEnd, kpi_attainment, kpi_forecast, kpi_shape, year_end_target
from metrics.format import fmt_value
from metrics.page_state import DictAccess, PageContext, page_context
from metrics.periods import PeriodError, Window, add_months, time_progress

HORIZONS = (3, 6, 12, 18)
HISTORY_MONTHS = 36
WHAT_IF_MODE_LABELS = {"ramp": "逐月递增", "flat": "每月相同"}


def parse_horizon(h) -> int:
    """The forecast horizon from the URL: one of :data:`HORIZONS`, else a Chinese error."""
    try:
        value = int(str(h))
    except ValueError:
        value = None
    if value not in HORIZONS:
        raise PeriodError(f"预测期数不正确：{h!r}（可选：{'、'.join(map(str, HORIZONS))} 个月）")
    return value


def view_options(kpi_id: str) -> list[dict]:
    """当月/累计 choices that make sense for the KPI (a stock has one value per month end;
    a 序时进度 KPI and its gap are 累计 by definition)."""
    shape = kpi_shape(kpi_id)
    if shape.kind == "level":
        return [{"label": "月末值", "value": "month"}]
    if shape.base.target_mode == "time_progress":
        return [{"label": "累计", "value": "ytd"}]
    return [{"label": "当月", "value": "month"}, {"label": "累计", "value": "ytd"}]


def _view(kpi_id: str, view: str | None) -> str:
    allowed = [o["value"] for o in view_options(kpi_id)]
    if view in (None, ""):
        return allowed[0]
    if view not in ("month", "ytd"):
        raise PeriodError(f"未知的统计口径：{view!r}（可选：当月 month、累计 ytd）")
    return view if view in allowed else allowed[0]


def series_label(kpi_id: str, view: str) -> str:
    """当月 / 累计 / 月末 — what each plotted value is."""
    if kpi_shape(kpi_id).kind == "level":
        return "月末"
    return "累计" if view == "ytd" else "当月"


def _future_targets(kpi_id: str, region: str, months: pd.PeriodIndex, view: str) -> list[float | None]:
    """The target line over the forecast months (序时进度 month ÷ 12 for a 累计 execution rate)."""
    kpi = load_catalogue().kpi(kpi_id)
    by_year: dict[int, float | None] = {}
    out: list[float | None] = []
    for p in months:
        if kpi.target_mode == "time_progress":
            d = p.to_timestamp().date()
            out.append(time_progress(Window(d.replace(month=1), d)))
            continue
        if p.year not in by_year:
            by_year[p.year] = year_end_target(kpi_id, region, p.year)[0]
        out.append(by_year[p.year])
    return out


def _model_zh(model: str | None) -> str:
    """A Chinese summary of the engine's model description."""
    if not model:
        return "—"
    if model.startswith("Constant series"):
        return "序列恒定：按末值平推，区间宽度为零"
    if model.startswith("Fallback"):
        return "数据不足 12 个月：按末值平推，区间由逐月变化估计"
    m = re.match(r"Median combination: (.+?) on (\S+)(?: \(bounds\))? scale", model)
    if not m:
        return model
    members = "、".join(x.strip() for x in m.group(1).split("+ "))
    scale = {"log": "对数尺度", "logit(bounds)": "logit 尺度（限定在 0～100 之间）", "level": "原始尺度"}.get(
        m.group(2), m.group(2))
    season = "含 12 个月季节性" if "seasonal m=" in model else "无显著季节性"
    return f"中位数组合：{members}；{scale}；{season}；经验 t 分布预测区间"


def _pct(x) -> str:
    return "—" if x is None or x != x else f"{100 * x:.0f}%"


class BacktestSummary(TypedDict, total=False):
    """The back-test panel: ``available`` and ``text`` always, the figures when available."""

    available: bool
    text: str
    smape: float
    mase: float
    naive2_smape: float
    naive2_mase: float
    relative_mase: float | None
    coverage80: float | None
    coverage95: float | None
    origins: int


def backtest_summary(bt: Backtest | None, horizon: int) -> BacktestSummary:
    """Back-test figures and one Chinese sentence (sMAPE, MASE against Naive2, coverage)."""
    if not bt or not bt.get("origins"):
        return {"available": False, "text": "历史数据不足，无法回测"}
    e, n2 = bt["engine"], bt["naive2"]
    rel = e["mase"] / n2["mase"] if n2.get("mase") and n2["mase"] == n2["mase"] and n2["mase"] > 0 else None
    mase = "—" if e["mase"] != e["mase"] else f"{e['mase']:.2f}"
    mase2 = "—" if n2["mase"] != n2["mase"] else f"{n2['mase']:.2f}"
    rel_text = "" if rel is None else f"，误差为 Naive2 的 {rel * 100:.0f}%"
    text = (f"回测（{len(bt['origins'])} 个起点，每次预测 {horizon} 个月）：sMAPE {e['smape']:.1f}%"
            f"（Naive2 {n2['smape']:.1f}%）；MASE {mase}（Naive2 {mase2}{rel_text}）；"
            f"80% 区间覆盖率 {_pct(e.get('coverage80'))}，95% 区间覆盖率 {_pct(e.get('coverage95'))}")
    return {"available": True, "smape": e["smape"], "mase": e["mase"], "naive2_smape": n2["smape"],
            "naive2_mase": n2["mase"], "relative_mase": rel, "coverage80": e.get("coverage80"),
            "coverage95": e.get("coverage95"), "origins": len(bt["origins"]), "text": text}


def _needed_text(a: YearEnd, unit: str) -> str:
    """The pace needed, in the display model's wording (the briefing says the same)."""
    return pace_texts(a.needed_status, a.needed, a.needed_kind, unit)[0]


def what_if_unit(kpi_id: str) -> str:
    """What one step of the what-if slider moves: 个百分点 for rates and shares, % for flows."""
    shape = kpi_shape(kpi_id)
    if shape.kind in ("ytd_rate", "ytd_share") or shape.base.unit == "%":
        return "个百分点"
    if shape.kind == "ytd_sum":
        return "%"
    return shape.base.unit


class WhatIfText(TypedDict, total=False):
    """The what-if panel: the scenario's year-end value and its sentence (``baseline`` and
    ``probability`` too when there is data and the year is not over)."""

    value: float | None
    text: str
    baseline: float
    probability: float | None


def what_if_view(kpi_id: str, region: str, pp: float, mode: str, *, scope: Scope) -> WhatIfText:
    """The year-end figure when every future month moves by ``pp`` (``mode`` ramp/flat)."""
    kpi = load_catalogue().kpi(kpi_id)
    att = kpi_attainment(kpi_id, region, scope=scope, what_if_pp=float(pp or 0.0), what_if_mode=mode)
    a = att.year_end
    if a is None:
        return {"value": None, "text": "暂无数据"}
    w = a.what_if
    step = f"{abs(w.shift):.1f} {what_if_unit(kpi_id)}".replace(" %", "%")
    move = "提高" if w.shift >= 0 else "降低"
    how = "（逐月递增）" if mode == "ramp" else "（每月相同）"
    if a.months_remaining == 0:
        return {"value": w.scenario, "text": f"{a.year}年已结束：年底值 {fmt_value(w.scenario, kpi.unit)}"}
    delta = fmt_value(w.delta, "个百分点") if kpi.is_rate else fmt_value(w.delta, kpi.unit)
    text = (f"若今后每月{move} {step}{how}，{a.year}年底{kpi.name}预计为 {fmt_value(w.scenario, kpi.unit)}"
            f"（基线 {fmt_value(w.baseline, kpi.unit)}，变化 {delta}）")
    if w.probability_scenario is not None:
        text += f"；达标概率 {_pct(w.probability_scenario)}"
    return {"value": w.scenario, "baseline": w.baseline, "probability": w.probability_scenario, "text": text}


@dataclass(frozen=True, eq=False)
class ForecastPage(DictAccess):
    """What the 预测 page draws: its header (``ctx``), the KPI and view, the history and the
    forecast with its bands and targets, the year-end attainment with its sentences, the
    model and its back-test, and the what-if's unit."""

    ctx: PageContext
    kpi: str
    name: str
    unit: str
    view: str
    horizon: int
    series_label: str
    history: pd.DataFrame
    forecast: pd.DataFrame
    has_data: bool
    future_target: list
    attainment: KpiAttainment
    model: str | None
    model_zh: str
    modelled: str | None
    backtest: BacktestSummary
    title: str
    what_if_unit: str
    view_options: list[dict]
    probability_text: str
    expected_text: str
    needed_text: str
    target_text: str
    remaining_text: str = ""  # none when there is no data


def forecast_page_data(region, kpi: str | None, horizon, view: str | None, *, scope: Scope) -> ForecastPage:
    """Everything the 预测 page draws for one URL: header context, history, forecast with
    bands, target line, attainment sentences, model and back-test."""
    cat = load_catalogue()
    k = cat.kpi(kpi or "online_handling_rate")
    h = parse_horizon(horizon if horizon not in (None, "") else 6)
    v = _view(k.id, view)
    ctx = page_context(region, None, v, scope=scope)
    reg = ctx["region"]
    last = ctx["months"][1]
    start = add_months(last, -(HISTORY_MONTHS - 1))
    hist = kpi_series(k.id, reg, scope=scope, start=start, cumulative=v == "ytd")
    fc = kpi_forecast(k.id, reg, scope=scope, horizon=h, cumulative=v == "ytd")
    att = kpi_attainment(k.id, reg, scope=scope)
    label = series_label(k.id, v)
    has_data = bool(hist["value"].notna().any()) and bool(fc.attrs.get("has_data"))
    return ForecastPage(
        ctx=ctx, kpi=k.id, name=k.name, unit=k.unit, view=v, horizon=h,
        series_label=label, history=hist, forecast=fc, has_data=has_data,
        future_target=_future_targets(k.id, reg, fc.index, v) if has_data else [],
        attainment=att, model=fc.attrs.get("model"), model_zh=_model_zh(fc.attrs.get("model")),
        modelled=fc.attrs.get("modelled"), backtest=backtest_summary(fc.attrs.get("backtest"), h),
        title=f"{k.name}（{label}） · 近 {HISTORY_MONTHS} 个月与未来 {h} 个月预测",
        what_if_unit=what_if_unit(k.id), view_options=view_options(k.id),
        **_attainment_texts(att, k.unit, k.name),
    )


class AttainmentTexts(TypedDict, total=False):
    """The sentences of the 预测 page's attainment panels (:class:`ForecastPage` fields)."""

    probability_text: str
    expected_text: str
    needed_text: str
    target_text: str
    remaining_text: str


def _attainment_texts(att: KpiAttainment, unit: str, name: str) -> AttainmentTexts:
    a = att.year_end
    if a is None:
        return {"probability_text": "暂无数据", "expected_text": "—", "needed_text": "—", "target_text": "—"}
    year = a.year
    if a.target is None:
        target_text = "未设定年度目标"
        prob = f"{name}未设定{year}年目标"
    else:
        rel = "≥" if a.higher_is_better else "≤"
        target_text = f"{year}年目标 {rel} {fmt_value(a.target, unit)}（{att.target_source or '目录默认'}）"
        p = a.probability or 0.0  # a target is set: the engine gave a probability
        prob = (f"{year}年数据已齐：年底{'已' if p >= 0.5 else '未'}达到目标"
                if a.months_remaining == 0 else
                f"按当前趋势，{year}年底达到目标的概率为 {_pct(a.probability)}")
    lo, hi = a.interval
    lo95, hi95 = a.interval95
    expected = (f"{year}年底预计 {fmt_value(a.expected, unit)}（80% 区间 {fmt_value(lo, unit)}～"
                f"{fmt_value(hi, unit)}；95% 区间 {fmt_value(lo95, unit)}～{fmt_value(hi95, unit)}）")
    if a.months_remaining == 0:
        expected = f"{year}年底实际 {fmt_value(a.expected, unit)}"
    return {"probability_text": prob, "expected_text": expected, "needed_text": _needed_text(a, unit),
            "target_text": target_text,
            "remaining_text": (f"距{year}年底还有 {a.months_remaining} 个月"
                               f"（当前 {fmt_value(a.current, unit)}）")}


def forecast_table(region, kpi: str, horizon, view: str | None, *, scope: Scope) -> pd.DataFrame:
    """The forecast as a table for download (Chinese headers, unit and model in columns)."""
    d = forecast_page_data(region, kpi, horizon, view, scope=scope)
    fc = d.forecast
    return pd.DataFrame({
        "地区": d.ctx["region_name"], "指标": d.name, "口径": d.series_label,
        "月份": [str(p) for p in fc.index], "预测值": fc["mean"].to_numpy(),
        "80%下限": fc["lo80"].to_numpy(), "80%上限": fc["hi80"].to_numpy(),
        "95%下限": fc["lo95"].to_numpy(), "95%上限": fc["hi95"].to_numpy(),
        "单位": d.unit, "目标": d.future_target or None, "模型": d.model,
    })
