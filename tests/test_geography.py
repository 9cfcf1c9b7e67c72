"""The shipped geography of Hunan: divisions, county shapes, township cells, user boundary files."""
from __future__ import annotations

import json

import numpy as np
import pytest
import shapely
from shapely.geometry import Point, box, shape

from core import settings
from pipeline.geo import shapes
from pipeline.geo.echarts import decode_feature_collection, decode_ring, encode_ring
from pipeline.geo.geometry import area_km2
from pipeline.geo.reference import DATA, load_divisions

RENAMED = {"430124": "430182", "430221": "430212", "430521": "430582", "431121": "431181"}
HENGYANG_COUNTY = "430421000000"


@pytest.fixture(autouse=True, scope="module")
def _private_cache(tmp_path_factory):
    """Township cells are cached under DATA_DIR/geo_cache: keep the tests' cache to themselves."""
    old = settings.DATA_DIR
    settings.DATA_DIR = tmp_path_factory.mktemp("data")
    shapes.clear_caches()
    yield
    settings.DATA_DIR = old
    shapes.clear_caches()


@pytest.fixture(scope="module")
def divisions():
    return load_divisions()


@pytest.fixture(scope="module")
def counties():
    return shapes.county_geojson()["features"]


def _exterior_rings(geometry: dict):
    polys = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return [np.asarray(p[0]) for p in polys]


def _signed_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


# ------------------------------------------------------------------ divisions

def test_division_counts(divisions):
    counts = divisions.level.value_counts().to_dict()
    assert counts == {"province": 1, "city": 14, "county": 134, "township": 2008, "village": 29534}
    towns = divisions[(divisions.level == "township") & divisions.code.str.startswith("4304")]
    villages = divisions[(divisions.level == "village") & divisions.parent_code.isin(towns.code)]
    assert (len(towns), len(villages)) == (191, 2785)


# ------------------------------------------------------------------ counties

def test_one_feature_per_county(divisions, counties):
    county_rows = divisions[divisions.level == "county"].set_index("code")
    ids = [f["id"] for f in counties]
    assert len(ids) == len(set(ids)) == 134
    assert set(ids) == set(county_rows.index)
    for f in counties:
        p = f["properties"]
        assert p["code"] == f["id"]
        assert (p["name"], p["parent_code"]) == (county_rows.at[f["id"], "name"], county_rows.at[f["id"], "parent_code"])
    for old, new in RENAMED.items():
        assert new.ljust(12, "0") in ids and old.ljust(12, "0") not in ids


def test_zones_are_visible_markers_inside_their_city(counties):
    cities = {f["id"]: shape(f["geometry"]) for f in shapes.city_geojson()["features"]}
    assert len(cities) == 14
    kinds = {f["id"]: f["properties"]["kind"] for f in counties}
    zones = sorted(c for c, k in kinds.items() if k == "zone_marker")
    assert len(zones) == 12 and all(c[4] == "7" for c in zones)
    assert sum(k == "polygon" for k in kinds.values()) == 122
    for f in counties:
        p = f["properties"]
        assert p["approximate"] is (p["kind"] == "zone_marker")
        if p["kind"] == "zone_marker":
            g = shape(f["geometry"])
            assert 30 < area_km2(g) < 80  # a circle of a few km: visible at province zoom
            assert cities[p["parent_code"]].buffer(1e-3).contains(g)
    # markers come after the real shapes, so maps drawing in file order show them on top
    assert [k for k in kinds.values()][-12:] == ["zone_marker"] * 12


def test_geometries_valid_and_wound_for_plotly(counties):
    for f in counties:
        g = shape(f["geometry"])
        assert g.is_valid and not g.is_empty and g.geom_type in ("Polygon", "MultiPolygon"), f["id"]
        # d3-geo (plotly go.Choropleth with geojson) fills the outside of counter-clockwise rings
        assert all(_signed_area(r) < 0 for r in _exterior_rings(f["geometry"])), f["id"]
        lon, lat = g.centroid.x, g.centroid.y
        assert 108.7 < lon < 114.3 and 24.6 < lat < 30.2


