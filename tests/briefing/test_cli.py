"""The CLI: a bad region or a month without data exits non-zero in Chinese and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(*args, env_db) -> subprocess.CompletedProcess:
    env = {**os.environ, "COCKPIT_DB": str(env_db)}
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("module", [["-m", "briefing", "export"], ["-m", "briefing"], ["-m", "metrics", "briefing"]])
@pytest.mark.parametrize("region,month,message", [
    ("999999", "2025-06", "未知的地区代码"), ("360000", "2031-06", "2031年6月没有数据"),
    ("360000", "2025-13", "月份格式不正确")])
def test_bad_input_exits_nonzero_in_chinese(briefing_env, tmp_path, module, region, month, message):
    out = tmp_path / "out"
    r = _cli(*module, "--region", region, "--month", month, "--format", "pdf,pptx", "--out", str(out),
             env_db=briefing_env)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert not out.exists()


def test_bad_format(briefing_env, tmp_path):
    r = _cli("-m", "briefing", "export", "--month", "2025-06", "--format", "pdf,doc", "--out", str(tmp_path / "o"),
             env_db=briefing_env)
    assert r.returncode == 2 and "不支持的格式：doc" in r.stderr


def test_cli_writes_both_files(briefing_env, tmp_path):
    r = _cli("-m", "briefing", "export", "--region", "360102", "--month", "2025-06", "--format", "pdf,pptx",
             "--out", str(tmp_path), env_db=briefing_env)
    assert r.returncode == 0, r.stderr
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".pdf", ".pptx"]
    assert "已生成 PDF" in r.stdout


def test_every_spelling_runs_the_one_export_command(monkeypatch):
    from briefing import cli as briefing_cli
    from metrics import cli as metrics_cli

    seen = []
    monkeypatch.setattr(briefing_cli, "run", lambda args: seen.append(vars(args)) or 0)
    base = ["--region", "360102", "--month", "2025-06", "--out", "d"]
    assert briefing_cli.main(["export", *base, "--scope", "360100"]) == 0
    assert briefing_cli.main([*base, "--scope", "360100"]) == 0
    assert metrics_cli.main(["--scope", "360100", "briefing", *base]) == 0
    assert seen[0] == seen[1] == seen[2] == {"command": "export", "region": "360102", "month": "2025-06",
                                             "format": "pdf,pptx", "out": "d", "scope": "360100"}
