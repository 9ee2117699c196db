"""The briefing says how fresh the data it reports is: on the cover of the PDF and the PPTX,
and 「数据未按期更新」 in every page's running line when a family is late."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
from datetime import date, datetime

import pytest

from briefing.content import Briefing, briefing_content
from briefing.document import to_html
from briefing.slides import SEAL, build
from data import db
from data.scope import Scope
from metrics.freshness import Freshness
from tests.briefing.conftest import MONTH, PROVINCE
from tests.freshness_rows import copy_with_freshness

SERVICES = Freshness("services", "政务服务", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30), date(2026, 12, 5),
                     False, "数据截至 2026-10 · 更新于 11-05", "")
HOTLINE = Freshness("hotline", "12345 热线", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30), date(2026, 12, 5),
                    False, "数据截至 2026-10 · 更新于 11-05", "")
SPENDING = Freshness("spending", "预算执行", date(2026, 9, 1), datetime(2026, 10, 8, 16, 0), date(2026, 11, 10),
                     True, "数据截至 2026-09 · 更新于 10-08", "数据未按期更新")
LINES = ["政务服务、12345热线：数据截至2026-10·更新于11-05", "预算执行：数据截至2026-09·更新于10-08·数据未按期更新"]


def _briefing(freshness) -> Briefing:
    return Briefing(region=PROVINCE, region_name="江西省", level="province", month="2026-10", month_label="2026年10月",
                    period_label="2026年1—10月", as_of="2026-10", kpis=[], money=None, freshness=freshness)


def _squash(text: str) -> str:
    return "".join(text.split())


@pytest.mark.skipif(not os.environ.get("CI") and not shutil.which("pdftotext"),  # CI: scripts/test.sh installs it
                    reason="poppler-utils missing (scripts/test.sh installs it)")
def test_the_pdf_cover_and_running_head_say_how_fresh_the_data_is(tmp_path):
    from weasyprint import HTML

    pdf = tmp_path / "b.pdf"
    HTML(string=to_html(_briefing([SERVICES, HOTLINE, SPENDING]))).write_pdf(str(pdf))
    text = _squash(subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout)
    assert all(line in text for line in LINES)
    assert "江西省·2026年10月·月度简报·数据未按期更新" in text  # the running head


def test_the_html_marks_only_the_late_family():
    html = to_html(_briefing([SERVICES, SPENDING]))
    assert "政务服务：数据截至 2026-10 · 更新于 11-05</span>" in html
    assert "预算执行：数据截至 2026-09 · 更新于 10-08 · <span class='late'>" in html
    assert html.count("<span class='late'>数据未按期更新</span>") == 1
    on_time = to_html(_briefing([SERVICES]))
    assert "数据未按期更新" not in on_time and "月度简报\"" in on_time


def test_without_freshness_rows_the_cover_is_as_before():
    html = to_html(_briefing([]))
    assert "class='fresh'" not in html and "更新于" not in html


def test_the_pptx_cover_has_the_line_and_the_mark_in_red():
    prs = build(_briefing([SERVICES, HOTLINE, SPENDING]), {})
    cover = [s.text_frame for s in prs.slides[0].shapes if s.has_text_frame]
    lines = [p for tf in cover for p in tf.paragraphs]
    texts = [_squash(p.text) for p in lines]
    assert all(line in texts for line in LINES)
    late = lines[texts.index(LINES[1])].runs[-1]
    assert late.text == "数据未按期更新" and late.font.color.rgb == SEAL and late.font.bold
    for rpr in (r._r.rPr for p in lines for r in p.runs):
        assert rpr.find("{*}ea").get("typeface").startswith("Noto")
    foot = [s.text_frame.text for slide in list(prs.slides)[1:] for s in slide.shapes if s.has_text_frame
            and s.text_frame.text.startswith("江西省 · ")]
    assert foot and all(t == "江西省 · 2026年10月 · 月度简报 · 数据未按期更新" for t in foot)
    prs.save(io.BytesIO())  # writes without error


def test_the_briefing_reports_the_families_of_its_kpis(briefing_env, tmp_path, monkeypatch):
    rows = [("services", date(2026, 10, 1), datetime(2026, 11, 5, 9, 30)),
            ("spending", date(2026, 9, 1), datetime(2026, 10, 8, 16, 0)),
            ("data_resources", date(2026, 10, 1), datetime(2026, 11, 9))]  # no headline KPI: not reported
    path = copy_with_freshness(briefing_env, tmp_path / "fresh.duckdb", rows, data_version="briefing-fresh")
    monkeypatch.setenv("COCKPIT_DB", str(path))
    monkeypatch.setenv("COCKPIT_TODAY", "2026-11-20")
    db.reset_reader()
    try:
        b = briefing_content(PROVINCE, MONTH, scope=Scope.province(PROVINCE))
    finally:
        db.reset_reader()
    assert [f.family for f in b.freshness] == ["services", "spending"]  # hotline and projects have no row
    assert b.freshness_groups == [("政务服务", "数据截至 2026-10 · 更新于 11-05", ""),
                                  ("预算执行", "数据截至 2026-09 · 更新于 10-08", "数据未按期更新")]
    assert b.running_line.endswith("月度简报 · 数据未按期更新")
