"""The composite index: normalisation, weights and change, worked by hand on the fixture."""

import pytest

from metrics.composite import Dimension, IndexConfig, composite_index

pytestmark = pytest.mark.usefixtures("fixture_env")

ONE_KPI = IndexConfig(
    normalisation="minmax", period="ytd",
    dimensions=(Dimension(id="service", name="公共服务体验度", weight=1.0, kpis={"online_handling_rate": 1.0}),),
)


def test_minmax_scores_put_the_best_county_at_100_and_the_worst_at_0(province):
    # YTD 2025-03: 东湖 230/360 = 63.9%, 西湖 200/600 = 33.3%, 浮梁 90/100 = 90%, 珠山 no data
    df = composite_index("360000", "county", "2025-03", scope=province, config=ONE_KPI).set_index("region_code")
    assert df.loc["360222", "score"] == pytest.approx(100.0)
    assert df.loc["360103", "score"] == pytest.approx(0.0)
    assert df.loc["360102", "score"] == pytest.approx((230 / 360 - 200 / 600) / (0.9 - 200 / 600) * 100)
    assert df.loc["360222", "rank"] == 1 and df.loc["360103", "rank"] == 3
    assert df["score"].isna()["360203"]


def test_the_change_is_against_the_previous_month(province):
    # YTD 2025-02: 东湖 150/250 = 60%, 西湖 50/300 = 16.7%, 浮梁 0/0 → no value; 东湖 best (100)
    df = composite_index("360000", "county", "2025-03", scope=province, config=ONE_KPI).set_index("region_code")
    assert df.loc["360102", "prev_score"] == pytest.approx(100.0)
    assert df.loc["360102", "score_change"] == pytest.approx(df.loc["360102", "score"] - 100.0)
    assert df.loc["360102", "rank_change"] == -1  # from 1st to 2nd


def test_the_default_configuration_ranks_every_city(province):
    df = composite_index("360000", "city", "2025-03", scope=province)
    assert sorted(df.region_code) == ["360100", "360200"]
    assert {f"dim_{d}" for d in ["governance", "service", "data", "rules", "infrastructure"]} <= set(df.columns)
