"""The operational store on both backends: the import history and the version registry round-trip
the same on SQLite and on PostgreSQL (production's database, started by scripts/test.sh)."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import inspect

from data import audit, opstore


def test_the_store_creates_every_table_on_an_empty_database(store_url):
    eng = opstore.engine(store_url)
    names = set(inspect(eng).get_table_names())
    assert {"import_log", "data_version", "users", "sessions", "device_tokens", "audit_log",
            "audit_anchor"} <= names
    assert opstore.engine(store_url) is eng  # one engine per URL and process


def test_an_import_attempt_round_trips_from_start_to_publish(store_url):
    before = datetime.now()
    first = opstore.log_start(kind="导入", source_name="热线2026年10月.xlsx", actor="南昌市报送员",
                              sha256="ab" * 32, family="hotline", base_version=3, url=store_url)
    second = opstore.log_start(kind="填报", source_name="督办任务进展", actor="演示用户", url=store_url)
    assert second == first + 1

    row = opstore.get_import(first, url=store_url)
    assert row["outcome"] == "校验中" and row["finished_at"] is None and row["rows"] == 0
    assert (row["kind"], row["source_name"], row["actor"], row["family"], row["base_version"]) == \
        ("导入", "热线2026年10月.xlsx", "南昌市报送员", "hotline", 3)
    assert row["sha256"] == "ab" * 32 and before <= row["started_at"] <= datetime.now()

    opstore.log_update(first, outcome="待发布", months="2026-10", regions="360102,360103", rows=1234,
                       url=store_url)
    assert opstore.get_import(first, url=store_url)["finished_at"] is None  # still going
    opstore.log_update(first, outcome="已发布", version=4, summary={"新增": 12, "消息": ["第 3 行：已修正"]},
                       url=store_url)
    row = opstore.get_import(first, url=store_url)
    assert (row["outcome"], row["version"], row["rows"], row["months"], row["regions"]) == \
        ("已发布", 4, 1234, "2026-10", "360102,360103")
    assert row["finished_at"] >= row["started_at"]

    history = opstore.history(url=store_url)
    assert [r["import_id"] for r in history] == [second, first]  # newest first
    assert history[1]["summary"] == {"新增": 12, "消息": ["第 3 行：已修正"]}
    assert history[0]["summary"] == {}
    assert [r["import_id"] for r in opstore.history(limit=1, url=store_url)] == [second]
    assert opstore.get_import(999, url=store_url) is None


def test_an_unknown_outcome_is_refused(store_url):
    import_id = opstore.log_start(kind="导入", source_name="x.csv", actor="演示用户", url=store_url)
    with pytest.raises(ValueError, match="未知的导入结果"):
        opstore.log_update(import_id, outcome="成功了", url=store_url)
    assert opstore.get_import(import_id, url=store_url)["outcome"] == "校验中"


def test_a_long_file_name_is_clipped_to_its_column(store_url):
    name = "很长的文件名" * 60 + ".xlsx"  # PostgreSQL enforces varchar(255); SQLite would not
    import_id = opstore.log_start(kind="导入", source_name=name, actor="演示用户", url=store_url)
    assert opstore.get_import(import_id, url=store_url)["source_name"] == name[:255]


def test_the_version_registry_round_trips_per_store(store_url):
    a = opstore.log_start(kind="演示", source_name="demo", actor="演示数据生成器", url=store_url)
    opstore.register_version("cockpit", 1, status="发布中", import_id=a, data_version_id="v1-abc", url=store_url)
    opstore.register_version("cockpit", 2, status="发布中", import_id=None, data_version_id="v2-def", url=store_url)
    opstore.register_version("other", 1, status="已发布", import_id=None, data_version_id="o1", url=store_url)
    opstore.set_version_status("cockpit", 1, "已发布", url=store_url)
    opstore.set_version_status("cockpit", 2, "已放弃", url=store_url)

    rows = opstore.versions("cockpit", url=store_url)
    assert [(r["version"], r["status"], r["import_id"], r["data_version"]) for r in rows] == \
        [(2, "已放弃", None, "v2-def"), (1, "已发布", a, "v1-abc")]
    assert all(isinstance(r["created_at"], datetime) for r in rows)
    assert [r["data_version"] for r in opstore.versions("other", url=store_url)] == ["o1"]
    assert opstore.versions("nothing", url=store_url) == []

    # registering a version again replaces it (a publish retried after a crash)
    opstore.register_version("cockpit", 2, status="已发布", import_id=a, data_version_id="v2-xyz", url=store_url)
    rows = opstore.versions("cockpit", url=store_url)
    assert [(r["version"], r["status"], r["data_version"]) for r in rows] == \
        [(2, "已发布", "v2-xyz"), (1, "已发布", "v1-abc")]


def test_the_audit_log_and_the_import_history_share_one_store(store_url):
    opstore.log_start(kind="导入", source_name="x.csv", actor="演示用户", url=store_url)
    audit.record("上传", actor="演示用户", outcome="成功", target="x.csv", url=store_url)
    assert len(opstore.history(url=store_url)) == 1
    assert [r["action"] for r in audit.search(url=store_url)] == ["上传"]


def test_a_postgresql_url_without_a_driver_uses_psycopg():
    import os

    base = os.environ.get("COCKPIT_TEST_PG_URL", "").strip()
    if not base:
        pytest.skip("COCKPIT_TEST_PG_URL 未设置（bash scripts/test.sh 会启动 PostgreSQL 并设置它）")
    plain = base.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        assert opstore.engine(plain).dialect.driver == "psycopg"
    finally:
        opstore.dispose()
