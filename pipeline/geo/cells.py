"""Approximate township cells: Voronoi cells of seeded points, clipped to the county's shape.

No public map of Hunan's township boundaries exists, so these cells only say "this many
townships share this county"; their lines are invented and must be labelled approximate.
Construction, all deterministic (no random generator: the same input gives the same cells):

* seeds come from the R2 low-discrepancy sequence over the county's bounding box, keeping the
  points that fall inside the county, started at an offset derived from the county code;
* when a county has both subdistricts (街道, the urban part) and towns/townships, the
  subdistrict seeds are drawn in a disc around the county seat (its cells become the small
  urban ones); the other seeds are relaxed by a few Lloyd steps (moved to the centroid of their
  cell) so the cells are of even size;
* the Voronoi cells of the seeds are clipped to the county, so together they cover it exactly.

Computation happens in a local frame where one unit of x and of y is the same distance
(longitude scaled by the cosine of the latitude).
"""
from __future__ import annotations

import math

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, Point

from pipeline.geo.geometry import polygonal, snap

CELLS_VERSION = "1"       # bump when the construction changes (invalidates cached cells)
LLOYD_STEPS = 4
URBAN_SHARE = 0.5         # the subdistricts' disc holds this share of their average-cell area
_PLASTIC = 1.32471795724474602596  # R2 sequence: 1/g and 1/g^2 are the two increments


def _r2(start: int, count: int) -> np.ndarray:
    i = np.arange(start, start + count, dtype=np.float64)
    return np.column_stack([(0.5 + i / _PLASTIC) % 1.0, (0.5 + i / _PLASTIC ** 2) % 1.0])


def _points_inside(shape, n: int, start: int, bounds=None) -> np.ndarray:
    """n quasi-random points inside ``shape`` (fewer if the shape is a vanishing sliver)."""
    x0, y0, x1, y1 = bounds or shape.bounds
    found, pos, batch = [], start, max(64, 8 * n)
    for _ in range(200):
        uv = _r2(pos, batch)
        pos += batch
        xs, ys = x0 + uv[:, 0] * (x1 - x0), y0 + uv[:, 1] * (y1 - y0)
        inside = shapely.contains_xy(shape, xs, ys)
        found.extend(zip(xs[inside], ys[inside]))
        if len(found) >= n:
            break
    return np.array(found[:n], dtype=np.float64).reshape(-1, 2)


def _voronoi(shape, seeds: np.ndarray) -> list:
    """Cells of ``seeds`` clipped to ``shape``, in the order of the seeds."""
    if len(seeds) == 1:
        return [shape]
    x0, y0, x1, y1 = shape.bounds
    frame = shapely.box(x0, y0, x1, y1).buffer(max(x1 - x0, y1 - y0))
    cells = list(shapely.get_parts(shapely.voronoi_polygons(MultiPoint(seeds), extend_to=frame)))
    tree = shapely.STRtree(cells)
    seed_idx, cell_idx = tree.query(shapely.points(seeds), predicate="within")
    out = [None] * len(seeds)
    for seed_i, cell_i in zip(seed_idx, cell_idx):
        out[seed_i] = cells[cell_i]
    # a seed exactly on a cell edge (never seen, but cheap to guard): take the nearest cell
    for i, c in enumerate(out):
        if c is None:
            out[i] = cells[int(tree.nearest(Point(seeds[i])))]
    return [polygonal(c) for c in shapely.intersection(np.array(out, dtype=object), shape)]


def _to_frame(geom, lat0: float):
    return affinity.scale(geom, xfact=math.cos(math.radians(lat0)), yfact=1.0, origin=(0, 0))


def _from_frame(geom, lat0: float):
    return affinity.scale(geom, xfact=1.0 / math.cos(math.radians(lat0)), yfact=1.0, origin=(0, 0))


def approximate_cells(shape, urban: list[bool], seat: tuple[float, float] | None, key: int) -> list:
    """One cell (lon/lat geometry) per township, in the order of ``urban`` (True = subdistrict).

    ``shape`` is the county (lon/lat), ``seat`` the county seat (lon/lat) or None, ``key`` any
    integer that varies the seeding between counties (the county code).
    """
    n = len(urban)
    if n == 0:
        return []
    if n == 1:
        return [shape]
    lat0 = shape.centroid.y
    area = _to_frame(shape, lat0)
    start = key % 9973
    is_urban = np.asarray(urban, dtype=bool)
    k = int(is_urban.sum())
    seeds = np.empty((n, 2))
    fixed = np.zeros(n, dtype=bool)
    if 0 < k < n:
        centre = _to_frame(Point(seat), lat0) if seat is not None else area.representative_point()
        if not area.contains(centre):
            centre = area.representative_point()
        radius = math.sqrt(URBAN_SHARE * area.area * k / n / math.pi)
        disc = area.intersection(centre.buffer(radius))
        urban_seeds = _points_inside(disc, k, start) if not disc.is_empty else np.empty((0, 2))
        if len(urban_seeds) == k:
            seeds[is_urban] = urban_seeds
            fixed = is_urban.copy()
    free = _points_inside(area, int((~fixed).sum()), start + 7919)
    if len(free) < (~fixed).sum():  # a sliver too thin for the sequence: fall back to boundary points
        extra = [area.boundary.interpolate(t, normalized=True).coords[0]
                 for t in np.linspace(0, 1, (~fixed).sum() - len(free), endpoint=False)]
        free = np.vstack([free, np.array(extra)]) if len(free) else np.array(extra)
    seeds[~fixed] = free
    for _ in range(LLOYD_STEPS):
        cells = _voronoi(area, seeds)
        for i in np.flatnonzero(~fixed):
            c = cells[i]
            if c.is_empty:
                continue
            p = c.centroid if c.contains(c.centroid) else c.representative_point()
            seeds[i] = (p.x, p.y)
    cells = _voronoi(area, seeds)
    return [snap(_from_frame(c, lat0)) if not c.is_empty else c for c in cells]
