"""Write a briefing's files: content once, charts once (one browser), then each format."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TypedDict

from briefing import charts
from briefing.content import Briefing, briefing_content
from briefing.document import write_pdf
from briefing.slides import write_pptx
from data.scope import Scope
from metrics.errors import UserError

FORMATS = ("pdf", "pptx")


class FormatError(UserError, ValueError):
    pass


def parse_formats(text: str | list[str]) -> list[str]:
    items = text.split(",") if isinstance(text, str) else list(text)
    out = [f.strip().lower() for f in items if f and f.strip()]
    bad = [f for f in out if f not in FORMATS]
    if bad or not out:
        raise FormatError(f"不支持的格式：{'、'.join(bad) or '（空）'}（可选：pdf、pptx）")
    return list(dict.fromkeys(out))


def file_stem(b) -> str:
    return f"简报_{b.region}_{b.month}"


class Exported(TypedDict):
    """:func:`export`'s result: the briefing, the file written per format and the timings (s)."""

    briefing: Briefing
    paths: dict[str, Path]
    timings: dict[str, float]


def export(region: str, month: str, formats, out_dir, *, scope: Scope, progress=None) -> Exported:
    """Write the briefing in each format into ``out_dir``; returns paths and timings (s).

    ``progress(step, total, label)`` is called between steps (for the page's progress bar)."""
    fmts = parse_formats(formats)
    total = 2 + len(fmts)
    say = progress or (lambda *a: None)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    say(0, total, "汇总数据")
    b = briefing_content(region, month, scope=scope)
    timings["content"] = time.perf_counter() - t0
    say(1, total, "生成图表")
    t = time.perf_counter()
    images = charts.render_png(charts.figures(b))
    timings["charts"] = time.perf_counter() - t
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for i, fmt in enumerate(fmts):
        say(2 + i, total, f"写出 {fmt.upper()}")
        t = time.perf_counter()
        path = out / f"{file_stem(b)}.{fmt}"
        (write_pdf if fmt == "pdf" else write_pptx)(b, images, path)
        paths[fmt] = path
        timings[fmt] = time.perf_counter() - t
    say(total, total, "完成")
    timings["total"] = time.perf_counter() - t0
    return {"briefing": b, "paths": paths, "timings": timings}
