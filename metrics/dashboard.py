"""What each cockpit page shows, by module (this module re-exports them for older imports):

- :mod:`metrics.page_state`: the URL's state (:class:`PageState`), validated
  (:func:`resolve_state`) into every page's header (:func:`page_context`);
- :mod:`metrics.overview_view`: the overview page (:func:`overview_data`);
- :mod:`metrics.warmup`: the cache warm-up (:func:`warm_caches`) and its progress
  (:data:`WARM_STATE`, read by ``/healthz``).
"""

from __future__ import annotations

from metrics.overview_view import overview_data
from metrics.page_state import PAGE_PERIODS, PageContext, PageState, ResolvedState, page_context, resolve_state
from metrics.warmup import WARM_STATE, _warm_every_month, warm_caches

__all__ = ["PAGE_PERIODS", "WARM_STATE", "PageContext", "PageState", "ResolvedState", "_warm_every_month",
           "overview_data", "page_context", "resolve_state", "warm_caches"]
