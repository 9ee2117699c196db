"""Chinese number formatting shared by cards, tables, the CLI, the wall and the briefing.

Two registers of one rounding: :func:`fmt_value` for cards, tables and the wall (a space
between number and unit: 96.2%, 72 个, 3.52 亿元) and :func:`fmt_words` for prose (the briefing:
72个, 3.52亿元). Both round the exact value once, to the same digits.
"""

from __future__ import annotations

import math

DASH = "—"
PP = "个百分点"
YI = 10000  # 万元 per 亿元
RAG_LABELS = {"green": "达标", "amber": "预警", "red": "未达标"}


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
    return as_number(x) is None


def fixed(x: float, digits: int, *, sep: str = "") -> str:
    """Fixed-point text without a negative zero (−0.04 at one digit reads 0.0, not -0.0)."""
    text = f"{x:{sep}.{digits}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def fmt_value(value, unit: str, *, digits: int | None = None) -> str:
    """A value with its unit: 96.2%, 1,234 件, 3.52 亿元 (money ≥ 1 亿 is shown in 亿元)."""
    if _missing(value):
        return DASH
    value = float(value)
    if unit == "%":
        return f"{fixed(value, 1 if digits is None else digits)}%"
    if unit == PP:
        text = fixed(value, 1 if digits is None else digits)
        return f"{'' if text.startswith('-') else '+'}{text} {PP}"
    if unit == "万元":
        if abs(value) >= YI:
            return f"{fixed(value / YI, 2 if digits is None else digits, sep=',')} 亿元"
        return f"{fixed(value, 1 if digits is None else digits, sep=',')} 万元"
    if unit == "分":
        return f"{fixed(value, 1 if digits is None else digits)} 分"
    return f"{fixed(value, 0 if digits is None else digits, sep=',')} {unit}"


def fmt_words(value, unit: str) -> str:
    """A value as prose writes it: 95.7%, 60个, 3456.7万元, 5.34亿元, 12.3万件, 2.5个百分点 —
    :func:`fmt_value`'s rounding without the space and the thousands separator; counts of
    1万 or more in 万 (one decimal), as a filed document writes them."""
    if _missing(value):
        return DASH
    v = float(value)
    if unit == "%":
        return f"{fixed(v, 1)}%"
    if unit == PP:
        return f"{fixed(v, 1)}{PP}"
    if unit == "万元":
        return f"{fixed(v / YI, 2)}亿元" if abs(v) >= YI else f"{fixed(v, 1)}万元"
    if unit == "分":
        return f"{fixed(v, 1)}分"
    if abs(v) >= 10000:
        return f"{fixed(v / 10000, 1)}万{unit}"
    return f"{fixed(v, 0)}{unit}"


def fmt_change(change, change_unit: str) -> str:
    """A signed change: +0.4 个百分点, −3.2%; "—" when there is nothing to compare."""
    if _missing(change):
        return DASH
    sign = "+" if change > 0 else ("−" if change < 0 else "±")
    if change_unit == PP:
        return f"{sign}{abs(change):.1f} {PP}"
    return f"{sign}{abs(change):.1f}%"


def rag_label(rag: str | None) -> str:
    """达标 / 预警 / 未达标, "—" without a status."""
    return RAG_LABELS.get(rag or "", DASH)
