"""``python -m data.intake``: a month exported, edited by hand and loaded moves the KPI to what
the file itself says; a malformed file changes nothing and exits 2 with placed messages."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from data import db, opstore, versions
from data.scope import Scope
from metrics.cache import clear_all
from metrics.engine import kpi_value

REPO = Path(__file__).resolve().parents[3]
PROVINCE = Scope.province("360000")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    from data.demo import build_demo

    root = tmp_path_factory.mktemp("cli")
    build_demo(root / "cockpit.duckdb", months=14, end_month="2026-10", _item_limit=20)
    return root


@pytest.fixture
def env(built, tmp_path, monkeypatch):
    shutil.copytree(built, tmp_path / "db", symlinks=True)
    pointer = tmp_path / "db" / "cockpit.duckdb"
    monkeypatch.setenv("COCKPIT_DB", str(pointer))
    monkeypatch.setenv("COCKPIT_TODAY", "2026-12-01")
    monkeypatch.delenv("COCKPIT_VIEWER_SCOPE", raising=False)
    db.reset_reader()
    clear_all()
    yield versions.store_for(pointer)
    db.reset_reader()
    opstore.dispose()


def _cli(*args: str, env_db: Path) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([sys.executable, "-m", "data.intake", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "COCKPIT_DB": str(env_db), "COCKPIT_TODAY": "2026-12-01"})


def test_an_exported_month_edited_by_hand_moves_the_kpi_to_the_files_own_ratio(env, tmp_path):
    out = tmp_path / "10月.xlsx"
    assert _cli("export", "services", "--month", "2026-10", "--out", str(out), env_db=env.pointer).returncode == 0
    # a clerk corrects some rows: 网上办件量 of every fifth statistics row set to its 办件量
    wb = load_workbook(out)
    ws = wb["月度统计"]
    col = {c.value: c.column for c in ws[1]}
    for r in range(3, ws.max_row + 1, 5):
        ws.cell(r, col["网上办件量"]).value = ws.cell(r, col["办件量"]).value
    wb.save(out)

    again = _cli("load", str(out), "--yes", env_db=env.pointer)
    assert again.returncode == 0, again.stderr
    assert "已发布：版本 v2" in again.stdout
    assert versions.current_number(env) == 2

    # an independent recomputation from the file: 当月 网上办件率 = Σ 网上办件量 ÷ Σ 办件量 × 100
    book = load_workbook(out, read_only=True)
    try:
        header, *rows = [r for r in book["月度统计"].iter_rows(values_only=True) if r[0] is not None]
    finally:
        book.close()
    online = sum(int(r[header.index("网上办件量")]) for r in rows)
    apps = sum(int(r[header.index("办件量")]) for r in rows)
    db.reset_reader()
    clear_all()
    got = kpi_value("online_handling_rate", "360000", date(2026, 10, 1), "month", scope=PROVINCE).value
    assert got == pytest.approx(100 * online / apps)

    # loading the same file again publishes nothing
    same = _cli("load", str(out), "--yes", env_db=env.pointer)
    assert same.returncode == 0 and "内容未变化，未发布新版本" in same.stdout
    assert versions.current_number(env) == 2
    history = _cli("history", env_db=env.pointer).stdout
    assert "内容未变化" in history and "已发布" in history


def test_a_malformed_file_changes_nothing_and_names_rows_and_columns(env, tmp_path):
    out = tmp_path / "坏.xlsx"
    _cli("export", "services", "--month", "2026-10", "--out", str(out), env_db=env.pointer)
    wb = load_workbook(out)
    ws = wb["月度统计"]
    col = {c.value: c.column for c in ws[1]}
    ws.cell(12, col["办件量"]).value = -3
    ws.cell(15, col["区县代码"]).value = "999999"
    wb.save(out)
    before = versions.current(env)
    res = _cli("load", str(out), "--yes", env_db=env.pointer)
    assert res.returncode == 2
    assert "〔月度统计〕第 12 行「办件量」" in res.stderr and "-3" in res.stderr
    assert "〔月度统计〕第 15 行「区县代码」" in res.stderr
    assert versions.current(env) == before
    assert list(env.staging.iterdir()) == []
    assert opstore.history(limit=1)[0]["outcome"] == "已拒绝"


def test_check_previews_without_publishing(env, tmp_path):
    out = tmp_path / "热线.csv"
    assert _cli("export", "hotline", "--month", "2026-10", "--out", str(out), env_db=env.pointer).returncode == 0
    text = out.read_text(encoding="utf-8-sig").splitlines()
    head = text[0].split(",")
    first = text[1].split(",")
    first[head.index("受理量")] = str(int(first[head.index("受理量")]) + 50)
    out.write_text("\n".join([text[0], ",".join(first), *text[2:]]) + "\n", encoding="utf-8-sig")
    res = _cli("check", str(out), env_db=env.pointer)
    assert res.returncode == 0, res.stderr
    assert "修改 1 行" in res.stdout and "12345 受理量" in res.stdout
    assert versions.current_number(env) == 1


@pytest.mark.parametrize("args, message", [
    (("rollback", "v9"), "不存在或已清理"),
    (("rollback", "七"), "版本号应为数字"),
    (("export", "services", "--month", "2026-13", "--out", "x.xlsx"), "月份格式应为 YYYY-MM"),
])
def test_bad_commands_exit_2_in_chinese(env, args, message):
    res = _cli(*args, env_db=env.pointer)
    assert res.returncode == 2
    assert message in res.stderr and "Traceback" not in res.stderr
