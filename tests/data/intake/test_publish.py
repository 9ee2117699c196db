"""The publish path: staged copies, previews, atomic switches, history, rollback and pruning."""

from __future__ import annotations

import shutil
from datetime import date

import duckdb
import pandas as pd
import pytest

from data import db, opstore, versions
from data.intake import publish as pub
from data.intake.errors import IntakeError
from metrics.cache import clear_all
from metrics.materialize import materialize

MONTH = date(2026, 10, 1)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from data.demo import build_demo

    root = tmp_path_factory.mktemp("publish")
    build_demo(root / "cockpit.duckdb", months=14, end_month="2026-10", _item_limit=20)
    return root


@pytest.fixture
def store(built, tmp_path, monkeypatch):
    """A private copy of the built demo, with the data layer pointed at it."""
    shutil.copytree(built, tmp_path / "db", symlinks=True)
    pointer = tmp_path / "db" / "cockpit.duckdb"
    monkeypatch.setenv("COCKPIT_DB", str(pointer))
    monkeypatch.delenv("COCKPIT_OPSTORE_URL", raising=False)
    db.reset_reader()
    clear_all()
    yield versions.store_for(pointer)
    db.reset_reader()
    opstore.dispose()


def _read(store):
    """A read-only connection like the server's own (DuckDB refuses a second, different one)."""
    return duckdb.connect(str(versions.current(store)), read_only=True, config=db._CONFIG)


def _month(store, table="service_monthly", month=MONTH) -> pd.DataFrame:
    with _read(store) as con:
        return con.execute(f"SELECT * FROM {table} WHERE month = ?", [month]).df()


def _scalar(store, sql, params=()):
    with _read(store) as con:
        return con.execute(sql, list(params)).fetchone()[0]


def test_the_demo_is_version_one_behind_a_link(store):
    assert store.pointer.is_symlink()
    assert versions.current(store).name == "v000001.duckdb"
    assert [v["status"] for v in opstore.versions("cockpit")] == ["已发布"]
    assert oct(store.directory.stat().st_mode & 0o777) == "0o700"  # private to the install


def test_a_prepared_change_previews_exactly_what_changes(store):
    frame = _month(store)
    east = frame["county_code"] == "360102"
    frame.loc[east & (frame.index < frame.index[east][3]), "applications"] += 5  # 3 rows of 东湖区 change
    frame = frame.drop(frame.index[frame["county_code"] == "360103"][:2])         # 2 rows of 西湖区 go
    prepared = pub.prepare({"services": {"service_monthly": frame}}, actor="测试")
    by_county = {d["county_code"]: (d["added"], d["changed"], d["removed"]) for d in prepared.diff}
    assert by_county == {"360102": (0, 3, 0), "360103": (0, 0, 2)}
    assert prepared.totals() == {"added": 0, "changed": 3, "removed": 2}
    assert {d["city_name"] for d in prepared.diff} == {"南昌市"}
    assert versions.current(store).name == "v000001.duckdb"  # nothing served changed yet
    moved = {(m["kpi"], m["period"]) for m in prepared.kpi_moves}
    assert ("applications_count", "month") in moved and ("applications_count", "ytd") in moved
    apps = next(m for m in prepared.kpi_moves if (m["kpi"], m["period"]) == ("applications_count", "month"))
    removed = _month(store).query("county_code == '360103'")["applications"].iloc[:2].sum()
    assert apps["after"] - apps["before"] == 15 - removed  # hand-computed: +3×5, minus the rows removed


def test_publishing_switches_readers_without_a_restart(store):
    before = db.data_version()
    frame = _month(store)
    frame["applications"] += 1
    frame["completed"] += 1
    frame["completed_on_time"] += 1
    done = pub.publish(pub.prepare({"services": {"service_monthly": frame}}, actor="测试"), actor="测试")
    assert (done.previous, done.version) == (1, 2)
    assert db.data_version() == done.data_version != before  # the same process reads the new file
    assert versions.version_number(db.db_path()) == 2
    raw = _scalar(store, "SELECT sum(applications) FROM service_monthly WHERE month = ?", [MONTH])
    agg = _scalar(store, "SELECT sum(applications) FROM agg_service WHERE month = ?", [MONTH])
    assert raw == agg == int(frame["applications"].sum())
    fresh = _scalar(store, "SELECT strftime(updated_at, '%Y-%m-%d') FROM fact_freshness WHERE family = 'services'")
    assert fresh == date.today().isoformat()


