"""考核 view: which regions are ranked together, the focus, the dimension averages and the cache."""

import pandas as pd
import pytest

from data.scope import Scope, ScopeError
from metrics.composite import composite_index
from metrics.ranking_view import (
    CONFIG_SOURCE,
    RankingParamError,
    dimension_average,
    dimensions,
    ranking_index,
    ranking_page,
)

DIMS = ["governance", "service", "data", "rules", "infrastructure"]


def test_the_dimensions_come_from_the_configuration_with_weights_summing_to_one():
    dims = dimensions()
    assert [d["id"] for d in dims] == DIMS
    assert [d["name"] for d in dims] == ["政府治理精细度", "公共服务体验度", "数据共享与开放价值度", "制度规范包容度",
                                         "数字基础设施感知度"]
    assert sum(d["weight"] for d in dims) == pytest.approx(1.0)
    assert ("网上办件率", 0.25) in dims[1]["kpis"]
    assert CONFIG_SOURCE == "metrics/composite.toml"


def test_the_average_of_a_dimension_skips_regions_without_a_score():
    df = pd.DataFrame({"dim_governance": [80.0, 40.0, None], "dim_service": [90.0, 60.0, 30.0],
                       "dim_data": [None, None, None], "dim_rules": [10.0, 20.0, 30.0],
                       "dim_infrastructure": [100.0, 0.0, 50.0]})
    # governance (80 + 40) / 2 = 60; service (90 + 60 + 30) / 3 = 60; data none; rules 20; infrastructure 50
    assert dimension_average(df) == {"governance": 60.0, "service": 60.0, "data": None, "rules": 20.0,
                                     "infrastructure": 50.0}


@pytest.mark.usefixtures("fixture_env")
class TestOnTheFixture:
    def test_the_province_ranks_its_cities_by_default_and_focuses_the_first(self, province):
        data = ranking_page("360000", "2025-03", scope=province)
        assert data["rank_level"] == "city" and data["rank_title"] == "江西省各设区市"
        assert data["index"]["region_code"].tolist() == ["360200", "360100"]  # 景德镇 45.0 before 南昌 32.0
        assert data["focus"] == "360200" and data["focus_row"]["score"] == pytest.approx(45.0)
        assert data["map_parent"] is None and data["ranked"] == 2
        assert data["index_period"] == "累计 · 2025年1—3月"

    def test_the_average_is_over_the_ranked_group(self, province):
        data = ranking_page("360000", "2025-03", scope=province)
        # governance: 景德镇 0, 南昌 100 → 50; rules 100 and 50 → 75; no region has data or infrastructure scores
        assert data["average"]["governance"] == pytest.approx(50.0)
        assert data["average"]["rules"] == pytest.approx(75.0)
        assert data["average"]["data"] is None

    def test_the_county_level_at_province_ranks_all_counties(self, province):
        data = ranking_page("360000", "2025-03", "county", scope=province)
        assert sorted(data["index"]["region_code"]) == ["360102", "360103", "360203", "360222"]
        assert data["ranked"] == 3  # 珠山区 has no data, hence no score
        assert data["map"].columns.tolist() == ["region_code", "region_name", "value", "rank"]

    def test_a_city_ranks_its_counties(self, province):
        data = ranking_page("360100", "2025-03", "city", scope=province)  # the level toggle is for the province
        assert data["rank_level"] == "county" and data["map_parent"] == "360100"
        assert data["index"]["region_code"].tolist() == ["360102", "360103"]

    def test_a_county_is_ranked_among_its_citys_counties_and_focused(self, province):
        data = ranking_page("360103", "2025-03", scope=province)
        assert data["rank_title"] == "南昌市各县（市、区）"
        assert data["focus"] == "360103" and data["focus_row"]["rank"] == 2

    def test_a_focused_region_without_a_score_has_none_rather_than_nan(self, province):
        row = ranking_page("360200", "2025-03", focus="360203", scope=province)["focus_row"]
        assert row["region_name"] == "珠山区" and row["score"] is None and row["rank"] is None

    def test_a_month_without_data_ranks_nobody(self, province):
        data = ranking_page("360000", "2024-01", scope=province)
        assert data["ranked"] == 0 and data["focus"] is None

    def test_the_ranking_agrees_with_the_composite_index(self, province):
        mine = ranking_page("360000", "2025-03", "county", scope=province)["index"]
        theirs = composite_index("360000", "county", "2025-03", scope=province)
        pd.testing.assert_frame_equal(mine, theirs)
        assert mine.attrs["dimensions"] == theirs.attrs["dimensions"]

    def test_the_cached_index_is_a_copy_the_caller_may_change(self, province):
        first = ranking_index("360000", "city", "2025-03", scope=province)
        first.loc[0, "score"] = -1
        assert ranking_index("360000", "city", "2025-03", scope=province).loc[0, "score"] == pytest.approx(45.0)

    @pytest.mark.parametrize("kwargs, message", [
        ({"level": "town"}, "未知的排名层级：'town'"),
        ({"focus": "360102"}, "地区 '360102' 不在本次排名范围（江西省各设区市）内"),
    ])
    def test_bad_url_input_gets_a_chinese_message(self, province, kwargs, message):
        with pytest.raises(RankingParamError, match=message):
            ranking_page("360000", "2025-03", scope=province, **kwargs)

    def test_a_county_viewer_sees_only_its_own_county(self):
        data = ranking_page(None, "2025-03", scope=Scope(regions=("360102",)))
        assert data["index"]["region_code"].tolist() == ["360102"]

    def test_a_city_viewer_may_not_rank_the_province(self):
        with pytest.raises(ScopeError):
            ranking_page("360000", "2025-03", scope=Scope(regions=("360100",)))

    def test_a_missing_scope_fails_closed(self):
        with pytest.raises(ScopeError):
            ranking_page("360000", "2025-03", scope=None)


def test_the_demo_ranks_the_11_cities_and_the_100_counties(demo_env):
    province = Scope.province("360000")
    cities = ranking_page(None, "2026-10", scope=province)
    counties = ranking_page(None, "2026-10", "county", scope=province)
    assert cities["ranked"] == 11 and counties["ranked"] == 100
    top = composite_index("360000", "city", "2026-10", scope=province).iloc[0]
    assert cities["focus"] == top["region_code"] and cities["focus_row"]["score"] == pytest.approx(top["score"])
    assert cities["average"]["service"] == pytest.approx(cities["index"]["dim_service"].mean())
