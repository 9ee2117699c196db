"""The display model's rules, on hand-made results: rounding once, 持平, target wording, gaps."""

from __future__ import annotations

import pytest

from metrics.catalogue import load_catalogue
from metrics.display import change_display, gap_texts, kpi_display, target_texts, time_progress_gap_text

PP = "个百分点"


@pytest.mark.parametrize("change,unit,name,is_rate,text,words", [
    (0.4, PP, "环比", True, "▲ 0.4 个百分点", "较上月提高0.4个百分点"),
    (-0.3, PP, "环比", True, "▼ 0.3 个百分点", "较上月下降0.3个百分点"),
    (0.04, PP, "环比", True, "持平", "与上月持平"),
    (-0.049, PP, "同比", True, "持平", "与上年同期持平"),
    (2.71, PP, "同比", True, "▲ 2.7 个百分点", "同比提高2.7个百分点"),
    (39.53, "%", "同比", False, "▲ 39.5%", "同比增加39.5%"),
    (-12.0, "%", "环比", False, "▼ 12.0%", "环比减少12.0%"),
    (None, PP, "环比", True, "—", None),
])
def test_a_change_is_rounded_once_and_reads_the_same_in_both_registers(change, unit, name, is_rate, text, words):
    c = change_display(change, unit, name=name, higher_is_better=True, is_rate=is_rate)
    assert (c.text, c.words) == (text, words)


def test_the_tone_follows_the_kpis_direction_and_flat_is_neither_good_nor_bad():
    up = {"unit": "%", "name": "同比", "is_rate": False}
    assert change_display(18.0, higher_is_better=False, **up).tone == "bad"  # more overdue projects
    assert change_display(-12.5, higher_is_better=False, **up).tone == "good"
    assert change_display(0.04, higher_is_better=False, **up).tone == "flat"
    assert change_display(None, higher_is_better=False, **up).tone == "none"


@pytest.mark.parametrize("kpi_id,value,target,text,words", [
    ("online_available_rate", 96.2, 95.0, "高于年度目标 1.2 个百分点", "高于年度目标1.2个百分点"),
    ("online_available_rate", 64.31, 70.0, "低于年度目标 5.7 个百分点", "低于年度目标5.7个百分点"),
    ("online_available_rate", 95.04, 95.0, "达到年度目标", "达到年度目标"),
    ("budget_execution_rate", 37.56, 50.0, "低于序时进度 12.4 个百分点", "低于序时进度12.4个百分点"),
    ("budget_execution_rate", 50.04, 50.0, "与序时进度持平", "与序时进度持平"),
    # the case: 53.675 − 83.333 = −29.658 → 29.7 (53.7 − 83.3 would give 29.6)
    ("budget_execution_rate", 53.675237717712974, 250 / 3, "低于序时进度 29.7 个百分点", "低于序时进度29.7个百分点"),
    ("execution_gap_pp", -29.65809561562037, 0.0, "低于序时进度 29.7 个百分点", "低于序时进度29.7个百分点"),
    ("overdue_projects", 60, 0, "尚未实现清零目标", "尚未实现清零目标"),
    ("overdue_projects", 0, 0, "已实现清零目标", "已实现清零目标"),
    ("one_thing_count", 28, 30, "未达到年度目标（30 个）", "未达到年度目标（30个）"),
    ("one_thing_count", 34, 30, "超过年度目标 4 个", "超过年度目标4个"),
    ("online_available_rate", 96.2, None, None, None),
    ("online_available_rate", None, 95.0, None, None),
])
def test_the_gap_to_target_is_the_exact_difference_rounded_once(kpi_id, value, target, text, words):
    kpi = load_catalogue().kpi(kpi_id)
    kind = target_texts(kpi, target)[0]
    assert gap_texts(kpi, value, target, kind) == (text, words)


@pytest.mark.parametrize("kpi_id,target,text,short", [
    ("online_available_rate", 95.0, "目标 ≥95.0%", "≥95.0%"),
    ("overdue_projects", 0.0, "目标：清零", "清零"),
    ("budget_execution_rate", 250 / 3, "序时进度 83.3%", "序时进度 83.3%"),
    ("execution_gap_pp", 0.0, "目标：不低于序时进度", "不低于序时进度"),
    ("online_available_rate", None, "无目标", "—"),
])
def test_each_kind_of_target_has_one_wording(kpi_id, target, text, short):
    assert target_texts(load_catalogue().kpi(kpi_id), target)[1:] == (text, short)


def test_the_time_progress_gap_of_a_table_row():
    assert time_progress_gap_text(-12.44) == "低于序时进度 12.4 个百分点"
    assert time_progress_gap_text(3) == "高于序时进度 3.0 个百分点"
    assert time_progress_gap_text(0.01) == "与序时进度持平"
    assert time_progress_gap_text(None) == "与序时进度差：—"


def test_a_result_becomes_one_model_with_its_catalogue_facts_and_rag_token():
    d = kpi_display({"kpi_id": "overdue_projects", "value": 72.0, "target": 0.0, "rag": "red", "period": "month",
                     "period_name": "时点", "period_label": "2026年10月末", "as_of": "2026-10",
                     "mom_change": 14.2857, "yoy_change": 18.03, "change_unit": "%"})
    kpi = load_catalogue().kpi("overdue_projects")
    assert (d.name, d.unit, d.value_text, d.value_words) == (kpi.name, "个", "72 个", "72个")
    assert (d.target_kind, d.target_text, d.rag_label, d.rag_token) == ("zero", "目标：清零", "未达标", "red")
    assert (d.caliber, d.source) == (kpi.caliber, kpi.source)
    assert d.change is d.mom and d.change.text == "▲ 14.3%" and d.change.tone == "bad"  # a month: 环比
    assert d.fresh_text is None and not d.late and d.tooltip.endswith("数据截至：2026-10")
    missing = kpi_display({"kpi_id": "online_available_rate", "value": float("nan"), "rag": "nonsense"})
    assert (missing.value_text, missing.rag, missing.rag_token, missing.rag_label) == ("—", None, "none", "—")


@pytest.mark.parametrize("status,needed,kind,unit,text,words", [
    ("needed", 75.552, "monthly_rate", "%", "今后每月需达到 75.6%", "今后每月需达到75.6%"),
    ("needed", 10.41, "monthly_share", "%", "今后每月需完成年度预算的 10.4%", "今后每月需完成年度预算的10.4%"),
    ("needed", 1234.56, "monthly_flow", "万元", "今后每月需完成 1,234.6 万元", "今后每月需完成1234.6万元"),
    ("needed", 0.44, "monthly_increase", "%", "今后每月需提高 0.4 个百分点", "今后每月需提高0.4个百分点"),
    ("needed", -10.0, "monthly_increase", "个", "今后每月需减少 10 个", "今后每月需减少10个"),
    ("met", None, None, "%", "已达到目标，今后需保持", "已达到目标，今后需保持"),
    ("impossible", 130.0, "monthly_rate", "%", "今后各月即使达到最高值，年底也无法达到目标",
     "今后各月即使达到最高值，年底也无法达到目标"),
])
def test_the_pace_needed_reads_the_same_on_the_forecast_page_and_in_the_briefing(status, needed, kind, unit, text,
                                                                                  words):
    from metrics.display import pace_texts

    assert pace_texts(status, needed, kind, unit) == (text, words)