def test_a_pinned_request_finishes_on_the_version_it_started_on(store):
    token = db.pin()
    try:
        frame = _month(store)
        frame["applications"] += 1
        frame["completed"] += 1
        frame["completed_on_time"] += 1
        pub.publish(pub.prepare({"services": {"service_monthly": frame}}, actor="测试"), actor="测试")
        assert versions.version_number(db.db_path()) == 1
    finally:
        db.unpin(token)
    assert versions.version_number(db.db_path()) == 2


def test_the_same_content_again_is_unchanged(store):
    prepared = pub.prepare({"services": {"service_monthly": _month(store)}}, actor="测试")
    assert prepared.unchanged and prepared.diff == [] and prepared.kpi_moves == []
    pub.discard(prepared.token)
    assert list(store.staging.iterdir()) == []


def test_a_publish_on_a_stale_base_is_refused(store):
    frame = _month(store)
    frame["applications"] += 1
    frame["completed"] += 1
    frame["completed_on_time"] += 1
    first = pub.prepare({"services": {"service_monthly": frame}}, actor="甲")
    second = pub.prepare({"services": {"service_monthly": frame}}, actor="乙")
    pub.publish(first, actor="甲")
    with pytest.raises(versions.PublishConflict, match="请重新上传并校验"):
        pub.publish(second, actor="乙")
    assert versions.current_number(store) == 2
    assert list(store.staging.iterdir()) == []


def test_rollback_returns_to_a_kept_version_and_is_recorded(store):
    frame = _month(store)
    frame["applications"] += 1
    frame["completed"] += 1
    frame["completed_on_time"] += 1
    pub.publish(pub.prepare({"services": {"service_monthly": frame}}, actor="测试"), actor="测试")
    v1 = _scalar(store, "SELECT value FROM meta WHERE key = 'data_version'")
    done = pub.rollback(1, actor="管理员")
    assert (done.version, done.previous) == (1, 2)
    assert db.data_version() != v1 and versions.current_number(store) == 1
    assert opstore.history(limit=1)[0]["kind"] == "回滚"
    assert pub.available_versions() == [2, 1]
    with pytest.raises(IntakeError, match="可回滚的版本：v2, v1"):
        pub.rollback(9, actor="管理员")
    # the next publish builds on the version in force and takes a new number
    again = pub.prepare({"services": {"service_monthly": frame}}, actor="测试")
    assert (again.base_version, again.version) == (1, 3)


def test_old_versions_beyond_the_kept_number_are_pruned(store, monkeypatch):
    monkeypatch.setattr(pub, "KEEP_VERSIONS", 2)
    frame = _month(store)
    for _ in range(3):
        frame["applications"] += 1
        frame["completed"] += 1
        frame["completed_on_time"] += 1
        pub.publish(pub.prepare({"services": {"service_monthly": frame}}, actor="测试"), actor="测试")
    assert versions.numbers(store) == [3, 4]
    assert pub.available_versions() == [4, 3]


@pytest.mark.parametrize("change", ["month", "new_month", "item", "payment", "event"])
def test_the_partial_aggregate_refresh_equals_a_full_rebuild(store, change):
    if change == "month":
        frame = _month(store)
        frame["applications"] += 3
        frame["completed"] += 3
        frame["completed_on_time"] += 3
        frames = {"services": {"service_monthly": frame}}
    elif change == "new_month":
        frame = _month(store).assign(month=pd.Timestamp("2026-11-01"))
        frames = {"services": {"service_monthly": frame}}
    elif change == "item":
        with _read(store) as con:
            items = con.execute("SELECT * FROM service_item").df()
        items.loc[0, "audience"] = "法人" if items.loc[0, "audience"] == "个人" else "个人"
        frames = {"services": {"service_item": items}}
    elif change == "payment":
        first = _scalar(store, "SELECT min(month) FROM payment WHERE month >= '2026-01-01'")
        pay = _month(store, "payment", first)
        assert len(pay) > 0
        pay["amount_wan"] = pay["amount_wan"].astype(float) + 10
        frames = {"spending": {"payment": pay}}
    else:
        with _read(store) as con:
            events = con.execute("SELECT * FROM project_event WHERE stage = 'started' LIMIT 5").df()
        events["event_date"] = pd.Timestamp("2026-09-15")
        frames = {"projects": {"project_event": events}}
    prepared = pub.prepare(frames, actor="测试")
    assert not prepared.unchanged
    staged = store.staging / f"{prepared.token}.duckdb"
    partial = staged.with_name("partial.duckdb")
    shutil.copyfile(staged, partial)
    with duckdb.connect(str(partial)) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables"
                                             " WHERE table_name LIKE 'agg_%' ORDER BY 1").fetchall()]
        kept = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").df() for t in tables}
        materialize(con)  # everything from scratch
        for t in tables:
            pd.testing.assert_frame_equal(kept[t], con.execute(f"SELECT * FROM {t} ORDER BY ALL").df(),
                                          check_dtype=False)
    pub.discard(prepared.token)


