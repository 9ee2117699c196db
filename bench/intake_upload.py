"""Intake figures: peak memory when a 1M-row upload is refused, and validation speed.

    python bench/intake_upload.py --db data/cockpit.duckdb [--rows 1000000] [--workdir /tmp/intake-bench]

Writes a 1M-row 月度统计 sheet as CSV and as .xlsx (from the database's service_monthly),
reads each in a fresh process with the default row limit (500,000) and a size limit raised
above the file, and prints the peak RSS, the baseline RSS (interpreter, libraries and the
file's bytes) and the time to refusal. Then validates all service_monthly rows through
``validate_frames`` as one frame and as chunks of one month, and prints rows/second.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# VmHWM (this process's own high-water mark; ru_maxrss would carry the parent's across exec)
CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from data.intake.errors import IntakeError
from data.intake.read import Limits, read_upload
import pandera.pandas, openpyxl  # loaded before the baseline
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024
data = open({path!r}, "rb").read()
base = status("VmHWM")
t = time.perf_counter()
try:
    read_upload(data, {name!r}, limits=Limits(max_bytes=len(data) + 1))
    outcome = "accepted"
except IntakeError as exc:
    outcome = str(exc.problems[0])
print(json.dumps({{"seconds": time.perf_counter() - t, "base_mb": base, "peak_mb": status("VmHWM"),
                  "outcome": outcome}}))
"""


def write_files(db: Path, rows: int, workdir: Path) -> tuple[Path, Path]:
    import duckdb
    import xlsxwriter

    from data.intake.spec import load_families

    sheet = load_families()["services"].sheet("service_monthly")
    stored = [c for c in sheet.columns if c.stored]
    con = duckdb.connect(str(db), read_only=True)
    cur = con.execute(f"SELECT {', '.join(c.name for c in stored)} FROM service_monthly LIMIT {rows}")
    csv_path, xlsx_path = workdir / "service_monthly.csv", workdir / "service_monthly.xlsx"
    wb = xlsxwriter.Workbook(str(xlsx_path), {"constant_memory": True})
    ws = wb.add_worksheet(sheet.title)
    ws.write_row(0, 0, [c.header for c in stored])
    with csv_path.open("w", encoding="utf-8-sig", newline="") as fh:
        fh.write(",".join(c.header for c in stored) + "\r\n")
        r = 1
        while batch := cur.fetchmany(50_000):
            for rec in batch:
                values = [v.strftime("%Y-%m") if isinstance(v, date) else v for v in rec]
                fh.write(",".join(str(v) for v in values) + "\r\n")
                ws.write_row(r, 0, values)
                r += 1
    wb.close()
    con.close()
    return csv_path, xlsx_path


def measure_read(path: Path) -> dict:
    code = CHILD.format(root=str(ROOT), path=str(path), name=path.name)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_validate(db: Path) -> dict:
    import duckdb
    import pandas as pd

    from data.intake.validate import ValidationContext, validate_frames
    from data.scope import Scope

    con = duckdb.connect(str(db), read_only=True)
    province = con.execute("SELECT code FROM region WHERE parent_code IS NULL").fetchone()[0]
    latest = con.execute("SELECT max(month) FROM calendar").fetchone()[0]
    today = (pd.Timestamp(latest) + pd.DateOffset(months=1)).date()
    ctx = ValidationContext(con, Scope.province(province), today=today)
    items = con.execute("SELECT * FROM service_item").df()
    monthly = con.execute("SELECT * FROM service_monthly").df()
    out = {}
    validate_frames("services", {"service_item": items}, ctx, source="warm-up")
    for label, value in (("one frame", monthly), ("chunks by month", [g for _, g in monthly.groupby("month")])):
        t = time.perf_counter()
        report = validate_frames("services", {"service_item": items, "service_monthly": value}, ctx, source="bench")
        seconds = time.perf_counter() - t
        out[label] = {"rows": report.rows, "seconds": round(seconds, 2), "rows_per_s": round(report.rows / seconds),
                      "errors": len(report.errors), "warnings": len(report.warnings)}
    con.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", type=Path, default=ROOT / "data" / "cockpit.duckdb")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/intake-bench"))
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    csv_path, xlsx_path = write_files(args.db, args.rows, args.workdir)
    print(f"files written in {time.perf_counter() - t:.0f} s: csv {csv_path.stat().st_size / 2**20:.0f} MB, "
          f"xlsx {xlsx_path.stat().st_size / 2**20:.0f} MB")
    for path in (csv_path, xlsx_path):
        r = measure_read(path)
        print(f"{path.suffix}: peak RSS {r['peak_mb']:.0f} MB (baseline {r['base_mb']:.0f} MB), "
              f"refused in {r['seconds']:.1f} s: {r['outcome']}")
    for label, r in measure_validate(args.db).items():
        print(f"validate_frames, {label}: {r['rows']:,} rows in {r['seconds']} s = {r['rows_per_s']:,} rows/s "
              f"({r['errors']} errors, {r['warnings']} warnings)")


if __name__ == "__main__":
    main()
