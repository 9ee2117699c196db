"""Chinese number formatting shared by cards, tables, the CLI and the briefing."""

from __future__ import annotations

import math

from metrics.catalogue import load_catalogue

DASH = "—"


def as_number(x) -> float | None:
    """A float, or None for None, NaN, NA and anything that is not a number."""
    if x is None:
        return None
    try:
        f = float(x)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_value(value, unit: str, *, digits: int | None = None) -> str:
    """A value with its unit: 96.2%, 1,234 件, 3.52 亿元 (money ≥ 1 亿 is shown in 亿元)."""
    if _missing(value):
        return DASH
    if unit == "%":
        return f"{value:.{1 if digits is None else digits}f}%"
    if unit == "个百分点":
        return f"{value:+.{1 if digits is None else digits}f} 个百分点"
    if unit == "万元":
        if abs(value) >= 10000:
            return f"{value / 10000:,.{2 if digits is None else digits}f} 亿元"
        return f"{value:,.{1 if digits is None else digits}f} 万元"
    if unit == "分":
        return f"{value:.{1 if digits is None else digits}f} 分"
    return f"{value:,.{0 if digits is None else digits}f} {unit}"


def fmt_change(change, change_unit: str) -> str:
    """A signed change: +0.4 个百分点, −3.2%; "—" when there is nothing to compare."""
    if _missing(change):
        return DASH
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    if change_unit == "个百分点":
        return f"{sign}{abs(change):.1f} 个百分点"
    return f"{sign}{abs(change):.1f}%"


def rag_label(rag: str | None) -> str:
    return {"green": "达标", "amber": "预警", "red": "未达标"}.get(rag or "", DASH)


def fmt_target(kpi_id: str, target, unit: str) -> str | None:
    """How a target reads beside a value: "目标 95.0%", "目标：清零" for a count that should be
    zero, and None for a gap KPI whose target is 0 (the reference line is its target)."""
    t = as_number(target)
    if t is None:
        return None
    kpi = load_catalogue().kpi(kpi_id)
    if t == 0 and kpi.type == "gap":
        return None
    if t == 0 and not kpi.higher_is_better:
        return "目标：清零"
    return f"目标 {fmt_value(t, unit)}"
