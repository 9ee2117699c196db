"""KPI cards are pure functions of a display model: call them and read the component tree."""

from datetime import date, datetime

from dash import html

from components.cards import create_empty, create_kpi_card
from metrics.catalogue import load_catalogue
from metrics.display import kpi_display
from metrics.freshness import Freshness

RESULT = {
    "kpi_id": "online_available_rate", "name": "网上可办率", "unit": "%", "value": 96.24, "target": 95.0,
    "rag": "green", "mom_change": 0.4, "yoy_change": -1.25, "change_unit": "个百分点",
    "period_name": "累计", "period_label": "2025年1—6月", "as_of": "2025-06",
}


def texts(component) -> list[str]:
    """Every string in a component tree, depth first."""
    out = []
    children = getattr(component, "children", None)
    if isinstance(children, str):
        out.append(children)
    elif isinstance(children, (list, tuple)):
        for c in children:
            out.extend([c] if isinstance(c, str) else texts(c))
    elif children is not None:
        out.extend(texts(children))
    return out


def find(component, class_part: str):
    hits = []
    if class_part in (getattr(component, "className", None) or ""):
        hits.append(component)
    children = getattr(component, "children", None)
    for c in children if isinstance(children, (list, tuple)) else [children]:
        if c is not None and not isinstance(c, str):
            hits.extend(find(c, class_part))
    return hits


def model(freshness=None, **overrides):
    return kpi_display({**RESULT, **overrides}, freshness=freshness)


def card(**overrides):
    return create_kpi_card(model(**overrides))


def test_the_card_shows_value_unit_period_and_target():
    tree = card()
    t = texts(tree)
    assert "96.2%" in t and "累计" in t and "目标 ≥95.0%" in t and "达标" in t
    assert tree.className == "kpi-card kpi-card--green"


def test_a_count_to_clear_says_so_and_a_missing_target_says_none():
    assert "目标：清零" in texts(card(kpi_id="overdue_projects", unit="个", value=72.0, target=0.0, rag="red",
                                   change_unit="%"))
    assert "无目标" in texts(card(target=None, rag=None))


def test_rate_changes_are_shown_in_percentage_points_with_arrows():
    deltas = ["".join(texts(d)) for d in find(card(), "kpi-delta ")]
    assert deltas == ["环比 ▲ 0.4 个百分点", "同比 ▼ 1.2 个百分点"]
    classes = [d.className for d in find(card(), "kpi-delta ")]
    assert classes == ["kpi-delta kpi-delta--good", "kpi-delta kpi-delta--bad"]


def test_a_rise_is_bad_when_lower_is_better():
    tree = card(kpi_id="overdue_projects", unit="个", change_unit="%", mom_change=12.5)
    assert find(tree, "kpi-delta ")[0].className == "kpi-delta kpi-delta--bad"


def test_a_missing_value_and_change_show_a_dash_not_zero():
    tree = card(value=None, rag=None, mom_change=None, yoy_change=None)
    t = texts(tree)
    assert "—" in t and "0.0%" not in t
    assert tree.className == "kpi-card kpi-card--none"
    assert ["".join(texts(d)) for d in find(tree, "kpi-delta ")] == ["环比 —", "同比 —"]


def test_the_caliber_source_and_as_of_date_are_on_hover():
    kpi = load_catalogue().kpi("online_available_rate")
    assert card().title == f"口径：{kpi.caliber}\n依据：{kpi.source}\n数据截至：2025-06"


def test_a_card_with_a_series_draws_a_sparkline():
    tree = create_kpi_card(model(), series=[90.0, None, 96.2])
    assert len(find(tree, "kpi-spark")) == 1


def test_the_empty_state_says_no_data():
    assert isinstance(create_empty(), html.Div) and texts(create_empty()) == ["暂无数据"]


def test_a_change_that_rounds_to_zero_is_shown_flat():
    tree = card(mom_change=-0.04, yoy_change=0.04)
    assert ["".join(texts(d)) for d in find(tree, "kpi-delta ")] == ["环比 持平", "同比 持平"]
    assert [d.className for d in find(tree, "kpi-delta ")] == ["kpi-delta kpi-delta--flat"] * 2


ON_TIME = Freshness("services", "政务服务", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30), date(2026, 12, 5),
                    False, "数据截至 2026-10 · 更新于 11-05", "")
LATE = Freshness("spending", "预算执行", date(2026, 9, 1), datetime(2026, 10, 8), date(2026, 11, 10),
                 True, "数据截至 2026-09 · 更新于 10-08", "数据未按期更新")


def plain(component):
    """A component tree as nested plain data, so two trees compare with ==."""
    if isinstance(component, (list, tuple)):
        return [plain(c) for c in component]
    if not hasattr(component, "to_plotly_json"):
        return component
    d = component.to_plotly_json()
    props = {k: plain(v) for k, v in d["props"].items()}
    return {"type": d["type"], "props": props}


def test_the_foot_says_how_fresh_the_data_is():
    tree = create_kpi_card(model(ON_TIME))
    assert plain(tree.children[-2:]) == plain([
        html.Div("2025年1—6月", className="kpi-asof"),
        html.Div([html.Span("数据截至 2026-10 · 更新于 11-05", className="kpi-fresh-text")], className="kpi-fresh"),
    ])
    assert tree.className == "kpi-card kpi-card--green" and find(tree, "kpi-late") == []
    assert tree.title.endswith("\n数据截至 2026-10 · 更新于 11-05")


def test_a_late_family_marks_its_card_with_a_badge():
    tree = create_kpi_card(model(LATE))
    assert plain(tree.children[-1]) == plain(html.Div(
        [html.Span("数据截至 2026-09 · 更新于 10-08", className="kpi-fresh-text"),
         html.Span("数据未按期更新", className="kpi-late")], className="kpi-fresh"))
    assert tree.className == "kpi-card kpi-card--green kpi-card--late"
    assert tree.title.endswith("数据截至 2026-09 · 更新于 10-08 · 数据未按期更新")


def test_without_freshness_the_card_keeps_the_as_of_line():
    assert plain(card().children[-1]) == plain(html.Div("2025年1—6月 · 数据截至 2025-06", className="kpi-asof"))
    assert find(card(), "kpi-fresh") == []


def test_the_spending_card_passes_freshness_through():
    from components.spending_charts import create_spending_card

    tree = create_spending_card(model(LATE), card_id="x")
    assert [t for t in texts(tree) if t == "数据未按期更新"] == ["数据未按期更新"]


def test_the_spending_card_says_the_gap_to_time_progress_under_the_value():
    from components.spending_charts import create_spending_card

    # 53.675 against 序时进度 83.333: the exact gap −29.658 rounds once to 29.7
    budget = model(kpi_id="budget_execution_rate", name="预算执行率", value=53.675237717712974,
                   target=250 / 3, rag="red")
    tree = create_spending_card(budget, card_id="x")
    assert plain(tree.children[2]) == plain(html.Div("低于序时进度 29.7 个百分点", className="kpi-gap kpi-gap--red"))
    assert "序时进度 83.3%" in texts(tree)
    assert find(create_spending_card(model(), card_id="y"), "kpi-gap") == []  # a fixed target: no note
