"""The demo generator: invariants of the data it writes, checked row-wise in SQL."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import pytest

from data import db, demo
from tests.data.conftest import SMALL

FACT_TABLES = [
    "region", "region_closure", "department", "service_item", "service_monthly", "hotline_monthly",
    "data_resource_monthly", "project", "project_event", "budget", "payment", "kpi_target", "task",
    "calendar", "meta",
]
TINY = {"months": 3, "end_month": "2026-10", "_item_limit": 8}


@pytest.fixture(scope="module")
def con(demo_db):
    c = duckdb.connect(str(demo_db), read_only=True)
    yield c
    c.close()


def scalar(con, sql, params=None):
    return con.execute(sql, params or []).fetchone()[0]


def checksums(path) -> dict[str, tuple]:
    with duckdb.connect(str(path), read_only=True) as c:
        return {t: c.execute(f"SELECT count(*), sum(hash(t)) FROM {t} AS t").fetchone() for t in FACT_TABLES}


def test_migrations_are_applied(con):
    assert scalar(con, "SELECT count(*) FROM schema_version") == len(db.migrations())


def test_every_table_is_filled(con):
    empty = [t for t in FACT_TABLES if scalar(con, f"SELECT count(*) FROM {t}") == 0]
    assert empty == []


def test_online_applications_never_exceed_applications(con):
    assert scalar(con, "SELECT count(*) FROM service_monthly WHERE online_applications > applications") == 0


def test_items_not_online_capable_have_no_online_applications(con):
    sql = "SELECT count(*) FROM service_monthly WHERE is_online_capable = 0 AND online_applications > 0"
    assert scalar(con, sql) == 0


def test_completed_on_time_never_exceeds_completed(con):
    assert scalar(con, "SELECT count(*) FROM service_monthly WHERE completed_on_time > completed") == 0


def test_service_counts_nest_inside_applications(con):
    bad = scalar(
        con,
        """SELECT count(*) FROM service_monthly
           WHERE completed > applications OR one_visit_done > completed OR zero_visit_done > completed
              OR good_reviews + bad_reviews > completed OR bad_fixed > bad_reviews
              OR licences_issued > completed OR e_licences_synced > licences_issued""",
    )
    assert bad == 0


def test_only_licence_items_issue_licences(con):
    bad = scalar(
        con, "SELECT count(*) FROM v_service WHERE item_type <> '行政许可' AND licences_issued > 0"
    )
    assert bad == 0


def test_online_capability_once_reached_is_kept(con):
    lost = scalar(
        con,
        """SELECT count(*) FROM (
             SELECT is_online_capable - lag(is_online_capable) OVER w AS d
             FROM service_monthly WINDOW w AS (PARTITION BY county_code, item_code ORDER BY month))
           WHERE d < 0""",
    )
    assert lost == 0


def test_every_county_has_every_month_and_item(con):
    months = scalar(con, "SELECT count(*) FROM calendar")
    items = scalar(con, "SELECT count(*) FROM service_item")
    counts = con.execute(
        """SELECT r.code, count(s.month) FROM region r
           LEFT JOIN service_monthly s ON s.county_code = r.code
           WHERE r.level = 'county' GROUP BY r.code"""
    ).fetchall()
    assert len(counts) == 100
    assert {n for _, n in counts} == {months * items}
    assert months == SMALL["months"]


def test_hotline_and_data_resource_counts_nest(con):
    assert scalar(
        con,
        """SELECT count(*) FROM hotline_monthly WHERE due > received OR closed_on_time > due
           OR called_back > received OR satisfied > called_back""",
    ) == 0
    assert scalar(
        con,
        "SELECT count(*) FROM data_resource_monthly"
        " WHERE share_fulfilled > share_requests OR units_covered > units_total",
    ) == 0


def test_lifecycle_dates_follow_stage_order(con):
    out_of_order = scalar(
        con,
        """SELECT count(*) FROM (
             SELECT e.event_date < max(e.event_date) OVER (
                      PARTITION BY e.project_id ORDER BY s.seq
                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS early
             FROM project_event e JOIN project_stage s USING (stage)
             WHERE e.stage <> 'terminated')
           WHERE early""",
    )
    assert out_of_order == 0


def test_every_project_starts_with_an_application(con):
    assert scalar(
        con,
        "SELECT count(*) FROM project p WHERE NOT EXISTS (SELECT 1 FROM project_event e"
        " WHERE e.project_id = p.project_id AND e.stage = 'applied')",
    ) == 0


def test_payments_never_precede_approval(con):
    early = scalar(
        con,
        """SELECT count(*) FROM payment p
           LEFT JOIN project_event e ON e.project_id = p.project_id AND e.stage = 'approved'
           WHERE e.event_date IS NULL OR p.month < date_trunc('month', e.event_date)""",
    )
    assert early == 0


def test_every_payment_year_has_a_budget(con):
    missing = scalar(
        con,
        """SELECT count(*) FROM payment p WHERE NOT EXISTS (
             SELECT 1 FROM budget b WHERE b.project_id = p.project_id AND b.kind = p.kind
               AND b.year = year(p.month))""",
    )
    assert missing == 0


def test_same_seed_gives_the_same_data(tmp_path):
    a = demo.build_demo(tmp_path / "a.duckdb", **TINY)
    b = demo.build_demo(tmp_path / "b.duckdb", **TINY)
    c = demo.build_demo(tmp_path / "c.duckdb", seed=7, **TINY)
    assert a["data_version"] == b["data_version"] != c["data_version"]
    assert checksums(tmp_path / "a.duckdb") == checksums(tmp_path / "b.duckdb")
    assert checksums(tmp_path / "a.duckdb") != checksums(tmp_path / "c.duckdb")


def test_meta_records_the_build_parameters(con):
    meta = dict(con.execute("SELECT key, value FROM meta").fetchall())
    assert {"seed", "end_month", "months", "scale", "province", "generator_version", "data_version"} <= set(meta)
    assert "built_at" not in meta
    assert meta["end_month"] == SMALL["end_month"]


def test_region_counts_match_the_province(con):
    levels = dict(con.execute("SELECT level, count(*) FROM region GROUP BY level").fetchall())
    assert levels == {"province": 1, "city": 11, "county": 100}


def test_closure_pairs_each_county_with_its_three_ancestors(con):
    per_county = con.execute(
        """SELECT r.code, count(*), sum(depth) FROM region r
           JOIN region_closure c ON c.descendant_code = r.code
           WHERE r.level = 'county' GROUP BY r.code"""
    ).fetchall()
    assert {(n, d) for _, n, d in per_county} == {(3, 3)}
    assert scalar(con, "SELECT count(*) FROM region_closure WHERE depth = 0") == 112
    assert scalar(con, "SELECT count(*) FROM region_closure") == 1 + 2 * 11 + 3 * 100


def test_the_twelve_tasks_are_loaded(con):
    rows = dict(con.execute("SELECT task_id, status FROM task").fetchall())
    assert sorted(rows) == list(range(1, 13))
    assert rows[12] == "持续推进"
    assert 1 <= list(rows.values()).count("推进中") <= 2
    assert scalar(con, "SELECT count(*) FROM task WHERE status = '推进中' AND deadline < DATE '2026-10-31'") >= 1


def test_kpi_targets_cover_every_year(con):
    years = scalar(con, "SELECT count(DISTINCT year(month)) FROM calendar")
    per_kpi = con.execute(
        "SELECT kpi_id, count(DISTINCT year) FROM kpi_target WHERE region_code = '360000' GROUP BY 1"
    ).fetchall()
    assert len(per_kpi) >= 15
    assert {n for _, n in per_kpi} == {years}


@pytest.mark.parametrize(
    "flag", ["is_overdue", "is_not_started_6m", "is_over_budget", "is_acceptance_pending", "is_self_eval_due"]
)
def test_each_project_rule_has_a_breach_at_the_end_month(con, flag):
    n = scalar(con, f"SELECT sum({flag}) FROM v_project_month WHERE month = (SELECT max(month) FROM calendar)")
    assert n >= 1


def test_no_project_is_finally_accepted_before_six_months_of_trial(con):
    # 赣府厅发〔2023〕12号 第三十条「项目建成后经6个月试运行正常，由项目单位组织终验」
    accepted = "FROM v_project_milestones WHERE final_accepted_on IS NOT NULL"
    assert scalar(con, f"SELECT count(*) {accepted}") >= 100
    assert scalar(con, f"SELECT count(*) {accepted} AND final_accepted_on < trial_on + INTERVAL 6 MONTH") == 0


def test_no_om_project_is_a_provincial_key_project(con):
    # 第九条「投资额在500万元以上（不包括运维）的其他类别数字化项目」: 运维 is never 省重点
    assert scalar(con, "SELECT count(*) FROM project WHERE category = '运维服务' AND approved_budget >= 500") >= 1
    assert scalar(con, "SELECT count(*) FROM project WHERE category = '运维服务' AND tier = '省重点'") == 0
    assert scalar(con, "SELECT count(*) FROM project WHERE category = '应用系统' AND approved_budget >= 500"
                       " AND tier <> '省重点'") == 0


def test_items_to_be_handled_in_person_are_never_fully_online_nor_visit_free(con):
    assert scalar(con, "SELECT count(*) FROM service_item WHERE onsite_required") >= 1
    breaches = """SELECT count(*) FROM service_monthly JOIN service_item USING (item_code)
                  WHERE onsite_required AND (is_full_online = 1 OR is_zero_visit = 1)"""
    assert scalar(con, breaches) == 0


def test_the_demo_targets_cite_what_the_seeds_say():
    from data.demo_reference import kpi_targets

    jx = kpi_targets("360000", [2026], ["360100"]).set_index("kpi_id")
    assert jx.loc["full_online_rate", "target"] == 100.0
    assert "实现一般政务服务事项100%“全程网办”" in jx.loc["full_online_rate", "source"]
    # 12号 sets no year-end execution target: the basis is 序时进度
    assert "12号" not in jx.loc["budget_execution_rate", "source"]
    assert "序时进度" in jx.loc["budget_execution_rate", "source"]
    assert jx.loc["cloud_rate", "source"].startswith("《关于加强我市数字政府建设的实施意见》（烟政办发〔2019〕7号）")
    assert jx.loc["one_thing_count", "source"].startswith("本地配置项")
    # 黔府发〔2023〕21号 sets no 网上可办率 target
    assert kpi_targets("520000", [2026], []).set_index("kpi_id").loc["online_available_rate", "source"].startswith(
        "本地配置项")


def test_some_project_overspends_its_construction_budget(con):
    over = scalar(
        con,
        """SELECT count(*) FROM (
             SELECT p.project_id FROM project p JOIN payment USING (project_id)
             WHERE payment.kind = '建设' GROUP BY p.project_id, p.approved_budget
             HAVING sum(amount_wan) > p.approved_budget)""",
    )
    assert over >= 1


def test_split_applications_come_in_pairs_just_under_a_threshold(con):
    pairs = scalar(
        con,
        """SELECT count(*) FROM project a JOIN project b
             ON a.owner_unit = b.owner_unit AND a.apply_year = b.apply_year AND a.project_id < b.project_id
           WHERE ((a.approved_budget BETWEEN 19 AND 19.99 AND b.approved_budget BETWEEN 19 AND 19.99)
               OR (a.approved_budget BETWEEN 190 AND 199.99 AND b.approved_budget BETWEEN 190 AND 199.99))
             AND jaro_winkler_similarity(a.name, b.name) > 0.8""",
    )
    assert pairs >= 5


def test_unknown_province_fails_without_writing_a_file(tmp_path, capsys):
    path = tmp_path / "x.duckdb"
    assert demo.main(["--db", str(path), "--province", "990000"]) == 2
    assert "错误" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(demo.DemoError):
        demo.build_demo(path, province="990000")
    assert not path.exists()


def test_an_existing_file_is_kept_without_force(tmp_path):
    path = tmp_path / "keep.duckdb"
    path.write_bytes(b"x")
    with pytest.raises(FileExistsError):
        demo.build_demo(path, **TINY)
    assert path.read_bytes() == b"x"


def test_ensure_database_builds_only_when_missing(tmp_path, monkeypatch):
    real = demo.build_demo
    calls = []

    def small_build(path):
        calls.append(path)
        return real(path, **TINY)

    monkeypatch.setattr(demo, "build_demo", small_build)
    path = tmp_path / "cockpit.duckdb"
    assert demo.ensure_database(path) is True
    assert path.exists()
    assert demo.ensure_database(path) is False
    assert len(calls) == 1
    monkeypatch.setenv("COCKPIT_DB", str(tmp_path / "env.duckdb"))
    assert demo.ensure_database() is True
    assert (tmp_path / "env.duckdb").exists()


def test_a_start_rebuilds_aggregates_that_follow_an_older_catalogue(tmp_path):
    path = tmp_path / "old.duckdb"
    demo.build_demo(path, **TINY)
    with duckdb.connect(str(path)) as con:
        before = con.execute("SELECT count(*), sum(fact_rows) FROM agg_service").fetchone()
        con.execute("DROP TABLE agg_service")
        con.execute("UPDATE meta SET value = 'older' WHERE key = 'aggregates_version'")
    assert demo.ensure_database(path) is False  # not rebuilt from scratch …
    with duckdb.connect(str(path), read_only=True) as con:  # … but its aggregates are current again
        assert con.execute("SELECT count(*), sum(fact_rows) FROM agg_service").fetchone() == before
        version = con.execute("SELECT value FROM meta WHERE key = 'aggregates_version'").fetchone()[0]
    assert version == demo.aggregates_version()
    assert demo.refresh_aggregates(path) is False  # current: nothing to do


def test_aggregates_are_left_alone_while_another_process_holds_the_file(tmp_path):
    path = tmp_path / "held.duckdb"
    demo.build_demo(path, **TINY)
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET value = 'older' WHERE key = 'aggregates_version'")
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; "
                               f"c = duckdb.connect({str(path)!r}); print('held', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert demo.refresh_aggregates(path) is False
    finally:
        holder.kill()
        holder.wait()
        holder.stdout.close()
