"""Validation: every problem named by sheet, row and column, in Chinese; typed rows out."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date, datetime

import pandas as pd
import pytest

from data.intake.errors import Problem
from data.intake.read import read_upload
from data.intake.templates import write_export
from data.intake.validate import ValidationContext, validate, validate_frames
from data.scope import Scope
from tests.data.intake.conftest import PROVINCE, TODAY

NANCHANG = "360100"  # 9 counties: 360102 东湖区, 360103 西湖区, … 360124 进贤县


def export(con, family: str, month: str = "2026-10-01", region: str = NANCHANG):
    """A published month as the clerk downloads it, read back as an upload."""
    buf = io.BytesIO()
    write_export(family, con, month=pd.Timestamp(month).date(), region=region, scope=Scope.province(PROVINCE),
                 out=buf)
    return read_upload(buf.getvalue(), f"{family}.xlsx")


@pytest.fixture(scope="module")
def hotline_upload(con):
    return export(con, "hotline")  # rows 2–46: 东湖区 咨询 … 建议 (rows 2–6), 西湖区 (7–11) …


@pytest.fixture
def hotline(hotline_upload):
    return hotline_upload.sheets["hotline_monthly"].copy()


def check(ctx, family: str, sheets: dict, **changes):
    return validate_frames(family, sheets, replace(ctx, **changes), source="test")


def messages(report, level: str = "error") -> list[str]:
    return [str(p) for p in (report.errors if level == "error" else report.warnings)]


# ---------------------------------------------------------------- good data


def test_a_published_month_reads_back_clean_with_typed_frames_matching_the_table(ctx, hotline):
    report = check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG)
    assert report.ok, messages(report)
    frame = report.frame("hotline_monthly")
    assert list(frame.columns) == ["month", "county_code", "category", "received", "due", "closed_on_time",
                                   "called_back", "satisfied"]
    assert str(frame["month"].dtype) == "datetime64[us]" and str(frame["received"].dtype) == "int32"
    assert report.months == [date(2026, 10, 1)] and len(report.regions) == 9 and report.rows == 45


def test_values_written_in_every_common_way_are_understood(ctx, hotline):
    hotline.loc[2, ["month", "received", "due"]] = ["2026年10月", "6,108", "５４９３"]
    hotline.loc[3, ["month", "received"]] = [datetime(2026, 10, 1), 1562.0]
    hotline.loc[4, ["month", "county_code"]] = ["202610", "360102 东湖区"]
    hotline.loc[5, "month"] = "2026/10"
    report = check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG)
    assert report.ok, messages(report)
    frame = report.frame("hotline_monthly")
    assert frame.loc[0, "received"] == 6108 and frame.loc[0, "due"] == 5493
    assert (frame["month"] == frame["month"].iloc[0]).all() and frame.loc[2, "county_code"] == "360102"


def test_a_negative_count_is_named_by_sheet_row_and_column(ctx, hotline):
    hotline.loc[12, "received"] = -3
    report = check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG)
    assert "〔热线月度统计〕第 12 行「受理量」应为非负整数，实为 -3" in messages(report)
    assert report.frames["hotline_monthly"] == []


def test_an_unreadable_cell_is_reported_once_with_its_raw_value(ctx, hotline):
    hotline.loc[3, "received"] = "约1500"
    got = messages(check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG))
    assert "〔热线月度统计〕第 3 行「受理量」应为非负整数，实为 约1500" in got
    assert not any("第 3 行「受理量」必填" in m for m in got)


def test_a_blank_required_cell_is_missing_but_a_blank_count_of_the_monthly_statistics_is_zero(ctx, con, hotline):
    hotline.loc[4, "received"] = "—"
    assert "〔热线月度统计〕第 4 行「受理量」必填，不能为空" in messages(
        check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG))
    services = export(con, "services").sheets
    monthly = services["service_monthly"].copy()
    monthly.loc[2, ["bad_fixed", "bad_reviews"]] = ["", "-"]
    report = check(ctx, "services", {"service_monthly": monthly}, region=NANCHANG)
    assert report.ok, messages(report)
    assert report.frame("service_monthly").loc[0, ["bad_fixed", "bad_reviews"]].tolist() == [0, 0]


def test_numerator_above_denominator_names_both(ctx, hotline):
    hotline.loc[2, ["received", "due"]] = [90, 95]
    assert "〔热线月度统计〕第 2 行「应办结量」（95）不应大于「受理量」（90）" in messages(
        check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG))


def test_a_duplicated_key_reports_both_rows(ctx, hotline):
    hotline.loc[3, "category"] = "咨询"
    got = messages(check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG))
    assert "〔热线月度统计〕第 2 行与第 3 行重复（统计月份 2026-10，区县代码 360102，诉求类型 咨询）" in got
    assert "〔热线月度统计〕第 3 行与第 2 行重复（统计月份 2026-10，区县代码 360102，诉求类型 咨询）" in got


def test_a_value_outside_the_allowed_list_is_refused(ctx, hotline):
    hotline.loc[6, "category"] = "表扬"
    assert "〔热线月度统计〕第 6 行「诉求类型」应为 咨询、求助、投诉、举报、建议 之一，实为 表扬" in messages(
        check(ctx, "hotline", {"hotline_monthly": hotline}))


# ---------------------------------------------------------------- codes, scope and region


@pytest.mark.parametrize("code, message", [
    ("440106", "440106 不属于本省（江西省），是广东省的代码"),
    ("360100", "360100（南昌市）是设区市代码，应填写区县代码"),
    ("369999", "369999 不是江西省的区县代码"),
])
def test_a_county_code_outside_the_province_says_why(ctx, hotline, code, message):
    hotline.loc[2, "county_code"] = code
    report = check(ctx, "hotline", {"hotline_monthly": hotline})
    assert f"〔热线月度统计〕第 2 行「区县代码」{message}" in messages(report)


def test_a_county_outside_the_uploaders_scope_is_refused_by_name(ctx, hotline):
    hotline.loc[8, ["county_code", "county_name"]] = ["360402", "濂溪区"]
    report = check(ctx, "hotline", {"hotline_monthly": hotline}, scope=Scope((NANCHANG,)))
    assert "〔热线月度统计〕第 8 行「区县代码」360402 濂溪区 不在您的报送范围内" in messages(report)


def test_a_county_outside_the_chosen_region_is_refused(ctx, hotline):
    hotline.loc[8, ["county_code", "county_name"]] = ["360402", "濂溪区"]
    report = check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG)
    assert "〔热线月度统计〕第 8 行「区县代码」360402 濂溪区 不属于本次报送的地区（南昌市）" in messages(report)


def test_a_region_outside_the_scope_is_an_error(ctx, hotline):
    report = check(ctx, "hotline", {"hotline_monthly": hotline}, scope=Scope(("360200",)), region=NANCHANG)
    assert "报送地区 360100（南昌市）不在您的报送范围内" in messages(report)


def test_departments_outside_a_department_scope_are_refused(ctx, con):
    frame = export(con, "data_resources").sheets["data_resource_monthly"]
    report = check(ctx, "data_resources", {"data_resource_monthly": frame}, region=NANCHANG,
                   scope=Scope((PROVINCE,), departments=("D01",)))
    first_d02 = int(frame.index[frame["dept_code"] == "D02"][0])
    assert f"〔数据资源月度统计〕第 {first_d02} 行「部门代码」D02 市场监督管理局 不在您的报送范围内" in messages(report)


def test_a_wrong_county_name_is_a_warning_the_code_wins(ctx, hotline):
    hotline.loc[2, "county_name"] = "西湖区"
    report = check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG)
    assert report.ok
    assert ("〔热线月度统计〕第 2 行「区县名称」西湖区 与「区县代码」360102（东湖区）不符，入库以代码为准，请核实"
            in messages(report, "warning"))


# ---------------------------------------------------------------- registers in the same upload


def test_items_must_exist_in_the_catalogue_or_in_the_same_upload(ctx, con):
    sheets = export(con, "services").sheets
    monthly = sheets["service_monthly"].copy()
    monthly.loc[2, ["item_code", "dept_code"]] = ["SX9999", "D21"]
    alone = check(ctx, "services", {"service_monthly": monthly}, region=NANCHANG)
    assert "〔月度统计〕第 2 行「事项编码」SX9999 不在事项清单中（数据库和本文件〔事项清单〕都没有）" in messages(alone)
    items = sheets["service_item"].copy()
    new = items.iloc[[0]].copy()
    new.index = [items.index.max() + 1]
    new.loc[:, ["item_code", "name", "dept_code", "dept_name"]] = ["SX9999", "公共数据授权运营申请", "D21", "数据局"]
    together = check(ctx, "services", {"service_item": pd.concat([items, new]), "service_monthly": monthly},
                     region=NANCHANG)
    assert together.ok, messages(together)
    assert "SX9999" in set(together.frame("service_item")["item_code"])


def test_an_items_department_must_match_the_catalogue(ctx, con):
    monthly = export(con, "services").sheets["service_monthly"].copy()
    monthly.loc[2, "dept_code"] = "D02"
    assert ("〔月度统计〕第 2 行「部门代码」D02 与事项 SX0001（居民身份证申领）的主管部门 D01（公安局）不一致"
            in messages(check(ctx, "services", {"service_monthly": monthly}, region=NANCHANG)))


def test_project_events_accept_stage_labels_or_codes_and_new_projects_of_the_same_upload(ctx):
    project = {c: [v] for c, v in {
        "project_id": "P20269001", "name": "东湖区城市运行管理中心建设项目", "owner_unit": "东湖区数据局",
        "owner_level": "县级", "dept_code": "D21", "county_code": "360102", "category": "应用系统", "tier": "一般",
        "approved_budget": "120.5", "fund_source": "县级", "apply_year": "2026", "planned_start": "",
        "planned_finish": "", "on_gov_cloud": "是", "classified": "否", "data_sharing_confirmed": "否",
        "crypto_assessed": "否", "mlps_level": "", "performance_score": "—", "terminated": ""}.items()}
    events = pd.DataFrame({"project_id": ["P20269001", "P20269001", "P20269002", "P20269001"],
                           "stage": ["申报", "assessed", "申报", "开工典礼"],
                           "event_date": ["2026-03-01", "2026/4/2", "2026-03-01", "2026-05-01"]}, index=[2, 3, 4, 5])
    report = check(ctx, "projects", {"project": pd.DataFrame(project, index=[2]), "project_event": events})
    got = messages(report)
    assert "〔项目里程碑〕第 4 行「项目编号」P20269002 不是已登记的项目编号" in got
    assert any(m.startswith("〔项目里程碑〕第 5 行「阶段」应为 申报、论证评估、") and m.endswith("之一，实为 开工典礼")
               for m in got)
    assert len(got) == 2, got
    events = events.loc[[2, 3]]
    report = check(ctx, "projects", {"project": pd.DataFrame(project, index=[2]), "project_event": events})
    assert report.ok, messages(report)
    assert report.frame("project_event")["stage"].tolist() == ["applied", "assessed"]
    assert not report.frame("project").loc[0, "terminated"]  # blank 是否终止 means 否


def test_an_event_in_the_future_is_refused(ctx):
    events = pd.DataFrame({"project_id": ["P20250350"], "stage": ["终验"], "event_date": ["2026-12-01"]}, index=[2])
    assert "〔项目里程碑〕第 2 行「发生日期」2026-12-01 晚于今天（2026-11-15），不能报送未发生的事" in messages(
        check(ctx, "projects", {"project_event": events}))


def test_task_progress_updates_only_its_columns_and_keeps_absent_ones(ctx, con):
    current = con.execute("SELECT progress_note FROM task WHERE task_id = 4").fetchone()[0]
    frame = pd.DataFrame({"task_id": ["4", "13", "6"], "title": ["推动数据汇集共享", "", ""],
                          "status": ["已完成", "推进中", "完成"], "progress": ["100", "50", "101"]}, index=[2, 3, 4])
    got = messages(check(ctx, "tasks", {"task": frame}))
    assert "〔督办任务进展〕第 3 行「任务编号」任务 13 不存在（任务由督办部门登记）" in got
    assert "〔督办任务进展〕第 4 行「进展状态」应为 未开始、推进中、已完成、持续推进 之一，实为 完成" in got
    assert "〔督办任务进展〕第 4 行「完成进度」应在 0–100 之间，实为 101" in got
    report = check(ctx, "tasks", {"task": frame.loc[[2]]})
    assert report.ok and report.regions == [PROVINCE]
    out = report.frame("task")
    assert list(out.columns) == ["task_id", "status", "progress", "progress_note", "evidence_url"]
    assert out.loc[0, "progress_note"] == current


def test_an_evidence_link_must_be_a_web_address(ctx):
    frame = pd.DataFrame({"task_id": [4], "status": ["已完成"], "progress": [100], "evidence_url": ["ftp://x"]},
                         index=[2])
    assert "〔督办任务进展〕第 2 行「佐证材料链接」应为以 http:// 或 https:// 开头的网址，实为 ftp://x" in messages(
        check(ctx, "tasks", {"task": frame}))


def test_a_city_uploader_may_not_change_a_province_register(ctx, con):
    items = export(con, "services").sheets["service_item"]
    report = check(ctx, "services", {"service_item": items}, scope=Scope((NANCHANG,)))
    assert messages(report) == ["〔事项清单〕由省级统一维护，您的报送范围不能修改，请联系省级管理员"]


def test_a_task_of_the_province_is_outside_a_city_scope(ctx):
    frame = pd.DataFrame({"task_id": [4], "status": ["已完成"], "progress": [100]}, index=[2])
    report = check(ctx, "tasks", {"task": frame}, scope=Scope((NANCHANG,)))
    assert "〔督办任务进展〕第 2 行「任务编号」任务 4 所在地区 360000 江西省 不在您的报送范围内" in messages(report)


# ---------------------------------------------------------------- months and counties


def test_every_county_of_the_region_must_report(ctx, hotline):
    frame = hotline[hotline["county_code"] != "360103"]
    assert "〔热线月度统计〕2026-10 缺少 1 个区县的数据：西湖区（360103）" in messages(
        check(ctx, "hotline", {"hotline_monthly": frame}, region=NANCHANG))


def test_every_category_of_the_hotline_must_report(ctx, hotline):
    frame = hotline.drop(index=[6])
    assert "〔热线月度统计〕「诉求类型」2026-10 东湖区（360102）缺少：建议" in messages(
        check(ctx, "hotline", {"hotline_monthly": frame}, region=NANCHANG))


def test_months_may_not_leave_a_gap_after_the_databases_latest(ctx, hotline):
    hotline["month"] = "2026-12"
    got = messages(check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG, today=date(2027, 1, 15)))
    assert ("〔热线月度统计〕「统计月份」数据库最新月份为 2026-10，文件含 2026-12，缺少 2026-11；"
            "请先报送缺少的月份或一并报送") in got


def test_a_month_that_is_not_over_is_refused(ctx, hotline):
    hotline["month"] = "2026-11"
    got = messages(check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG))
    assert "〔热线月度统计〕第 2 行「统计月份」2026-11 尚未结束（今天是 2026-11-15），不能报送" in got


def test_an_implausible_jump_is_a_warning_naming_county_months_and_values(ctx, hotline):
    east = hotline["county_code"] == "360102"
    before = int(hotline.loc[east, "received"].astype(int).sum())
    hotline.loc[east, ["received", "due", "closed_on_time", "called_back", "satisfied"]] *= 5
    report = check(ctx, "hotline", {"hotline_monthly": hotline}, region=NANCHANG)
    assert report.ok, messages(report)
    warnings = messages(report, "warning")
    assert len(warnings) == 1
    assert warnings[0].startswith("〔热线月度统计〕「受理量」东湖区（360102）2026-09 → 2026-10：")
    assert f"→ {before * 5:,}（环比 " in warnings[0]


def test_problems_of_one_kind_are_capped_with_a_count_of_the_rest(ctx, con):
    monthly = export(con, "services").sheets["service_monthly"].copy()
    assert len(monthly) == 405
    monthly["applications"] = "很多"
    got = messages(check(ctx, "services", {"service_monthly": monthly}, region=NANCHANG))
    typed = [m for m in got if "「办件量」应为非负整数" in m]
    assert len(typed) == 200
    assert "〔月度统计〕另有 205 行格式不正确未逐一列出" in got


def test_an_upload_without_rows_is_refused(ctx, hotline):
    assert messages(check(ctx, "hotline", {"hotline_monthly": hotline.iloc[:0]})) == [
        "文件中没有数据行（只有表头或示例行）"]


# ---------------------------------------------------------------- frames from the demo and the grid


def test_chunks_give_the_same_rows_as_one_frame_and_a_key_repeated_across_chunks_is_found(ctx, con):
    rows = con.execute("SELECT * FROM hotline_monthly WHERE month >= DATE '2026-09-01'").df()
    whole = check(ctx, "hotline", {"hotline_monthly": rows})
    chunks = [g for _, g in rows.groupby("month")]
    streamed = check(ctx, "hotline", {"hotline_monthly": iter(chunks)})
    assert whole.ok and streamed.ok and len(streamed.frames["hotline_monthly"]) == 2
    pd.testing.assert_frame_equal(whole.frame("hotline_monthly"), streamed.frame("hotline_monthly"))
    again = check(ctx, "hotline", {"hotline_monthly": iter([chunks[0], chunks[1], chunks[1].iloc[:1]])})
    assert any("另一数据块" in m for m in messages(again))


def test_validate_adds_the_readers_warnings(ctx, hotline_upload):
    parsed = replace(hotline_upload, warnings=[Problem("热线月度统计", None, None, "x", "warning")])
    report = validate(parsed, ValidationContext(ctx.con, ctx.scope, NANCHANG, TODAY))
    assert report.ok and report.warnings[0].message == "x"


def test_a_problem_reads_as_a_sentence():
    problem = Problem("月度统计", 12, "办件量", "应为非负整数，实为 -3")
    assert str(problem) == "〔月度统计〕第 12 行「办件量」应为非负整数，实为 -3"
    assert str(Problem("", None, None, "文件为空")) == "文件为空"
