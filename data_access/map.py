"""The anomaly map's data: simplified shapes (public geography, sent once) and per-region metrics
from the roll-up ``agg_indicators`` (through data_access.grades), always inside the viewer's scope."""
from __future__ import annotations

import functools

import pandas as pd

from core.scope import Scope, level_of, normalize_code
from data_access.cache import memoize
from data_access.grades import region_indicators

METRICS = ("anomaly_count", "anomaly_amount", "grade", "complaints_10k")
# sample-size column of each metric (what the hover shows beside the value)
SAMPLE = {"anomaly_count": "anomaly_count_n", "anomaly_amount": "anomaly_count_n", "grade": "anomaly_count_n",
          "complaints_10k": "complaints_10k_n"}
COLUMNS = ["region_code", "name", "value", "sample", "enough", "grade"]


def _slim(fc: dict) -> dict:
    """Only what the map needs: id, code, name, approximate, kind (no seats, no source codes)."""
    feats = []
    for f in fc["features"]:
        p = f.get("properties") or {}
        feats.append({"type": "Feature", "id": f["id"], "geometry": f["geometry"],
                      "properties": {"name": p.get("name"), "approximate": bool(p.get("approximate")),
                                     "kind": p.get("kind")}})
    return {"type": "FeatureCollection", "features": feats}


@functools.lru_cache(maxsize=1)
def _county_fc() -> dict:
    from pipeline.geo.shapes import county_geojson
    return _slim(county_geojson())


@functools.lru_cache(maxsize=256)
def _township_fc(code: str) -> dict:
    from pipeline.geo.shapes import township_geojson
    return _slim(township_geojson(code))


def preload_shapes() -> None:
    """Reads the static geography into the worker's memory: the counties' shapes and the divisions that
    index the township cells (public files, not data: nothing here depends on an import or a viewer)."""
    from pipeline.geo.shapes import preload
    _county_fc()
    preload()


def county_shapes(scope: Scope) -> dict | None:
    """Hunan's counties (real boundaries, simplified at build time; zone markers last). The shapes are
    public, but an empty scope gets nothing (deny by default). Static files: kept in the worker's memory
    (not in diskcache: unpickling ~100 k coordinate lists on every page load cost more than the rest of
    the map's callback). Callers must not modify the returned dict."""
    if scope is None or scope.is_empty:
        return None
    return _county_fc()


@memoize
def open_county(scope: Scope, county: str | None) -> str | None:
    """The county the viewer asked to open, when they may (see ``_county``); else the scope's own county
    for a viewer scoped to a county or below; else None."""
    code = _county(scope, county)
    if code is None and scope is not None and not scope.is_empty and scope.level in ("county", "township", "village"):
        code = scope.region_code[:6] + "0" * 6
    return code


def _county(scope: Scope, county: str | None) -> str | None:
    """The county to open, or None: it must be a county that the scope reaches into (a county official's
    own county, a city official's counties, any county for the province)."""
    if scope is None or scope.is_empty or not county:
        return None
    try:
        code = normalize_code(county)
    except ValueError:
        return None
    if level_of(code) != "county":
        return None
    if scope.allows(code) or scope.region_code.startswith(code[:6]):
        return code
    return None


def township_shapes(scope: Scope, county: str | None) -> dict | None:
    """The townships of a county as approximate cells (labelled so by the page), or None when the
    county is not one the viewer may open. Kept in memory like the counties."""
    code = _county(scope, county)
    if code is None:
        return None
    return _township_fc(code)


def _metric_frame(df: pd.DataFrame, metric: str) -> pd.DataFrame:
    if df.empty:
        return pd.DataFrame(columns=COLUMNS)
    metric = metric if metric in METRICS else METRICS[0]
    # one frame from the columns' arrays (six column assignments, a selection and a reset cost ~1.5 ms a call)
    if metric == "grade":
        value = df["grade"]
        enough = df["grade"].notna()
    else:
        enough = df[f"{metric}_grade"].notna()
        value = df[metric].where(enough)
    cols = {"region_code": df["region_code"], "name": df["name"], "value": value,
            "sample": df[SAMPLE[metric]].astype(float), "enough": enough, "grade": df["grade"]}
    return pd.DataFrame({c: v.to_numpy() for c, v in cols.items()}, columns=COLUMNS)


@memoize
def county_metrics(scope: Scope, metric: str = "anomaly_count", year: int | None = None) -> pd.DataFrame:
    """One row per county inside the scope: name, the metric's value (None when the sample is below
    the minimum: "not enough data"), the sample size, the composite grade."""
    if scope is None or scope.is_empty:
        return pd.DataFrame(columns=COLUMNS)
    if scope.level in ("county", "township", "village"):
        df = region_indicators(scope, scope.region_code, None, year)
        df = df[df["region_code"].map(lambda c: level_of(c) == "county")] if not df.empty else df
    else:
        df = region_indicators(scope, scope.region_code, "county", year)
    return _metric_frame(df, metric)


@memoize
def township_metrics(scope: Scope, county: str | None, metric: str = "anomaly_count",
                     year: int | None = None) -> pd.DataFrame:
    """The townships of ``county`` inside the scope, as ``county_metrics``."""
    code = _county(scope, county)
    if code is None:
        return pd.DataFrame(columns=COLUMNS)
    region = code if scope.allows(code) else scope.region_code
    if level_of(region) == "township":
        df = region_indicators(scope, region, None, year)
    else:
        df = region_indicators(scope, region, "township", year)
    return _metric_frame(df, metric)


@memoize
def village_metrics(scope: Scope, township: str | None, metric: str = "anomaly_count",
                    year: int | None = None) -> pd.DataFrame:
    """The villages of a township inside the scope (villages have no shapes: a list)."""
    if scope is None or scope.is_empty or not township:
        return pd.DataFrame(columns=COLUMNS)
    try:
        code = normalize_code(township)
    except ValueError:
        return pd.DataFrame(columns=COLUMNS)
    if level_of(code) != "township" or not (scope.allows(code) or scope.region_code.startswith(code[:9])):
        return pd.DataFrame(columns=COLUMNS)
    region = code if scope.allows(code) else scope.region_code
    df = region_indicators(scope, region, "village" if level_of(region) != "village" else None, year)
    return _metric_frame(df, metric)
