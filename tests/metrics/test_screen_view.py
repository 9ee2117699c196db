"""The big screen's data: every number compared with the engine and the view modules it is
assembled from, and its query string validated into Chinese messages."""

import json
from datetime import date, datetime

import orjson
import pytest

from data import db
from data.scope import Scope
from metrics.catalogue import load_catalogue
from metrics.engine import kpi_children, kpi_regions, kpi_series, kpi_value
from metrics.errors import user_message
from metrics.forecasting import kpi_forecast
from metrics.projects_view import stage_funnel
from metrics.regions import children, get_region
from metrics.rules import project_alerts
from metrics.screen_view import FUNNEL_PHASES, PANEL_SETS, ScreenInputError, screen_config, screen_data
from metrics.spending_view import execution_curves
from tests.freshness_rows import copy_with_freshness

PROVINCE = Scope.province("360000")
MONTH = "2026-10"


@pytest.fixture(autouse=True)
def _env(demo_env, monkeypatch, tmp_path_factory):
    monkeypatch.setenv("COCKPIT_CACHE_DIR", str(tmp_path_factory.getbasetemp() / "screen-cache"))


@pytest.fixture
def province_doc():
    return screen_data("360000", "online_handling_rate", scope=PROVINCE)


def test_the_ribbon_is_the_headline_kpis_as_the_engine_computes_them_ytd(province_doc):
    cat = load_catalogue()
    assert [c["kpi"] for c in province_doc["cards"]] == [k.id for k in cat.headline()]
    for card in province_doc["cards"]:
        k = cat.kpi(card["kpi"])
        r = kpi_value(k.id, "360000", MONTH, "ytd" if "ytd" in k.periods else k.periods[0], scope=PROVINCE)
        assert card["value"] == pytest.approx(r.value)
        assert card["target"] == pytest.approx(r.target)
        assert card["rag"] == r.rag
        assert card["change"] == pytest.approx(round(r.yoy_change, 1))  # as printed on the card
        if card["change"]:
            assert card["change_good"] is ((card["change"] > 0) == k.higher_is_better)
        assert card["period_name"] == "累计" and card["change_name"] == "同比"
    budget = next(c for c in province_doc["cards"] if c["kpi"] == "budget_execution_rate")
    assert budget["value_text"] == f"{budget['value']:.1f}%"
    assert budget["change_text"].endswith("个百分点")  # a rate's change is in percentage points


def test_the_map_and_the_ranking_are_the_focus_kpi_for_the_eleven_cities(province_doc):
    expected = kpi_children("online_handling_rate", "360000", MONTH, "ytd", scope=PROVINCE).set_index("region_code")
    assert len(expected) == 11
    m = province_doc["map"]
    assert m["level"] == "city" and m["parent"] is None
    assert sorted(m["codes"]) == sorted(expected.index)
    for code, value in zip(m["codes"], m["values"], strict=True):
        assert value == pytest.approx(expected.loc[code, "value"])
    rows = province_doc["ranking"]["rows"]
    assert [r["rank"] for r in rows] == list(range(1, 12))  # best first
    for r in rows:
        assert r["value"] == pytest.approx(expected.loc[r["code"], "value"])
        assert r["rank"] == expected.loc[r["code"], "rank"]


def test_a_county_screen_maps_its_citys_counties_and_ranks_among_them():
    county = get_region("360102", scope=PROVINCE)
    doc = screen_data("360102", "online_handling_rate", scope=PROVINCE)
    siblings = children(county.parent_code, scope=PROVINCE)
    assert doc["map"]["level"] == "county" and doc["map"]["parent"] == county.parent_code
    assert sorted(doc["map"]["codes"]) == sorted(r.code for r in siblings)
    expected = kpi_regions("online_handling_rate", siblings, MONTH, "ytd", scope=PROVINCE).set_index("region_code")
    assert {r["code"]: r["value"] for r in doc["ranking"]["rows"]} == pytest.approx(expected["value"].to_dict())


def test_the_trend_is_the_monthly_series_with_the_engines_forecast_band(province_doc):
    t = province_doc["trend"]
    s = kpi_series("online_handling_rate", "360000", scope=PROVINCE, start="2024-11", end=MONTH)
    assert t["name"] == "当月" and len(t["months"]) == 24 and t["months"][-1] == MONTH
    assert t["values"] == pytest.approx(s["value"].tolist())
    fc = kpi_forecast("online_handling_rate", "360000", scope=PROVINCE, horizon=6)
    f = t["forecast"]
    assert f["months"] == ["2026-11", "2026-12", "2027-01", "2027-02", "2027-03", "2027-04"]
    assert f["mean"] == pytest.approx(fc["mean"].tolist())
    assert all(lo <= m <= hi for lo, m, hi in zip(f["lo80"], f["mean"], f["hi80"], strict=True))


