"""Cache isolation between viewers (after Superset's ``rls_cache_isolation_tests.py``): two users
whose scopes differ make identical requests, in either order, and never get each other's cached
result; the memo keys of the metric engine carry the scope."""

from __future__ import annotations

import pytest

import app
from data.scope import Scope
from metrics import cache
from tests.auth_helpers import logged_in_client
from tests.web.forge import forecast_download_body, render, rows, rows_naming

pytestmark = pytest.mark.usefixtures("demo_env")

URL = ("/", "?region=360100&month=2026-10&period=ytd&kpi=online_handling_rate")
SIBLINGS = ("西湖区", "青云谱区", "青山湖区", "新建区", "南昌县")  # 南昌市's counties other than 东湖区


def _scopes_cached_for(fn_name: str, region: str) -> set:
    """The scopes under which the engine memoised ``fn_name`` for ``region`` (its keys)."""
    seen = set()
    for store in cache._stores:
        for key in list(store):
            _data, args, kwargs = key
            kw = dict(kwargs)
            if args[:1] == (region,) and "scope" in kw and store is _store_of(fn_name):
                seen.add(kw["scope"])
    return seen


def _store_of(fn_name: str):
    import metrics.dashboard as dashboard

    fn = getattr(dashboard, fn_name)
    probe = object()
    # the store is the OrderedDict whose clear is the function's cache_clear
    for store in cache._stores:
        if getattr(fn.cache_clear, "__self__", probe) is store:
            return store
    raise LookupError(fn_name)


@pytest.mark.parametrize("wide_first", [True, False])
def test_a_narrow_viewer_never_sees_what_a_wide_viewer_had_cached(wide_first):
    cache.clear_all()
    city, _ = logged_in_client(app.server, "leader", "360100")
    county, _ = logged_in_client(app.server, "leader", "360102")
    order = [("city", city), ("county", county)] if wide_first else [("county", county), ("city", city)]
    answers = {name: render(client, *URL).get_json() for name, client in order}
    assert rows_naming(answers["city"], *SIBLINGS)  # the city leader sees its counties
    assert rows_naming(answers["county"], *SIBLINGS) == []  # the county leader none of them, in either order
    assert rows(answers["county"]) == []  # 南昌市 itself is outside 东湖区: nothing at all


def test_identical_requests_of_a_department_user_and_a_leader_give_different_numbers():
    cache.clear_all()
    leader, _ = logged_in_client(app.server, "leader", "360100")
    dept, _ = logged_in_client(app.server, "dept", "360100", "D01")
    first = render(leader, *URL).get_data(as_text=True)
    second = render(dept, *URL).get_data(as_text=True)
    again = render(leader, *URL).get_data(as_text=True)
    assert first == again  # the leader's cached page is stable …
    assert second != first  # … and the department user's is not that one
    scopes = _scopes_cached_for("overview_data", "360100")
    assert {Scope(regions=("360100",)), Scope(regions=("360100",), departments=("D01",))} <= scopes


def test_forecasts_are_cached_per_scope_too():
    cache.clear_all()
    leader, _ = logged_in_client(app.server, "leader", "360100")
    dept, _ = logged_in_client(app.server, "dept", "360100", "D01")
    leader.get("/forecast")
    state = {"kpi": "online_handling_rate", "region": "360100", "h": 6, "view": "month"}
    body = forecast_download_body(state)
    files = []
    for client in (leader, dept, leader, dept):
        doc = client.post("/_dash-update-component", json=body).get_json()
        files.append(rows(doc["response"]["forecast-download"]))
    assert files[0] == files[2] and files[1] == files[3]
    assert files[0] != files[1]
