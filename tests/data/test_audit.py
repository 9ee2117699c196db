"""The audit log on both backends: one unbroken chain whatever writes it at once, every edited or
deleted row named by verify, and a retention policy that never deletes the last 180 days and
keeps the chain verifiable after a prune. Also ``python -m cockpit.audit``."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
import threading
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import text

from data import audit, opstore

REPO = Path(__file__).resolve().parents[2]

# a writer process: waits for "go" on stdin so that both processes start appending together
WRITER = """
import sys, threading
from data import audit
url, name, threads, each = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
audit.record("启动", actor=name, outcome="成功", url=url)
print("ready", flush=True)
sys.stdin.readline()
def work(t):
    for i in range(each):
        audit.record("页面访问", actor=name, outcome="成功", target=f"/t{t}/{i}", region="360102", url=url)
ts = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
for t in ts: t.start()
for t in ts: t.join()
"""


def _sql(url: str, statement: str, **params) -> None:
    with opstore.engine(url).begin() as con:
        con.execute(text(statement), params)


def _record_many(url: str, n: int, actor: str = "演示用户") -> None:
    for i in range(n):
        audit.record("页面访问", actor=actor, role="leader", outcome="成功", target=f"/services?i={i}",
                     region="360102", month="2026-10", ip="127.0.0.1", detail={"i": i}, url=url)


@pytest.fixture
def clock(monkeypatch):
    """The audit log's clock, settable: ``clock.days_ago(200)``."""

    class Clock:
        now = None

        def days_ago(self, days: float) -> None:
            self.now = datetime.now() - timedelta(days=days)

        def real(self) -> None:
            self.now = None

    c = Clock()
    monkeypatch.setattr(audit, "_now", lambda: c.now or datetime.now())
    monkeypatch.delenv("COCKPIT_AUDIT_RETENTION_DAYS", raising=False)
    return c


# ---------------------------------------------------------------- the chain


def test_an_empty_log_verifies(store_url):
    report = audit.check(store_url)
    assert report.intact and report.rows == 0 and report.summary() == "审计日志完整（0 条）"


def test_rows_round_trip_and_verify(store_url):
    seq = audit.record("导出", actor="南昌市领导", role="leader", outcome="成功", target="简报 2026-10.pdf",
                       region="360100", month="2026-10-05", ip="10.0.0.8", detail={"格式": "pdf", "页": 12},
                       url=store_url)
    assert seq == 1
    assert audit.record("登录", actor="x" * 100, outcome="失败" * 10, region="3601001", ip="1" * 100,
                        role="r" * 40, url=store_url) == 2
    rows = audit.search(url=store_url)
    assert [r["seq"] for r in rows] == [2, 1]  # newest first
    first = rows[1]
    assert (first["actor"], first["role"], first["action"], first["target"], first["region"], first["month"],
            first["outcome"], first["ip"]) == ("南昌市领导", "leader", "导出", "简报 2026-10.pdf", "360100",
                                               "2026-10", "成功", "10.0.0.8")
    assert first["detail"] == '{"格式": "pdf", "页": 12}' and first["prev_hash"] == audit.GENESIS
    assert rows[0]["prev_hash"] == first["hash"]
    # over-long values are clipped to their columns (PostgreSQL enforces them) before hashing
    assert (len(rows[0]["actor"]), len(rows[0]["outcome"]), len(rows[0]["region"])) == (64, 8, 6)
    assert audit.check(store_url).summary() == "审计日志完整（2 条）"


def test_many_threads_append_one_unbroken_chain(store_url):
    def work(t: int) -> None:
        _record_many(store_url, 25, actor=f"线程{t}")

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    report = audit.check(store_url)
    assert report.intact, [str(p) for p in report.problems]
    assert report.rows == 200
    assert [r["seq"] for r in audit.search(limit=None, url=store_url)] == list(range(200, 0, -1))


