"""The 12 real tasks of the Jiangxi 2023 work plan."""

from pathlib import Path

import pytest

from data.tasks import parse_work_plan, reference_tasks

# the one page of the seed document the parser reads (shared/seeds/000_8c57f396a89cbfd3.txt, the
# work plan's text up to 「篇六」), shipped with the tests so they run on a clean clone
SEED = Path(__file__).resolve().parents[1] / "fixtures" / "jiangxi_2023_work_plan.txt"


def test_the_reference_holds_twelve_tasks_with_lead_units_and_deadlines():
    df = reference_tasks()
    assert df["task_id"].tolist() == list(range(1, 13))
    assert df.loc[0, "title"] == "加快编制总体方案" and df.loc[0, "deadline_text"] == "6月底"
    assert str(df.loc[6, "deadline"]) == "2023-10-31"
    assert df.loc[11, "deadline_text"] == "长期" and df["deadline"].isna().iloc[11]
    assert df.loc[11, "lead_units"] == "省委网信办、省公安厅、省发展改革委、省国家密码管理局"


def test_the_reference_matches_a_fresh_parse_of_the_seed_document():
    parsed = parse_work_plan(SEED.read_text(encoding="utf-8"))
    ref = reference_tasks()
    assert len(parsed) == 12
    assert parsed[["task_id", "title", "lead_units", "deadline_text"]].equals(
        ref[["task_id", "title", "lead_units", "deadline_text"]])


def test_a_text_without_the_work_plan_is_refused_in_chinese():
    with pytest.raises(ValueError, match="未在文本中找到"):
        parse_work_plan("江西省政府工作报告")
