"""The 数据管理 page: uploads checked and previewed, 发布, the 填报 forms, history and 回滚,
called directly on a copy of a small demo database (each test publishes on its own copy)."""

from __future__ import annotations

import dash
import pytest
from dash import html, no_update

import app  # noqa: F401 — registers the pages
from data import db, opstore, versions
from data.intake import forms
from data.intake import publish as pub
from data.intake.errors import IntakeError
from data.intake.service import UNCHANGED, check_upload
from data.scope import Scope
from metrics.engine import kpi_value
from metrics.format import fmt_value
from metrics.tasks_view import task_list
from pages import data as page
from tests.intake_demo import (
    book_bytes,
    build_small_demo,
    copy_store,
    export_book,
    header_index,
    hotline_edit,
    upload_contents,
)
from tests.pages.tree import by_id, texts, walk

pytestmark = pytest.mark.usefixtures("environment_viewer")  # called as the demo viewer

PROVINCE = Scope.province("360000")


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return build_small_demo(tmp_path_factory.mktemp("intake-page"))


@pytest.fixture(autouse=True)
def data_env(small_demo, tmp_path, monkeypatch):
    """A private copy of the small demo; the demo viewer of the whole province."""
    pointer = copy_store(small_demo, tmp_path / "db")
    monkeypatch.setenv("COCKPIT_DB", str(pointer))
    for name in ("COCKPIT_VIEWER_SCOPE", "COCKPIT_VIEWER_NAME", "COCKPIT_OPSTORE_URL"):
        monkeypatch.delenv(name, raising=False)
    db.reset_reader()
    yield pointer
    db.reset_reader()
    opstore.dispose()


def _version() -> int | None:
    return versions.current_number(versions.store_for(db.pointer_path()))


def _totals(report) -> list[str]:
    """新增, 修改, 删除 as the preview shows them."""
    return [next(c for c in walk(by_id(report, f"data-total-{k}")) if isinstance(c, html.B)).children
            for k in ("added", "changed", "removed")]


def _upload(raw: bytes, name: str = "热线2026年10月.xlsx", *, family=None, region="360000", token=None):
    return page.check_file(upload_contents(raw), name, family, region, token)


def test_the_page_is_registered_and_offers_templates_upload_forms_and_history():
    reg = dash.page_registry["pages.data"]
    assert reg["path"] == "/data" and reg["name"] == "数据管理"
    layout = page.layout()
    text = texts(layout)
    for family in ("services", "hotline", "spending", "projects", "data_resources", "tasks"):
        assert by_id(layout, f"data-template-{family}").href == f"/data/template/{family}.xlsx"
        assert by_id(layout, {"type": "data-export-link", "family": family}).href == \
            f"/data/export/{family}.xlsx?month=2026-10&region=360000"
    for words in ("当前数据版本", "v1", "数据截至 2026年10月", "上传导入", "填报 · 督办任务进展", "填报 · 项目里程碑",
                  "导入记录", "演示数据生成器", "当前版本", "报送人：演示用户"):
        assert words in text
    assert len(by_id(layout, "data-tasks-grid").rowData) == 12
    assert page.update_export_links("2026-09", "360100", [{"family": "hotline"}]) == \
        ["/data/export/hotline.xlsx?month=2026-09&region=360100"]


def test_an_edited_export_is_previewed_with_the_hand_counted_changes_then_published():
    before = kpi_value("hotline_received", "360000", "2026-10", "month", scope=PROVINCE).value
    raw = hotline_edit({2: {"受理量": lambda v: v + 100}, 3: {"受理量": lambda v: v + 250}})
    checked = _upload(raw)
    assert checked.token and checked.actions == page.OPEN and checked.outcome is None
    report = checked.report
    assert _totals(report) == ["0", "2", "0"]
    diff = texts(by_id(report, "data-diff"))
    assert "设区市" in diff and "南昌市" in diff and "2026-10" in diff and "东湖区" not in diff  # rolled up
    moves = texts(by_id(report, "data-kpi-moves"))
    assert f"12345 受理量 当月 2026-10 {fmt_value(before, '件')} {fmt_value(before + 350, '件')}" in moves
    assert "500 行" in texts(report)

    version = _version()
    bar, token, outcome, published = page.publish_change("upload", 1, checked.token, [])
    assert published and bar == page.CLOSED and token is None
    assert f"已发布：当前数据版本 v{version + 1}（此前 v{version}）" in texts(outcome)
    assert _version() == version + 1
    assert kpi_value("hotline_received", "360000", "2026-10", "month", scope=PROVINCE).value == before + 350
    latest = opstore.history(limit=1)[0]
    assert (latest["outcome"], latest["version"], latest["actor"], latest["kind"]) == \
        ("已发布", version + 1, "演示用户", "导入")
    assert f"v{version + 1}" in texts(page.layout())


