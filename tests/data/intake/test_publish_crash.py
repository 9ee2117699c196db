"""A ``kill -9`` at any moment of a publish leaves the old version or the new one, never a mix,
and the next start leaves no orphan files."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from data import versions

# the child publishes one edited month; PHASE names a step to die right after (or "none")
CHILD = r'''
import os, signal, sys
import pandas as pd
os.environ["COCKPIT_DB"] = sys.argv[1]
from data import opstore, versions
from data.intake import publish
import metrics.materialize as materialize

phase = sys.argv[3]

def die_after(module, name):
    real = getattr(module, name)
    def wrapped(*a, **k):
        out = real(*a, **k)
        os.kill(os.getpid(), signal.SIGKILL)
        return out
    setattr(module, name, wrapped)

hooks = {"copy": (versions, "stage_copy"), "apply": (publish, "apply_sheet"),
         "aggregates": (materialize, "materialize"), "promote": (versions, "promote"),
         "switch": (versions, "switch"), "register": (opstore, "set_version_status")}
if phase in hooks:
    die_after(*hooks[phase])
frames = pd.read_pickle(sys.argv[2])
print("start", flush=True)
prepared = publish.prepare({"services": {"service_monthly": frames}}, actor="崩溃测试")
publish.publish(prepared, actor="崩溃测试")
print("done", flush=True)
'''

MONTH = "2026-10-01"
REPO = Path(__file__).resolve().parents[3]


def _facts(path: Path) -> tuple[str, int, int, int]:
    """(data version, rows and 办件量 of the month, 办件量 in the aggregate) of the version served."""
    with duckdb.connect(str(path), read_only=True) as con:
        version = con.execute("SELECT value FROM meta WHERE key = 'data_version'").fetchone()[0]
        rows, apps = con.execute("SELECT count(*), sum(applications) FROM service_monthly WHERE month = ?",
                                 [MONTH]).fetchone()
        agg = con.execute("SELECT sum(applications) FROM agg_service WHERE month = ?", [MONTH]).fetchone()[0]
    return version, rows, int(apps), int(agg)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """A small demo (version 1) and the edited month a publish will load."""
    from data.demo import build_demo

    root = tmp_path_factory.mktemp("crash")
    build_demo(root / "db" / "cockpit.duckdb", months=14, end_month="2026-10", _item_limit=20)
    with duckdb.connect(str(root / "db" / "cockpit.duckdb"), read_only=True) as con:
        frame = con.execute("SELECT * FROM service_monthly WHERE month = ?", [MONTH]).df()
    frame["applications"] += 7  # every row changes …
    frame["completed"] += 7
    frame["completed_on_time"] += 7
    frame = frame.iloc[1:]       # … and one row goes
    frame.to_pickle(root / "month.pkl")
    script = root / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    old = _facts(root / "db" / "cockpit.duckdb")
    return root, old, (len(frame), int(frame["applications"].sum()))


def _run(pristine, tmp_path, phase: str, delay: float | None):
    root, old, (new_rows, new_apps) = pristine
    work = tmp_path / f"{phase}-{delay}"
    shutil.copytree(root / "db", work, symlinks=True)
    pointer = work / "cockpit.duckdb"
    proc = subprocess.Popen([sys.executable, str(root / "child.py"), str(pointer), str(root / "month.pkl"), phase],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)})
    if delay is not None:
        assert proc.stdout.readline().strip() == "start"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
    _out, err = proc.communicate(timeout=120)
    killed = proc.returncode == -signal.SIGKILL
    assert killed or proc.returncode == 0, err

    # the next start: settle and clean up, then the served version is whole
    from data.demo import ensure_database

    ensure_database(pointer)
    version, rows, apps, agg = _facts(pointer)
    if version == old[0]:
        assert (rows, apps, agg) == old[1:], "the old version changed"
        outcome = "old"
    else:
        assert (rows, apps, agg) == (new_rows, new_apps, new_apps), "the new version is incomplete"
        outcome = "new"
    store = versions.store_for(pointer)
    current = versions.current(store)
    left = sorted(p.name for p in store.directory.iterdir() if p.name != ".publish.lock")
    expected = {"old": ["staging", "v000001.duckdb"], "new": ["staging", "v000001.duckdb", "v000002.duckdb"]}
    assert left == expected[outcome], left
    assert list(store.staging.iterdir()) == []
    assert current.name == ("v000001.duckdb" if outcome == "old" else "v000002.duckdb")
    assert [p.name for p in work.iterdir() if p.name.startswith(".")] == []
    return outcome, killed


@pytest.mark.parametrize("phase", ["copy", "apply", "aggregates", "promote", "switch", "register"])
def test_a_kill_right_after_each_step_leaves_a_whole_version(pristine, tmp_path, phase):
    outcome, killed = _run(pristine, tmp_path, phase, None)
    assert killed
    # before the switch the old version is served; from the switch on, the new one
    assert outcome == ("new" if phase in ("switch", "register") else "old")


def test_kills_at_twenty_random_moments_leave_the_old_or_the_new_version(pristine, tmp_path):
    started = time.perf_counter()
    outcome, killed = _run(pristine, tmp_path, "none", None)  # how long a whole publish takes here
    assert (outcome, killed) == ("new", False)
    span = time.perf_counter() - started
    rng = random.Random(20261201)
    seen = {}
    for i in range(20):
        delay = rng.uniform(0, span)
        outcome, killed = _run(pristine, tmp_path / str(i), "none", delay)
        seen[outcome] = seen.get(outcome, 0) + 1
    assert sum(seen.values()) == 20
    assert seen.get("old") and seen.get("new"), seen  # the kills fell before and after the switch