def test_neighbours_share_edges_without_overlap(counties):
    real = [shape(f["geometry"]) for f in counties if f["properties"]["kind"] == "polygon"]
    union = shapely.union_all(real)
    assert abs(sum(g.area for g in real) - union.area) / union.area < 1e-4


def test_total_area_matches_the_decoded_source(counties):
    # Decoded and unsimplified, the 122 shapes cover 211,962 km2 on the WGS84 ellipsoid
    # (212,302 km2 on a sphere of radius 6,371 km); Hunan's official area is about 211,800 km2.
    total = sum(area_km2(f["geometry"]) for f in counties if f["properties"]["kind"] == "polygon")
    assert abs(total - 212_300) / 212_300 < 0.02
    assert abs(total - 211_962) / 211_962 < 0.005


def test_file_sizes():
    assert (DATA / "hunan_counties.geojson").stat().st_size < 400_000
    assert sum(p.stat().st_size for p in DATA.iterdir() if p.is_file()) < 1_000_000


def test_region_centroids(counties):
    county_shapes = shapes.county_shapes()
    pts = shapes.region_centroids("county")
    assert set(pts) == {f["id"] for f in counties}
    assert all(county_shapes[c].buffer(1e-4).contains(Point(p)) for c, p in pts.items())
    assert set(shapes.region_centroids("city")) == {f["id"] for f in shapes.city_geojson()["features"]}
    assert list(shapes.region_centroids("province")) == ["430000000000"]
    with pytest.raises(ValueError):
        shapes.region_centroids("village")


# ------------------------------------------------------------------ townships

def _check_cells_cover(county_code, fc, divisions):
    members = divisions[divisions.parent_code == county_code]
    assert [f["id"] for f in fc["features"]] == list(members.code)
    county = shapes.county_shapes()[county_code]
    cells = [shape(f["geometry"]) for f in fc["features"]]
    assert all(c.is_valid and not c.is_empty for c in cells)
    total = sum(area_km2(c) for c in cells)
    assert abs(total - area_km2(county)) / area_km2(county) < 0.01
    assert abs(area_km2(shapely.union_all(cells)) - total) / total < 0.01  # cells do not overlap
    return cells


def test_township_cells_cover_the_county(divisions):
    fc = shapes.township_geojson("430421")
    cells = _check_cells_cover(HENGYANG_COUNTY, fc, divisions)
    assert len(cells) == (divisions.parent_code == HENGYANG_COUNTY).sum() > 10
    for f in fc["features"]:
        assert f["properties"]["approximate"] is True and f["properties"]["kind"] == "cell"
        assert f["properties"]["parent_code"] == HENGYANG_COUNTY
    # a zone's townships divide its marker
    _check_cells_cover("430373000000", shapes.township_geojson("430373000000"), divisions)


def test_township_cells_are_deterministic(tmp_path):
    first = shapes.township_geojson(HENGYANG_COUNTY)
    old = settings.DATA_DIR
    try:
        settings.DATA_DIR = tmp_path  # no disk cache: computed again
        shapes.clear_caches()
        assert shapes.township_geojson(HENGYANG_COUNTY) == first
        assert any((tmp_path / "geo_cache").rglob(f"{HENGYANG_COUNTY}.json"))
    finally:
        settings.DATA_DIR = old
        shapes.clear_caches()


def test_every_township_has_a_shape():
    pts = shapes.region_centroids("township")
    assert len(pts) == 2008


def test_unknown_county_is_refused():
    with pytest.raises(KeyError):
        shapes.township_geojson("430400")  # a city, not a county
    with pytest.raises(ValueError):
        shapes.township_geojson("43x")


# ------------------------------------------------------------------ user boundary files