def test_a_county_viewer_sees_counties_in_the_preview(monkeypatch):
    monkeypatch.setenv("COCKPIT_VIEWER_SCOPE", "360102")
    book = export_book("hotline", region="360102")
    ws = book["热线月度统计"]
    ws.cell(2, header_index(ws)["受理量"]).value += 10
    checked = _upload(book_bytes(book), region="360102")
    diff = texts(by_id(checked.report, "data-diff"))
    assert "县（市、区）" in diff and "东湖区" in diff and "南昌市" not in diff
    assert "全省指标的变化仅向省级用户显示" in texts(checked.report)  # the province's figures are not theirs
    assert not [c for c in walk(checked.report) if getattr(c, "id", None) == "data-kpi-moves"]


def test_a_malformed_file_gets_every_problem_and_nothing_is_published():
    version = _version()
    raw = hotline_edit({4: {"受理量": "很多"}, 6: {"区县代码": "999999"}})
    checked = _upload(raw, "坏文件.xlsx")
    assert checked.token is None and checked.actions == page.CLOSED
    table = by_id(checked.report, "data-upload-problems")
    rows = [c for c in walk(table) if isinstance(c, html.Tr)][1:]
    cells = [[str(td.children) for td in r.children] for r in rows]
    assert any(c[2:4] == ["4", "受理量"] and "很多" in c[4] for c in cells)
    assert any(c[2:4] == ["6", "区县代码"] for c in cells)
    assert f"共 {len(rows)} 个问题" in texts(checked.report) and "未发布" in texts(checked.report)
    assert _version() == version
    assert opstore.history(limit=1)[0]["outcome"] == "已拒绝"


def test_an_unchanged_file_says_so_and_publishes_nothing():
    version = _version()
    checked = _upload(hotline_edit({}))
    assert texts(checked.report) == UNCHANGED and checked.token is None
    assert _version() == version


def test_warnings_must_be_confirmed_before_publishing():
    raw = hotline_edit({2: {"区县名称": "西湖区", "受理量": lambda v: v + 1}})
    checked = _upload(raw)
    assert checked.actions == page.CONFIRM and checked.outputs()[4] is True  # 发布 disabled until ticked
    assert "区县名称" in texts(by_id(checked.report, "data-warnings"))
    version = _version()
    bar, token, outcome, published = page.publish_change("upload", 1, checked.token, [])
    assert not published and bar is no_update and token is no_update  # still pending: tick, then 发布
    assert "条提示需要核实" in texts(outcome) and _version() == version
    bar, token, outcome, published = page.publish_change("upload", 2, checked.token, ["ok"])
    assert published and _version() == version + 1


def test_a_token_that_is_not_the_viewers_or_unknown_is_refused_in_chinese():
    version = _version()
    others = check_upload(hotline_edit({2: {"受理量": lambda v: v + 5}}), "别人的.xlsx", scope=PROVINCE,
                          actor="另一位用户", region="360000")
    _bar, token, outcome, published = page.publish_change("upload", 1, others.prepared.token, [])
    assert not published and token is None and texts(outcome) == "只能发布本人校验的文件"
    assert page.cancel_change("upload", 1, others.prepared.token)[3] is not None  # nor cancel it
    assert pub.load_prepared(others.prepared.token).actor == "另一位用户"  # still theirs
    for forged in ("0" * 24, "../../etc/passwd", "x" * 200):
        _bar, token, outcome, published = page.publish_change("upload", 1, forged, ["ok"])
        assert not published and token is None and "请重新上传并校验" in texts(outcome)
    assert _version() == version