def test_two_processes_and_threads_at_once_append_one_unbroken_chain(store_url):
    audit.record("准备", actor="测试", outcome="成功", url=store_url)  # the tables exist before the writers start
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, store_url, f"进程{i}", "3", "40"], cwd=REPO, env=env,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for i in range(2)]
    try:
        for w in writers:
            assert w.stdout.readline().strip() == "ready", w.stderr.read()
        for w in writers:
            w.stdin.write("go\n")
            w.stdin.flush()
        mine = [threading.Thread(target=_record_many, args=(store_url, 30, f"主进程{t}")) for t in range(2)]
        for t in mine:
            t.start()
        for t in mine:
            t.join()
        for w in writers:
            _, err = w.communicate(timeout=120)
            assert w.returncode == 0, err
    finally:
        for w in writers:
            if w.poll() is None:
                w.kill()
                w.wait()
    report = audit.check(store_url)
    assert report.intact, [str(p) for p in report.problems]
    assert report.rows == 1 + 2 * (1 + 3 * 40) + 2 * 30
    actors = [r["actor"] for r in audit.search(limit=None, url=store_url)]
    assert actors.count("进程0") == actors.count("进程1") == 121


def test_a_row_edited_with_sql_is_named(store_url):
    _record_many(store_url, 10)
    _sql(store_url, "UPDATE audit_log SET actor = '别人' WHERE seq = 5")
    problems = audit.verify(store_url)
    assert [str(p) for p in problems] == ["第 5 条审计记录的内容与哈希不符，已被改动"]


def test_a_row_edited_with_its_hash_recomputed_breaks_the_next_link(store_url):
    _record_many(store_url, 10)
    row = next(r for r in audit.search(url=store_url) if r["seq"] == 5)
    forged = {**row, "outcome": "失败"}
    _sql(store_url, "UPDATE audit_log SET outcome = '失败', hash = :h WHERE seq = 5",
         h=audit._digest(row["prev_hash"], forged))
    assert [str(p) for p in audit.verify(store_url)] == ["第 6 条审计记录的前序哈希不符，前一条记录被改动或删除"]


def test_a_deleted_row_is_named_as_a_gap(store_url):
    _record_many(store_url, 10)
    _sql(store_url, "DELETE FROM audit_log WHERE seq = 4")
    assert [str(p) for p in audit.verify(store_url)] == [
        "第 4 条审计记录缺失：第 4 条不见了（下一条为第 5 条），疑似被删除",
        "第 5 条审计记录的前序哈希不符，前一条记录被改动或删除",
    ]
    _sql(store_url, "DELETE FROM audit_log WHERE seq IN (7, 8)")
    assert "第 7 条审计记录缺失：第 7–8 条不见了（下一条为第 9 条），疑似被删除" in \
        [str(p) for p in audit.verify(store_url)]


def test_the_first_rows_deleted_are_named(store_url):
    _record_many(store_url, 5)
    _sql(store_url, "DELETE FROM audit_log WHERE seq <= 2")
    assert [str(p) for p in audit.verify(store_url)] == [
        "第 1 条审计记录缺失：第 1–2 条不见了（下一条为第 3 条），疑似被删除",
        "第 3 条审计记录的前序哈希不符，前一条记录被改动或删除",
    ]


def test_a_partial_check_walks_the_newest_rows_only(store_url):
    _record_many(store_url, 10)
    report = audit.check(store_url, last=4)
    assert (report.intact, report.partial, report.from_seq, report.rows, report.total) == (True, True, 7, 4, 10)
    assert report.summary() == "最近 4 条审计日志完整（共 10 条，更早的记录请全量校验）"
    assert not audit.check(store_url, last=10).partial  # the whole log fits: a full walk
    _sql(store_url, "UPDATE audit_log SET target = '/' WHERE seq = 2")
    assert audit.check(store_url, last=4).intact  # outside the window: only the full walk sees it
    assert [p.seq for p in audit.check(store_url).problems] == [2]
    _sql(store_url, "UPDATE audit_log SET target = '/' WHERE seq = 9")
    _sql(store_url, "DELETE FROM audit_log WHERE seq = 7")
    report = audit.check(store_url, last=4)
    assert [str(p) for p in report.problems] == [
        "第 7 条审计记录缺失：第 7 条不见了（下一条为第 8 条），疑似被删除",
        "第 9 条审计记录的内容与哈希不符，已被改动",
    ]
    assert report.summary() == "审计日志校验未通过：发现 2 处问题（校验了最近 3 条，共 9 条）"


