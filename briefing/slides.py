"""The briefing as an editable 16:9 PPTX (python-pptx): one section per slide.

Named ``slides`` rather than ``pptx`` so it never shadows the python-pptx package. Every run
sets ``a:latin`` and ``a:ea`` explicitly: without ``a:ea`` PowerPoint picks its own East Asian
face and LibreOffice another. Text is sized to fit its frame by an estimate of its extent
(CJK glyphs are one em wide, Latin about half), and the estimate is kept for the tests.
"""

from __future__ import annotations

import io
import math

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.util import Emu, Inches, Pt

from briefing.document import KPI_HEADER, OUTLOOK_HEADER, SECTIONS, kpi_table_rows, outlook_rows
from metrics.format import RAG_LABELS
from palette import load_palette

SANS = "Noto Sans CJK SC"
SERIF = "Noto Serif CJK SC"
W, H = Emu(12192000), Emu(6858000)  # 16:9, PowerPoint's own widescreen size
MARGIN = Inches(0.5)
PRINT = load_palette().print  # palette/tokens.toml, theme ``print``


def _rgb(token: str) -> RGBColor:
    return RGBColor.from_string(PRINT[token][1:])


NAVY, SEAL, INK = _rgb("navy"), _rgb("seal"), _rgb("ink")
# the status column's words in their RAG colours (amber as text: the darker tone that reads on paper)
RAG = {RAG_LABELS[rag]: _rgb("amber-text" if rag == "amber" else rag) for rag in ("green", "amber", "red")}
LINE_SPACING = 1.1
FONT_LINE = 1.45  # Noto CJK's natural line height in ems (ascent + descent), which spacing multiplies
INSET = Inches(0.1)


def text_width_em(text: str) -> float:
    """Width of ``text`` in ems: wide (CJK, full-width) glyphs 1, others about 0.55."""
    return sum(1.0 if ord(ch) > 0x2E7F else 0.55 for ch in text)


def text_height(lines: list[str], width_pt: float, size_pt: float, gap_pt: float) -> float:
    """Estimated height of ``lines`` wrapped at ``width_pt`` in points."""
    per_line = max(1.0, width_pt / size_pt)
    rows = sum(max(1, math.ceil(text_width_em(t) / per_line)) for t in lines)
    return rows * size_pt * LINE_SPACING * FONT_LINE + gap_pt * max(0, len(lines) - 1)


def fit(lines: list[str], width, height, max_pt: float = 20, min_pt: float = 11) -> tuple[list[str], float, float]:
    """(lines, font size, estimated height in pt) that fit a frame; lines are dropped (with a
    pointer to the PDF) only when even ``min_pt`` does not fit."""
    w = Emu(width - 2 * INSET).pt * 0.97  # a little slack for kerning and punctuation rules
    h = Emu(height - 2 * INSET).pt
    size = max_pt
    while size >= min_pt:
        est = text_height(lines, w, size, size * 0.4)
        if est <= h:
            return lines, size, est
        size -= 0.5
    kept = list(lines)
    while kept:
        kept = kept[:-1]
        trial = [*kept, "……（其余内容详见 PDF 简报）"]
        est = text_height(trial, w, min_pt, min_pt * 0.4)
        if est <= h:
            return trial, min_pt, est
    return lines[:1], min_pt, text_height(lines[:1], w, min_pt, 0)


def set_fonts(run, face: str = SANS) -> None:
    """Latin and East Asian typefaces on one run (``a:latin`` and ``a:ea``)."""
    rpr = run._r.get_or_add_rPr()
    rpr.set("lang", "zh-CN")
    rpr.set("altLang", "en-US")
    for tag in ("a:latin", "a:ea", "a:cs"):
        el = rpr.find(qn(tag))
        if el is None:
            el = rpr.makeelement(qn(tag), {})
            rpr.append(el)
        el.set("typeface", face)


def _run(paragraph, text: str, size: float, *, bold=False, color=INK, face=SANS):
    run = paragraph.add_run()
    run.text = text
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = color
    set_fonts(run, face)
    return run


def _textbox(slide, left, top, width, height, lines: list[str], *, max_pt=20, min_pt=11, indent=True,
             face=SANS, color=INK, bold=False, align=PP_ALIGN.LEFT):
    lines, size, est = fit(lines, width, height, max_pt, min_pt)
    box = slide.shapes.add_textbox(left, top, width, height)
    tf = box.text_frame
    tf.word_wrap = True
    tf.auto_size = MSO_AUTO_SIZE.NONE
    tf.vertical_anchor = MSO_ANCHOR.TOP
    for m in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
        setattr(tf, m, INSET)
    for i, line in enumerate(lines):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.alignment = align
        p.line_spacing = LINE_SPACING
        p.space_after = Pt(size * 0.4)
        _run(p, ("\u3000\u3000" if indent else "") + line, size, face=face, color=color, bold=bold)
    box.name = f"text:{size}:{est:.0f}"  # the estimate, for the fit tests
    return box


