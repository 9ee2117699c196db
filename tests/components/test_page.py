"""The page decorator: every viewer's error becomes the page's Chinese notice, bugs still raise."""

import pytest
from dash import html, no_update

import data.geo
import metrics.regions
from briefing.content import BriefingError
from briefing.export import FormatError
from components.page import page_notice, user_notice
from data.intake.errors import IntakeError
from data.scope import ScopeError
from metrics.catalogue import CatalogueError, UnknownKpiError
from metrics.errors import USER_ERRORS, UserError, is_user_error, user_message, user_status
from metrics.periods import PeriodError
from metrics.projects_view import ProjectsInputError
from metrics.ranking_view import RankingParamError
from metrics.screen_view import ScreenInputError
from metrics.services_view import ServicesInputError
from metrics.spending_view import SpendingInputError
from metrics.tasks_view import TaskParamError

USER_ERROR_CASES = [
    (PeriodError("月份格式不正确：'2025-13'（应为 YYYY-MM，例如 2025-06）"), "月份格式不正确：'2025-13'"),
    (metrics.regions.UnknownRegionError("999999"), "未知的地区代码：999999"),
    (data.geo.UnknownRegionError("未知的省级行政区划代码：12"), "未知的省级行政区划代码：12"),
    (ScopeError("无权查看该地区"), "无权查看该地区"),
    (RankingParamError("未知的排名层级：'x'"), "未知的排名层级"),
    (TaskParamError("未知的牵头单位：'x'"), "未知的牵头单位"),
    (ServicesInputError("未知的部门代码：D99"), "未知的部门代码：D99"),
    (SpendingInputError("未知的显示方式：'x'"), "未知的显示方式"),
    (ProjectsInputError("未知的项目档次：'x'"), "未知的项目档次"),
    (ScreenInputError("未知的面板组合"), "未知的面板组合"),
    (BriefingError("该月暂无数据"), "该月暂无数据"),
    (FormatError("格式应为 pdf 或 pptx"), "格式应为 pdf 或 pptx"),
    (IntakeError("无法读取文件"), "无法读取文件"),
    (UnknownKpiError("nope"), "未知指标：nope"),
    (CatalogueError("指标 x 的声明无效"), "指标 x 的声明无效"),
]

CASE_IDS = [f"{type(e).__module__}.{type(e).__name__}" for e, _ in USER_ERROR_CASES]


def _raising(exc):
    def layout(**_kwargs):
        raise exc

    return layout


@pytest.mark.parametrize(("exc", "words"), USER_ERROR_CASES, ids=CASE_IDS)
def test_each_user_error_becomes_the_pages_notice(exc, words):
    page = page_notice("一屏统览", "overview")(_raising(exc))(region="360000")
    assert isinstance(page, html.Div)
    title, banner = page.children
    assert title.children == "一屏统览"
    assert banner.id == "overview-error" and banner.className == "error-banner"
    assert words in banner.children
    assert banner.children == str(exc)


@pytest.mark.parametrize(("exc", "words"), USER_ERROR_CASES, ids=CASE_IDS)
def test_each_user_error_becomes_a_callbacks_answer(exc, words):
    answer = user_notice(lambda message: (no_update, f"下载失败：{message}"))(_raising(exc))()
    assert answer[0] is no_update
    assert answer[1].startswith("下载失败：") and words in answer[1]


def test_every_page_error_class_is_a_user_error():
    for exc, _words in USER_ERROR_CASES:
        assert is_user_error(exc)
        if not isinstance(exc, (UnknownKpiError, CatalogueError)):  # metrics/catalogue.py predates the base
            assert isinstance(exc, UserError)
    assert UserError in USER_ERRORS


def test_user_errors_keep_their_builtin_bases():
    assert issubclass(PeriodError, ValueError)
    assert issubclass(metrics.regions.UnknownRegionError, LookupError)
    assert issubclass(ScopeError, PermissionError)
    assert issubclass(RankingParamError, ValueError)


def test_a_scope_denial_is_403_and_the_rest_400():
    assert user_status(ScopeError("无权查看")) == 403
    assert user_status(PeriodError("x")) == 400
    assert user_status(UnknownKpiError("x")) == 400


def test_a_missing_database_is_a_notice_too():
    page = page_notice("数据管理", "data")(_raising(FileNotFoundError("cockpit.duckdb")))()
    assert page.children[1].children == "数据库不可用：cockpit.duckdb"


@pytest.mark.parametrize("bug", [ValueError("bug"), KeyError("bug"), RuntimeError("bug"), TypeError("bug")])
def test_a_bug_is_raised_not_shown(bug):
    with pytest.raises(type(bug)):
        page_notice("一屏统览", "overview")(_raising(bug))()
    assert user_message(bug) is None


def test_the_decorated_page_keeps_its_name_and_answers_normally():
    @page_notice("督办", "tasks")
    def layout(region=None, **_ignored):
        """doc"""
        return html.Div(region)

    assert layout.__name__ == "layout" and layout.__doc__ == "doc"
    assert layout(region="360100").children == "360100"
