"""Validate and publish one province-month of service statistics, at 1× and 10×.

    python bench/intake_publish.py [--scales 1 10] [--rounds 3] [--dir /tmp/intake-bench]

For each scale: build the demo (once, kept in --dir), export 2026-10 of the services family
in the template's own format (xlsx), make an edited copy, then load the edited and the
original file alternately with ``python -m data.intake load FILE --yes`` in a fresh process,
so every round publishes a real change. Prints, per scale, the median (min–max) of each
phase, the whole process's wall time and its peak RSS. Goals: < 5 s at 1×, < 15 s at 10×.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MONTH = "2026-10"
PHASES = ("read", "validate", "prepare", "publish")


def child(path: str) -> None:
    """Run the CLI's load in this process, timing its phases (printed as one JSON line)."""
    import resource

    from data.intake import cli, publish, service

    spent = dict.fromkeys(PHASES, 0.0)

    def timed(module, name, phase):
        real = getattr(module, name)

        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return real(*a, **k)
            finally:
                spent[phase] += time.perf_counter() - t

        setattr(module, name, wrapper)

    import data.intake.read as read
    import data.intake.validate as validate

    timed(read, "read_upload", "read")
    timed(validate, "validate", "validate")
    timed(service.pub, "prepare", "prepare")
    timed(service.pub, "publish", "publish")
    assert publish is service.pub
    t = time.perf_counter()
    code = cli.main(["load", path, "--yes"])
    wall = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"code": code, "wall": wall, "peak_mb": peak, **spent}))


def _edited_copy(src: Path, dst: Path) -> int:
    """A copy with 办件量 raised by 3 on every tenth statistics row (with 办结 and 按时办结, so
    the nesting rules hold); returns the rows changed."""
    from openpyxl import load_workbook

    wb = load_workbook(src)
    ws = wb["月度统计"]
    header = {c.value: c.column for c in ws[1]}
    changed = 0
    for r in range(3, ws.max_row + 1, 10):
        for name in ("办件量", "办结量", "按时办结量"):
            cell = ws.cell(r, header[name])
            cell.value = int(cell.value) + 3
        changed += 1
    wb.save(dst)
    return changed


def _run(pointer: Path, file: Path) -> dict:
    env = {**os.environ, "COCKPIT_DB": str(pointer), "COCKPIT_TODAY": "2026-12-01"}
    t = time.perf_counter()
    out = subprocess.run([sys.executable, __file__, "--child", str(file)], env=env, cwd=REPO,
                         capture_output=True, text=True, check=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["process"] = time.perf_counter() - t
    if res["code"] != 0:
        raise RuntimeError(out.stderr)
    return res


def bench(scale: int, rounds: int, root: Path) -> dict:
    from data.demo import build_demo

    pointer = root / f"x{scale}" / "cockpit.duckdb"
    if not pointer.exists():
        print(f"building the {scale}× demo …", flush=True)
        build_demo(pointer, scale=scale)
    original = root / f"x{scale}" / f"services-{MONTH}.xlsx"
    edited = root / f"x{scale}" / f"services-{MONTH}-edited.xlsx"
    env = {**os.environ, "COCKPIT_DB": str(pointer)}
    if not original.exists():
        subprocess.run([sys.executable, "-m", "data.intake", "export", "services", "--month", MONTH, "--out",
                        str(original)], env=env, cwd=REPO, check=True)
        _edited_copy(original, edited)
    results = []
    for i in range(rounds):
        results.append(_run(pointer, edited if i % 2 == 0 else original))
        print(f"  {scale}× round {i + 1}: {results[-1]['process']:.2f} s", flush=True)
    from openpyxl import load_workbook

    book = load_workbook(original, read_only=True)
    rows = book["月度统计"].max_row - 1
    book.close()
    return {"scale": scale, "rows": rows, "file_mb": original.stat().st_size / 2**20, "results": results,
            "db_mb": pointer.resolve().stat().st_size / 2**20}


def _cell(values: list[float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}–{fmt.format(max(values))})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=Path("/tmp/intake-bench"))
    ap.add_argument("--child")
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    out = [bench(s, args.rounds, args.dir) for s in args.scales]
    goal = {1: 5.0, 10: 15.0}
    print()
    print("| scale | DB MB | file rows | file MB | read s | validate s | prepare s | publish s | "
          "process wall s | peak RSS MB | goal |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for o in out:
        r = o["results"]
        wall = [x["process"] for x in r]
        met = "met" if statistics.median(wall) < goal.get(o["scale"], float("inf")) else "missed"
        print(f"| {o['scale']}× | {o['db_mb']:.0f} | {o['rows']:,} | {o['file_mb']:.1f} | "
              + " | ".join(_cell([x[p] for x in r]) for p in PHASES)
              + f" | {_cell(wall)} | {_cell([x['peak_mb'] for x in r], '{:.0f}')} | "
              f"< {goal.get(o['scale'], '—')} s {met} |")
    print("\nmedian (min–max) of", args.rounds, "rounds; each round is a fresh `python -m data.intake load FILE --yes`"
          " that publishes a real change (edited and original files alternate).")


if __name__ == "__main__":
    main()
