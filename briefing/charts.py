"""The briefing's figures: Plotly drawn in the briefing's own palette, rendered to PNG by kaleido.

kaleido 1.x drives a Chromium through choreographer. We hand it Debian's ``/usr/bin/chromium``
(or ``$BROWSER_PATH``) and plotly.py's bundled plotly.js, with MathJax off: nothing is
downloaded, ever (kaleido would otherwise offer to fetch a Chrome and load MathJax from a CDN).
"""

from __future__ import annotations

import asyncio
import os
import shutil

import pandas as pd
import plotly.graph_objects as go

from components.maps import create_choropleth
from data.geo import geojson
from metrics.catalogue import load_catalogue
from metrics.regions import root_region
from palette import load_palette

# the briefing's palette (palette/tokens.toml, theme ``print``): official navy and seal red on
# white, muted RAG tones that print well
PRINT = load_palette().print
NAVY = PRINT["navy"]
SEAL = PRINT["seal"]
INK = PRINT["ink"]
GRID = PRINT["grid"]
BLUES = list(PRINT.list("blues"))
SANS = "Noto Sans CJK SC"
SCALE = 2  # pixels per CSS pixel: sharp in print and on a projector

TEMPLATE = go.layout.Template(layout={
    "font": {"family": SANS, "color": INK, "size": 14},
    "paper_bgcolor": PRINT["paper"], "plot_bgcolor": PRINT["paper"],
    "colorway": list(PRINT.list("colorway")),
    "xaxis": {"gridcolor": GRID, "linecolor": PRINT["axis"], "zerolinecolor": GRID},
    "yaxis": {"gridcolor": GRID, "linecolor": PRINT["axis"], "zerolinecolor": GRID},
    "title": {"font": {"size": 17, "color": NAVY}, "x": 0.01, "xanchor": "left"},
    "margin": {"l": 60, "r": 30, "t": 56, "b": 44},
})


class ChartError(RuntimeError):
    """No browser to render with: a Chinese message for the operator."""


def browser_path() -> str:
    """Debian's Chromium (or $BROWSER_PATH); never a downloaded Chrome."""
    path = os.environ.get("BROWSER_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path or not os.path.exists(path):
        raise ChartError("未找到 Chromium 浏览器，无法生成图表：请以 root 运行 apt-get install -y chromium")
    return path


def progress_figure(kpis: list[dict]) -> go.Figure | None:
    """完成进度 of each headline KPI with a target (value ÷ target), coloured by its RAG token;
    each bar says its value and target as the display model words them."""
    rows = [k for k in kpis if k.get("progress") is not None][::-1]
    if not rows:
        return None
    x = [k["progress"] for k in rows]
    text = [f"{k['display'].value_text} / {k['display'].target_text}" for k in rows]
    fig = go.Figure(go.Bar(x=x, y=[k["display"].name for k in rows], orientation="h", text=text,
                           textposition="inside", insidetextanchor="end",
                           textfont={"color": PRINT["paper"], "size": 14},
                           marker={"color": [PRINT.rag(k["display"].rag_token) for k in rows]}))
    fig.add_vline(x=100, line={"color": SEAL, "dash": "dash", "width": 1.5})
    hi = max(110.0, max(x) + 5)
    fig.update_layout(template=TEMPLATE, title="主要指标完成进度（累计值 ÷ 目标，%）", width=1000,
                      height=120 + 46 * len(rows), showlegend=False, xaxis={"range": [0, hi], "ticksuffix": "%"},
                      margin={"l": 150, "r": 40, "t": 56, "b": 40})
    return fig


def trend_figure(trend: pd.DataFrame | None, name: str, title_region: str) -> go.Figure | None:
    """The lead KPI's 累计 value month by month this year, against its target."""
    if trend is None or trend.empty or trend["value"].isna().all():
        return None
    months = [f"{pd.Timestamp(m).month}月" for m in trend["month"]]
    fig = go.Figure()
    fig.add_scatter(x=months, y=trend["value"], mode="lines+markers+text", name=f"{name}（累计）",
                    text=[f"{v:.1f}" if pd.notna(v) else "" for v in trend["value"]], textposition="top center",
                    line={"color": NAVY, "width": 3}, marker={"size": 8})
    if trend["target"].notna().any():
        fig.add_scatter(x=months, y=trend["target"], mode="lines", name="目标",
                        line={"color": SEAL, "dash": "dash", "width": 2})
    fig.update_layout(template=TEMPLATE, title=f"{title_region}{name}累计走势（%）", width=1000, height=420,
                      legend={"orientation": "h", "y": -0.15, "x": 0.5, "xanchor": "center"},
                      yaxis={"ticksuffix": "%"})
    return fig


def map_figure(frame: pd.DataFrame | None, region: str, level: str, kpi_id: str) -> go.Figure | None:
    """The lead KPI by county, on the boundaries (province: every county; city: its counties)."""
    if frame is None or frame.empty:
        return None
    kpi = load_catalogue().kpi(kpi_id)
    shapes = geojson(root_region(), "county", None if level == "province" else region)
    fig = create_choropleth(frame, shapes, unit=kpi.unit, title=kpi.name, higher_is_better=kpi.higher_is_better,
                            width=1000, height=640)
    scale = [[i / (len(BLUES) - 1), c] for i, c in enumerate(BLUES if kpi.higher_is_better else BLUES[::-1])]
    fig.update_traces(selector={"name": kpi.name}, colorscale=scale,
                      colorbar={"title": {"text": kpi.unit}, "ticksuffix": "%" if kpi.unit == "%" else ""})
    fig.update_layout(template=TEMPLATE, width=1000, height=640, title=f"各县（市、区）{kpi.name}（累计，%）",
                      margin={"l": 10, "r": 10, "t": 56, "b": 10})
    return fig


def figures(b) -> dict[str, go.Figure]:
    """The briefing's figures by name, in the order they appear."""
    lead = next((k for k in b.kpis if k["kpi_id"] == b.lead_kpi), b.kpis[0])
    out = {
        "progress": progress_figure(b.kpis),
        "trend": trend_figure(b.trend, lead["name"], b.region_name),
        "map": map_figure(b.map_frame, b.region, b.level, b.lead_kpi),
    }
    return {k: v for k, v in out.items() if v is not None}


async def _render(figs: dict[str, go.Figure]) -> dict[str, bytes]:
    import kaleido  # heavy; only the export needs it

    out = {}
    async with kaleido.Kaleido(path=browser_path(), mathjax=False, timeout=60) as k:
        for name, fig in figs.items():
            lay = fig.layout
            out[name] = await k.calc_fig(fig, opts={"format": "png", "width": lay.width, "height": lay.height,
                                                    "scale": SCALE})
    return out


def render_png(figs: dict[str, go.Figure]) -> dict[str, bytes]:
    """PNG bytes of each figure (one browser for all of them)."""
    if not figs:
        return {}
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_render(figs))
    # called from inside an event loop (e.g. a notebook): render on a private loop in a thread
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _render(figs)).result()


FIGURE_TITLES = {"progress": "主要指标完成进度", "trend": "累计走势", "map": "分县分布"}
