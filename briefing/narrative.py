"""The briefing's Chinese sentences, written from the content structure.

Every figure, change and gap to target is the display model's (``metrics/display.py``):
rounded once from the exact value, rates changing in 个百分点 and counts and money in %, a
change that rounds to zero reading 持平, 提高/下降 for rates and 增加/减少 for counts and
money. Here they are only put into sentences; a missing value drops its clause.
"""

from __future__ import annotations

import math

from metrics.display import KpiDisplay, pace_texts
from metrics.format import PP, fmt_words

num = fmt_words  # a value as prose writes it: 95.7%, 60个, 3456.7万元, 5.34亿元, 12.3万件


def _missing(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def area_word(region_name: str, level: str) -> str:
    """全省 / 全市 / 全县 / 全区."""
    if level == "province":
        return "全省"
    if level == "city":
        return "全市"
    return "全" + (region_name[-1] if region_name and region_name[-1] in "县区市旗" else "县")


def period_prefix(period_label: str) -> str:
    """'2025年1—6月' → '2025年1—6月' (kept whole: the year matters in a filed briefing)."""
    return period_label


def kpi_sentence(d: KpiDisplay, *, first: bool = False) -> str:
    """One KPI's clause: 网上可办率达95.7%，较上月提高0.2个百分点，同比……，高于年度目标0.7个百分点."""
    if d.value is None:
        return f"{d.name}暂无数据"
    verb = ("达" if d.unit == "%" else "为") if first else ""
    parts = [f"{d.name}{verb}{d.value_words}"]
    if d.mom.direction == 0 and d.yoy.direction == 0:
        parts.append("与上月、上年同期均持平")
    else:
        parts += [w for w in (d.mom.words, d.yoy.words) if w]
    if d.gap_words:
        parts.append(d.gap_words)
    return "，".join(parts)


def _join_names(items: list[str]) -> str:
    return "、".join(items)


def rag_summary(kpis: list[dict]) -> str:
    """9项主要指标中，5项达到目标，2项预警（…），2项未达标（…）。"""
    total = len(kpis)
    green = [k["name"] for k in kpis if k.get("rag") == "green"]
    amber = [k["name"] for k in kpis if k.get("rag") == "amber"]
    red = [k["name"] for k in kpis if k.get("rag") == "red"]
    if total and len(green) == total:
        return f"{total}项主要指标全部达到目标。"
    parts = []
    if green:
        parts.append(f"{len(green)}项达到目标")
    if amber:
        parts.append(f"{len(amber)}项预警（{_join_names(amber)}）")
    if red:
        parts.append(f"{len(red)}项未达标（{_join_names(red)}）")
    rest = total - len(green) - len(amber) - len(red)
    if rest:
        parts.append(f"{rest}项无目标或暂无数据")
    return f"{total}项主要指标中，" + "，".join(parts) + "。"


def overview_paragraphs(b) -> list[str]:
    """总体情况: the service KPIs, then money and budget, then the RAG count and the alerts."""
    area = area_word(b.region_name, b.level)
    shown = [k["display"] for k in b.kpis]
    budget = [d for d in shown if d.target_kind == "time_progress"]
    others = [d for d in shown if d.target_kind != "time_progress"]
    clauses = [kpi_sentence(d, first=(i == 0)) for i, d in enumerate(others)]
    first = f"{period_prefix(b.period_label)}，{area}" + "；".join(clauses) + "。" if clauses else ""
    money_parts = []
    if b.money is not None and b.money.value is not None:
        c = b.money.yoy.words
        money_parts.append(f"累计支付{b.money.value_words}" + (f"，{c}" if c else ""))
    money_parts += [kpi_sentence(d) for d in budget]
    second = f"{area}信息化项目" + "，".join(money_parts) + "。" if money_parts else ""
    third = rag_summary(b.kpis)
    total = b.problems.get("alerts_total", 0)
    if total:
        top = b.problems["alerts"][:2]
        detail = "，".join(f"{a['rule_name']}{a['count']}条" for a in top)
        third += f"项目规则预警{total}条，其中{detail}。"
    return [p for p in (first, second, third) if p]


def highlight_lines(b) -> list[str]:
    """亮点: targets met, the largest improvements, the best child regions."""
    h = b.highlights
    lines = []
    if h.get("on_target"):
        names = _join_names([k["name"] for k in h["on_target"]])
        lines.append(f"{names}达到年度目标。")
    for d in h.get("improved", []):
        lines.append(f"{d.name}{d.yoy.words}，改善明显。")
    level = {"city": "设区市", "county": "县（市、区）"}.get(b.child_level or "", "地区")
    for r in h.get("best", [])[:4]:
        tops = "、".join(f"{n}（{num(v, r['unit'])}）" for n, v in r["regions"])
        lines.append(f"{r['name']}居前的{level}：{tops}。")
    return lines or ["本期暂无突出亮点。"]


def problem_lines(b) -> list[str]:
    """存在问题: red and amber KPIs, lagging regions, rule alerts, units below 序时进度."""
    p = b.problems
    lines = []
    for d in [k["display"] for k in p.get("red", []) + p.get("amber", [])]:
        lines.append(f"{d.name}{d.value_words}" + (f"，{d.gap_words}" if d.gap_words else "") + f"（{d.rag_label}）。")
    lag = p.get("lagging", [])
    level = {"city": "设区市", "county": "县（市、区）"}.get(b.child_level or "", "地区")
    if lag:
        shown = lag[:5]
        names = "；".join(f"{r['region_name']}（{_join_names(r['kpis'])}）" for r in shown)
        more = f"等{len(lag)}个{level}" if len(lag) > len(shown) else ""
        lines.append(f"指标未达标的{level}：{names}{more}。")
    tail = p.get("tail_counties")
    if tail:
        names = "、".join(f"{n}（{num(v, tail['unit'])}）" for n, v in tail["regions"])
        lines.append(f"{tail['name']}排名靠后的县（市、区）：{names}。")
    if p.get("alerts_total"):
        detail = "，".join(f"{a['rule_name']}{a['count']}条" for a in p["alerts"])
        lines.append(f"项目规则预警{p['alerts_total']}条：{detail}。")
    if p.get("units_below"):
        worst = "、".join(f"{u['owner_unit']}（{num(u['execution'], '%')}）" for u in p["units_worst"][:3])
        lines.append(f"{p['units_total']}个项目单位中，{p['units_below']}个预算执行低于序时进度，"
                     f"执行率较低的有{worst}。")
    return lines or ["本期未发现突出问题。"]


def probability_text(p) -> str:
    """约96%（大概率达标）; 不足1% / 超过99% at the ends."""
    if _missing(p):
        return "—"
    pct = float(p) * 100
    text = "不足1%" if pct < 1 else "超过99%" if pct > 99 else f"约{pct:.0f}%"
    word = ("大概率达标" if pct >= 90 else "较有可能达标" if pct >= 60 else "存在不确定性" if pct >= 40
            else "达标难度较大" if pct >= 10 else "难以达标")
    return f"{text}（{word}）"


def expected_text(value, unit: str) -> str:
    """A year-end forecast: counts are whole (约62个), other units as :func:`num`."""
    if _missing(value):
        return "—"
    if unit in ("%", PP, "万元", "分"):
        return num(value, unit)
    return f"约{num(round(float(value)), unit)}"


def needed_text(row: dict) -> str:
    """The pace required, in the display model's words: 今后每月需达到75.6% / 今后每月需减少10个 /
    已达到目标，今后需保持 (the 预测 page says the same)."""
    return pace_texts(row.get("status"), row.get("needed"), row.get("needed_kind"), row["unit"])[1]


def outlook_lines(b) -> list[str]:
    lines = []
    for r in b.outlook:
        if r.get("source") == "engine":
            head = f"{r['name']}：预计年底{expected_text(r['expected'], r['unit'])}"
            if r.get("probability") is not None:
                head += f"，达标概率{probability_text(r['probability'])}"
        else:
            head = f"{r['name']}：按线性进度测算"
        lines.append(f"{head}；{needed_text(r)}。")
    return lines


def write(b) -> None:
    """Fill the briefing's sentences in place."""
    b.paragraphs = overview_paragraphs(b)
    b.highlight_lines = highlight_lines(b)
    b.problem_lines = problem_lines(b)
    b.outlook_lines = outlook_lines(b)
