"""The catalogue: every KPI declared once, and bad declarations named clearly."""

import pytest

from metrics import catalogue as cat_mod
from metrics.catalogue import CatalogueError, load_catalogue, parse_catalogue

GOOD_FACT = """
[fact.service]
view = "v_service"
dims = ["dept_code"]
[fact.service.measures]
applications = { expr = "applications", kind = "flow" }
online = { expr = "online_applications", kind = "flow" }
"""

GOOD_KPI = """
[[kpi]]
id = "online_share"
name = "网上办件率"
name_en = "Online share"
family = "service"
fact = "service"
type = "ratio"
numerator = "online"
denominator = "applications"
unit = "%"
direction = "higher"
caliber = "口径"
source = "依据"
"""


def test_the_catalogue_covers_sections_a_to_d_with_at_least_25_kpis():
    cat = load_catalogue()
    assert len(cat.kpis) >= 25
    assert {k.family for k in cat.kpis.values()} == {"service", "spending", "project", "data"}
    for kid in ["online_available_rate", "one_visit_rate", "budget_execution_rate", "execution_gap_pp",
                "cloud_rate", "not_started_6m", "share_fulfil_rate", "egov_network_coverage"]:
        assert kid in cat.kpis


def test_every_kpi_names_its_caliber_and_policy_source():
    for k in load_catalogue().kpis.values():
        assert k.caliber and k.source, k.id
        assert k.unit in ("%", "个百分点", "件", "个", "项", "万元", "分"), k.id


def test_a_valid_declaration_parses():
    cat = parse_catalogue(GOOD_FACT + GOOD_KPI)
    assert cat.kpi("online_share").factor == 100.0


@pytest.mark.parametrize(
    "change, message",
    [
        ('numerator = "online"', 'numerator = "nope"'),
        ('type = "ratio"', 'type = "average"'),
        ('direction = "higher"', 'direction = "up"'),
        ('source = "依据"', 'source = ""'),
        ('unit = "%"', 'unit = "%"\nperiods = ["weekly"]'),
        ('unit = "%"', 'unit = "%"\nrag = { amber_below = -5.0, red_below = 0.0 }'),
        ('unit = "%"', 'unit = "%"\ncolour = "red"'),
    ],
)
def test_a_bad_declaration_is_an_error_naming_the_kpi(change, message):
    text = GOOD_FACT + GOOD_KPI.replace(*((change, message)))
    with pytest.raises(CatalogueError, match="指标 online_share"):
        parse_catalogue(text)


def test_a_duplicate_kpi_id_is_an_error():
    with pytest.raises(CatalogueError, match="id 重复"):
        parse_catalogue(GOOD_FACT + GOOD_KPI + GOOD_KPI)


@pytest.mark.parametrize("expr", ["1; DROP TABLE region", "(SELECT 1)", "x -- comment"])
def test_a_measure_expression_cannot_smuggle_sql(expr):
    text = GOOD_FACT.replace('expr = "applications"', f'expr = "{expr}"')
    with pytest.raises(CatalogueError, match="表达式不合法"):
        parse_catalogue(text + GOOD_KPI)


def test_a_new_kpi_is_one_declaration_and_nothing_else(fixture_env, province, monkeypatch):
    """Append one [[kpi]] block over existing measures; the engine computes it at once."""
    extra = """
[[kpi]]
id = "good_review_count"
name = "好评数"
name_en = "Good reviews"
family = "service"
fact = "service"
type = "sum"
measure = "good_reviews"
unit = "件"
direction = "higher"
caliber = "好评数"
source = "测试"
"""
    text = cat_mod.CATALOGUE_PATH.read_text(encoding="utf-8") + extra
    extended = parse_catalogue(text)
    for module in ("api", "result", "series", "snapshot"):  # every engine module that reads the catalogue
        monkeypatch.setattr(f"metrics.engine.{module}.load_catalogue", lambda: extended)
    from metrics.engine import kpi_value

    # good reviews in 2025-03: 50 + 5 + 100 + 60
    assert kpi_value("good_review_count", "360000", "2025-03", "month", scope=province).value == 215
