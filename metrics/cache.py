"""In-process memoisation keyed by the database's data version.

A cached result is reused only for the same database file, the same ``data_version``
(rebuilt or re-imported data gets new keys) and the same arguments, the viewer's scope
included. DataFrames are handed out as copies so callers cannot alter the cache.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict

import pandas as pd

from data import db

_lock = threading.Lock()
_versions: dict[tuple[str, float], str] = {}
_stores: list[OrderedDict] = []


def data_key() -> tuple[str, str]:
    """(database path, data version), re-read only when the file changes."""
    path = str(db.db_path())
    try:
        stamp = os.stat(path).st_mtime
    except FileNotFoundError:
        return path, "missing"
    key = (path, stamp)
    with _lock:
        version = _versions.get(key)
    if version is None:
        version = db.data_version()
        with _lock:
            _versions[key] = version
    return path, version


def memo(maxsize: int = 256):
    """Memoise a function of hashable arguments per data version (LRU, thread-safe)."""

    def wrap(fn):
        store: OrderedDict = OrderedDict()
        _stores.append(store)

        @functools.wraps(fn)
        def inner(*args, **kwargs):
            key = (data_key(), args, tuple(sorted(kwargs.items())))
            with _lock:
                if key in store:
                    store.move_to_end(key)
                    hit = store[key]
                    return hit.copy() if isinstance(hit, pd.DataFrame) else hit
            value = fn(*args, **kwargs)
            with _lock:
                store[key] = value
                if len(store) > maxsize:
                    store.popitem(last=False)
            return value.copy() if isinstance(value, pd.DataFrame) else value

        inner.cache_clear = store.clear
        return inner

    return wrap


def clear_all() -> None:
    """Forget every memoised result (benchmarks measuring cold paths; tests)."""
    with _lock:
        for store in _stores:
            store.clear()
