"""Small geometry helpers shared by the boundary build and the run-time shapes API.

Coordinates are longitude/latitude (EPSG:4326) throughout. Areas are measured in an Albers
equal-area projection on the WGS84 ellipsoid centred on Hunan. Rings are written the way
d3-geo (plotly's ``go.Choropleth`` with ``geojson``) wants them: exterior rings clockwise,
holes counter-clockwise. Plotly's tile maps (``choroplethmap``) do not care about winding.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.polygon import orient

# Albers equal-area, standard parallels bracketing Hunan (24.6 N - 30.1 N), metres.
EQUAL_AREA = "+proj=aea +lat_0=0 +lat_1=25 +lat_2=30 +lon_0=111.5 +ellps=WGS84 +units=m +no_defs"
COORD_DIGITS = 4  # 1e-4 degree is about 10 m: far below what a province or county map shows


@lru_cache(maxsize=2)
def _transformer(inverse: bool):
    from pyproj import Transformer
    src, dst = ("EPSG:4326", EQUAL_AREA) if not inverse else (EQUAL_AREA, "EPSG:4326")
    return Transformer.from_crs(src, dst, always_xy=True)


def _apply(geom, inverse: bool):
    tr = _transformer(inverse)
    return shapely.transform(geom, lambda xy: np.column_stack(tr.transform(xy[:, 0], xy[:, 1])))


def to_equal_area(geom):
    """lon/lat -> metres in the Hunan Albers equal-area projection."""
    return _apply(geom, inverse=False)


def from_equal_area(geom):
    """Metres in the Hunan Albers equal-area projection -> lon/lat."""
    return _apply(geom, inverse=True)


def area_km2(geom) -> float:
    """Area of a lon/lat geometry (or GeoJSON geometry dict) in square kilometres."""
    if isinstance(geom, dict):
        geom = shapely.geometry.shape(geom)
    return float(to_equal_area(geom).area) / 1e6


def polygonal(geom):
    """A valid (Multi)Polygon from any geometry: repair it and keep only the areal parts."""
    if geom is None or geom.is_empty:
        return MultiPolygon()
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    if not parts:
        return MultiPolygon()
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def orient_cw(geom):
    """Exterior rings clockwise, holes counter-clockwise (d3-geo / plotly geo convention)."""
    polys = [orient(p, sign=-1.0) for p in shapely.get_parts(geom) if isinstance(p, Polygon)]
    if len(polys) == 1:
        return polys[0]
    return MultiPolygon(polys)


def snap(geom, digits: int = COORD_DIGITS):
    """Round to a grid of 10**-digits degrees and keep the result valid and polygonal."""
    return polygonal(shapely.set_precision(geom, 10.0 ** -digits))


def _ring(coords, digits: int) -> list:
    return [[round(float(x), digits), round(float(y), digits)] for x, y in coords]


def geometry_to_geojson(geom, digits: int = COORD_DIGITS) -> dict:
    """A GeoJSON geometry dict with rounded coordinates, rings wound for d3-geo."""
    geom = orient_cw(geom)
    polys = [[_ring(p.exterior.coords, digits)] + [_ring(r.coords, digits) for r in p.interiors]
             for p in shapely.get_parts(geom)]
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


def inner_point(geom) -> tuple[float, float]:
    """The centroid when it falls inside the shape, otherwise a point on its surface."""
    c = geom.centroid
    if not geom.contains(c):
        c = geom.representative_point()
    return (round(c.x, COORD_DIGITS), round(c.y, COORD_DIGITS))