def test_search_and_rows_filter_by_user_action_and_time(store_url, clock):
    clock.days_ago(3)
    audit.record("登录", actor="张三", outcome="成功", url=store_url)
    clock.days_ago(2)
    audit.record("导出", actor="张三", outcome="成功", url=store_url)
    audit.record("登录", actor="李四", outcome="失败", url=store_url)
    clock.real()
    audit.record("登录", actor="张三", outcome="成功", url=store_url)
    since = datetime.now() - timedelta(days=2.5)
    assert [r["seq"] for r in audit.search(actor="张三", url=store_url)] == [4, 2, 1]
    assert [r["seq"] for r in audit.search(action="登录", since=since, url=store_url)] == [4, 3]
    assert [r["seq"] for r in audit.search(until=since, url=store_url)] == [1]
    assert [r["seq"] for r in audit.rows(actor="张三", action="登录", url=store_url)] == [1, 4]  # oldest first
    assert audit.count(actor="张三", url=store_url) == 3 and audit.count(url=store_url) == 4
    assert audit.distinct("actor", url=store_url) == sorted(["张三", "李四"])
    assert audit.distinct("action", url=store_url) == sorted(["导出", "登录"])


def test_the_csv_export_has_chinese_headers_and_defuses_formulas(store_url):
    audit.record("登录", actor="=HYPERLINK(\"http://x\")", outcome="失败", region="360102", ip="10.0.0.1",
                 detail={"原因": "密码错误"}, url=store_url)
    out = io.StringIO()
    assert audit.write_csv(audit.rows(url=store_url), out, region_names={"360102": "东湖区"}) == 1
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == ["序号", "时间", "用户", "角色", "操作", "对象", "地区代码", "地区", "月份", "结果", "IP 地址",
                        "详情", "前序哈希", "哈希"]
    row = dict(zip(table[0], table[1], strict=True))
    assert row["用户"] == "'=HYPERLINK(\"http://x\")"  # a spreadsheet shows it as text, never runs it
    assert (row["序号"], row["操作"], row["地区代码"], row["地区"], row["结果"], row["角色"]) == \
        ("1", "登录", "360102", "东湖区", "失败", "")
    assert row["详情"] == '{"原因": "密码错误"}' and row["前序哈希"] == audit.GENESIS
    assert datetime.fromisoformat(row["时间"]) <= datetime.now()


# ---------------------------------------------------------------- retention


def test_retention_is_at_least_180_days(monkeypatch):
    monkeypatch.delenv("COCKPIT_AUDIT_RETENTION_DAYS", raising=False)
    assert audit.retention_days() == 180
    monkeypatch.setenv("COCKPIT_AUDIT_RETENTION_DAYS", "30")
    assert audit.retention_days() == 180
    monkeypatch.setenv("COCKPIT_AUDIT_RETENTION_DAYS", "365")
    assert audit.retention_days() == 365
    monkeypatch.setenv("COCKPIT_AUDIT_RETENTION_DAYS", "半年")
    with pytest.raises(audit.AuditError, match="应为整数天数"):
        audit.retention_days()


@pytest.mark.parametrize("setting, days_ago, refused", [
    (None, 179, True), (None, 180, False), ("30", 100, True), ("30", 179, True), ("365", 200, True),
    ("365", 365, False),
])
def test_a_prune_inside_the_retention_period_is_refused(store_url, clock, monkeypatch, setting, days_ago, refused):
    if setting:
        monkeypatch.setenv("COCKPIT_AUDIT_RETENTION_DAYS", setting)
    clock.days_ago(400)
    _record_many(store_url, 3)
    clock.real()
    before = date.today() - timedelta(days=days_ago)
    if refused:
        with pytest.raises(audit.AuditError, match=f"至少保留 {max(180, int(setting or 180))} 天"):
            audit.prune(before, actor="管理员", url=store_url)
        assert audit.count(url=store_url) == 3
    else:
        assert audit.prune(before, actor="管理员", url=store_url).rows == 3


