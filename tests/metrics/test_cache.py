"""The one cache (metrics/cache.py): one key per month however it is spelt, bounded, and
emptied when the data version changes."""

from datetime import date, datetime

import pandas as pd
import pytest

from data.scope import Scope
from metrics import cache


@pytest.fixture
def version(monkeypatch):
    """A data version the test sets, read without any database."""
    current = {"key": ("test.duckdb", "v1")}
    monkeypatch.setattr(cache, "data_key", lambda: current["key"])
    yield current
    cache.clear_all()


def _counting(maxsize=8):
    calls = []

    @cache.memo(maxsize=maxsize)
    def f(month, *, scope=None):
        calls.append(month)
        return len(calls)

    return f, calls


@pytest.mark.parametrize("spelling", ["2025-06", date(2025, 6, 1), datetime(2025, 6, 1), pd.Timestamp("2025-06-01"),
                                      pd.Period("2025-06", freq="M")])
def test_a_month_is_one_key_however_it_is_spelt(version, spelling):
    f, calls = _counting()
    first = f("2025-06")
    assert f(spelling) == first and len(calls) == 1


def test_other_values_stay_distinct_keys(version):
    f, calls = _counting()
    f("2025-06")
    f("2025-07")
    f(date(2025, 6, 15))  # a day, not a month
    f(datetime(2025, 6, 1, 12))  # a moment of the day
    f("2025-13")  # not a month: the string itself
    assert len(calls) == 5
    assert cache.normalise({"b": ["2025-06"], "a": 1}) == (("a", 1), ("b", (date(2025, 6, 1),)))


def test_the_scope_is_part_of_the_key(version):
    f, calls = _counting()
    f("2025-06", scope=Scope(regions=("360100",)))
    f("2025-06", scope=Scope(regions=("360102",)))
    f("2025-06", scope=Scope(regions=("360100",)))
    assert len(calls) == 2


def test_the_store_is_bounded_and_forgets_the_least_recently_used(version):
    f, calls = _counting(maxsize=2)
    f("2025-01")
    f("2025-02")
    f("2025-01")  # used again: 2025-02 is now the least recently used
    f("2025-03")
    assert f.cache_len() == 2
    f("2025-01")
    assert len(calls) == 3  # still held
    f("2025-02")
    assert len(calls) == 4  # forgotten, computed again


def test_a_new_data_version_empties_every_store(version):
    f, calls = _counting()
    g, _g_calls = _counting()
    f("2025-06")
    g("2025-06")
    version["key"] = ("test.duckdb", "v2")
    assert f("2025-06") == 2 and len(calls) == 2  # computed on the new data
    assert g.cache_len() == 0  # the other store was emptied too, not merely left to age out
    version["key"] = ("test.duckdb", "v1")  # a request still pinned to the version before
    f("2025-06")
    assert len(calls) == 3  # its own key: never the other version's result


def test_frames_are_handed_out_as_copies(version):
    @cache.memo()
    def frame():
        return pd.DataFrame({"x": [1.0]})

    first = frame()
    first.loc[0, "x"] = 99.0
    assert frame().loc[0, "x"] == 1.0


def test_the_version_is_read_from_the_database_only_when_the_file_changes(fixture_env, monkeypatch):
    from data import db

    reads = []
    real = db.data_version
    monkeypatch.setattr(db, "data_version", lambda: reads.append(1) or real())
    cache._versions.clear()
    for _ in range(5):
        cache.data_key()
    assert len(reads) == 1
