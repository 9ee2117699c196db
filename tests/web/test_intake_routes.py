"""The template and export downloads of the 数据管理 page: files for good requests, Chinese
messages with 4xx statuses for bad ones (never a 500)."""

from __future__ import annotations

import io
from urllib.parse import unquote

import openpyxl
import pytest

import app
from data import db, opstore
from tests.intake_demo import build_small_demo


@pytest.fixture(scope="module")
def small_demo(tmp_path_factory):
    return build_small_demo(tmp_path_factory.mktemp("intake-routes"))


@pytest.fixture
def client(small_demo, monkeypatch):
    monkeypatch.setenv("COCKPIT_DB", str(small_demo))
    monkeypatch.delenv("COCKPIT_VIEWER_SCOPE", raising=False)
    db.reset_reader()
    yield app.server.test_client()
    db.reset_reader()
    opstore.dispose()


def _book(resp) -> openpyxl.Workbook:
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return openpyxl.load_workbook(io.BytesIO(resp.data))


def test_every_family_has_a_template_named_in_chinese(client):
    for family, sheet in [("services", "事项清单"), ("hotline", "热线月度统计"), ("spending", "支付明细"),
                          ("projects", "项目里程碑"), ("data_resources", "数据资源月度统计"),
                          ("tasks", "督办任务进展")]:
        resp = client.get(f"/data/template/{family}.xlsx")
        assert sheet in _book(resp).sheetnames
        assert "_模板.xlsx" in unquote(resp.headers["Content-Disposition"])


def test_an_export_holds_the_month_and_region_asked_for(client):
    resp = client.get("/data/export/hotline.xlsx?month=2026-10&region=360100")
    ws = _book(resp)["热线月度统计"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows and {r[0] for r in rows} == {"2026-10"} and all(str(r[1]).startswith("3601") for r in rows)
    assert "12345 热线_南昌市_2026-10.xlsx" in unquote(resp.headers["Content-Disposition"])


@pytest.mark.parametrize("url, status, message", [
    ("/data/template/nope.xlsx", 404, "未知的数据类别：nope"),
    ("/data/export/nope.xlsx?month=2026-10", 404, "未知的数据类别：nope"),
    ("/data/export/hotline.xlsx?month=2026-13", 400, "月份格式应为 YYYY-MM"),
    ("/data/export/hotline.xlsx", 400, "月份格式应为 YYYY-MM"),
    ("/data/export/hotline.xlsx?month=2026-10&region=999999", 400, "未知的地区代码：999999"),
    ("/data/export/hotline.xlsx?month=2026-10&region=abc'--", 400, "未知的地区代码"),
])
def test_bad_requests_get_a_chinese_message(client, url, status, message):
    resp = client.get(url)
    assert resp.status_code == status and message in resp.get_data(as_text=True)
    assert resp.mimetype == "text/plain"


def test_a_region_outside_the_viewers_scope_is_refused(client, monkeypatch):
    monkeypatch.setenv("COCKPIT_VIEWER_SCOPE", "360100")
    resp = client.get("/data/export/hotline.xlsx?month=2026-10&region=360700")
    assert resp.status_code == 400 and resp.get_data(as_text=True) == "无权查看该地区：赣州市（360700）"
    rows = list(_book(client.get("/data/export/hotline.xlsx?month=2026-10"))["热线月度统计"].iter_rows(
        min_row=2, values_only=True))
    assert rows and all(str(r[1]).startswith("3601") for r in rows)  # the default is the viewer's own region