def test_a_region_outside_the_scope_is_refused_and_nothing_is_recorded(monkeypatch):
    monkeypatch.setenv("COCKPIT_VIEWER_SCOPE", "360100")
    before = len(opstore.history())
    checked = _upload(hotline_edit({2: {"受理量": lambda v: v + 1}}), region="360700")
    assert texts(checked.outcome) == "无权查看该地区：赣州市（360700）" and checked.token is None
    checked = _upload(b"x", family="nonsense")
    assert texts(checked.outcome) == "未知的数据类别：nonsense"
    assert "无法读取" in texts(page.check_file("not a data url", "a.xlsx", None, None, None).outcome)
    assert len(opstore.history()) == before


def test_rows_outside_the_viewers_scope_are_problems_not_changes(monkeypatch):
    monkeypatch.setenv("COCKPIT_VIEWER_SCOPE", "360100")  # 南昌市 uploads the whole province's month
    version = _version()
    checked = _upload(hotline_edit({2: {"受理量": lambda v: v + 1}}), region="360100")
    assert checked.token is None and "data-upload-problems" in str(checked.report)
    assert _version() == version


def test_cancel_drops_the_prepared_change():
    checked = _upload(hotline_edit({2: {"受理量": lambda v: v + 3}}))
    report, bar, token, _outcome = page.cancel_change("upload", 1, checked.token)
    assert "已取消" in texts(report) and bar == page.CLOSED and token is None
    with pytest.raises(IntakeError):
        pub.load_prepared(checked.token)
    assert opstore.history(limit=1)[0]["outcome"] == "已放弃"


def test_a_new_upload_replaces_the_viewers_previous_unpublished_one():
    first = _upload(hotline_edit({2: {"受理量": lambda v: v + 3}}))
    second = _upload(hotline_edit({2: {"受理量": lambda v: v + 4}}), token=first.token)
    assert second.token and second.token != first.token
    with pytest.raises(IntakeError):
        pub.load_prepared(first.token)


# ---------------------------------------------------------------- 填报


def _task_rows() -> list[dict]:
    from components.data_views import task_grid_rows

    return task_grid_rows(forms.task_rows(PROVINCE))


def test_the_task_form_publishes_an_edited_row():
    rows = _task_rows()
    row = next(r for r in rows if r["task_id"] == 4)
    assert row["status"] == "推进中" and row["progress"] == 85
    row.update(progress=95, progress_note="目录挂接已完成 95%", evidence_url="https://www.jiangxi.gov.cn/")
    checked, back = page.submit_form("tasks", rows, None)
    assert checked.token, texts(checked.report)
    assert _totals(checked.report) == ["0", "1", "0"]
    assert "督办任务进展" in texts(by_id(checked.report, "data-diff"))
    assert all("_errors" not in r for r in back)
    version = _version()
    assert page.publish_change("tasks", 1, checked.token, [])[3]
    assert _version() == version + 1
    task = task_list("360000", "2026-10", scope=PROVINCE).set_index("task_id").loc[4]
    assert (task["progress"], task["progress_note"]) == (95, "目录挂接已完成 95%")
    assert opstore.history(limit=1)[0]["kind"] == "填报"


def test_a_form_with_problems_marks_its_rows_and_publishes_nothing():
    rows = _task_rows()
    by_task = {r["task_id"]: r for r in rows}
    by_task[4]["progress"] = 150
    by_task[6].update(status="快完成了", evidence_url="见附件")
    version = _version()
    checked, back = page.submit_form("tasks", rows, None)
    assert checked.token is None and _version() == version
    marks = {r["_row"]: r["_errors"] for r in back if "_errors" in r}
    assert set(marks) == {4, 6} and marks[4] == ["progress"] and set(marks[6]) == {"status", "evidence_url"}
    problems = texts(by_id(checked.report, "data-tasks-problems"))
    assert "第 4 行「完成进度」" in problems and "第 6 行「进展状态」" in problems
    assert opstore.history(limit=1)[0]["outcome"] == "已拒绝"


def test_a_form_without_edits_says_there_is_nothing_to_submit():
    checked, _ = page.submit_form("tasks", _task_rows(), None)
    assert texts(checked.report) == "没有修改，无需提交" and checked.token is None


def test_a_forged_task_outside_the_scope_is_a_problem(monkeypatch):
    monkeypatch.setenv("COCKPIT_VIEWER_SCOPE", "360100")  # the tasks are the province's
    rows = [{"_row": 1, "task_id": 4, "status": "已完成", "progress": 100, "progress_note": "", "evidence_url": ""}]
    checked, back = page.submit_form("tasks", rows, None)
    assert checked.token is None and back[0].get("_errors") is not None


