"""Shared-edge simplification of a polygon coverage, and the metrics that check it.

A coverage is a set of polygons that tile an area edge to edge (the counties of a
province). Simplifying each polygon on its own moves the two copies of a shared edge
differently and opens gaps and overlaps; GEOS' coverage simplifier (GEOS >= 3.12)
simplifies every shared edge once, so neighbours keep sharing it.

The order of operations matters for the 4-decimal rounding:

1. round the source vertices to the 1e-4° grid (about 10 m);
2. simplify the rounded coverage. The simplifier only drops vertices, so the output
   is already on the grid, and a vertex shared by two neighbours is rounded the same
   way on both sides: rounding cannot open slivers between them.

If rounding first breaks the coverage (a very narrow part collapses), the unrounded
coverage is simplified and rounded afterwards. If the result has an empty, invalid or
overlapping shape, the tolerance is halved until it has none (at worst only rounded).
"""

from __future__ import annotations

import logging
from typing import TypedDict

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

log = logging.getLogger(__name__)

DECIMALS = 4

# Albers equal-area for China, on the CGCS2000 ellipsoid (GRS80): areas in m².
EQUAL_AREA_CRS = pyproj.CRS.from_proj4(
    "+proj=aea +lat_0=0 +lon_0=105 +lat_1=25 +lat_2=47 +ellps=GRS80 +units=m +no_defs"
)

_HAS_COVERAGE = shapely.geos_version >= (3, 12, 0)


def round_coordinates(geoms: np.ndarray, decimals: int = DECIMALS) -> np.ndarray:
    """Round every vertex to ``decimals`` places (plain ``round``, no re-noding)."""
    return shapely.transform(geoms, lambda xy: np.round(xy, decimals))


def _is_clean(geoms: np.ndarray) -> bool:
    """Every shape non-empty and valid, and the shapes form a valid coverage."""
    if shapely.is_empty(geoms).any() or not shapely.is_valid(geoms).all():
        return False
    return not _HAS_COVERAGE or bool(shapely.coverage_is_valid(geoms))


def simplify_coverage(geoms, tolerance: float, decimals: int = DECIMALS) -> np.ndarray:
    """Simplify a polygon coverage keeping shared edges shared, rounded to ``decimals``.

    ``tolerance`` is in coordinate units (degrees). Returns an array of the same length
    and order; no shape is ever empty or invalid.
    """
    geoms = np.asarray(geoms, dtype=object)
    rounded = round_coordinates(geoms, decimals)
    base = rounded if _is_clean(rounded) else geoms
    if not _HAS_COVERAGE:
        log.warning("GEOS %s has no coverage simplifier; only rounding", shapely.geos_version)
        tolerance = 0.0
    tol = tolerance
    while True:
        out = shapely.coverage_simplify(base, tol) if tol > 0 else base
        out = round_coordinates(out, decimals)
        if _is_clean(out):
            return out
        if tol == 0:
            raise ValueError("边界数据在取整后不再是有效的无缝覆盖，无法简化")
        tol = tol / 2 if tol > tolerance / 64 else 0.0
        log.info("coverage simplification retried with tolerance %s", tol)


def _areas(gdf: gpd.GeoDataFrame) -> pd.Series:
    return gdf.to_crs(EQUAL_AREA_CRS).area


class AreaError(TypedDict):
    """:func:`area_error`'s fractions and the codes missing from the simplified layer."""

    max: float
    max_code: str | None
    total: float
    symmetric: float
    missing: list[str]


class CoverageDefects(TypedDict):
    """:func:`coverage_defects`'s overlaps, gaps and union area, in km²."""

    overlap_km2: float
    gap_km2: float
    area_km2: float


def area_error(original_gdf: gpd.GeoDataFrame, simplified_gdf: gpd.GeoDataFrame) -> AreaError:
    """Relative area error of a simplified layer against the original, matched on ``code``.

    Returns fractions (0.006 is 0.6 %): ``max`` (largest per-shape ``|ΔA| / A``),
    ``max_code`` (that shape), ``total`` (``|ΣA' − ΣA| / ΣA``), ``symmetric`` (area of the
    symmetric difference over ``ΣA``, which also catches shapes that moved), and
    ``missing`` (codes of the original absent or empty in the simplified layer).
    """
    orig = original_gdf.set_index("code")
    simp = simplified_gdf.set_index("code")
    simp = simp[~simp.geometry.is_empty]
    missing = sorted(set(orig.index) - set(simp.index))
    common = orig.index.intersection(simp.index)
    a0 = _areas(orig.loc[common])
    a1 = _areas(simp.loc[common])
    rel = ((a1 - a0).abs() / a0).fillna(0.0)
    o = orig.loc[common].to_crs(EQUAL_AREA_CRS).geometry
    s = simp.loc[common].to_crs(EQUAL_AREA_CRS).geometry
    sym = shapely.area(shapely.symmetric_difference(o.values, s.values)).sum()
    total0 = float(_areas(orig).sum())
    return {
        "max": float(rel.max()) if len(rel) else 0.0,
        "max_code": str(rel.idxmax()) if len(rel) else None,
        "total": abs(float(a1.sum()) - total0) / total0 if total0 else 0.0,
        "symmetric": float(sym) / total0 if total0 else 0.0,
        "missing": missing,
    }


def _fill(geom):
    """The polygon(s) with their holes filled."""
    parts = shapely.get_parts(geom)
    return shapely.union_all([shapely.Polygon(p.exterior) for p in parts])


def coverage_defects(gdf: gpd.GeoDataFrame, original_gdf: gpd.GeoDataFrame | None = None) -> CoverageDefects:
    """Overlaps between neighbours and gaps between them, in km².

    ``overlap_km2`` is ``ΣA − A(∪)``: any area covered twice. ``gap_km2`` is the area
    of the holes in the union that do not overlap a hole of ``original_gdf``'s union
    (an enclave of another province is a legitimate hole, whose simplified outline
    differs a little from the original); without ``original_gdf`` every hole counts.
    Notches on the outer boundary are simplification, not gaps, and are not counted.
    ``area_km2`` is the union's area, to express both as shares.
    """
    g = gdf.to_crs(EQUAL_AREA_CRS).geometry.values
    union = shapely.union_all(g)  # the robust overlay, not coverage_union: overlaps count
    overlap = max(float(shapely.area(g).sum() - union.area), 0.0)
    holes = shapely.get_parts(shapely.difference(_fill(union), union))
    if original_gdf is not None and len(holes):
        ou = shapely.union_all(original_gdf.to_crs(EQUAL_AREA_CRS).geometry.values)
        kept = shapely.difference(_fill(ou), ou)
        holes = holes[shapely.area(shapely.intersection(holes, kept)) == 0]
    return {
        "overlap_km2": overlap / 1e6,
        "gap_km2": float(shapely.area(holes).sum()) / 1e6,
        "area_km2": float(union.area) / 1e6,
    }
