"""Rendered pages, kept per data version, viewer scope, URL parameters and day.

A page's layout is a function of its URL parameters, the viewer's scope (derived on the server,
never sent by the browser), the data version and, for 「数据未按期更新」, today's date. Officials
at the start of a month open the same few views, so a repeat view is served from here instead of
being assembled again. The store is :func:`metrics.cache.memo`'s: bounded (LRU), emptied when the
data version changes, and keyed by the scope, so two viewers with different scopes never share a
page (tests/web/test_page_cache.py). Page views are still audited per request by web/auth.py, which
runs before the layout is asked for.

``COCKPIT_PAGE_CACHE=0`` turns it off (the test suite does, because its tests patch the engine
between renders of one URL); ``COCKPIT_PAGE_CACHE_SIZE`` bounds it per process (default 64 pages:
a page with a county map is about 1 MB).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any

from data.scope import ScopeError
from metrics.cache import memo
from metrics.freshness import today
from web.session import viewer_scope


def enabled() -> bool:
    return os.environ.get("COCKPIT_PAGE_CACHE", "1").strip() != "0"


def cached_page(layout: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a page layout whose output depends only on its URL parameters, the viewer's scope,
    the data version and the day (not on the user otherwise, nor on files being uploaded)."""

    @memo(maxsize=int(os.environ.get("COCKPIT_PAGE_CACHE_SIZE", "64")), copy=False)
    def render(scope, day, params: tuple) -> Any:  # noqa: ARG001 — scope and day are the key
        return layout(**dict(params))

    @functools.wraps(layout)
    def page(**params: Any) -> Any:
        if not enabled():
            return layout(**params)
        try:
            scope = viewer_scope()
        except ScopeError:  # nobody logged in (the guard refuses first): the layout's own notice
            return layout(**params)
        return render(scope, today(), tuple(sorted(params.items())))

    page.cache_clear = render.cache_clear  # type: ignore[attr-defined]
    return page