def test_the_milestone_form_adds_a_stage_and_edits_a_note():
    from components.data_views import event_grid_rows, new_event_row

    events = forms.event_rows(PROVINCE)
    rows = event_grid_rows(events)
    project = events["project_id"].iloc[0]
    have = set(events.loc[events["project_id"] == project, "stage"])
    stage = next(s for s in forms.stage_choices()["stage"] if s not in have and s != "terminated")
    rows[0]["note"] = "已补充批复文号"
    new = {**new_event_row(len(rows) + 1), "project_id": project, "stage": stage, "event_date": "2026-10-20"}
    checked, _ = page.submit_form("events", [new, *rows], None)
    assert checked.token, texts(checked.report)
    assert _totals(checked.report) == ["1", "1", "0"]
    assert page.publish_change("events", 1, checked.token, [])[3]
    after = forms.event_rows(PROVINCE).set_index(["project_id", "stage"])
    assert after.loc[(project, stage), "event_date"] == "2026-10-20"
    assert after.loc[(project, events["stage"].iloc[0]), "note"] == "已补充批复文号"


def test_a_new_milestone_row_is_added_at_the_top():
    rows = page.add_event_row(1, [{"_row": 1}, {"_row": 7}])
    assert rows[0] == {"_row": 8, "_new": True, "project_id": None, "stage": None, "event_date": None, "note": None}


# ---------------------------------------------------------------- 回滚


def test_rollback_returns_to_a_kept_version_and_refuses_others():
    checked = _upload(hotline_edit({2: {"受理量": lambda v: v + 7}}))
    assert page.publish_change("upload", 1, checked.token, [])[3]
    current = _version()
    history = page._history_view()
    button = by_id(history, {"type": "data-rollback", "version": current - 1})
    assert button.children == f"回滚至 v{current - 1}"
    assert page.rollback_question(current - 1)[0] == current - 1
    assert page.rollback_question("v1; DROP")[0] is None  # a forged button id asks nothing
    _pending, _bar, outcome, history, bar_version = page.do_rollback(current - 1)
    assert f"已回滚：当前数据版本 v{current - 1}（此前 v{current}）" in texts(outcome)
    assert _version() == current - 1 and f"v{current - 1}" in texts(bar_version)
    _pending, _bar, outcome, *_ = page.do_rollback(99)
    assert "版本 v99 不存在或已清理" in texts(outcome) and _version() == current - 1
    assert "请先在导入记录中选择" in texts(page.do_rollback(None)[2])


def test_uploads_publishes_rollbacks_and_refusals_are_audited():
    from data import audit

    before = audit.last_seq()
    bad = check_upload(hotline_edit({2: {"受理量": lambda v: -3}}), "坏文件.xlsx", scope=PROVINCE,
                       actor="报送员甲", region="360000")
    good = check_upload(hotline_edit({2: {"受理量": lambda v: v + 7}}), "十月.xlsx", scope=PROVINCE,
                        actor="报送员甲", region="360000")
    stale = check_upload(hotline_edit({2: {"受理量": lambda v: v + 9}}), "迟到.xlsx", scope=PROVINCE,
                         actor="报送员乙", region="360000")
    assert bad.errors and good.prepared and stale.prepared
    done = pub.publish(good.prepared, actor="报送员甲")
    with pytest.raises(versions.PublishConflict):
        pub.publish(stale.prepared, actor="报送员乙")
    pub.rollback(done.previous, actor="管理员")
    rows = [r for r in audit.search(limit=50) if r["seq"] > before]
    seen = sorted((r["action"], r["actor"], r["outcome"], r["target"]) for r in rows)
    assert seen == sorted([
        ("上传", "报送员甲", "未通过", "坏文件.xlsx"),
        ("上传", "报送员甲", "通过", "十月.xlsx"),
        ("上传", "报送员乙", "通过", "迟到.xlsx"),
        ("发布", "报送员甲", "成功", f"v{done.previous} → v{done.version}"),
        ("发布", "报送员乙", "失败", f"校验 #{stale.import_id}"),
        ("回滚", "管理员", "成功", f"v{done.version} → v{done.previous}"),
    ])
    published = next(r for r in rows if r["action"] == "发布" and r["outcome"] == "成功")
    assert published["month"] == "2026-10"
    assert audit.verify() == []  # the chain holds
