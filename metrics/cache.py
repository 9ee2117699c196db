"""The one cache of data-dependent results: :func:`memo`.

A result is keyed by the data version of the file read, the function's arguments (the
viewer's scope among them) and nothing else, with the arguments normalised first: a month
given as ``"2025-06"``, ``date(2025, 6, 1)``, a midnight ``datetime``/``Timestamp`` of the
1st or a monthly ``pd.Period`` is one key. Each function's store is an LRU of bounded size,
and every store is emptied when the served data version changes (a publish, a rebuild), so
no process keeps results of data it no longer serves.

The version is read cheaply: a ``readlink`` of the pointer and a ``stat`` of the file per
call, and the ``meta`` row only when the file's stamp is new (never a query per call).

DataFrames are handed out as copies so callers cannot alter the cache (``copy=False`` shares
them: forecasts, whose callers treat them as read-only). A store can also be written to disk
(:class:`Disk`) so that every worker process reuses an expensive result.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from data import db

_lock = threading.Lock()
_versions: dict[tuple, str] = {}  # (path, mtime, size) → the file's data_version
_current: list[tuple[str, str]] = []  # the data key the stores hold results of
_stores: list[_Store] = []  # every memo's store (tests look into them)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


def data_key() -> tuple[str, str]:
    """(database path, data version), the ``meta`` row re-read only when the file changes."""
    path = str(db.db_path())
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return path, "missing"
    stamp = (path, st.st_mtime_ns, st.st_size)
    version = _versions.get(stamp)
    if version is None:
        version = db.data_version()
        with _lock:
            _versions[stamp] = version
    return path, version


def normalise(value):
    """One cache key for one value: a month in any of its spellings is a ``date`` of the 1st;
    lists, tuples and dicts are normalised item by item (and made hashable)."""
    if isinstance(value, str):
        m = _MONTH.match(value) if value[4:5] == "-" else None  # region and KPI codes skip the regex
        return date(int(m.group(1)), int(m.group(2)), 1) if m and 1 <= int(m.group(2)) <= 12 else value
    if isinstance(value, pd.Period) and value.freqstr.startswith("M"):
        return date(value.year, value.month, 1)
    if isinstance(value, datetime):  # Timestamp included: before date, of which it is a subclass
        return value.date() if value.time() == datetime.min.time() and value.tzinfo is None else value
    if isinstance(value, (list, tuple)):
        if all(type(v) is str and v[4:5] != "-" for v in value):  # codes: the common case, kept fast
            return tuple(value)
        return tuple(normalise(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, normalise(v)) for k, v in value.items()))
    return value


def _follow_version(key: tuple[str, str]) -> None:
    """Empty every store when the served data changes (a request still pinned to the version
    before keeps working: its keys carry its version)."""
    if (_current and _current[-1] == key) or key in _current:
        return
    with _lock:
        if key in _current:
            return
        if _current:
            for store in _stores:
                if store.versioned:
                    store.clear()
        _current.append(key)
        del _current[:-2]  # the served version and the one before it (pinned requests)


class Disk:
    """A bounded directory of JSON files, one per key, shared by the worker processes.

    ``name`` prefixes the files; ``version`` (a hash of the code that computes the values)
    joins the key, since the files outlive the process; ``limits`` gives (files, bytes):
    the least recently used files go first."""

    def __init__(self, name: str, directory: Callable[[], Path], limits: Callable[[], tuple[int, int]],
                 version: str, encode=lambda v: v, decode=lambda d: d):
        self.name, self.directory, self.limits, self.version = name, directory, limits, version
        self.encode, self.decode = encode, decode

    def path(self, key: tuple) -> Path:
        digest = hashlib.sha256(json.dumps([self.version, key], default=str).encode()).hexdigest()[:24]
        return self.directory() / f"{self.name}-{digest}.json"

    def read(self, key: tuple):
        path = self.path(key)
        try:
            doc = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):  # absent, or half-written by a crashed worker: recompute
            return None
        try:
            os.utime(path)  # recently used: evicted last
        except OSError:
            pass
        return self.decode(doc)

    def write(self, key: tuple, value) -> None:
        path = self.path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(self.encode(value), ensure_ascii=False, default=_json_default), "utf-8")
            os.replace(tmp, path)  # atomic: workers may write the same key
            self.evict()
        except OSError:  # a read-only disk only costs the other workers a recomputation
            pass

    def evict(self) -> None:
        """Remove the least recently used files until the directory is within its bounds."""
        max_files, max_bytes = self.limits()
        entries = []
        with os.scandir(self.directory()) as found:
            for entry in found:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                if entry.name.endswith(".tmp"):
                    if st.st_mtime < time.time() - 3600:  # left by a crashed worker
                        Path(entry.path).unlink(missing_ok=True)
                    continue
                if entry.name.endswith(".json"):
                    entries.append((st.st_mtime, st.st_size, entry.path))
        entries.sort()
        total = sum(size for _, size, _ in entries)
        while entries and (len(entries) > max_files or total > max_bytes):
            _, size, oldest = entries.pop(0)
            Path(oldest).unlink(missing_ok=True)
            total -= size

    def clear(self) -> None:
        for f in self.directory().glob(f"{self.name}-*.json"):
            f.unlink(missing_ok=True)


def _json_default(x):
    import numpy as np

    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, (tuple, np.ndarray)):
        return list(x)
    return str(x)


class _Store(OrderedDict):
    """One function's results, least recently used first."""

    versioned = True


def memo(maxsize: int = 256, *, copy: bool = True, disk: Disk | None = None,
         wrap_call: Callable[[], object] | None = None, versioned: bool = True):
    """Memoise a function of hashable arguments per data version (LRU of ``maxsize``, thread-safe).

    ``disk`` also keeps each result in a shared directory; ``wrap_call`` is a context manager
    factory entered around each computation (forecasts: one BLAS thread, no warnings).
    ``versioned=False`` is for a pure function of values that carry the data themselves (a
    model fitted to a series): no database is read for its key, and a new version keeps it."""

    def wrap(fn):
        store = _Store()
        store.versioned = versioned
        _stores.append(store)

        def out(value):
            return value.copy() if copy and isinstance(value, pd.DataFrame) else value

        @functools.wraps(fn)
        def inner(*args, **kwargs):
            version = data_key() if versioned else None
            if versioned:
                _follow_version(version)
            key = (version, normalise(args), tuple(sorted((k, normalise(v)) for k, v in kwargs.items())))
            with _lock:
                if key in store:
                    store.move_to_end(key)
                    return out(store[key])
            value = disk.read(key) if disk is not None else None
            if value is None:
                if wrap_call is None:
                    value = fn(*args, **kwargs)
                else:
                    with wrap_call():
                        value = fn(*args, **kwargs)
                if disk is not None:
                    disk.write(key, value)
            with _lock:
                store[key] = value
                store.move_to_end(key)
                while len(store) > maxsize:
                    store.popitem(last=False)
            return out(value)

        inner.cache_clear = store.clear
        inner.cache_len = store.__len__
        inner.maxsize = maxsize
        return inner

    return wrap


def clear_all() -> None:
    """Forget every memoised result (benchmarks measuring cold paths; tests)."""
    with _lock:
        for store in _stores:
            store.clear()
