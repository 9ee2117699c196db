"""The briefing's Chinese wording, on hand-made inputs: every case the issue names."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest

from briefing import narrative as n
from briefing.outlook import linear_pace
from metrics.display import kpi_display


@pytest.mark.parametrize("value,unit,text", [
    (96.2, "%", "96.2%"), (96.25, "%", "96.2%"), (-0.04, "%", "0.0%"), (60, "个", "60个"),
    (3456.74, "万元", "3456.7万元"), (53432.99, "万元", "5.34亿元"), (123456, "件", "12.3万件"),
    (None, "%", "—"), (float("nan"), "万元", "—"),
])
def test_num(value, unit, text):
    assert n.num(value, unit) == text


def _kpi(kpi_id="online_available_rate", ytd_value=96.2, **kw):
    """A briefing row as briefing.content builds it: the result's fields and its display model."""
    base = {"kpi_id": kpi_id, "name": "网上可办率", "unit": "%", "value": ytd_value, "mom_change": 0.4,
            "yoy_change": 2.0, "change_unit": "个百分点", "target": 95.0, "rag": "green", "period": "ytd"}
    row = {**base, **kw}
    return {**row, "ytd_value": ytd_value, "display": kpi_display(row)}


def test_kpi_sentence_reads_like_the_example():
    assert n.kpi_sentence(_kpi()["display"], first=True) == (
        "网上可办率达96.2%，较上月提高0.4个百分点，同比提高2.0个百分点，高于年度目标1.2个百分点")


def test_kpi_sentence_flat_both_ways_and_missing_value():
    assert n.kpi_sentence(_kpi(mom_change=0.01, yoy_change=-0.02)["display"]) == (
        "网上可办率96.2%，与上月、上年同期均持平，高于年度目标1.2个百分点")
    assert n.kpi_sentence(_kpi(ytd_value=None)["display"]) == "网上可办率暂无数据"
    assert n.kpi_sentence(_kpi(mom_change=None, target=None)["display"]) == "网上可办率96.2%，同比提高2.0个百分点"


def test_the_gap_to_time_progress_is_the_exact_gap_rounded_once():
    # 53.675 − 83.333 = −29.658 → 29.7; rounding each first (53.7 − 83.3) would say 29.6
    budget = _kpi("budget_execution_rate", 53.675237717712974, name="预算执行率", target=250 / 3,
                  mom_change=None, yoy_change=None, rag="red")["display"]
    assert n.kpi_sentence(budget) == "预算执行率53.7%，低于序时进度29.7个百分点"


def test_rag_summary_counts_and_all_green():
    kpis = [_kpi(name="甲"), _kpi(name="乙", rag="amber"), _kpi(name="丙", rag="red"), _kpi(name="丁", rag=None)]
    assert n.rag_summary(kpis) == "4项主要指标中，1项达到目标，1项预警（乙），1项未达标（丙），1项无目标或暂无数据。"
    assert n.rag_summary([_kpi(), _kpi()]) == "2项主要指标全部达到目标。"


def test_area_word():
    assert n.area_word("江西省", "province") == "全省"
    assert n.area_word("南昌市", "city") == "全市"
    assert n.area_word("东湖区", "county") == "全区"
    assert n.area_word("进贤县", "county") == "全县"


@pytest.mark.parametrize("p,text", [(0.959, "约96%（大概率达标）"), (0.005, "不足1%（难以达标）"),
                                    (0.999, "超过99%（大概率达标）"), (0.5, "约50%（存在不确定性）")])
def test_probability_text(p, text):
    assert n.probability_text(p) == text


@pytest.mark.parametrize("row,text", [
    ({"unit": "%", "needed": 75.552, "needed_kind": "monthly_rate", "status": "needed"}, "今后每月需达到75.6%"),
    ({"unit": "%", "needed": 10.41, "needed_kind": "monthly_share", "status": "needed"},
     "今后每月需完成年度预算的10.4%"),
    ({"unit": "个", "needed": -10.0, "needed_kind": "monthly_increase", "status": "needed"}, "今后每月需减少10个"),
    ({"unit": "%", "needed": 0.44, "needed_kind": "monthly_increase", "status": "needed"}, "今后每月需提高0.4个百分点"),
    ({"unit": "%", "needed": None, "status": "met"}, "已达到目标，今后需保持"),
    ({"unit": "%", "needed": None, "status": "no_target"}, "未设定年度目标，仅作趋势预测"),  # the 预测 page's words
    ({"unit": "个", "needed": 2.46, "needed_kind": "monthly_increase", "status": "needed"}, "今后每月需增加2.5个"),
    ({"unit": "%", "needed": 0.04, "needed_kind": "monthly_increase", "status": "needed"}, "今后需保持现有水平"),
])
def test_needed_text(row, text):
    assert n.needed_text(row) == text


def test_expected_counts_are_whole():
    assert n.expected_text(61.48, "个") == "约61个"
    assert n.expected_text(96.437, "%") == "96.4%"


def test_linear_pace():
    # 6 months at 90%, target 95% for the year: the other 6 months need 100%
    assert linear_pace(90.0, 95.0, 6, kind="rate")["needed"] == pytest.approx(100.0)
    assert linear_pace(40.0, 100.0, 6, kind="sum")["needed"] == pytest.approx(10.0)
    assert linear_pace(96.0, 95.0, 6, kind="rate")["status"] == "met"
    assert linear_pace(96.0, None, 6, kind="rate")["status"] == "no_target"
    assert linear_pace(96.0, 95.0, 12, kind="rate")["status"] == "complete"


SEAMS = [r"提高-", r"下降-", r"增加-", r"减少-", r"提高0\.0", r"下降0\.0", r"的的", r"，，", r"，。", r"。。",
         r"None", r"nan", r"；。", r"\+", r"−"]


def test_paragraphs_have_no_template_seams():
    kpis = [_kpi(), _kpi("online_handling_rate", 64.31, name="网上办件率", mom_change=-0.04, yoy_change=-0.3,
                         target=70.0, rag="red"),
            _kpi("overdue_projects", 60.0, name="逾期项目", unit="个", mom_change=0.0, yoy_change=39.5,
                 change_unit="%", target=0.0, rag="red"),
            _kpi("budget_execution_rate", 37.56, name="预算执行率", target=50.0, rag="red", mom_change=None)]
    money = kpi_display({"kpi_id": "paid_total", "value": 53432.99, "yoy_change": 31.1, "change_unit": "%"})
    b = SimpleNamespace(region_name="江西省", level="province", period_label="2025年1—6月", kpis=kpis,
                        money=money,
                        problems={"alerts_total": 3, "alerts": [{"rule_name": "逾期未完工", "count": 3}],
                                  "red": kpis[1:], "amber": [], "lagging": [], "units_below": 0},
                        highlights={"on_target": kpis[:1], "improved": [], "best": []}, child_level="city",
                        outlook=[])
    text = "".join(n.overview_paragraphs(b) + n.problem_lines(b) + n.highlight_lines(b))
    assert text.startswith("2025年1—6月，全省网上可办率达96.2%")
    assert "累计支付5.34亿元，同比增加31.1%" in text and "网上办件率64.3%，与上月持平，同比下降0.3个百分点" in text
    assert "逾期项目60个，与上月持平，同比增加39.5%，尚未实现清零目标" in text
    assert "预算执行率37.6%，同比提高2.0个百分点，低于序时进度12.4个百分点" in text
    for seam in SEAMS:
        assert not re.search(seam, text), seam
