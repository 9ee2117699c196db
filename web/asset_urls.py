"""Fingerprinted URLs for every static file a page loads, and Plotly.js fetched early (issue #13 §5).

Dash names the scripts it writes into its page ``name.v<version>m<mtime>.ext`` and its assets
``?m=<mtime>``; nginx serves exactly such URLs from the static build with a year's ``immutable``
life (``deploy/nginx.conf.j2``). Three kinds of file escaped that, each costing a revalidation
round-trip on every later visit, and Plotly.js also a late start:

* **Files loaded on demand.** ``dcc.Graph`` adds ``<script src=window._dashPlotlyJSURL>`` (the bare
  ``…/plotly/package_data/plotly.min.js``) only once the page's layout has rendered, and the
  components' webpack runtimes load their chunks (``async-graph.js``, AG Grid's
  ``async-community.js`` …) by bare URL too. :func:`install` puts a small inline script in the
  page's head that maps every bare component-suite URL to its fingerprinted one as a script's
  ``src`` is set, and ``<link rel="preload">`` for Plotly.js and the graph chunk, so both download
  while the page's own scripts run instead of after its first callback.
* **The wall's page** (``assets/screen/index.html``), which Dash does not render:
  :func:`fingerprint_html` adds the same fingerprints to its ``/assets/`` and component-suite URLs.
  The wall loads the very Plotly.js file the pages load (one cached copy, served by nginx).

**A partial Plotly.js.** The full ``plotly.min.js`` (~4.7 MB) costs every page over a second of
main-thread parse and run. The pages and the wall load ``assets/vendor/plotly-cockpit.min.js``
instead: the same plotly.js version with only the trace types the cockpit draws (built by
``js/plotly-partial``, committed). ``dcc.Graph`` loads Plotly.js on demand from the bare
``plotly.min.js`` URL unless ``window.Plotly`` exists; the URL map sends that request to the
partial bundle's fingerprinted URL (preloaded in the head), so the full file is never fetched.
Dash does not include the bundle in its pages by itself (``BUNDLE_IGNORE``, ``assets_ignore``):
it runs when the first chart needs it, while the page's first callbacks are on the wire.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
from pathlib import Path

from dash.fingerprint import build_fingerprint
from flask import request

__all__ = ["BUNDLE_IGNORE", "PLOTLY_BUNDLE", "PLOTLY_JS", "asset_url", "fingerprint_html", "install", "suite_url"]

SUITES = "/_dash-component-suites/"
# the full Plotly.js dcc.Graph would load on demand (plotly.py's copy)
PLOTLY_JS = ("plotly", "package_data/plotly.min.js")
# what the pages and the wall load instead: the same version, only the cockpit's trace types (js/plotly-partial)
PLOTLY_BUNDLE = "vendor/plotly-cockpit.min.js"
# app.py's ``assets_ignore``: Dash serves the bundle but does not add it to its pages (dcc.Graph asks for it)
BUNDLE_IGNORE = r"^plotly-cockpit\.min\.js$"
# downloaded as soon as the head is read: every cockpit page draws charts (dcc.Graph's chunk and Plotly.js)
PRELOAD = (("dash", "dcc/async-graph.js"),)
ASSETS = Path(__file__).resolve().parents[1] / "assets"
_URL_ATTR = re.compile(r'(?P<attr>\b(?:src|href)=")(?P<url>/(?:assets|_dash-component-suites)/[^"?#]+)"')

# Sets a script's src to the fingerprinted URL of a bare component-suite path (dcc.Graph's Plotly.js,
# the webpack chunks): the same file under a URL nginx lets the browser keep without asking again.
_SRC_MAP = """(function () {
  var urls = %s;
  var d = Object.getOwnPropertyDescriptor(HTMLScriptElement.prototype, 'src');
  Object.defineProperty(HTMLScriptElement.prototype, 'src', {
    configurable: true, enumerable: d.enumerable, get: d.get,
    set: function (v) {
      var u = null;
      try { u = new URL(v, document.baseURI); } catch (e) {}
      d.set.call(this, (u && u.origin === location.origin && urls[u.pathname]) || v);
    }
  });
})();"""


def _version(package: str, rel: str) -> str:
    # as Dash's _collect_and_register_resources: dash's own dcc, html and dash_table carry their versions
    top = rel.split("/", 1)[0]
    if package == "dash" and top in ("dcc", "html", "dash_table"):
        return importlib.import_module(f"dash.{top}").__version__
    return importlib.import_module(package).__version__


def suite_url(package: str, rel: str, prefix: str = "/") -> str:
    """The fingerprinted URL Dash gives ``rel`` of ``package`` (``name.v<version>m<mtime>.ext``)."""
    importlib.import_module(package)
    path = os.path.join(os.path.dirname(sys.modules[package].__file__), rel)
    return f"{prefix}_dash-component-suites/{package}/" + build_fingerprint(rel, _version(package, rel),
                                                                           int(os.stat(path).st_mtime))


def asset_url(path: str, assets: Path = ASSETS, prefix: str = "/") -> str:
    """``/assets/<path>?m=<mtime>`` as Dash writes an asset it includes (the same URL, the same cached copy)."""
    return f"{prefix}assets/{path}?m={os.path.getmtime(assets / path)}"


def fingerprint_html(text: str, assets: Path = ASSETS) -> str:
    """``text`` with each ``src``/``href`` naming ``/assets/…`` or ``/_dash-component-suites/…`` fingerprinted."""

    def one(m: re.Match) -> str:
        url = m.group("url")
        if url.startswith("/assets/"):
            new = asset_url(url[len("/assets/"):], assets)
        else:
            package, rel = url[len(SUITES):].split("/", 1)
            new = suite_url(package, rel)
        return f'{m.group("attr")}{new}"'

    return _URL_ATTR.sub(one, text)


def _lazy_urls(app) -> dict[str, str]:
    """Bare URL path → fingerprinted URL, for every script Dash may serve for a component package."""
    prefix = app.config.requests_pathname_prefix
    urls = {}
    for package, paths in app.registered_paths.items():
        for rel in paths:
            if rel.endswith(".js"):
                try:
                    urls[f"{prefix}_dash-component-suites/{package}/{rel}"] = suite_url(package, rel, prefix)
                except (OSError, ImportError, AttributeError):  # registered but not shipped: left as it is
                    continue
    # dcc.Graph's Plotly.js: the partial bundle, never the full file
    urls[f"{prefix}{SUITES[1:]}{PLOTLY_JS[0]}/{PLOTLY_JS[1]}"] = asset_url(PLOTLY_BUNDLE, prefix=prefix)
    return dict(sorted(urls.items()))


def install(app) -> None:
    """Preload Plotly.js and fingerprint on-demand scripts on every page Dash renders (see the module doc)."""
    if app.config.assets_ignore != BUNDLE_IGNORE:
        raise ValueError(f"the app must not include the Plotly.js bundle itself: assets_ignore={BUNDLE_IGNORE!r}")
    original = app.interpolate_index

    def interpolate_index(**kwargs) -> str:
        page = original(**kwargs)
        prefix = app.config.requests_pathname_prefix
        preloads = [suite_url(p, r, prefix) for p, r in PRELOAD] + [asset_url(PLOTLY_BUNDLE, prefix=prefix)]
        preload = "".join(f'<link rel="preload" as="script" href="{url}">' for url in preloads)
        mapping = json.dumps(_lazy_urls(app), separators=(",", ":")).replace("</", "<\\/")
        head = f"{preload}\n<script>{_SRC_MAP % mapping}</script>\n"
        return page.replace("</head>", head + "</head>", 1)

    app.interpolate_index = interpolate_index

    # an asset named with its mtime (``?m=``, as Dash and this module write them) for a year, as nginx
    # serves it (deploy/nginx.conf.j2); without nginx Flask answered ``no-cache``: each visit revalidated
    # the Plotly.js bundle (component suites already get a year from Dash)
    assets = f"{app.config.routes_pathname_prefix}{app.config.assets_url_path.strip('/')}/"

    @app.server.after_request
    def _fingerprinted_assets_for_a_year(resp):
        if request.path.startswith(assets) and request.args.get("m") and resp.status_code in (200, 304):
            resp.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return resp
