import json

import numpy as np
import plotly.graph_objects as go
import pytest
import shapely

from data import geo

JIANGXI = "360000"
GUIZHOU = "520000"


@pytest.fixture(scope="module", autouse=True)
def cache_dir(tmp_path_factory):
    """A cold, private disk cache for this module; in-memory caches cleared around it."""
    path = tmp_path_factory.mktemp("geo-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COCKPIT_CACHE_DIR", str(path))
        mp.delenv("COCKPIT_BOUNDARY_SOURCE", raising=False)
        geo.clear_caches()
        yield path
    geo.clear_caches()


@pytest.fixture(scope="module")
def jiangxi_counties():
    return geo.original_boundaries(JIANGXI, "county"), geo.boundaries(JIANGXI, "county")


def _square(x0, y0, x1, y1):
    return {
        "type": "Polygon",
        "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]],
    }


def _write(path, rows):
    features = [
        {"type": "Feature", "properties": {"name": name, "gb": gb}, "geometry": geom} for name, gb, geom in rows
    ]
    doc = {"type": "FeatureCollection", "features": features}
    path.write_text(json.dumps(doc, ensure_ascii=False), "utf-8")


@pytest.fixture
def tiny_source(tmp_path):
    """A made-up province 990000 with one city and two counties, side by side."""
    line = {"type": "LineString", "coordinates": [[100, 30], [102, 30]]}
    _write(tmp_path / "province.geojson", [("测试省", "156990000", _square(100, 30, 102, 31))])
    _write(tmp_path / "city.geojson", [("测试市", "156990100", _square(100, 30, 102, 31))])
    _write(
        tmp_path / "district.geojson",
        [
            ("甲县", "156990101", _square(100, 30, 101, 31)),
            ("乙县", "156990102", _square(101, 30, 102, 31)),
            ("境界线", "", line),
        ],
    )
    return tmp_path


def _counts(regions):
    return regions["level"].value_counts().to_dict()


def test_jiangxi_has_eleven_cities_and_one_hundred_counties():
    regions = geo.load_regions(JIANGXI)
    assert _counts(regions) == {"province": 1, "city": 11, "county": 100}
    cities = regions[regions["level"] == "city"]["code"]
    assert list(cities) == [f"36{i:02d}00" for i in range(1, 12)]


def test_guizhou_has_nine_cities_and_eighty_eight_counties():
    assert _counts(geo.load_regions(GUIZHOU)) == {"province": 1, "city": 9, "county": 88}


@pytest.mark.parametrize("province", [JIANGXI, GUIZHOU, "410000", "440000", "460000"])
def test_every_parent_is_a_region_one_level_up(province):
    regions = geo.load_regions(province)
    level = dict(zip(regions["code"], regions["level"], strict=True))
    assert regions["code"].is_unique
    for row in regions.iloc[1:].itertuples():
        if row.level == "city":
            assert row.parent_code == province
        else:
            assert row.parent_code == province or level[row.parent_code] == "city"
            assert row.code[:2] == province[:2]


def test_regions_come_province_first_then_cities_then_counties_sorted_by_code():
    regions = geo.load_regions(JIANGXI)
    assert list(regions.columns) == ["code", "name", "level", "parent_code"]
    first = regions.iloc[0]
    assert (first["code"], first["name"], first["level"]) == (JIANGXI, "江西省", "province")
    assert first["parent_code"] is None
    order = {"province": 0, "city": 1, "county": 2}
    keys = list(zip(regions["level"].map(order), regions["code"], strict=True))
    assert keys == sorted(keys)
    assert regions.equals(geo.load_regions(JIANGXI))


def test_real_names_are_present_with_their_parents():
    regions = geo.load_regions(JIANGXI).set_index("name")
    assert regions.loc["南昌市", "code"] == "360100"
    assert regions.loc["浮梁县", "parent_code"] == "360200"  # 景德镇市
    assert regions.loc["上栗县", "parent_code"] == "360300"  # 萍乡市


