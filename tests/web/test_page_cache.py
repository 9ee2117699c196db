"""The rendered-page cache (web/page_cache.py): one page per data version, viewer scope, URL
parameters and day; never shared between scopes; off with COCKPIT_PAGE_CACHE=0."""

from __future__ import annotations

from datetime import date

import pytest

import app
from data.scope import Scope, ScopeError
from metrics import cache
from tests.auth_helpers import logged_in_client
from tests.web.forge import render, rows, rows_naming
from tests.web.test_cache_isolation import SIBLINGS, URL
from web import page_cache

CITY, COUNTY = Scope(regions=("360100",)), Scope(regions=("360102",))


@pytest.fixture
def page(monkeypatch):
    """A layout that records each time it is built, behind the cache, with the cache on."""
    monkeypatch.setenv("COCKPIT_PAGE_CACHE", "1")
    viewer = {"scope": CITY}
    monkeypatch.setattr(page_cache, "viewer_scope", lambda: viewer["scope"])
    monkeypatch.setattr(page_cache, "today", lambda: date(2026, 11, 3))
    built = []

    @page_cache.cached_page
    def layout(region=None, month=None, **_ignored):
        built.append((viewer["scope"], region, month))
        return {"region": region, "month": month, "built": len(built)}

    cache.clear_all()
    return layout, viewer, built, monkeypatch


def test_a_repeat_view_is_the_page_built_once(page):
    layout, _viewer, built, _ = page
    first = layout(region="360100", month="2026-10")
    assert layout(month="2026-10", region="360100") is first  # parameter order does not matter
    assert len(built) == 1
    layout(region="360100", month="2026-09")
    assert len(built) == 2  # another month is another page


def test_two_scopes_never_share_a_page(page):
    layout, viewer, built, _ = page
    city = layout(region="360102", month="2026-10")
    viewer["scope"] = COUNTY
    county = layout(region="360102", month="2026-10")
    assert county is not city and built == [(CITY, "360102", "2026-10"), (COUNTY, "360102", "2026-10")]


def test_a_new_data_version_or_a_new_day_builds_the_page_again(page):
    layout, _viewer, built, monkeypatch = page
    layout(region="360100")
    monkeypatch.setattr(page_cache, "today", lambda: date(2026, 11, 4))  # 「数据未按期更新」 may start today
    layout(region="360100")
    assert len(built) == 2
    real = cache.data_key()
    monkeypatch.setattr(cache, "data_key", lambda: (real[0], "another-version"))
    layout(region="360100")
    assert len(built) == 3


def test_off_or_without_a_viewer_every_view_is_built(page):
    layout, _viewer, built, monkeypatch = page
    monkeypatch.setenv("COCKPIT_PAGE_CACHE", "0")
    layout(region="360100")
    layout(region="360100")
    monkeypatch.setenv("COCKPIT_PAGE_CACHE", "1")

    def nobody():
        raise ScopeError("未登录")

    monkeypatch.setattr(page_cache, "viewer_scope", nobody)
    layout(region="360100")
    assert len(built) == 3


@pytest.mark.usefixtures("demo_env")
@pytest.mark.parametrize("wide_first", [True, False])
def test_the_served_overview_from_the_cache_keeps_a_narrow_viewer_narrow(monkeypatch, wide_first):
    monkeypatch.setenv("COCKPIT_PAGE_CACHE", "1")
    cache.clear_all()
    city, _ = logged_in_client(app.server, "leader", "360100")
    county, _ = logged_in_client(app.server, "leader", "360102")
    order = [("city", city), ("county", county)] if wide_first else [("county", county), ("city", city)]
    answers = {name: render(client, *URL).get_json() for name, client in order * 2}  # the second round is cached
    assert rows_naming(answers["city"], *SIBLINGS)
    assert rows_naming(answers["county"], *SIBLINGS) == [] and rows(answers["county"]) == []
