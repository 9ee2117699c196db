"""``python -m metrics`` as ops and planners call it."""

import json

import pytest

from metrics.cli import main

pytestmark = pytest.mark.usefixtures("fixture_env")


def test_show_prints_the_value_as_json(capsys):
    assert main(["show", "online_handling_rate", "--region", "360000", "--month", "2025-03", "--period", "ytd",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["numerator"], out["denominator"], out["period_label"]) == (520, 1060, "2025年1—3月")


def test_show_prints_a_readable_chinese_summary(capsys):
    assert main(["show", "online_handling_rate", "--month", "2025-03"]) == 0
    out = capsys.readouterr().out
    assert "江西省 2025年1—3月（累计） 网上办件率：49.1%" in out
    assert "环比 +12.7 个百分点" in out


def test_list_prints_the_catalogue(capsys):
    assert main(["list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) >= 25 and rows[0]["id"] == "online_available_rate"


@pytest.mark.parametrize(
    "argv, message",
    [
        (["show", "nope"], "未知指标：nope"),
        (["show", "online_handling_rate", "--region", "123456"], "未知的地区代码：123456"),
        (["show", "online_handling_rate", "--month", "2025/03"], "月份格式不正确"),
        (["show", "budget_execution_rate", "--period", "month"], "不支持「当月」"),
    ],
)
def test_bad_input_exits_non_zero_with_a_chinese_message_and_no_traceback(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_alerts_and_index_run(capsys):
    assert main(["alerts", "--month", "2025-03", "--json"]) == 0
    assert {a["rule_id"] for a in json.loads(capsys.readouterr().out)} == {"not_started_6m", "overdue"}
    assert main(["index", "--level", "city", "--month", "2025-03", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 2
