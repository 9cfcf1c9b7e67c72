"""Boundaries of Hunan for maps: counties (real shapes), cities (dissolved), townships (approximate).

    county_geojson()               -> FeatureCollection of the 134 county-level units
    city_geojson()                 -> FeatureCollection of the 14 cities
    township_geojson(county_code)  -> FeatureCollection of one county's townships
    region_centroids(level)        -> {12-digit code: (lon, lat)} for province/city/county/township
    load_user_boundaries(path)     -> FeatureCollection of a user-supplied township boundary file
    is_approximate(feature)        -> whether a feature's shape is invented (label it so)

Every feature has ``id`` = 12-digit code and properties ``code``, ``name``, ``parent_code``,
``approximate`` (bool) and ``kind``: ``polygon`` (a real shape), ``zone_marker`` (a circle
standing for an economic zone or management area, 43xx7x, which has no shape of its own) or
``cell`` (an approximate township cell). Rings are wound clockwise, as plotly's
``go.Choropleth(geojson=...)`` (d3-geo) needs. Each call returns a fresh dict (safe to modify).

Township shapes come from the file named by the environment variable TOWNSHIP_BOUNDARIES
(GeoJSON, Shapefile or GeoPackage with a column ``code``: 9- or 12-digit township codes, any
CRS) where it has them, and approximate cells (pipeline/geo/cells.py) otherwise. The cells are
cached under DATA_DIR/geo_cache. See docs/geography.md.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from functools import lru_cache
from pathlib import Path

import shapely
from shapely.geometry import shape

try:  # orjson (in requirements.txt) parses the 340 kB county file about twice as fast
    from orjson import loads as _loads
except ImportError:  # pragma: no cover
    _loads = json.loads

from pipeline.geo.cells import CELLS_VERSION, approximate_cells
from pipeline.geo.geometry import geometry_to_geojson, inner_point, polygonal
from pipeline.geo.reference import DATA, PROVINCE_CODE, load_divisions

log = logging.getLogger(__name__)

COUNTIES_FILE = DATA / "hunan_counties.geojson"
ENV_TOWNSHIPS = "TOWNSHIP_BOUNDARIES"
LEVELS = ("province", "city", "county", "township")
USER_DIGITS = 5   # user shapes keep about 1 m of detail


def _fc(features: list[dict]) -> dict:
    return {"type": "FeatureCollection", "features": features}


def _feature(code: str, geom, name: str, parent: str, approximate: bool, kind: str) -> dict:
    return {"type": "Feature", "id": code,
            "properties": {"code": code, "name": name, "parent_code": parent,
                           "approximate": approximate, "kind": kind},
            "geometry": geometry_to_geojson(geom)}


def is_approximate(feature: dict) -> bool:
    return bool(feature.get("properties", {}).get("approximate"))


def norm_code(code) -> str:
    """A region code as 12 digits: '430421' -> '430421000000', '430421100' -> '430421100000'."""
    s = str(code).strip()
    if s.endswith(".0"):
        s = s[:-2]
    if not s.isdigit() or len(s) not in (6, 9, 12):
        raise ValueError(f"not a region code: {code!r}")
    return s.ljust(12, "0")


@lru_cache(maxsize=1)
def _divisions_by_code() -> dict[str, tuple[str, str, str]]:
    d = load_divisions()
    return {c: (n, lv, p) for c, n, lv, p in zip(d.code, d.name, d.level, d.parent_code)}


@lru_cache(maxsize=1)
def _townships_of() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for code, (name, level, parent) in sorted(_divisions_by_code().items()):
        if level == "township":
            out.setdefault(parent, []).append((code, name))
    return out


# ------------------------------------------------------------------ counties and cities

@lru_cache(maxsize=1)
def _county_text() -> str:
    return COUNTIES_FILE.read_text(encoding="utf-8")


def county_geojson() -> dict:
    """The 134 county-level units: 122 real shapes and 12 zone markers (drawn last)."""
    return _loads(_county_text())


@lru_cache(maxsize=1)
def county_shapes() -> dict[str, object]:
    """{county code: shapely geometry} (zone markers included). Do not modify the geometries."""
    return {f["id"]: shape(f["geometry"]) for f in county_geojson()["features"]}


@lru_cache(maxsize=1)
def _county_props() -> dict[str, dict]:
    return {f["id"]: f["properties"] for f in county_geojson()["features"]}


@lru_cache(maxsize=1)
def _city_text() -> str:
    shapes, props = county_shapes(), _county_props()
    features = []
    for city in sorted({p["parent_code"] for p in props.values()}):
        parts = [shapes[c] for c, p in props.items() if p["parent_code"] == city and p["kind"] == "polygon"]
        name, _, parent = _divisions_by_code()[city]
        features.append(_feature(city, polygonal(shapely.union_all(parts)), name, parent, False, "polygon"))
    return json.dumps(_fc(features), ensure_ascii=False, separators=(",", ":"))


def city_geojson() -> dict:
    """The 14 cities, each the union of its counties' real shapes."""
    return _loads(_city_text())


