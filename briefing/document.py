"""The briefing as one HTML document: printed to PDF (A4) and shown as the page's preview.

Typography in the spirit of GB/T 9704: A4 with 37/35/28/26 mm margins, the title in a bold
serif CJK face (小标宋 → Noto Serif CJK SC Bold), the body in a serif CJK face at 16 pt
(仿宋 三号 → Noto Serif CJK SC), level-one headings in a sans face (黑体 → Noto Sans CJK SC),
page numbers "— 1 —" at the foot and the region and month in the running head.
"""

from __future__ import annotations

import base64
from functools import cache
from html import escape
from string import Template

from briefing.narrative import expected_text, needed_text, num, probability_text
from palette import load_palette

SECTIONS = ("一、总体情况", "二、主要指标完成情况", "三、亮点", "四、存在问题", "五、下一步工作与预测")
RAG_CLASS = {"green": "rag-green", "amber": "rag-amber", "red": "rag-red"}

# colours from palette/tokens.toml (theme ``print``), filled in by _css()
CSS = Template("""
@page { size: A4; margin: 37mm 26mm 35mm 28mm;
  @top-center { content: "__HEAD__"; font-family: 'Noto Sans CJK SC'; font-size: 9pt; color: $grey;
                border-bottom: 0.5pt solid $seal; width: 100%; padding-bottom: 2mm; }
  @bottom-center { content: "— " counter(page) " —"; font-family: 'Noto Serif CJK SC'; font-size: 14pt; } }
html { font-family: 'Noto Serif CJK SC', serif; font-size: 16pt; line-height: 28pt; color: $text; }
body { margin: 0; }
h1 { font-family: 'Noto Serif CJK SC', serif; font-weight: 700; font-size: 22pt; line-height: 34pt;
     text-align: center; color: $seal; margin: 0 0 6pt; }
.meta { text-align: center; font-family: 'Noto Sans CJK SC'; font-size: 11pt; line-height: 18pt; color: $grey_dark;
        border-bottom: 1.5pt solid $seal; padding-bottom: 6pt; margin-bottom: 14pt; }
h2 { font-family: 'Noto Sans CJK SC', sans-serif; font-weight: 700; font-size: 16pt; margin: 14pt 0 4pt;
     page-break-after: avoid; }
p { text-indent: 2em; margin: 0 0 4pt; text-align: justify; }
ul { margin: 0; padding-left: 0; list-style: none; }
li { text-indent: 2em; margin: 0 0 2pt; text-align: justify; }
table { border-collapse: collapse; width: 100%; font-family: 'Noto Sans CJK SC'; font-size: 10.5pt;
        line-height: 15pt; margin: 4pt 0 8pt; page-break-inside: avoid; }
th, td { border: 0.5pt solid $rule; padding: 3pt 4pt; text-align: center; }
th { background: $head; color: $navy; }
td.name { text-align: left; }
.rag-green { color: $green; font-weight: 700; } .rag-amber { color: $amber_text; font-weight: 700; }
.rag-red { color: $red; font-weight: 700; }
figure { margin: 6pt 0 10pt; page-break-inside: avoid; text-align: center; }
figure img { width: 100%; }
figcaption { font-family: 'Noto Sans CJK SC'; font-size: 10.5pt; line-height: 15pt; color: $grey_dark; }
.note { font-family: 'Noto Sans CJK SC'; font-size: 10pt; line-height: 15pt; color: $grey; text-indent: 0; }
.fresh { display: block; font-size: 10pt; line-height: 15pt; color: $grey; }
.late { color: $seal; font-weight: 700; }
""")


@cache
def _css() -> str:
    p = load_palette().print
    return CSS.substitute({t.replace("-", "_"): c for t, c in p.colours.items()})


def _e(x) -> str:
    return escape(str(x))


def kpi_table_rows(b) -> list[list[str]]:
    """主要指标完成情况: 指标, 当月, 累计, 目标, 完成进度, 状态 (strings; shared by PDF and PPTX)."""
    rows = []
    for k in b.kpis:
        d, month = k["display"], k.get("month_display")
        prog = num(k["progress"], "%") if k.get("progress") is not None else "—"
        rows.append([d.name, month.value_words if month is not None else "—", d.value_words, d.target_short, prog,
                     d.rag_label])
    return rows


