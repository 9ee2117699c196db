"""The display model: how one KPI result reads, decided once for every client.

The Dash cards (``components/cards.py``), the wall (``metrics/screen_view.py`` →
``/api/screen`` → ``assets/screen/screen.js``) and the briefing (``briefing/narrative.py``)
render a :class:`KpiDisplay` and derive no wording, rounding or colour of their own.

The rules, each in one place below:
- every number is rounded once, from the exact value (a gap to target is the exact value
  minus the exact target, then rounded: −29.658 reads 29.7, never 53.7 − 83.3 = 29.6);
- a change is 同比 for 累计 and year figures, 环比 for a month; rates change in 个百分点,
  counts and money in %; a change that rounds to 0.0 is 持平, neither good nor bad;
- one wording per kind of target: 「目标 ≥95.0%」, 「目标：清零」, 「序时进度 83.3%」, 「无目标」;
- RAG is a colour *token* (green / amber / red / none) that each client paints from its own
  theme of ``palette/tokens.toml``.

Two registers of the same text: ``*_text`` for cards and the wall (96.2%, 72 个) and
``*_words`` for prose (72个, 较上月提高0.4个百分点).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal, TypedDict

from metrics.catalogue import Kpi, load_catalogue
from metrics.format import DASH, PP, as_number, fixed, fmt_value, fmt_words, rag_label
from metrics.freshness import Freshness, kpi_freshness

ARROWS = {1: "▲", -1: "▼"}
Tone = Literal["good", "bad", "flat", "none"]  # a change's colour for the KPI's direction
TargetKind = Literal["none", "fixed", "zero", "time_progress", "gap"]
TIME_PROGRESS = "序时进度"
YEAR_TARGET = "年度目标"


@dataclass(frozen=True)
class ChangeDisplay:
    """One comparison (同比 or 环比) as every client shows it."""

    name: str  # 同比 / 环比
    value: float | None  # exact
    shown: float | None  # rounded once (0.1): what every client prints
    unit: str  # 个百分点 / %
    direction: int | None  # 1 up, −1 down, 0 持平, None nothing to compare
    tone: Tone  # the colour of the change for this KPI's direction
    text: str  # ▲ 0.4 个百分点 · ▼ 3.2% · 持平 · —
    words: str | None  # 较上月提高0.4个百分点 · 同比增加3.5% · 与上月持平 · None


@dataclass(frozen=True)
class KpiDisplay:
    """One KPI result for one region and period, worded for display."""

    kpi_id: str
    name: str
    unit: str
    period: str  # ytd / month / year
    period_name: str  # 累计 / 当月 / 时点
    period_label: str  # 2026年1—10月
    as_of: str
    higher_is_better: bool
    value: float | None  # exact
    value_text: str  # 53.7% · 72 个 · 8.72 亿元 · —
    value_words: str  # 53.7% · 72个 · 8.72亿元 · —
    target: float | None  # exact
    target_kind: TargetKind  # zero: 清零; time_progress: 序时进度; gap: a gap KPI's 0
    target_text: str  # 目标 ≥95.0% · 目标：清零 · 序时进度 83.3% · 目标：不低于序时进度 · 无目标
    target_short: str  # the same under a 目标 heading: ≥95.0% · 清零 · 序时进度 83.3% · —
    target_source: str | None
    gap: float | None  # value − target, exact (signed as the numbers are, not by direction)
    gap_text: str | None  # 低于序时进度 29.7 个百分点 · 达到年度目标 · 尚未实现清零目标 · None
    gap_words: str | None  # 低于序时进度29.7个百分点 …
    mom: ChangeDisplay
    yoy: ChangeDisplay
    rag: str | None
    rag_label: str  # 达标 / 预警 / 未达标 / —
    rag_token: str  # green / amber / red / none: a colour token of palette/tokens.toml
    caliber: str  # 口径
    source: str  # 依据
    fresh_text: str | None  # 数据截至 2026-10 · 更新于 11-05 (None: no freshness row)
    late: bool
    late_text: str  # 数据未按期更新, or ""

    @property
    def change(self) -> ChangeDisplay:
        """The change a one-change client (the wall) shows: 环比 for a month, else 同比."""
        return self.mom if self.period == "month" else self.yoy

    @property
    def foot_text(self) -> str:
        """The as-of line under a card without freshness: 2026年1—10月 · 数据截至 2026-10."""
        return f"{self.period_label} · 数据截至 {self.as_of}"

    @property
    def alert_text(self) -> str:
        """One line of a list of red KPIs (the wall's ticker): the value and its target,
        逾期项目 70 个（目标：清零）; a gap KPI says its gap in words, as the 资金 card does under
        the budget execution rate: 与序时进度差：低于序时进度 30.2 个百分点 (never a signed −30.2)."""
        if self.target_kind == "gap" and self.gap_text:
            return f"{self.name}：{self.gap_text}"
        target = "" if self.target_kind == "none" else f"（{self.target_text}）"
        return f"{self.name} {self.value_text}{target}"

    @property
    def tooltip(self) -> str:
        """口径, 依据 and how fresh the data is: a card's hover text."""
        fresh = (self.fresh_text + (f" · {self.late_text}" if self.late else "")) if self.fresh_text \
            else f"数据截至：{self.as_of}"
        return f"口径：{self.caliber}\n依据：{self.source}\n{fresh}"


# ------------------------------------------------------------------ the rules


def change_display(change, unit: str, *, name: str, higher_is_better: bool, is_rate: bool) -> ChangeDisplay:
    """A 同比/环比 change: rounded once to 0.1 (in ``unit``: 个百分点 or %); 0.0 is 持平."""
    exact = as_number(change)
    against = "上月" if name == "环比" else "上年同期"
    if exact is None:
        return ChangeDisplay(name, None, None, unit, None, "none", DASH, None)
    shown = round(exact, 1)
    if shown == 0:
        return ChangeDisplay(name, exact, 0.0, unit, 0, "flat", "持平", f"与{against}持平")
    direction = 1 if shown > 0 else -1
    tone: Tone = "good" if (direction > 0) == higher_is_better else "bad"
    magnitude = f"{abs(shown):.1f}"
    text = f"{ARROWS[direction]} {magnitude} {PP}" if unit == PP else f"{ARROWS[direction]} {magnitude}%"
    verb = ("提高" if direction > 0 else "下降") if is_rate else ("增加" if direction > 0 else "减少")
    lead = ("较上月" if is_rate else "环比") if name == "环比" else "同比"
    words = f"{lead}{verb}{magnitude}{PP if unit == PP else '%'}"
    return ChangeDisplay(name, exact, shown, unit, direction, tone, text, words)


def _target_kind(kpi: Kpi, target: float | None) -> TargetKind:
    if target is None:
        return "none"
    if kpi.target_mode == "time_progress":
        return "time_progress"
    if kpi.type == "gap" and target == 0:
        return "gap"
    if target == 0 and not kpi.higher_is_better:
        return "zero"
    return "fixed"


def _gap_reference(kpi: Kpi) -> str:
    """What a gap KPI's zero stands for: its base KPI's target (序时进度 or 年度目标)."""
    base = load_catalogue().kpis.get(kpi.base or "")
    return TIME_PROGRESS if base is not None and base.target_mode == "time_progress" else YEAR_TARGET


def target_texts(kpi: Kpi, target: float | None) -> tuple[TargetKind, str, str]:
    """(kind, target_text, target_short): the one wording of a target beside a value."""
    kind = _target_kind(kpi, target)
    if kind == "none":
        return kind, "无目标", DASH
    if kind == "time_progress":
        text = f"{TIME_PROGRESS} {fmt_value(target, kpi.unit)}"
        return kind, text, text
    if kind == "gap":
        words = f"不{'低' if kpi.higher_is_better else '高'}于{_gap_reference(kpi)}"
        return kind, f"目标：{words}", words
    if kind == "zero":
        return kind, "目标：清零", "清零"
    shown = fmt_value(target, kpi.unit).lstrip("+")
    rel = "≥" if kpi.higher_is_better else "≤"
    return kind, f"目标 {rel}{shown}", f"{rel}{shown}"


def gap_texts(kpi: Kpi, value: float | None, target: float | None, kind: str) -> tuple[str | None, str | None]:
    """(gap_text, gap_words): how the value stands against its target, from the exact
    difference rounded once. Rates and gaps in 个百分点 (高于/低于); a 清零 target 已/尚未实现;
    counts and money 超过/未达到/低于/超出 (in the value's own unit)."""
    if value is None or target is None:
        return None, None
    name = TIME_PROGRESS if kind == "time_progress" else _gap_reference(kpi) if kind == "gap" else YEAR_TARGET
    if kind == "zero":
        text = "已实现清零目标" if value <= 0 else "尚未实现清零目标"
        return text, text
    diff = value - target
    if kpi.is_rate:
        shown = round(diff, 1)
        if shown == 0:
            text = f"与{name}持平" if name == TIME_PROGRESS else f"达到{name}"
            return text, text
        lead = f"{'高于' if shown > 0 else '低于'}{name}"
        return f"{lead} {fixed(abs(shown), 1)} {PP}", f"{lead}{fixed(abs(shown), 1)}{PP}"
    if fmt_value(abs(diff), kpi.unit) == fmt_value(0, kpi.unit):
        return f"达到{name}", f"达到{name}"
    better = diff > 0 if kpi.higher_is_better else diff < 0
    if better or not kpi.higher_is_better:
        lead = ("超过" if diff > 0 else "低于") if better else "超出"
        return f"{lead}{name} {fmt_value(abs(diff), kpi.unit)}", f"{lead}{name}{fmt_words(abs(diff), kpi.unit)}"
    return (f"未达到{name}（{fmt_value(target, kpi.unit)}）", f"未达到{name}（{fmt_words(target, kpi.unit)}）")


def time_progress_gap_text(gap) -> str:
    """A budget-execution gap to 序时进度 (个百分点) in display words: 低于序时进度 12.4 个百分点 /
    高于序时进度 3.0 个百分点 / 与序时进度持平 / 与序时进度差：— (tables of units and regions)."""
    kpi = load_catalogue().kpi("budget_execution_rate")
    g = as_number(gap)
    if g is None:
        return f"与{TIME_PROGRESS}差：{DASH}"
    return gap_texts(kpi, g, 0.0, "time_progress")[0] or DASH


def _field(result, name: str, default=None):
    if isinstance(result, Mapping):
        return result.get(name, default)
    return getattr(result, name, default)


def kpi_display(result, *, freshness: Freshness | None = None) -> KpiDisplay:
    """The display model of one KPI result: a :class:`metrics.engine.KpiResult` or its dict
    (a view's card row, which may rename its period, e.g. 时点), with the freshness of the
    KPI's family when the client shows it."""
    kpi = load_catalogue().kpi(_field(result, "kpi_id"))
    unit = _field(result, "unit") or kpi.unit
    value = as_number(_field(result, "value"))
    target = as_number(_field(result, "target"))
    change_unit = _field(result, "change_unit") or (PP if kpi.is_rate else "%")
    kind, target_text, target_short = target_texts(kpi, target)
    gap_text, gap_words = gap_texts(kpi, value, target, kind)
    rag = _field(result, "rag")
    rag = rag if rag in ("green", "amber", "red") else None

    def change(name: str, key: str) -> ChangeDisplay:
        return change_display(_field(result, key), change_unit, name=name,
                              higher_is_better=kpi.higher_is_better, is_rate=kpi.is_rate)

    return KpiDisplay(
        kpi_id=kpi.id, name=_field(result, "name") or kpi.name, unit=unit,
        period=_field(result, "period") or "ytd", period_name=_field(result, "period_name") or "",
        period_label=_field(result, "period_label") or "", as_of=_field(result, "as_of") or "",
        higher_is_better=kpi.higher_is_better,
        value=value, value_text=fmt_value(value, unit), value_words=fmt_words(value, unit),
        target=target, target_kind=kind, target_text=target_text, target_short=target_short,
        target_source=_field(result, "target_source"),
        gap=None if value is None or target is None else value - target, gap_text=gap_text, gap_words=gap_words,
        mom=change("环比", "mom_change"), yoy=change("同比", "yoy_change"),
        rag=rag, rag_label=rag_label(rag), rag_token=rag or "none",
        caliber=kpi.caliber, source=kpi.source, **_fresh_fields(freshness),
    )


class _FreshFields(TypedDict):
    fresh_text: str | None
    late: bool
    late_text: str


def _fresh_fields(f: Freshness | None) -> _FreshFields:
    return {"fresh_text": f.text if f else None, "late": bool(f and f.late),
            "late_text": f.late_text if f and f.late else ""}


def replace_freshness(d: KpiDisplay, freshness: Freshness | None) -> KpiDisplay:
    """The same model with the freshness of ``freshness`` (the wall adds it outside its memo:
    lateness moves with the clock, not with the data)."""
    return replace(d, **_fresh_fields(freshness))


def kpi_display_fresh(result, *, today=None) -> KpiDisplay:
    """:func:`kpi_display` with the freshness of the KPI's family as of ``today`` (the clock):
    what a page's card and the wall show."""
    return kpi_display(result, freshness=kpi_freshness(_field(result, "kpi_id"), today))


# ------------------------------------------------------------------ the pace needed

PACE_STATUS = {
    "no_target": "未设定年度目标，仅作趋势预测",
    "complete": "全年数据已齐，年底值已确定",
    "secured": "目标已确保：今后各月即使为最低值也能达标",
    "impossible": "今后各月即使达到最高值，年底也无法达到目标",
    "met": "已达到目标，今后需保持",
}


def pace_texts(status: str | None, needed, kind: str | None, unit: str) -> tuple[str, str]:
    """(text, words): the pace needed to end the year on target, as the 预测 page (text) and the
    briefing (words) say it. ``kind``: ``monthly_rate`` (a 累计 rate: each month's value),
    ``monthly_share`` (% of the year's budget a month), ``monthly_flow`` (a total a month) or
    ``monthly_increase`` (a level: the change a month, 个百分点 for rates)."""
    if status in PACE_STATUS:
        return PACE_STATUS[status], PACE_STATUS[status]
    v = as_number(needed)
    if v is None:
        return DASH, DASH
    if kind == "monthly_rate":
        return f"今后每月需达到 {fmt_value(v, unit)}", f"今后每月需达到{fmt_words(v, unit)}"
    if kind == "monthly_share":
        return f"今后每月需完成年度预算的 {fixed(v, 1)}%", f"今后每月需完成年度预算的{fixed(v, 1)}%"
    if kind == "monthly_flow":
        return f"今后每月需完成 {fmt_value(v, unit)}", f"今后每月需完成{fmt_words(v, unit)}"
    if round(abs(v), 1) == 0:
        return "今后需保持现有水平", "今后需保持现有水平"
    if unit in ("%", PP):
        verb, step, step_unit = ("提高" if v > 0 else "下降"), fixed(abs(v), 1), PP
    else:  # a count or an amount a month: one decimal where it has one (2.5 个, 10 个)
        verb, step, step_unit = ("增加" if v > 0 else "减少"), fixed(abs(v), 1).removesuffix(".0"), unit
    return f"今后每月需{verb} {step} {step_unit}", f"今后每月需{verb}{step}{step_unit}"