def test_a_failed_invariant_publishes_nothing(store):
    frame = _month(store).head(3).assign(county_code="360100")  # a city code where counties belong
    with pytest.raises(IntakeError, match="不是本省的县级区划"):
        pub.prepare({"services": {"service_monthly": frame}}, actor="测试")
    assert list(store.staging.iterdir()) == []
    assert versions.current_number(store) == 1


def test_an_upgrade_publishes_stale_aggregates_as_a_new_version(store):
    with duckdb.connect(str(versions.current(store))) as con:  # as if built by older code
        con.execute("UPDATE meta SET value = 'older' WHERE key = 'aggregates_version'")
    done = pub.upgrade(actor="启动升级")
    assert done is not None and done.version == 2
    assert pub.upgrade(actor="启动升级") is None  # current now: nothing to do


def test_a_changed_rule_threshold_publishes_a_version_built_with_it(store, tmp_path, monkeypatch):
    from metrics import rules

    text = rules.RULES_PATH.read_text(encoding="utf-8")
    assert "\ntrial_months = 6 " in text
    changed = tmp_path / "rules.toml"
    changed.write_text(text.replace("\ntrial_months = 6 ", "\ntrial_months = 4 "), encoding="utf-8")
    monkeypatch.setattr(rules, "RULES_PATH", changed)
    rules.load_rules.cache_clear()
    try:
        done = pub.upgrade(actor="启动升级")  # what every start does (data.demo.ensure_database)
        assert done is not None and done.version == 2
        assert _scalar(store, "SELECT trial_months FROM rule_threshold") == 4
        assert pub.upgrade(actor="启动升级") is None
    finally:
        rules.load_rules.cache_clear()


def test_recover_settles_an_interrupted_publish_and_removes_orphans(store):
    orphan = store.version_file(7)
    shutil.copyfile(versions.current(store), orphan)          # renamed into place, never switched to
    opstore.register_version("cockpit", 7, status="发布中", import_id=None, data_version_id="")
    (store.staging / "abc.duckdb").write_bytes(b"half")      # a staged copy
    link = store.pointer.with_name(".cockpit.duckdb.switch-99")
    link.symlink_to("cockpit.versions/v000001.duckdb")       # a half-made pointer
    removed = {p.name for p in pub.recover()}
    assert removed == {"v000007.duckdb", "abc.duckdb", ".cockpit.duckdb.switch-99"}
    assert {v["version"]: v["status"] for v in opstore.versions("cockpit")} == {1: "已发布", 7: "已放弃"}


def test_a_plain_database_file_is_adopted_as_version_one(tmp_path, monkeypatch, built):
    plain = tmp_path / "plain.duckdb"
    shutil.copyfile(versions.current(versions.store_for(built / "cockpit.duckdb")), plain)
    monkeypatch.setenv("COCKPIT_DB", str(plain))
    db.reset_reader()
    try:
        before = db.data_version()
        with duckdb.connect(str(plain), read_only=True, config=db._CONFIG) as con:
            frame = con.execute("SELECT * FROM hotline_monthly WHERE month = ?", [MONTH]).df()
        frame["received"] += 1
        prepared = pub.prepare({"hotline": {"hotline_monthly": frame}}, actor="测试")
        assert prepared.base_version == 1 and plain.is_symlink()
        pub.publish(prepared, actor="测试")
        assert db.data_version() != before
        assert versions.numbers(versions.store_for(plain)) == [1, 2]
    finally:
        db.reset_reader()


# ---------------------------------------------------------------- KPI results computed at publish


RESULTS_ORDER = "SELECT * FROM kpi_results ORDER BY month, period, kpi_id, region_code"