def test_a_kpi_without_monthly_values_trends_cumulatively():
    doc = screen_data("360000", "budget_execution_rate", scope=PROVINCE)
    s = kpi_series("budget_execution_rate", "360000", scope=PROVINCE, start="2024-11", end=MONTH, cumulative=True)
    assert doc["trend"]["name"] == "累计"
    assert doc["trend"]["values"] == pytest.approx(s["value"].tolist())


def test_the_funnel_phases_add_up_the_lifecycle_stages(province_doc):
    f = stage_funnel("360000", MONTH, scope=PROVINCE).set_index("stage")
    grouped = [s for _, stages in FUNNEL_PHASES for s in stages]
    assert sorted(grouped) == sorted(f.index[~f["terminated"]])  # every live stage exactly once
    for phase, (name, stages) in zip(province_doc["funnel"], FUNNEL_PHASES, strict=True):
        assert phase["label"] == name
        assert phase["count"] == f.loc[list(stages), "count"].sum()
    assert sum(p["count"] for p in province_doc["funnel"]) + province_doc["terminated"] == f["count"].sum()


def test_spending_is_this_years_execution_curve_against_time_progress(province_doc):
    c = execution_curves("360000", MONTH, scope=PROVINCE, years=1)
    sp = province_doc["spending"]
    assert sp["year"] == 2026 and sp["months"] == list(range(1, 11))
    assert sp["values"] == pytest.approx(c["value"].tolist())
    assert sp["progress"][9] == pytest.approx(10 / 12 * 100)  # 序时进度 at October
    assert sp["gap"] == pytest.approx(c["value"].iloc[-1] - 10 / 12 * 100)
    assert sp["gap_text"].startswith("低于序时进度" if sp["gap"] < 0 else "高于序时进度")


def test_the_ticker_lists_every_red_kpi_then_the_longest_overdue_project_alerts(province_doc):
    cat = load_catalogue()
    red = [k for k in cat.kpis
           if kpi_value(k, "360000", MONTH, "ytd" if "ytd" in cat.kpi(k).periods else cat.kpi(k).periods[0],
                        scope=PROVINCE).rag == "red"]
    kinds = [a["kind"] for a in province_doc["alerts"]]
    assert kinds.count("kpi") == province_doc["alert_counts"]["kpi"] == len(red)
    assert kinds == sorted(kinds, key=lambda k: k != "kpi")  # red KPIs first
    alerts = project_alerts("360000", MONTH, scope=PROVINCE)
    assert province_doc["alert_counts"]["project"] == len(alerts)
    worst = alerts.sort_values("days_over", ascending=False).iloc[0]
    first_project = next(a for a in province_doc["alerts"] if a["kind"] == "project")
    assert first_project["text"] == f"{worst['rule_name']}：{worst['project_name']}，超期 {int(worst['days_over'])} 天"


def test_the_screen_data_is_plain_json(province_doc):
    assert json.loads(json.dumps(province_doc, allow_nan=False)) == orjson.loads(orjson.dumps(province_doc))
    assert province_doc["as_of"] == MONTH and province_doc["as_of_label"] == "2026年10月"


def test_a_city_viewer_cannot_put_the_province_on_the_screen():
    city = Scope(regions=("360100",))
    with pytest.raises(Exception) as exc:
        screen_data("360000", "online_handling_rate", scope=city)
    assert user_message(exc.value)  # a Chinese message, not a bug
    assert screen_config({}, scope=city).playlist[0]["region"] == "360100"


FRESHNESS = [
    ("services", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30)),
    ("hotline", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30)),
    ("projects", date(2026, 10, 1), datetime(2026, 11, 6, 10, 0)),
    ("spending", date(2026, 9, 1), datetime(2026, 10, 8, 16, 0)),  # 2026-10 was due by 11-10
]


@pytest.fixture
def fresh_demo(demo_db_path, tmp_path, monkeypatch):
    path = copy_with_freshness(demo_db_path, tmp_path / "fresh.duckdb", FRESHNESS, data_version="screen-fresh")
    monkeypatch.setenv("COCKPIT_DB", str(path))
    db.reset_reader()
    yield path
    db.reset_reader()