def _user_file(tmp_path, divisions, crs="EPSG:4326", driver="GeoJSON", name="towns.geojson"):
    import geopandas as gpd
    code = divisions[divisions.parent_code == HENGYANG_COUNTY].code.iloc[0]
    c = shapes.county_shapes()[HENGYANG_COUNTY].representative_point()
    square = box(c.x - 0.05, c.y - 0.05, c.x + 0.05, c.y + 0.05)
    gdf = gpd.GeoDataFrame({"code": [code[:9], "999999999"]}, geometry=[square, square], crs="EPSG:4326").to_crs(crs)
    path = tmp_path / name
    gdf.to_file(path, driver=driver)
    return path, code, square


@pytest.mark.parametrize("crs,driver,name", [("EPSG:4326", "GeoJSON", "towns.geojson"),
                                            ("EPSG:3857", "GPKG", "towns.gpkg")])
def test_user_boundaries_override_cells(tmp_path, monkeypatch, divisions, crs, driver, name):
    path, code, square = _user_file(tmp_path, divisions, crs, driver, name)
    loaded = shapes.load_user_boundaries(path)
    assert [f["id"] for f in loaded["features"]] == [code]  # 999999999 is no Hunan township
    assert shape(loaded["features"][0]["geometry"]).symmetric_difference(square).area < 1e-6

    monkeypatch.setenv(shapes.ENV_TOWNSHIPS, str(path))
    fc = shapes.township_geojson(HENGYANG_COUNTY)
    by_id = {f["id"]: f for f in fc["features"]}
    assert len(by_id) == (divisions.parent_code == HENGYANG_COUNTY).sum()
    assert by_id[code]["properties"]["approximate"] is False
    assert by_id[code]["properties"]["kind"] == "polygon"
    assert shape(by_id[code]["geometry"]).symmetric_difference(square).area < 1e-6
    others = [shape(f["geometry"]) for c, f in by_id.items() if c != code]
    assert all(by_id[c]["properties"]["approximate"] for c in by_id if c != code)
    assert shapely.union_all(others).intersection(square).area < 0.02 * square.area
    assert shapes.region_centroids("township")[code] == pytest.approx((square.centroid.x, square.centroid.y), abs=1e-3)

    monkeypatch.delenv(shapes.ENV_TOWNSHIPS)
    assert shapes.township_geojson(HENGYANG_COUNTY)["features"][0]["properties"]["approximate"] is True


def test_user_boundaries_need_a_code_column(tmp_path):
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "x"}, "geometry": box(112, 27, 112.1, 27.1).__geo_interface__}]}))
    with pytest.raises(ValueError, match="code"):
        shapes.load_user_boundaries(path)


# ------------------------------------------------------------------ the ECharts decoding

def test_echarts_ring_round_trip():
    ring = np.array([[113.0, 28.0], [113.25, 28.0], [113.25, 28.5], [112.5, 28.125], [113.0, 28.0]])
    encoded, offset = encode_ring(ring)
    assert np.allclose(decode_ring(encoded, offset), ring)
    fc = {"type": "FeatureCollection", "UTF8Encoding": True, "features": [
        {"type": "Feature", "id": "430102", "properties": {"name": "x"},
         "geometry": {"type": "Polygon", "coordinates": [encoded], "encodeOffsets": [offset]}}]}
    [(fid, _, geom)] = decode_feature_collection(fc)
    assert fid == "430102" and geom.equals(shapely.Polygon(ring))


def test_echarts_decoding_by_hand():
    # each character minus 64 is a zig-zag step: "@" = 0, "B" = 2 -> +1, "C" = 3 -> -2 (units of 1/1024)
    ring = decode_ring("@@B@@C", [1024 * 112, 1024 * 28])
    assert ring.tolist() == [[112.0, 28.0], [112.0 + 1 / 1024, 28.0], [112.0 + 1 / 1024, 28.0 - 2 / 1024]]