def _results_change(store, change):
    """The frames of one kind of change, and what the province's 办件量 becomes (hand-computed)."""
    if change in ("new_month", "skipped_month"):
        month = pd.Timestamp("2026-11-01" if change == "new_month" else "2026-12-01")
        frame = _month(store).assign(month=month)
        return {"services": {"service_monthly": frame}}, {(month.date(), "month"): frame["applications"].sum()}
    if change == "old_month":
        frame = _month(store, month=date(2026, 3, 1))
        for col in ("applications", "completed", "completed_on_time"):
            frame[col] += 3
        before = _scalar(store, "SELECT sum(applications) FROM service_monthly WHERE month = '2026-03-01'")
        return {"services": {"service_monthly": frame}}, {(date(2026, 3, 1), "month"): before + 3 * len(frame)}
    if change == "hotline":
        frame = _month(store, "hotline_monthly", date(2026, 1, 1))
        frame["received"] += 1
        return {"hotline": {"hotline_monthly": frame}}, {}
    if change == "item":
        with _read(store) as con:
            items = con.execute("SELECT * FROM service_item").df()
        items.loc[0, "audience"] = "法人" if items.loc[0, "audience"] == "个人" else "个人"
        return {"services": {"service_item": items}}, {}
    pay = _month(store, "payment", _scalar(store, "SELECT min(month) FROM payment WHERE month >= '2026-01-01'"))
    pay["amount_wan"] = pay["amount_wan"].astype(float) + 10
    return {"spending": {"payment": pay}}, {}


@pytest.mark.parametrize("change", ["new_month", "skipped_month", "old_month", "hotline", "item", "payment"])
def test_the_partial_results_refresh_equals_a_full_rebuild(store, change, monkeypatch):
    from metrics import results
    from tests.metrics.test_results import assert_same_results

    frames, expected = _results_change(store, change)
    refreshed = []
    real = results.refresh
    monkeypatch.setattr(results, "refresh", lambda *a, **k: refreshed.append(real(*a, **k)) or refreshed[-1])
    prepared = pub.prepare(frames, actor="测试")
    assert not prepared.unchanged and len(refreshed) == 1 and not refreshed[0]["whole"]
    staged = store.staging / f"{prepared.token}.duckdb"
    partial = staged.with_name("partial.duckdb")
    shutil.copyfile(staged, partial)
    with duckdb.connect(str(partial)) as con:
        kept = con.execute(RESULTS_ORDER).df()
        for (month, period), applications in expected.items():
            row = kept[(kept.month == pd.Timestamp(month)) & (kept.period == period)
                       & (kept.kpi_id == "applications_count") & (kept.region_code == "360000")]
            assert row["value"].tolist() == [applications]
        con.execute("BEGIN")
        assert real(con)["whole"]  # everything from scratch
        con.execute("COMMIT")
        assert_same_results(kept, con.execute(RESULTS_ORDER).df(), {"data_quality_score", "performance_score"})
    pub.discard(prepared.token)


def test_a_publish_recomputes_only_the_results_its_months_reach(store, monkeypatch):
    from metrics import results

    refreshed = []
    real = results.refresh
    monkeypatch.setattr(results, "refresh", lambda *a, **k: refreshed.append(real(*a, **k)) or refreshed[-1])
    frames, _ = _results_change(store, "old_month")  # 2026-03 of the services
    pub.discard(pub.prepare(frames, actor="测试").token)
    months = refreshed[-1]["months"]
    march_on = [date(2026, m, 1) for m in range(3, 11)]  # 累计 to the last month, 2026-10
    assert months["ytd"] == {"service": march_on}
    assert months["month"] == {"service": [date(2026, 3, 1), date(2026, 4, 1)]}  # 2027-03 is beyond the data
    frames, _ = _results_change(store, "skipped_month")  # 2026-12: 2026-11 joins the range without rows
    pub.discard(pub.prepare(frames, actor="测试").token)
    months = refreshed[-1]["months"]
    both = [date(2026, 11, 1), date(2026, 12, 1)]
    assert all(months[p] == dict.fromkeys(results.FACT_SOURCES, both) for p in results.PERIODS)


def test_an_upgrade_computes_the_results_of_a_file_without_them(store):
    from metrics import results

    with duckdb.connect(str(versions.current(store))) as con:  # as if built by older code
        con.execute("DROP TABLE kpi_results")
        con.execute("DELETE FROM meta WHERE key LIKE 'results_%'")
    assert not results.ready()
    done = pub.upgrade(actor="启动升级")
    assert done is not None and done.version == 2
    db.reset_reader()
    clear_all()
    assert results.ready()
    assert _scalar(store, "SELECT count(DISTINCT month) FROM kpi_results") == 14
    assert pub.upgrade(actor="启动升级") is None