# ------------------------------------------------------------------ townships

@lru_cache(maxsize=1)
def _fingerprint() -> str:
    h = hashlib.sha256(CELLS_VERSION.encode())
    h.update(COUNTIES_FILE.read_bytes())
    h.update((DATA / "hunan_divisions.csv.gz").read_bytes())
    return h.hexdigest()[:16]


def _cache_dir() -> Path:
    from core import settings  # read at call time: tests and deployments may point DATA_DIR elsewhere
    return Path(settings.DATA_DIR) / "geo_cache" / f"townships-{_fingerprint()}"


def _build_cells(county: str, area, members: list[tuple[str, str]]) -> list[dict]:
    seat = _county_props()[county].get("seat")
    geoms = approximate_cells(area, [name.endswith("街道") for _, name in members],
                              tuple(seat) if seat else None, int(county[:6]))
    return [_feature(code, g, name, county, True, "cell") for (code, name), g in zip(members, geoms)]


@lru_cache(maxsize=None)
def _approximate_text(county: str) -> str:
    path = _cache_dir() / f"{county}.json"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        pass
    text = json.dumps(_fc(_build_cells(county, county_shapes()[county], _townships_of().get(county, []))),
                      ensure_ascii=False, separators=(",", ":"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as fh:
            fh.write(text)
        os.replace(fh.name, path)
    except OSError as exc:  # a read-only data directory only costs the recomputation
        log.warning("cannot cache township cells in %s: %s", path.parent, exc)
    return text


def preload() -> None:
    """The divisions' index of the township cells and the cells' fingerprint, read now (~0.2 s) rather
    than by the first township map a process draws."""
    _townships_of()
    _fingerprint()


def _county_code(county_code) -> str:
    code = norm_code(county_code)
    if _divisions_by_code().get(code, ("", ""))[1] != "county":
        raise KeyError(f"{county_code!r} is not a county-level unit of Hunan")
    return code


def _user_file() -> tuple[str, float, int] | None:
    path = os.environ.get(ENV_TOWNSHIPS, "").strip()
    if not path:
        return None
    st = os.stat(path)  # a configured file that is missing is an error, not a silent fallback
    return (str(Path(path).resolve()), st.st_mtime, st.st_size)


@lru_cache(maxsize=4)
def _user_features(signature: tuple[str, float, int]) -> dict[str, dict]:
    return {f["id"]: f for f in load_user_boundaries(signature[0])["features"]}


@lru_cache(maxsize=256)
def _township_text(county: str, signature) -> str:
    approx = _loads(_approximate_text(county))["features"]
    if signature is None:
        return json.dumps(_fc(approx), ensure_ascii=False, separators=(",", ":"))
    user = _user_features(signature)
    members = _townships_of().get(county, [])
    given = [user[c] for c, _ in members if c in user]
    if not given:
        return json.dumps(_fc(approx), ensure_ascii=False, separators=(",", ":"))
    missing = [(c, n) for c, n in members if c not in user]
    features = [dict(f, properties=dict(f["properties"], parent_code=county)) for f in given]
    if missing:
        # cells for the rest in what the user's shapes leave of the county; an opening (shrink,
        # then grow by about 1 km) drops the slivers two different sources leave along borders
        county_shape = county_shapes()[county]
        rest = county_shape.difference(shapely.union_all([shape(f["geometry"]) for f in given]))
        rest = polygonal(rest.buffer(-0.01).buffer(0.01).intersection(county_shape))
        area = rest if rest.area > 0.02 * county_shape.area else county_shape
        features += _build_cells(county, area, missing)
    order = {c: i for i, (c, _) in enumerate(members)}
    features.sort(key=lambda f: order[f["id"]])
    return json.dumps(_fc(features), ensure_ascii=False, separators=(",", ":"))


def township_geojson(county_code) -> dict:
    """The townships of one county (6- or 12-digit code), one feature each.

    Shapes from the TOWNSHIP_BOUNDARIES file where it has them (approximate false, kind
    "polygon"), approximate cells otherwise (approximate true, kind "cell").
    """
    return _loads(_township_text(_county_code(county_code), _user_file()))


# ------------------------------------------------------------------ user boundary files

def load_user_boundaries(path) -> dict:
    """A township boundary file (GeoJSON, Shapefile, GeoPackage... anything GDAL reads) as a
    FeatureCollection keyed by 12-digit code, in lon/lat (EPSG:4326), rings wound for plotly.

    The file needs a column ``code`` holding 9- or 12-digit township codes; a file without a CRS
    is taken to be lon/lat. Codes that are no township of Hunan are skipped (and logged); rows
    sharing a code are merged. Names and parents come from the divisions list.
    """
    import geopandas as gpd

    gdf = gpd.read_file(path)
    cols = {c.lower(): c for c in gdf.columns}
    if "code" not in cols:
        raise ValueError(f"{path}: a township boundary file needs a column 'code' (has {list(gdf.columns)})")
    if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
        gdf = gdf.to_crs(4326)
    divisions = _divisions_by_code()
    shapes_by_code: dict[str, list] = {}
    skipped = []
    for raw, geom in zip(gdf[cols["code"]], gdf.geometry):
        try:
            code = norm_code(raw)
        except ValueError:
            skipped.append(raw)
            continue
        if divisions.get(code, ("", ""))[1] != "township" or geom is None or geom.is_empty:
            skipped.append(raw)
            continue
        shapes_by_code.setdefault(code, []).append(geom)
    if skipped:
        log.warning("%s: %d rows skipped (no Hunan township code or no shape), e.g. %s",
                    path, len(skipped), skipped[:5])
    features = []
    for code in sorted(shapes_by_code):
        geom = polygonal(shapely.union_all(shapes_by_code[code]))
        geom = polygonal(shapely.set_precision(geom, 10.0 ** -USER_DIGITS))
        if geom.is_empty:
            continue
        name, _, parent = divisions[code]
        feat = _feature(code, geom, name, parent, False, "polygon")
        feat["geometry"] = geometry_to_geojson(geom, USER_DIGITS)
        features.append(feat)
    return _fc(features)


# ------------------------------------------------------------------ points

@lru_cache(maxsize=8)
def _centroids(level: str, signature) -> dict[str, tuple[float, float]]:
    if level == "province":
        parts = [g for c, g in county_shapes().items() if _county_props()[c]["kind"] == "polygon"]
        return {PROVINCE_CODE: inner_point(shapely.union_all(parts))}
    if level == "city":
        fc = city_geojson()
    elif level == "county":
        fc = county_geojson()
    else:
        fc = _fc([f for county in sorted(county_shapes())
                  for f in _loads(_township_text(county, signature))["features"]])
    return {f["id"]: inner_point(shape(f["geometry"])) for f in fc["features"]}


def region_centroids(level: str) -> dict[str, tuple[float, float]]:
    """{code: (lon, lat)} of every region of a level: the centroid, or a point on the surface
    when the centroid falls outside. Villages have no shape and are not supported."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {LEVELS}, not {level!r}")
    return dict(_centroids(level, _user_file() if level == "township" else None))


def clear_caches() -> None:
    """Forget everything cached in memory (after replacing data files, or in tests)."""
    for fn in (_county_text, county_shapes, _county_props, _city_text, _approximate_text, _user_features,
               _township_text, _centroids, _divisions_by_code, _townships_of):
        fn.cache_clear()


__all__ = ["county_geojson", "city_geojson", "township_geojson", "region_centroids", "load_user_boundaries",
           "county_shapes", "is_approximate", "norm_code", "clear_caches", "ENV_TOWNSHIPS", "LEVELS"]
