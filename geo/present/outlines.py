"""District outlines and names over an LSOA map: where you are, without a basemap.

A layer of LSOAs that names each area's district (`MapSpec.district_column`) is dissolved into its
districts once, in British National Grid metres, and sent to the browser as lines, not polygons:

* the dissolve is `shapely.coverage_union_all` per district (the areas are a coverage: neighbours share
  their borders, so this is fast), falling back to an overlay union for a district it cannot join cleanly;
* the districts' borders become one network of unique lines (a border between two districts is sent once,
  not twice), simplified in metres before reprojection, then written in lon/lat as integers of
  `QUANTUM` degrees, delta-encoded per line (small numbers: ~200 KB for all England's 317 districts);
* each district's name is placed at a point on its largest part, biggest districts first (the browser
  shows the names from `LABEL_ZOOM` and hides those that would collide).

Computing this for the national layer takes under a second; a module-level memo keyed cheaply by the
layer's codes, districts, row count, bounds and vertex count makes a warm rerun free.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely

from geo.memo import Memo
from geo.present.coverage import column_text, geometry_digest, simplify_coverage

BNG = 27700
QUANTUM = 1e-4          # degrees per integer unit on the wire (~11 m of longitude, 7 m of latitude in England)
TOLERANCES_M = (50.0, 100.0, 200.0, 400.0)  # tried in turn until the lines fit MAX_BYTES
MAX_BYTES = 300_000     # the outlines of all England's districts fit well under this
LABEL_ZOOM = 9          # district names from this zoom (districts are large on screen), none nationally
_MEMO: Memo[DistrictOutlines] = Memo(8)


@dataclass(frozen=True)
class DistrictOutlines:
    """A layer's district borders as delta-encoded lines, and a label point per district.

    `lines`: per line, [x0, y0, dx1, dy1, …] in `QUANTUM` degrees (lon, lat). `labels`: [lat, lon, name],
    names as given (the caller escapes them), largest district first."""

    lines: tuple[tuple[int, ...], ...]
    labels: tuple[tuple[float, float, str], ...]
    tolerance_m: float
    vertices: int

    def nbytes(self) -> int:
        """Roughly the JSON size of the lines on the wire."""
        return sum(len(",".join(map(str, line))) + 3 for line in self.lines)


def layer_key(gdf: gpd.GeoDataFrame, code_column: str, district_column: str, name_column: str | None) -> str:
    """A cheap key for a layer's outlines: its codes, districts and names, CRS and geometries (their hash memoised
    by the shapely objects' identity, as the live map's content key is: a warm rerun hashes no WKB)."""
    h = hashlib.sha256(f"{len(gdf)}|{gdf.crs}|".encode())
    cols = [c for c in dict.fromkeys((code_column, district_column, name_column)) if c and c in gdf.columns]
    h.update("\x1f".join(cols).encode())
    for column in cols:
        h.update(hashlib.sha1(column_text(gdf[column])).digest())
    if len(gdf):
        h.update(geometry_digest(gdf.geometry.values, str(gdf.crs)))
    return h.hexdigest()[:24]


def _dissolve(geoms: np.ndarray, groups: np.ndarray) -> dict[str, shapely.Geometry]:
    """Union the areas of each group (coverage union; an overlay union where that is not clean)."""
    out = {}
    order = np.argsort(groups, kind="stable")
    keys, starts = np.unique(groups[order], return_index=True)
    for key, part in zip(keys, np.split(order, starts[1:])):
        members = geoms[part]
        members = members[~shapely.is_empty(members)]
        if not len(members):
            continue
        try:
            merged = shapely.coverage_union_all(members)
        except shapely.errors.GEOSException:
            merged = None
        if merged is None or not shapely.is_valid(merged):
            merged = shapely.union_all(shapely.make_valid(members))
        out[key] = merged
    return out


def _largest_part(geom: shapely.Geometry) -> shapely.Geometry:
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3] if len(parts) else parts
    return parts[int(np.argmax(shapely.area(parts)))] if len(parts) else geom


def _encode(lines: np.ndarray) -> tuple[tuple[int, ...], ...]:
    out = []
    for line in lines:
        q = np.round(shapely.get_coordinates(line) / QUANTUM).astype(np.int64)
        if len(q) < 2:
            continue
        keep = np.r_[True, np.any(q[1:] != q[:-1], axis=1)]  # points that round to the one before are dropped
        q = q[keep]
        if len(q) < 2:
            continue
        out.append(tuple(np.r_[q[:1], np.diff(q, axis=0)].ravel().tolist()))
    return tuple(out)


def compute_outlines(gdf: gpd.GeoDataFrame, district_column: str,
                     name_column: str | None = None) -> DistrictOutlines | None:
    """Dissolve `gdf`'s areas by `district_column` into border lines and label points (no memo; see
    `district_outlines`). None when there is nothing to outline (no districts, or each area its own district)."""
    if district_column not in gdf.columns or not len(gdf):
        return None
    codes = gdf[district_column].astype("string").str.strip().str.upper()
    known = (codes.notna() & (codes != "")).to_numpy()
    if not known.any() or codes[known].nunique() >= known.sum():
        return None
    geoms = gdf.geometry if gdf.crs is not None else gdf.geometry.set_crs(4326)
    projected = simplify_coverage(geoms[known], 0)  # BNG metres, valid polygons (no simplification yet)
    districts = _dissolve(np.asarray(projected.values), codes[known].to_numpy(dtype=str))
    names = gdf[name_column] if name_column and name_column in gdf.columns else codes
    first = dict(zip(codes[known], names[known].astype(str)))
    merged = list(districts.values())
    network = shapely.line_merge(shapely.union_all(shapely.boundary(np.asarray(merged, dtype=object))))
    parts = shapely.get_parts(network)
    lines: tuple = ()
    tolerance = TOLERANCES_M[0]
    for tolerance in TOLERANCES_M:
        simplified = gpd.GeoSeries(shapely.simplify(parts, tolerance), crs=BNG).to_crs(4326).values
        lines = _encode(simplified)
        if DistrictOutlines(lines, (), tolerance, 0).nbytes() <= MAX_BYTES:
            break
    points = gpd.GeoSeries([shapely.point_on_surface(_largest_part(g)) for g in merged], crs=BNG).to_crs(4326)
    size = shapely.area(np.asarray(merged, dtype=object))
    labels = [(round(p.y, 5), round(p.x, 5), first[code])
              for _, p, code in sorted(zip(size, points, districts), key=lambda t: -t[0]) if not p.is_empty]
    vertices = sum(len(line) // 2 for line in lines)
    return DistrictOutlines(lines, tuple(labels), tolerance, vertices)


def district_outlines(gdf: gpd.GeoDataFrame, code_column: str, district_column: str | None,
                      name_column: str | None = None) -> DistrictOutlines | None:
    """`compute_outlines`, remembered by a cheap content key (`layer_key`): a warm rerun does not dissolve again."""
    if not district_column or district_column not in gdf.columns:
        return None
    return _MEMO.get(layer_key(gdf, code_column, district_column, name_column),
                     lambda: compute_outlines(gdf, district_column, name_column))


def clear_memo() -> None:
    """Forget remembered outlines (for tests and benchmarks)."""
    _MEMO.clear()