KPI_HEADER = ["指标", "当月", "累计", "目标", "完成进度", "状态"]


def outlook_rows(b) -> list[list[str]]:

    rows = []
    for r in b.outlook:
        expected = expected_text(r.get("expected"), r["unit"])
        prob = probability_text(r["probability"]) if r.get("probability") is not None else (
            "线性测算" if r["source"] == "linear" else "—")
        rows.append([r["name"], num(r["current"], r["unit"]), expected, prob, needed_text(r)])
    return rows


OUTLOOK_HEADER = ["指标", "目前累计", "预计年底", "达标概率", "所需进度"]


def _table(header: list[str], rows: list[list[str]], rag_col: int | None = None, rags=None) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in header), "</tr></thead><tbody>"]
    for i, row in enumerate(rows):
        cells = []
        for j, c in enumerate(row):
            cls = "name" if j == 0 else (RAG_CLASS.get(rags[i], "") if rag_col == j and rags else "")
            cells.append(f"<td class='{cls}'>{_e(c)}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _list(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{_e(x)}</li>" for x in lines) + "</ul>"


def _figure(png: bytes, caption: str) -> str:
    data = base64.b64encode(png).decode()
    return f"<figure><img src='data:image/png;base64,{data}'><figcaption>{_e(caption)}</figcaption></figure>"


def _freshness(b) -> str:
    """The cover's freshness: a line per family group, a late one's mark in red."""
    return "".join(f"<span class='fresh'>{_e(labels)}：{_e(text)}"
                   + (f" · <span class='late'>{_e(late)}</span>" if late else "") + "</span>"
                   for labels, text, late in b.freshness_groups)


def to_html(b, images: dict[str, bytes] | None = None) -> str:
    """The whole briefing; ``images`` (name → PNG) are placed after the sections they illustrate."""
    images = images or {}
    captions = {"progress": f"图1 {b.region_name}主要指标完成进度（{b.period_label}）",
                "trend": f"图2 {b.region_name}网上可办率累计走势（{b.month_label[:5]}）",
                "map": f"图3 各县（市、区）网上可办率（{b.period_label}累计）"}
    head = b.running_line.replace('"', "")
    css = _css().replace("__HEAD__", head)
    parts = [f"<html lang='zh-CN'><head><meta charset='utf-8'><title>{_e(b.title)}</title><style>{css}</style>"
             "</head><body>",
             f"<h1>{_e(b.title)}</h1>",
             f"<div class='meta'>{_e(b.month_label)}（数据期：{_e(b.period_label)}；数据截至{_e(b.as_of)}）"
             f"{_freshness(b)}</div>",
             f"<h2>{SECTIONS[0]}</h2>", *(f"<p>{_e(p)}</p>" for p in b.paragraphs),
             f"<h2>{SECTIONS[1]}</h2>",
             _table(KPI_HEADER, kpi_table_rows(b), rag_col=5, rags=[k.get("rag") for k in b.kpis]),
             "<p class='note'>注：当月为本月值，累计为年初至本月；完成进度＝累计值÷目标；"
             "预算执行率的目标为序时进度（月份÷12）；逾期项目以清零为目标，不计完成进度。</p>"]
    if "progress" in images:
        parts.append(_figure(images["progress"], captions["progress"]))
    parts += [f"<h2>{SECTIONS[2]}</h2>", _list(b.highlight_lines)]
    if "trend" in images:
        parts.append(_figure(images["trend"], captions["trend"]))
    parts += [f"<h2>{SECTIONS[3]}</h2>", _list(b.problem_lines)]
    if "map" in images:
        parts.append(_figure(images["map"], captions["map"]))
    parts += [f"<h2>{SECTIONS[4]}</h2>", _table(OUTLOOK_HEADER, outlook_rows(b)),
              "<p class='note'>注：达标概率由预测引擎按截至本月的历史数据模拟得出；"
              "无模型结果的指标按线性进度测算所需月均水平。</p>",
              "</body></html>"]
    return "".join(parts)


def write_pdf(b, images: dict[str, bytes], path) -> None:
    """A4 PDF via WeasyPrint (it embeds the CFF-flavoured Noto CJK subsets, which Chromium's
    printer would turn into unnamed Type 3 fonts)."""
    from weasyprint import HTML  # heavy; only the export needs it

    HTML(string=to_html(b, images)).write_pdf(str(path))
