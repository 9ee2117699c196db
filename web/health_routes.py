"""``/healthz``: whether the cockpit answers, which data version this process serves (its
number, its data version id and pid) and how far the cache warm-up has got (for
monitoring, load balancers and benchmarks)."""

from __future__ import annotations

import os

from flask import Flask, jsonify

from data import db, versions
from metrics.dashboard import WARM_STATE
from metrics.regions import as_of


def register_health_routes(server: Flask) -> None:
    @server.route("/healthz")
    def healthz():
        try:
            _first, last = as_of()
            body = {"status": "ok", "version": versions.version_number(db.db_path()),
                    "data_version": db.data_version(), "as_of": last.strftime("%Y-%m"),
                    "pid": os.getpid(), "warm": dict(WARM_STATE)}
            return jsonify(body)
        except Exception as exc:  # noqa: BLE001 — a health probe reports, it never raises
            return jsonify({"status": "error", "message": f"数据库不可用：{type(exc).__name__}"}), 503
