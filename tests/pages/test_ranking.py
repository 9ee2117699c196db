"""The 考核 page: its layout is a function of the URL and shows what the composite index computes."""

from urllib.parse import urlencode

import pytest
from dash import html

import app  # noqa: F401 — registers the pages
from components.ranking_views import fmt_points
from data.scope import Scope
from metrics.composite import composite_index
from metrics.format import fmt_value
from pages import ranking
from tests.pages.tree import by_id, graph, texts, walk

pytestmark = pytest.mark.usefixtures("demo_env", "environment_viewer")  # called as the demo viewer
PROVINCE = Scope.province("360000")


def test_the_table_shows_rank_score_change_and_dimensions_from_the_index():
    page = ranking.layout(month="2026-10")
    index = composite_index("360000", "city", "2026-10", scope=PROVINCE)
    rows = [c for c in walk(page) if isinstance(c, html.Tr) and str(getattr(c, "id", "")).startswith("ranking-row-")]
    assert [r.id for r in rows] == [f"ranking-row-{c}" for c in index["region_code"]]
    for _, r in index.iterrows():
        row = texts(by_id(page, f"ranking-row-{r['region_code']}"))
        assert row.startswith(f"{int(r['rank'])} ")
        assert fmt_value(r["score"], "分") in row and fmt_points(r["score_change"]) in row
        assert f"{r['dim_service']:.1f}" in row and r["region_name"] in row
    assert "累计 · 2026年1—10月" in texts(page)


def test_rank_moves_read_as_arrows():
    index = composite_index("360000", "county", "2026-10", scope=PROVINCE).set_index("region_code")
    page = ranking.layout(month="2026-10", level="county")
    up = index[index["rank_change"] > 0].index[0]
    down = index[index["rank_change"] < 0].index[0]
    assert f"↑{index.loc[up, 'rank_change']}" in texts(by_id(page, f"ranking-row-{up}"))
    assert f"↓{-index.loc[down, 'rank_change']}" in texts(by_id(page, f"ranking-row-{down}"))


def test_the_map_is_coloured_by_score_and_a_click_focuses_a_region():
    page = ranking.layout(month="2026-10", focus="360100")
    fig = graph(page, "ranking-map").figure
    index = composite_index("360000", "city", "2026-10", scope=PROVINCE).set_index("region_code")
    scored = fig.data[1]
    assert dict(zip(scored.locations, scored.z, strict=True)) == pytest.approx(index["score"].to_dict())
    assert [c[0] for c in scored.customdata] == list(scored.locations)  # click → ?focus=<code>
    assert list(fig.data[-1].locations) == ["360100"]  # the focused region is outlined
    assert "ranking-row--focus" in by_id(page, "ranking-row-360100").className


def test_the_radar_compares_the_focused_region_with_the_average():
    page = ranking.layout(month="2026-10", focus="360100")
    fig = graph(page, "ranking-radar-graph").figure
    index = composite_index("360000", "city", "2026-10", scope=PROVINCE)
    mine = index.set_index("region_code").loc["360100"]
    avg, focus = fig.data
    assert list(focus.r[:5]) == pytest.approx([mine[f"dim_{d}"] for d in
                                               ("governance", "service", "data", "rules", "infrastructure")])
    assert avg.r[1] == pytest.approx(index["dim_service"].mean())
    assert "南昌市：综合得分" in texts(by_id(page, "ranking-focus-line"))


def test_the_weights_name_their_configuration_file():
    page = ranking.layout(month="2026-10")
    fig = graph(page, "ranking-weights-graph").figure
    assert sorted(fig.data[0].x) == pytest.approx([15, 15, 20, 20, 30])
    assert "权重为配置项：metrics/composite.toml" in texts(by_id(page, "ranking-weights"))
    assert fig.layout.meta["source"] == "权重为配置项：metrics/composite.toml"
    assert "网上办件率（25%）" in next(c for c in fig.data[0].customdata if "网上办件率" in c)


def test_a_region_name_links_to_its_focus_keeping_the_url_state():
    page = ranking.layout(month="2026-10", level="county")
    assert by_id(page, "ranking-link-360102").href == "?" + urlencode(
        {"month": "2026-10", "level": "county", "focus": "360102"})


def test_the_level_toggle_is_offered_at_province_level_only():
    def toggles(page):
        return [c for c in walk(page) if isinstance(getattr(c, "id", None), dict) and c.id.get("name") == "level"]

    assert toggles(ranking.layout(month="2026-10"))[0].value == "city"
    assert toggles(ranking.layout(region="360100", month="2026-10")) == []


def test_a_month_without_data_shows_the_empty_state():
    page = ranking.layout(month="2030-01")
    assert sum(getattr(c, "className", "") == "empty-state" for c in walk(page)) == 3


@pytest.mark.parametrize("params, message", [
    ({"region": "999999"}, "未知的地区代码：999999"),
    ({"level": "town"}, "未知的排名层级：'town'"),
    ({"focus": "360102"}, "不在本次排名范围"),
    ({"month": "June"}, "月份格式不正确"),
])
def test_bad_url_input_gets_a_chinese_message(params, message):
    page = ranking.layout(**params)
    assert message in by_id(page, "ranking-error").children
