"""The written files, checked the way a reader's tools see them: pdftoppm renders every
page, pdffonts shows embedded Noto CJK, pdftotext and python-pptx give the engine's figures,
LibreOffice converts the PPTX, and no text frame runs off its slide."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from fontTools.ttLib import TTCollection
from pptx import Presentation
from pptx.util import Emu

from briefing.narrative import num
from briefing.slides import fit, text_height

# skipped only outside CI: scripts/test.sh installs both, so in CI a missing reader fails the test
needs = pytest.mark.skipif(not os.environ.get("CI") and not (shutil.which("pdftoppm") and shutil.which("soffice")),
                           reason="poppler-utils / libreoffice-impress missing (scripts/test.sh installs them)")


def _run(*cmd, cwd=None) -> str:
    return subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=cwd, timeout=180).stdout


def _figures(b) -> list[str]:
    """The engine's numbers as the briefing prints them (累计 value of every headline KPI)."""
    return [num(k["ytd_value"], k["unit"]) for k in b.kpis if k["ytd_value"] is not None]


def _pptx_text(path: Path) -> str:
    out = []
    for slide in Presentation(str(path)).slides:
        for shape in slide.shapes:
            if shape.has_text_frame:
                out.append(shape.text_frame.text)
            if shape.has_table:
                out += [c.text for row in shape.table.rows for c in row.cells]
    return "\n".join(out)


@needs
@pytest.mark.parametrize("which", ["province", "county"])
def test_pdf_pages_fonts_and_figures(exported, which, tmp_path):
    res = exported[which]
    pdf = res["paths"]["pdf"]
    pages = int(next(line.split()[-1] for line in _run("pdfinfo", str(pdf)).splitlines() if line.startswith("Pages")))
    assert 3 <= pages <= 12
    _run("pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "p"))
    assert len(list(tmp_path.glob("p-*.png"))) == pages
    fonts = _run("pdffonts", str(pdf))
    for face in ("Noto-Serif-CJK-SC-Bold", "Noto-Serif-CJK-SC", "Noto-Sans-CJK-SC"):
        assert face in fonts
    rows = [line.split() for line in fonts.splitlines()[2:]]
    assert rows and all(r[-5] == "yes" and r[-4] == "yes" for r in rows)  # embedded, subset
    text = _run("pdftotext", "-layout", str(pdf), "-").replace(" ", "")
    b = res["briefing"]
    for fig in _figures(b):
        assert fig in text, fig
    assert b.region_name in text and "—1—" in text  # running head and page numbers
    for section in ("一、总体情况", "二、主要指标完成情况", "三、亮点", "四、存在问题", "五、下一步工作与预测"):
        assert section in text


@needs
@pytest.mark.parametrize("which", ["province", "county"])
def test_pptx_text_fonts_and_fit(exported, which):
    res = exported[which]
    prs = Presentation(str(res["paths"]["pptx"]))
    assert (prs.slide_width, prs.slide_height) == (Emu(12192000), Emu(6858000))  # 16:9
    assert len(prs.slides) == 6
    text = _pptx_text(res["paths"]["pptx"])
    for fig in _figures(res["briefing"]):
        assert fig in text, fig
    for slide in prs.slides:
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.left + shape.width <= prs.slide_width
            assert shape.top >= 0 and shape.top + shape.height <= prs.slide_height
            frames = [shape.text_frame] if shape.has_text_frame else []
            frames += [c.text_frame for row in shape.table.rows for c in row.cells] if shape.has_table else []
            for tf in frames:
                for p in tf.paragraphs:
                    for r in p.runs:
                        rpr = r._r.rPr
                        assert rpr.find("{*}ea").get("typeface").startswith("Noto")
                        assert rpr.find("{*}latin").get("typeface").startswith("Noto")
            if shape.has_text_frame and shape.name.startswith("text:"):
                size = float(shape.name.split(":")[1])
                lines = [p.text for p in shape.text_frame.paragraphs]
                width = Emu(shape.width - 2 * Emu(91440)).pt * 0.97
                assert text_height(lines, width, size, size * 0.4) <= Emu(shape.height - 2 * Emu(91440)).pt


def test_fit_shrinks_then_truncates():
    from pptx.util import Inches

    lines, size, _ = fit(["字" * 40], Inches(6), Inches(1), 20, 10)
    assert size < 20 and lines == ["字" * 40]
    lines, size, _ = fit(["字" * 200] * 20, Inches(6), Inches(2), 20, 10)
    assert size == 10 and lines[-1].endswith("详见 PDF 简报）") and len(lines) < 20


def _cjk_font(face: str):
    path = _run("fc-match", "-f", "%{file}", f"{face}:lang=zh-cn")
    with TTCollection(path, lazy=True) as fonts:
        return dict(fonts.fonts[0]["cmap"].getBestCmap())


@needs
def test_no_tofu_every_character_has_a_glyph(exported):
    """Every character the briefing writes is in the Noto CJK faces it names (no 豆腐块)."""
    cmaps = [_cjk_font("Noto Sans CJK SC"), _cjk_font("Noto Serif CJK SC")]
    for res in exported.values():
        text = _pptx_text(res["paths"]["pptx"])
        missing = {ch for ch in text if not ch.isspace() and not all(ord(ch) in c for c in cmaps)}
        assert not missing


@needs
def test_libreoffice_converts_the_pptx(exported, tmp_path):
    pptx = exported["province"]["paths"]["pptx"]
    env_home = tmp_path / "home"
    subprocess.run(["soffice", f"-env:UserInstallation=file://{env_home}", "--headless", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(pptx)], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (pptx.stem + ".pdf")
    assert pdf.exists()
    fonts = _run("pdffonts", str(pdf))
    body = [line for line in fonts.splitlines()[2:] if line.strip()]
    assert body and all("Noto" in line for line in body)  # no fallback face stood in for a glyph
    text = _run("pdftotext", str(pdf), "-").replace(" ", "")
    assert num(exported["province"]["briefing"].kpis[0]["ytd_value"], "%") in text
    _run("pdftoppm", "-r", "30", "-png", str(pdf), str(tmp_path / "s"))
    assert len(list(tmp_path.glob("s-*.png"))) == 6