def test_after_a_prune_the_kept_rows_still_verify_from_the_anchor(store_url, clock):
    for days in (400, 300, 200):
        clock.days_ago(days)
        _record_many(store_url, 4, actor=f"{days}天前")
    clock.real()
    _record_many(store_url, 4, actor="今天")
    old = {r["seq"]: r for r in audit.search(limit=None, url=store_url)}

    pruned = audit.prune(date.today() - timedelta(days=250), actor="管理员", url=store_url)
    assert pruned.rows == 8 and pruned.anchor.last_seq == 8 and pruned.anchor.last_hash == old[8]["hash"]
    report = audit.check(store_url)
    assert report.intact, [str(p) for p in report.problems]
    assert report.rows == 9 and report.anchor.last_seq == 8  # 8 kept + the prune's own record
    assert "第 8 条及以前的记录已按保留期清理" in report.anchor_note()
    kept = audit.search(limit=None, url=store_url)
    assert [r["seq"] for r in kept][-1] == 9 and kept[0]["action"] == audit.PRUNE_ACTION
    assert '"rows": 8' in kept[0]["detail"]

    _record_many(store_url, 2)  # appending goes on after a prune
    assert audit.check(store_url).intact

    # the kept chain is still tamper-evident: from the anchor on
    _sql(store_url, "DELETE FROM audit_log WHERE seq = 9")
    assert [str(p) for p in audit.verify(store_url)][:1] == \
        ["第 9 条审计记录缺失：第 9 条不见了（下一条为第 10 条），疑似被删除"]


def test_a_second_prune_moves_the_anchor(store_url, clock):
    for days in (500, 400, 300):
        clock.days_ago(days)
        _record_many(store_url, 2)
    clock.real()
    audit.prune(date.today() - timedelta(days=450), actor="管理员", url=store_url)
    second = audit.prune(date.today() - timedelta(days=350), actor="管理员", url=store_url)
    assert second.rows == 2 and second.anchor.last_seq == 4
    assert audit.check(store_url).intact and audit.latest_anchor(store_url).last_seq == 4
    assert audit.prune(date.today() - timedelta(days=350), actor="管理员", url=store_url).rows == 0


def test_a_row_put_back_before_the_anchor_is_named(store_url, clock):
    clock.days_ago(300)
    _record_many(store_url, 3)
    clock.real()
    audit.prune(date.today() - timedelta(days=200), actor="管理员", url=store_url)
    with opstore.engine(store_url).begin() as con:
        con.execute(opstore.audit_log.insert().values(seq=2, at=datetime.now(), actor="某人", action="登录",
                                                      outcome="成功", prev_hash=audit.GENESIS, hash=audit.GENESIS))
    assert [str(p) for p in audit.verify(store_url)] == \
        ["第 2 条审计记录早于清理锚点（第 3 条），本应已清理，疑似被插入"]


def test_a_broken_chain_is_not_pruned(store_url, clock):
    clock.days_ago(300)
    _record_many(store_url, 3)
    clock.real()
    _sql(store_url, "UPDATE audit_log SET target = '/' WHERE seq = 2")
    with pytest.raises(audit.AuditError, match=r"校验未通过，拒绝清理.*第 2 条"):
        audit.prune(date.today() - timedelta(days=200), actor="管理员", url=store_url)
    assert audit.count(url=store_url) == 3 and audit.latest_anchor(store_url) is None


def test_an_append_after_everything_was_pruned_continues_from_the_anchor(store_url, clock):
    clock.days_ago(300)
    _record_many(store_url, 3)
    clock.real()
    audit.prune(date.today() - timedelta(days=200), actor="管理员", url=store_url)
    _sql(store_url, "DELETE FROM audit_log WHERE seq = 4")  # as if the prune's own record had not been written yet
    assert audit.record("登录", actor="张三", outcome="成功", url=store_url) == 4
    assert audit.check(store_url).intact


# ---------------------------------------------------------------- python -m cockpit.audit


def _cli(store_url: str, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cockpit.audit", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "COCKPIT_OPSTORE_URL": store_url, **(env or {})}, stdin=subprocess.DEVNULL,
                          timeout=120)


