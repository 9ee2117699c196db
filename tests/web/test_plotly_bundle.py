"""The partial Plotly.js (assets/vendor/plotly-cockpit.min.js, built by js/plotly-partial): the version
plotly.py gives dcc.Graph, and every trace type a page or the wall draws in the browser."""

from __future__ import annotations

import json
import re
from pathlib import Path

import plotly.graph_objects as go
from plotly.basedatatypes import BaseTraceType
from plotly.offline import get_plotlyjs_version

from web import asset_urls

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "js" / "plotly-partial"
BUNDLE = asset_urls.ASSETS / asset_urls.PLOTLY_BUNDLE
# where figures drawn by the browser are made: the pages' Python, and the wall's own script
# (briefing/ is left out: its charts are PNGs kaleido renders with plotly.py's full Plotly.js)
BROWSER_SOURCES = ("components", "pages", "metrics")
TRACES = {name.lower() for name in dir(go)  # (plotly.graph_objects imports its classes lazily)
          if isinstance(getattr(go, name, None), type) and issubclass(getattr(go, name), BaseTraceType)}


def _registered() -> set[str]:
    return set(re.findall(r"require\('plotly\.js/lib/(\w+)'\)", (BUILD / "index.js").read_text("utf-8"))) - {"core"}


def _used() -> dict[str, set[str]]:
    used: dict[str, set[str]] = {}

    def add(kind: str, where: Path) -> None:
        if kind.lower() in TRACES:
            used.setdefault(kind.lower(), set()).add(str(where.relative_to(REPO)))

    for top in BROWSER_SOURCES:
        for path in (REPO / top).rglob("*.py"):
            text = path.read_text("utf-8")
            for kind in re.findall(r"\bgo\.([A-Z]\w+)\(", text):
                add(kind, path)
            for kind in re.findall(r"\bpx\.(\w+)\(", text):
                add({"line": "scatter", "area": "scatter", "timeline": "bar"}.get(kind, kind), path)
            for kind in re.findall(r"""["']type["']\s*:\s*["'](\w+)["']|\btype\s*=\s*["'](\w+)["']""", text):
                add(next(k for k in kind if k), path)
    for path in (asset_urls.ASSETS / "screen").glob("*.js"):
        for kind in re.findall(r"""\btype\s*:\s*["'](\w+)["']""", path.read_text("utf-8")):
            add(kind, path)
    return used


def test_the_bundle_is_the_plotly_js_version_dcc_graph_would_load():
    head = BUNDLE.read_text("utf-8")[:400]
    assert f"plotly.js v{get_plotlyjs_version()} (partial bundle" in head
    lock = json.loads((BUILD / "package-lock.json").read_text("utf-8"))
    assert lock["packages"]["node_modules/plotly.js"]["version"] == get_plotlyjs_version()
    assert lock["packages"][""]["dependencies"]["plotly.js"] == get_plotlyjs_version()  # pinned exactly


def test_every_trace_type_drawn_in_a_browser_is_in_the_bundle():
    used = _used()
    # the scan finds what it should (a scan that finds nothing proves nothing)
    assert {"scatter", "bar", "scatterpolar", "funnel", "choroplethmap"} <= set(used)
    missing = {kind: sorted(where) for kind, where in used.items() if kind not in _registered()}
    assert missing == {}, f"add these to js/plotly-partial/index.js and rebuild: {missing}"


def test_the_bundle_names_its_trace_types_and_is_far_smaller_than_the_full_file():
    head = BUNDLE.read_text("utf-8")[:400]
    listed = set(re.search(r"partial bundle: ([\w, ]+)\)", head).group(1).split(", "))
    assert listed == _registered()
    full = Path(__import__("plotly").__file__).parent / "package_data" / "plotly.min.js"
    assert BUNDLE.stat().st_size < 0.7 * full.stat().st_size
