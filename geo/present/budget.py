"""A byte budget for small maps: simplify the layer (the coverage way, so neighbours stay gap-free) until the
map it makes fits, else refuse naming the figure. Pure: a layer in, a layer and notes out; nothing drawn.

Small layers are drawn as SVG from GeoJSON inside the page, at full detail: one polygon of 200,000 vertices
among three areas makes a 4 MB page. `fit_to_budget` is called on the layer *before* the map is built (by
`python -m geo map`, `geo.present.render.render_view` and the app's map); `check_map_bytes` is the second
line, on the page actually written.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.errors import FileTooLarge
from geo.load.io import Note

MAX_MAP_BYTES = 1_500_000  # any map of at most MAX_AREAS areas the app or the command line writes
MAX_AREAS = 5_000
BASE_BYTES = 200_000  # the page without its areas: Leaflet inlined, styles, script (measured: ~175 kB)
BYTES_PER_VERTEX = 20  # "[-1.50000,53.80000]," at 5 decimals (measured: 19.7)
BYTES_PER_AREA = 400  # properties, class and tooltip values of one area
TOLERANCES_M = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)
BNG = 27700


def estimate_bytes(layer: gpd.GeoDataFrame) -> int:
    """The size of the map page a layer makes, estimated from its vertices and areas."""
    vertices = int(shapely.get_num_coordinates(layer.geometry.values).sum()) if len(layer) else 0
    return BASE_BYTES + BYTES_PER_AREA * len(layer) + BYTES_PER_VERTEX * vertices


def _polygonal(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=object)
    for i, geom in enumerate(out):
        if geom is None or geom.is_empty:
            continue
        if geom.geom_type not in ("Polygon", "MultiPolygon"):
            parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
            out[i] = shapely.union_all(parts) if parts else None
    return out


def simplified(layer: gpd.GeoDataFrame, tolerance_m: float) -> gpd.GeoDataFrame:
    """The layer with its polygons simplified together (shapely.coverage_simplify in BNG metres)."""
    geoms = layer.geometry
    projected = geoms.to_crs(BNG) if geoms.crs is not None and geoms.crs.to_epsg() != BNG else geoms
    values = np.array(projected.values, dtype=object)
    present = np.array([g is not None and not g.is_empty for g in values])
    work = _polygonal(shapely.make_valid(values[present]))
    values[present] = shapely.coverage_simplify(work, tolerance_m, simplify_boundary=True)
    out = layer.copy()
    series = gpd.GeoSeries(values, index=layer.index, crs=projected.crs)
    out[layer.geometry.name] = series.to_crs(geoms.crs) if geoms.crs is not None else series
    return out


def fit_to_budget(layer: gpd.GeoDataFrame, budget: int = MAX_MAP_BYTES, max_areas: int = MAX_AREAS,
                  what: str = "the map") -> tuple[gpd.GeoDataFrame, list[Note]]:
    """The layer as it should be drawn so that `what` fits in `budget` bytes, and what was done (as notes).

    Layers of more than `max_areas` areas are returned as they are (big maps are drawn from prepared,
    simplified geometry). Raises FileTooLarge, naming the figure, when even the coarsest simplification
    does not fit.
    """
    if len(layer) > max_areas or len(layer) == 0:
        return layer, []
    before = estimate_bytes(layer)
    if before <= budget:
        return layer, []
    vertices = int(shapely.get_num_coordinates(layer.geometry.values).sum())
    for tolerance in TOLERANCES_M:
        candidate = simplified(layer, tolerance)
        after = estimate_bytes(candidate)
        if after <= budget:
            kept = int(shapely.get_num_coordinates(candidate.geometry.values).sum())
            return candidate, [Note("simplified-for-size", (
                f"Simplified the {len(layer):,} areas' shapes (together, so neighbours keep shared borders) to "
                f"within {tolerance:g} m: {vertices:,} → {kept:,} vertices, so {what} is about "
                f"{after / 1e6:.1f} MB instead of {before / 1e6:.1f} MB (the limit is {budget / 1e6:.1f} MB)."))]
    raise FileTooLarge(f"{what[:1].upper() + what[1:]} would be about {estimate_bytes(candidate) / 1e6:.1f} MB even "
                       f"with the shapes simplified to {TOLERANCES_M[-1]:,} m; the limit is {budget / 1e6:.1f} MB.",
                       "Map fewer areas (clip the boundaries), or simplify them first (e.g. mapshaper).")


def check_map_bytes(data: bytes, areas: int, budget: int = MAX_MAP_BYTES, max_areas: int = MAX_AREAS,
                    what: str = "the map") -> None:
    """Refuse a page of at most `max_areas` areas that is over `budget` bytes, naming the figure."""
    if areas <= max_areas and len(data) > budget:
        raise FileTooLarge(f"{what[:1].upper() + what[1:]} is {len(data) / 1e6:.1f} MB; the limit for a map of "
                           f"{areas:,} areas is {budget / 1e6:.1f} MB.",
                           "Map fewer areas (clip the boundaries), or simplify them first (e.g. mapshaper).")