def test_the_screen_says_how_fresh_its_panels_are_and_marks_late_cards(fresh_demo):
    doc = screen_data("360000", "online_handling_rate", scope=PROVINCE, today=date(2026, 11, 20))
    f = doc["freshness"]
    assert f["focus"]["text"] == "数据截至 2026-10 · 更新于 11-05" and not f["focus"]["late"]
    # the focus KPI's family first, then the ribbon's, then the funnel's and the spending curve's
    assert [x["family"] for x in f["families"]] == ["services", "hotline", "spending", "projects"]
    assert f["late_text"] == "数据未按期更新：预算执行"
    by_kpi = {c["kpi"]: c for c in doc["cards"]}
    assert (by_kpi["budget_execution_rate"]["late"], by_kpi["budget_execution_rate"]["late_text"]) == (
        True, "数据未按期更新")
    assert by_kpi["budget_execution_rate"]["fresh_text"] == "数据截至 2026-09 · 更新于 10-08"
    assert by_kpi["overdue_projects"]["fresh_text"] == "数据截至 2026-10 · 更新于 11-06"
    assert [k for k, c in by_kpi.items() if c["late"]] == ["budget_execution_rate"]
    assert json.loads(json.dumps(doc, allow_nan=False)) == orjson.loads(orjson.dumps(doc))


def test_on_the_due_day_nothing_is_late_and_the_focus_follows_the_panel_set(fresh_demo):
    doc = screen_data("360000", "budget_execution_rate", scope=PROVINCE, today=date(2026, 11, 10))
    assert doc["freshness"]["focus"]["text"] == "数据截至 2026-09 · 更新于 10-08"
    assert doc["freshness"]["late_text"] == "" and not any(c["late"] for c in doc["cards"])
    late = screen_data("360000", "budget_execution_rate", scope=PROVINCE, today=date(2026, 11, 11))
    assert late["freshness"]["focus"]["late"] and late["freshness"]["late_text"] == "数据未按期更新：预算执行"


def test_a_database_without_freshness_rows_shows_none(demo_db_path, tmp_path, monkeypatch):
    path = copy_with_freshness(demo_db_path, tmp_path / "none.duckdb", [], data_version="screen-none")
    monkeypatch.setenv("COCKPIT_DB", str(path))
    db.reset_reader()
    try:
        doc = screen_data("360000", "online_handling_rate", scope=PROVINCE)
    finally:
        db.reset_reader()
    assert doc["freshness"] == {"focus": None, "families": [], "late_text": ""}
    assert all(c["fresh_text"] is None and c["late"] is False and c["late_text"] == "" for c in doc["cards"])


def test_the_demo_is_stamped_by_its_publish(province_doc):
    # the demo is published on the 5th after its end month, so with data to 2026-10: 更新于 11-05
    assert province_doc["freshness"]["focus"]["text"] == "数据截至 2026-10 · 更新于 11-05"


class TestTheQueryString:
    def test_the_defaults_are_the_province_with_two_panel_sets_every_20_s(self):
        cfg = screen_config({}, scope=PROVINCE)
        assert [(p["region"], p["kpi"]) for p in cfg.playlist] == [
            ("360000", PANEL_SETS["services"][1]), ("360000", PANEL_SETS["spending"][1])]
        assert (cfg.dwell, cfg.refresh, cfg.layout) == (20.0, 60.0, "letterbox")

    def test_each_city_in_turn_after_the_province(self):
        cfg = screen_config({"regions": "cities", "sets": "services", "dwell": "5", "refresh": "30",
                             "layout": "wide"}, scope=PROVINCE)
        assert [p["region"] for p in cfg.playlist] == ["360000"] + [r.code for r in children("360000", scope=PROVINCE)]
        assert cfg.playlist[1]["region_name"] == "南昌市"
        assert (cfg.dwell, cfg.refresh, cfg.layout) == (5.0, 30.0, "wide")

    def test_listed_regions_and_kpi_ids_make_the_playlist(self):
        cfg = screen_config({"regions": "360100,360102", "sets": "cloud_rate,spending"}, scope=PROVINCE)
        assert [(p["region"], p["kpi"]) for p in cfg.playlist] == [
            ("360100", "cloud_rate"), ("360100", "budget_execution_rate"),
            ("360102", "cloud_rate"), ("360102", "budget_execution_rate")]
        assert screen_config({"kpi": "satisfaction_rate"}, scope=PROVINCE).playlist[0]["set"] == "好评率"
        assert [p["kpi"] for p in screen_config({"panels": "hotline"}, scope=PROVINCE).playlist] == [
            "hotline_on_time_rate"]

    @pytest.mark.parametrize(("params", "words"), [
        ({"layout": "stretch"}, "layout"),
        ({"dwell": "abc"}, "dwell"),
        ({"dwell": "0"}, "dwell"),
        ({"refresh": "nan"}, "refresh"),
        ({"regions": "36010x"}, "6 位数字"),
        ({"sets": "weather"}, "未知的面板组"),
    ])
    def test_bad_values_get_a_chinese_message(self, params, words):
        with pytest.raises(ScreenInputError, match=words):
            screen_config(params, scope=PROVINCE)

    def test_an_unknown_region_or_kpi_is_a_user_error(self):
        for params in ({"region": "999999"}, {"kpi": "no_such_kpi"}):
            with pytest.raises(Exception) as exc:
                screen_config(params, scope=PROVINCE)
            assert user_message(exc.value)


