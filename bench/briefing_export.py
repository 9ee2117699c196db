"""Time to write the monthly briefing (PDF + PPTX) for the province and for one county viewer.

    COCKPIT_DB=... python bench/briefing_export.py [--month 2025-06]

Goal: < 20 s for the province (cold: caches cleared first). Prints each step's seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from briefing.export import export  # noqa: E402
from data.scope import Scope  # noqa: E402
from metrics.cache import clear_all  # noqa: E402

GOAL = 20.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--month", default="2025-06")
    ap.add_argument("--county", default="360102")
    args = ap.parse_args()
    cases = [("province 360000", "360000", Scope.province("360000")),
             (f"county {args.county} (county viewer)", args.county, Scope(regions=(args.county,)))]
    with tempfile.TemporaryDirectory() as out:
        for label, region, scope in cases:
            clear_all()
            t = export(region, args.month, "pdf,pptx", Path(out) / region, scope=scope)["timings"]
            print(f"{label:34s} total {t['total']:6.2f} s  content {t['content']:5.2f}  charts {t['charts']:5.2f}  "
                  f"pdf {t['pdf']:5.2f}  pptx {t['pptx']:5.2f}")
            if region == "360000":
                print(f"{'':34s} goal < {GOAL:.0f} s: {'met' if t['total'] < GOAL else 'MISSED'} "
                      f"(ratio {t['total'] / GOAL:.2f})")


if __name__ == "__main__":
    main()