def _title(slide, text: str, b) -> None:
    _textbox(slide, MARGIN, Inches(0.3), W - 2 * MARGIN, Inches(0.75), [text], max_pt=28, min_pt=20,
             indent=False, color=NAVY, bold=True)
    line = slide.shapes.add_connector(1, MARGIN, Inches(1.08), W - MARGIN, Inches(1.08))
    line.line.color.rgb = SEAL
    line.line.width = Pt(2)
    _textbox(slide, MARGIN, H - Inches(0.5), W - 2 * MARGIN, Inches(0.4),
             [b.running_line], max_pt=11, min_pt=9, indent=False,
             color=_rgb("grey-light"), align=PP_ALIGN.RIGHT)


def _freshness(slide, b, left, top, width, height) -> None:
    """The cover's freshness: a line per family group, a late group's mark in red."""
    groups = b.freshness_groups
    if not groups:
        return
    lines = [f"{labels}：{text}" + (f" · {late}" if late else "") for labels, text, late in groups]
    box = _textbox(slide, left, top, width, height, lines, max_pt=14, min_pt=9, indent=False,
                   color=_rgb("grey"), align=PP_ALIGN.CENTER)
    for p, (_, _, late) in zip(box.text_frame.paragraphs, groups, strict=False):
        run = p.runs[0]
        if late and run.text.endswith(late):  # the mark in its own red run (fit() may have cut lines)
            run.text = run.text[: -len(late)]
            _run(p, late, run.font.size.pt, bold=True, color=SEAL)


def _table(slide, left, top, width, header: list[str], rows: list[list[str]], widths: list[float],
           size: float = 13, rag_col: int | None = None):
    height = Inches(0.4) * (len(rows) + 1)
    shape = slide.shapes.add_table(len(rows) + 1, len(header), left, top, width, height)
    table = shape.table
    total = sum(widths)
    for j, w in enumerate(widths):
        table.columns[j].width = int(width * w / total)
    for i, row in enumerate([header, *rows]):
        table.rows[i].height = Inches(0.4)
        for j, text in enumerate(row):
            cell = table.cell(i, j)
            cell.margin_left = cell.margin_right = Inches(0.05)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            tf = cell.text_frame
            tf.word_wrap = True
            p = tf.paragraphs[0]
            p.alignment = PP_ALIGN.LEFT if j == 0 else PP_ALIGN.CENTER
            color = INK
            if i and rag_col == j:
                color = RAG.get(text, INK)
            _run(p, text, size, bold=i == 0 or (rag_col == j and text in RAG), color=color)
    return shape


def _picture(slide, png: bytes | None, left, top, max_w, max_h):
    if not png:
        return None
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        w, h = im.size
    scale = min(max_w / w, max_h / h)
    return slide.shapes.add_picture(io.BytesIO(png), left, top, int(w * scale), int(h * scale))


def build(b, images: dict[str, bytes]) -> Presentation:
    prs = Presentation()
    prs.slide_width, prs.slide_height = W, H
    blank = prs.slide_layouts[6]
    body_top, body_h = Inches(1.25), H - Inches(1.25) - Inches(0.6)
    full_w = W - 2 * MARGIN

    s = prs.slides.add_slide(blank)  # cover
    _textbox(s, MARGIN, Inches(2.3), full_w, Inches(1.3), [b.title], max_pt=40, min_pt=28, indent=False,
             face=SERIF, color=SEAL, bold=True, align=PP_ALIGN.CENTER)
    _textbox(s, MARGIN, Inches(3.8), full_w, Inches(1.2),
             [b.month_label, f"数据期：{b.period_label}（数据截至{b.as_of}）"], max_pt=20, min_pt=14,
             indent=False, color=NAVY, align=PP_ALIGN.CENTER)
    _freshness(s, b, MARGIN, Inches(5.1), full_w, Inches(1.2))

    s = prs.slides.add_slide(blank)
    _title(s, SECTIONS[0], b)
    _textbox(s, MARGIN, body_top, full_w, body_h, b.paragraphs, max_pt=18, min_pt=11)

    s = prs.slides.add_slide(blank)
    _title(s, SECTIONS[1], b)
    left_w = Inches(7.4) if images.get("progress") else full_w
    _table(s, MARGIN, body_top, left_w, KPI_HEADER, kpi_table_rows(b), [2.4, 1.2, 1.2, 1.5, 1.3, 1.0],
           size=12, rag_col=5)
    _picture(s, images.get("progress"), MARGIN + left_w + Inches(0.2), body_top, full_w - left_w - Inches(0.2),
             body_h)

    for title, lines, image in ((SECTIONS[2], b.highlight_lines, "trend"), (SECTIONS[3], b.problem_lines, "map")):
        s = prs.slides.add_slide(blank)
        _title(s, title, b)
        text_w = Inches(7.0) if images.get(image) else full_w
        _textbox(s, MARGIN, body_top, text_w, body_h, lines, max_pt=16, min_pt=10, indent=False)
        _picture(s, images.get(image), MARGIN + text_w + Inches(0.2), body_top, full_w - text_w - Inches(0.2),
                 body_h)

    s = prs.slides.add_slide(blank)
    _title(s, SECTIONS[4], b)
    _table(s, MARGIN, body_top, full_w, OUTLOOK_HEADER, outlook_rows(b), [2.2, 1.3, 1.3, 2.4, 4.2], size=12)
    return prs


def write_pptx(b, images: dict[str, bytes], path) -> None:
    build(b, images).save(str(path))