def test_cli_verify_says_intact_or_names_each_broken_row(store_url):
    _record_many(store_url, 6)
    ok = _cli(store_url, "verify")
    assert ok.returncode == 0 and ok.stdout.strip() == "审计日志完整（6 条）", ok.stderr
    _sql(store_url, "UPDATE audit_log SET ip = '8.8.8.8' WHERE seq = 2")
    _sql(store_url, "DELETE FROM audit_log WHERE seq = 5")
    bad = _cli(store_url, "verify")
    assert bad.returncode == 1
    assert bad.stderr.splitlines() == [
        "审计日志校验未通过：发现 3 处问题（共 5 条）",
        "  第 2 条审计记录的内容与哈希不符，已被改动",
        "  第 5 条审计记录缺失：第 5 条不见了（下一条为第 6 条），疑似被删除",
        "  第 6 条审计记录的前序哈希不符，前一条记录被改动或删除",
    ]


def test_cli_export_writes_the_asked_for_days_as_csv(store_url, clock, tmp_path):
    clock.days_ago(10)
    audit.record("登录", actor="张三", outcome="成功", url=store_url)
    clock.days_ago(5)
    audit.record("导出", actor="李四", outcome="成功", target="简报.pdf", url=store_url)
    clock.real()
    audit.record("登录", actor="张三", outcome="成功", url=store_url)
    day = (date.today() - timedelta(days=5)).isoformat()
    out = tmp_path / "审计.csv"
    done = _cli(store_url, "export", "--since", day, "--until", day, "--out", str(out))
    assert done.returncode == 0 and "已导出 1 条审计记录" in done.stdout, done.stderr
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel opens the Chinese as UTF-8
    table = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["序号"], r["用户"], r["操作"], r["对象"]) for r in table] == [("2", "李四", "导出", "简报.pdf")]
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    # the export itself is audited
    last = audit.search(limit=1, url=store_url)[0]
    assert last["action"] == "审计导出" and last["actor"].startswith("命令行:") and '"rows": 1' in last["detail"]

    everything = _cli(store_url, "export", "--user", "张三", "--out", str(out))
    assert everything.returncode == 0 and "已导出 2 条" in everything.stdout
    bad = _cli(store_url, "export", "--since", "上周", "--out", str(out))
    assert bad.returncode == 2 and "日期格式应为 YYYY-MM-DD" in bad.stderr


def test_cli_prune_refuses_the_retention_period_and_keeps_the_chain_verifiable(store_url, clock):
    clock.days_ago(300)
    _record_many(store_url, 5)
    clock.real()
    _record_many(store_url, 2)
    recent = (date.today() - timedelta(days=90)).isoformat()
    refused = _cli(store_url, "prune", "--before", recent, "--yes", env={"COCKPIT_AUDIT_RETENTION_DAYS": "30"})
    assert refused.returncode == 2 and "审计日志至少保留 180 天" in refused.stderr and "拒绝清理" in refused.stderr
    assert audit.count(url=store_url) == 7

    old = (date.today() - timedelta(days=200)).isoformat()
    unconfirmed = _cli(store_url, "prune", "--before", old)  # no terminal, no --yes
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr and audit.count(url=store_url) == 7

    done = _cli(store_url, "prune", "--before", old, "--yes")
    assert done.returncode == 0, done.stderr
    assert f"已清理 5 条早于 {old} 的审计记录" in done.stdout and "审计日志完整（3 条）" in done.stdout
    verified = _cli(store_url, "verify")
    assert verified.returncode == 0 and verified.stdout.splitlines()[0] == "审计日志完整（3 条）"
    assert "第 5 条及以前的记录已按保留期清理" in verified.stdout


# ---------------------------------------------------------------- the canonical form


_VALUE = st.one_of(st.none(), st.text(max_size=40), st.integers(min_value=-(2**63), max_value=2**63))


@given(st.fixed_dictionaries(dict.fromkeys(audit._FIELDS, _VALUE)))
def test_the_hand_built_canonical_form_is_exactly_json_dumps(body):
    # rows hashed before (and by any other writer) used json.dumps: verify must read them the same
    assert audit._canonical(body) == json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def test_a_value_of_another_type_falls_back_to_json_dumps():
    body = dict.fromkeys(audit._FIELDS) | {"seq": True, "detail": 1.5}
    assert audit._canonical(body) == json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