def test_a_change_that_prints_as_zero_is_level_and_fewer_overdue_projects_is_good():
    from metrics.display import kpi_display
    from metrics.screen_view import _card

    base = {"kpi_id": "overdue_projects", "name": "逾期项目", "unit": "个", "value": 60.0, "target": 0.0,
            "rag": "red", "period": "ytd", "change_unit": "%", "period_name": "累计", "period_label": "1—10月"}
    level = _card(kpi_display({**base, "yoy_change": 0.04, "mom_change": None}))
    assert level["change"] == 0 and level["change_text"] == "持平" and level["change_good"] is None
    assert level["change_tone"] == "flat"
    fewer = _card(kpi_display({**base, "yoy_change": -12.5, "mom_change": None}))
    more = _card(kpi_display({**base, "yoy_change": 18.04, "mom_change": None}))
    assert fewer["change_good"] is True and more["change_good"] is False
    assert more["change"] == 18.0 and more["change_text"] == "▲ 18.0%"  # the card's text, verbatim
    assert more["target_text"] == "目标：清零" and more["rag_token"] == "red"


def test_the_ticker_says_each_target_as_the_display_model_words_it(province_doc):
    kpi_lines = [a["text"] for a in province_doc["alerts"] if a["kind"] == "kpi"]
    overdue = kpi_value("overdue_projects", "360000", MONTH, "ytd", scope=PROVINCE)
    budget = kpi_value("budget_execution_rate", "360000", MONTH, "ytd", scope=PROVINCE)
    assert overdue.rag == budget.rag == "red"
    assert f"逾期项目 {overdue.value:.0f} 个（目标：清零）" in kpi_lines
    assert f"预算执行率 {budget.value:.1f}%（序时进度 {budget.target:.1f}%）" in kpi_lines


def test_the_spending_panel_is_the_budget_cards_model_and_its_colour_the_catalogues(province_doc):
    sp = province_doc["spending"]
    budget = next(c for c in province_doc["cards"] if c["kpi"] == "budget_execution_rate")
    assert (sp["rate_text"], sp["progress_text"]) == (budget["value_text"], budget["target_text"])
    # the gap's colour is the catalogue's RAG (thresholds −5 / −10), decided here, not in screen.js
    assert sp["gap_token"] == budget["rag_token"] == budget["rag"]
    assert sp["gap_text"] == f"{'低于' if sp['gap'] < 0 else '高于'}序时进度 {abs(sp['gap']):.1f} 个百分点"


def test_the_wall_gets_every_heading_from_the_server(province_doc):
    t = province_doc["titles"]
    assert t["screen"] == "江西省数字政府建设运行监测" and t["cards"] == "指标卡为2026年1—10月累计，箭头为同比"
    total = sum(p["count"] for p in province_doc["funnel"])
    assert t["funnel"].startswith(f"项目全周期 {total} 个")
    assert [p["count_text"] for p in province_doc["funnel"]] == [f"{p['count']} 个" for p in province_doc["funnel"]]
    assert t["spending_rate"] == "执行率"
    assert "palette" not in province_doc  # the charts come drawn, in the palette's colours (web/screen_figures.py)


def test_the_ranking_bars_are_measured_on_the_server(province_doc):
    rows = province_doc["ranking"]["rows"]
    top = max(r["value"] for r in rows)
    assert [r["bar"] for r in rows] == [round(max(2.0, 100 * r["value"] / top), 2) for r in rows]  # from 0
    assert rows[0]["bar"] == 100.0


def test_a_red_gap_kpi_is_said_in_words_in_the_ticker():
    from metrics.display import kpi_display

    gap = kpi_display({"kpi_id": "execution_gap_pp", "value": -30.2499, "target": 0.0, "rag": "red"})
    assert gap.alert_text == "与序时进度差：低于序时进度 30.2 个百分点"
    budget = kpi_display({"kpi_id": "budget_execution_rate", "value": 53.0834, "target": 250 / 3, "rag": "red"})
    assert budget.alert_text == "预算执行率 53.1%（序时进度 83.3%）"
    assert budget.gap_text == "低于序时进度 30.2 个百分点"  # the 资金 card's note: the same words
