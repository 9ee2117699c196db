"""Benchmark the demo build: ``python bench/demo_build.py [--scales 1 10]``.

Builds each scale into a temporary directory and prints the wall time, the rows per
table and the size of the DuckDB file.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from data.demo import build_demo  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="演示数据生成性能测试")
    ap.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--province", default="360000")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="demo_bench_") as tmp:
        for scale in args.scales:
            path = Path(tmp) / f"demo_x{scale}.duckdb"
            t0 = time.perf_counter()
            stats = build_demo(path, province=args.province, months=args.months, scale=scale)
            wall = time.perf_counter() - t0
            size_mb = path.stat().st_size / 2**20
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"== scale {scale}: {wall:.1f} s wall, {size_mb:.1f} MB file, "
                  f"peak RSS so far {peak_mb:.0f} MB, data_version {stats['data_version']}")
            for table, n in stats["rows"].items():
                print(f"   {table:<24}{n:>12,}")
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