@pytest.mark.parametrize("code", ["999999", "36", "3600000", "36000a", "360100", 360000, None])
def test_a_malformed_code_raises_unknown_region_error_in_chinese(code):
    with pytest.raises(geo.UnknownRegionError, match="未知的省级行政区划代码") as info:
        geo.load_regions(code)
    assert "以 0000 结尾的省级代码" in str(info.value)


def test_a_code_missing_from_the_source_raises_unknown_region_error():
    with pytest.raises(geo.UnknownRegionError, match="未知的省级行政区划代码：990000"):
        geo.boundaries("990000", "county")
    assert issubclass(geo.UnknownRegionError, ValueError)


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="未知的层级"):
        geo.boundaries(JIANGXI, "town")


@pytest.mark.parametrize(
    "province, county, name",
    [("410000", "419001", "济源市"), ("420000", "429004", "仙桃市"), ("460000", "469002", "琼海市")],
)
def test_a_county_level_unit_under_the_province_has_the_province_as_parent(province, county, name):
    row = geo.load_regions(province).set_index("code").loc[county]
    assert (row["name"], row["level"], row["parent_code"]) == (name, "county", province)
    assert county in set(geo.boundaries(province, "city")["code"])


def test_a_city_without_counties_is_a_leaf_of_the_county_layer():
    regions = geo.load_regions("440000")
    dongguan = regions.set_index("code").loc["441900"]
    assert (dongguan["name"], dongguan["level"]) == ("东莞市", "city")
    assert not (regions["parent_code"] == "441900").any()
    assert "441900" in set(geo.boundaries("440000", "county")["code"])


def test_a_municipality_has_its_districts_directly_under_it():
    regions = geo.load_regions("110000")
    assert _counts(regions) == {"province": 1, "county": 16}
    assert set(regions["parent_code"].iloc[1:]) == {"110000"}


def test_simplified_jiangxi_counties_fit_in_one_megabyte_of_figure_json(jiangxi_counties):
    _, counties = jiangxi_counties
    fig = go.Figure(
        go.Choroplethmap(
            geojson=geo.geojson(JIANGXI, "county"),
            locations=counties["code"],
            z=np.arange(len(counties)),
            featureidkey="properties.code",
        )
    )
    assert len(fig.to_json()) <= 1_000_000


def test_simplification_loses_under_one_percent_of_area_and_no_county(jiangxi_counties):
    original, counties = jiangxi_counties
    error = geo.area_error(original, counties)
    assert error["total"] < 0.01
    assert error["missing"] == []
    assert len(counties) == 100
    assert list(counties.columns) == ["code", "name", "parent_code", "geometry"]


def test_every_simplified_shape_is_valid_non_empty_and_on_the_four_decimal_grid(
    jiangxi_counties,
):
    _, counties = jiangxi_counties
    geoms = counties.geometry.values
    assert shapely.is_valid(geoms).all() and not shapely.is_empty(geoms).any()
    xy = shapely.get_coordinates(geoms)
    assert np.array_equal(xy, np.round(xy, 4))


@pytest.mark.parametrize("level", ["county", "city"])
def test_simplified_layers_have_no_gaps_or_overlaps(level):
    original = geo.original_boundaries(JIANGXI, level)
    defects = geo.coverage_defects(geo.boundaries(JIANGXI, level), original)
    limit = 1e-4 * defects["area_km2"]
    assert defects["overlap_km2"] < limit
    assert defects["gap_km2"] < limit


def test_the_city_layer_is_the_dissolve_of_the_county_layer():
    cities = geo.boundaries(JIANGXI, "city").set_index("code").geometry
    counties = geo.boundaries(JIANGXI, "county")
    for code, group in counties.groupby("parent_code"):
        dissolved = shapely.union_all(group.geometry.values)
        assert shapely.symmetric_difference(dissolved, cities[code]).area < 1e-9
    outline = geo.boundaries(JIANGXI, "province")
    assert list(outline["code"]) == [JIANGXI]
    assert outline.geometry.iloc[0].equals(shapely.union_all(cities.values))


