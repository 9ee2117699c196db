"""A tiny trend line for KPI cards, drawn on the server as an SVG image.

A card's sparkline is static (no hover, no zoom), so it needs no Plotly chart: a page of
a dozen cards would otherwise run Plotly a dozen times in the browser before its real
charts (first paint, #13 §5). The SVG draws what the Plotly sparkline drew: a line filled
to zero, gaps left as gaps, the y range from zero to the data (as Plotly's autorange with
``fill="tozeroy"``), in the card's RAG colour.
"""

from __future__ import annotations

import math
from urllib.parse import quote

from dash import html

from components.theme import RAG_COLOURS, primary_tint

WIDTH, HEIGHT, PAD = 120.0, 36.0, 2.0  # the viewBox; the image is stretched to the card's width


def _runs(values: list[float | None]) -> list[list[tuple[int, float]]]:
    """The stretches of consecutive values (a missing month ends one)."""
    runs: list[list[tuple[int, float]]] = []
    current: list[tuple[int, float]] = []
    for i, v in enumerate(values):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            if current:
                runs.append(current)
            current = []
        else:
            current.append((i, float(v)))
    if current:
        runs.append(current)
    return runs


def sparkline_svg(values: list[float | None], colour: str, fill: str) -> str:
    """The SVG document of a sparkline (no script, no external reference)."""
    runs = _runs(values)
    points = [v for run in runs for _, v in run]
    parts = []
    if points:
        low, high = min(0.0, *points), max(0.0, *points)
        span = (high - low) or 1.0
        step = (WIDTH / (len(values) - 1)) if len(values) > 1 else 0.0

        def xy(i: int, v: float) -> str:
            return f"{i * step:.2f},{PAD + (high - v) / span * (HEIGHT - 2 * PAD):.2f}"

        zero = f"{PAD + high / span * (HEIGHT - 2 * PAD):.2f}"
        for run in runs:
            if len(run) < 2:  # one month alone draws no line (as Plotly's "lines" mode)
                continue
            line = " ".join(xy(i, v) for i, v in run)
            area = f"{run[0][0] * step:.2f},{zero} {line} {run[-1][0] * step:.2f},{zero}"
            parts.append(f'<polygon points="{area}" fill="{fill}" stroke="none"/>')
            parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2" '
                         'stroke-linejoin="round" vector-effect="non-scaling-stroke"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH:g} {HEIGHT:g}" '
            f'preserveAspectRatio="none">{"".join(parts)}</svg>')


def create_sparkline(values: list[float | None], *, rag: str | None = None) -> html.Img:
    """A static 12-month sparkline; gaps stay gaps."""
    svg = sparkline_svg(list(values), RAG_COLOURS.get(rag, RAG_COLOURS[None]), primary_tint(0.06))
    return html.Img(src="data:image/svg+xml," + quote(svg), className="kpi-spark", alt="近12个月走势",
                    **{"aria-hidden": "true"})