def test_a_coarse_tolerance_still_keeps_every_county_valid():
    original = geo.original_boundaries(JIANGXI, "county")
    coarse = geo.boundaries(JIANGXI, "county", tolerance=0.05)
    assert geo.area_error(original, coarse)["missing"] == []
    assert shapely.is_valid(coarse.geometry.values).all()
    assert geo.coverage_defects(coarse, original)["gap_km2"] == 0


def test_geojson_with_a_parent_code_returns_just_that_citys_counties():
    collection = geo.geojson(JIANGXI, "county", parent_code="360100")
    regions = geo.load_regions(JIANGXI)
    nanchang = regions[regions["parent_code"] == "360100"]
    assert [f["id"] for f in collection["features"]] == list(nanchang["code"])
    assert all(f["properties"]["parent_code"] == "360100" for f in collection["features"])
    assert "南昌县" in {f["properties"]["name"] for f in collection["features"]}


def test_a_region_without_children_in_the_layer_is_drawn_by_itself():
    collection = geo.geojson(JIANGXI, "county", parent_code="360102")  # a county: a county-only viewer's map
    assert [f["id"] for f in collection["features"]] == ["360102"]


def test_geojson_features_carry_the_code_as_id_and_in_their_properties():
    collection = geo.geojson(JIANGXI, "city")
    assert collection["type"] == "FeatureCollection"
    first = collection["features"][0]
    assert first["id"] == "360100"
    assert first["properties"] == {"code": "360100", "name": "南昌市", "parent_code": JIANGXI}
    json.dumps(collection, allow_nan=False)


def test_geojson_refuses_a_parent_outside_the_province():
    with pytest.raises(geo.UnknownRegionError, match="未知的地区代码：520100"):
        geo.geojson(JIANGXI, "county", parent_code="520100")


def test_the_simplified_layer_is_cached_on_disk_and_read_back_unchanged(cache_dir):
    first = geo.boundaries(GUIZHOU, "county")
    files = list(cache_dir.glob("geo-520000-county-tol0.002-*.geojson"))
    assert len(files) == 1
    geo.clear_caches()
    again = geo.boundaries(GUIZHOU, "county")
    assert again.drop(columns="geometry").equals(first.drop(columns="geometry"))
    assert all(a.equals_exact(b, 0) for a, b in zip(first.geometry, again.geometry, strict=True))


def test_the_disk_cache_key_includes_the_source_and_the_tolerance(cache_dir, tiny_source):
    geo.boundaries(GUIZHOU, "county", tolerance=0.001)
    geo.boundaries("990000", "county", source=str(tiny_source))
    assert len(list(cache_dir.glob("geo-520000-county-tol0.001-*.geojson"))) == 1
    assert len(list(cache_dir.glob("geo-990000-county-*.geojson"))) == 1


def test_a_custom_source_directory_is_used(tiny_source):
    regions = geo.load_regions("990000", source=str(tiny_source))
    assert list(regions["name"]) == ["测试省", "测试市", "甲县", "乙县"]
    counties = geo.boundaries("990000", "county", source=str(tiny_source))
    assert list(counties["parent_code"]) == ["990100", "990100"]
    city = geo.boundaries("990000", "city", source=str(tiny_source)).geometry.iloc[0]
    assert city.equals(shapely.box(100, 30, 102, 31))


def test_the_source_can_come_from_the_environment(tiny_source, monkeypatch):
    monkeypatch.setenv("COCKPIT_BOUNDARY_SOURCE", str(tiny_source))
    collection = geo.geojson("990000", "county", parent_code="990100")
    assert [f["properties"]["name"] for f in collection["features"]] == ["甲县", "乙县"]
    with pytest.raises(geo.UnknownRegionError):
        geo.load_regions(JIANGXI)
