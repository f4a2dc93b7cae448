"""Geometry prepared once for big maps: shared-border simplification, quantised Web Mercator, cached on disk.

A national LSOA map is 32,844 polygons. Sending them as GeoJSON inside the page (what folium does)
costs tens of MB and seconds of parsing on every script run. Here the geometry is prepared once per
layer, keyed by its content, and written as a compact file the browser fetches once and keeps:

* ``shapely.coverage_simplify`` in British National Grid metres, so neighbours still share their
  borders exactly (plain ``simplify`` opens thousands of slivers between them);
* coordinates in Web Mercator metres rounded to a quantum and delta-encoded as integers, so the
  browser only multiplies and adds to draw (no trigonometry); shared vertices round to the same
  integers, so quantising cannot open gaps either;
* a small binary file, gzipped once when it is prepared (`encode_detail` has the layout): the deltas
  zigzagged and split into byte planes, which gzip packs 30% tighter than the same integers as JSON
  text; any server sends it as stored, compressed, and the browser inflates it (DecompressionStream);
* two levels of detail: a coarse one for the national view and, when it is worth it, a finer one the
  browser fetches only when zoomed in.

The map then carries only the class of each area and the values shown in its tooltip.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.memo import Memo
from geo.present.export import write_atomic

FORMAT_VERSION = 2  # 2: binary, gzipped (1: JSON)
MAGIC = b"ATG2"
BNG = 27700
MERCATOR = 3857


@dataclass(frozen=True)
class Detail:
    """One level of detail: drawn from zoom `min_zoom` upwards; `file` is its JSON in the store."""

    min_zoom: float
    tolerance_m: float
    quantum_m: float
    file: str
    vertices: int
    nbytes: int


@dataclass(frozen=True)
class PreparedGeometry:
    """A layer's geometry ready for the browser: content key, the levels of detail, and the bounds."""

    key: str
    features: int
    details: tuple[Detail, ...]
    bounds: tuple[float, float, float, float]  # lon/lat: minx, miny, maxx, maxy
    store: Path | None  # None: prepared in memory (`files`), for a page that carries its geometry inline
    files: dict[str, bytes] | None = None

    def path(self, detail: Detail) -> Path:
        if self.store is None:
            raise ValueError("This geometry was prepared in memory: read it with .read(detail).")
        return self.store / detail.file

    def read(self, detail: Detail) -> bytes:
        """One level of detail's JSON bytes, from memory or the store (reading only)."""
        return self.files[detail.file] if self.files is not None else self.path(detail).read_bytes()


def _plan(vertices: int, features: int) -> list[tuple[float, float, float]]:
    """(min zoom, tolerance m, quantum m) for each level of detail worth sending."""
    if features <= 0:
        return [(0, 0, 1)]
    # Coarse: well under a pixel up to zoom 10 (national and regional views); fine: under a pixel at zoom 15.
    # A 4 m quantum keeps every polygon of the real LSOA coverage valid; 8 m and 16 m do not (snapping folds).
    return [(0, 60.0, 4.0), (11, 5.0, 1.0)]


def _polygonal(values: np.ndarray) -> np.ndarray:
    """Keep only the polygons of each geometry (make_valid can return collections with stray lines)."""
    out = np.array(values, dtype=object)
    kinds = shapely.get_type_id(out)
    for i in np.flatnonzero((kinds != 3) & (kinds != 6)):  # not Polygon / MultiPolygon
        polys = [p for p in shapely.get_parts(out[i]) if p.geom_type in ("Polygon", "MultiPolygon")] if out[i] else []
        out[i] = shapely.union_all(polys) if polys else shapely.Polygon()
    return out


def simplify_coverage(geoms: gpd.GeoSeries, tolerance_m: float) -> gpd.GeoSeries:
    """Simplify a polygon coverage in BNG metres keeping shared borders shared (no gaps, no overlaps)."""
    projected = geoms.to_crs(BNG) if geoms.crs is not None and geoms.crs.to_epsg() != BNG else geoms
    values = _polygonal(shapely.make_valid(projected.values))
    if tolerance_m > 0:
        values = shapely.coverage_simplify(values, tolerance_m, simplify_boundary=True)
    return gpd.GeoSeries(values, index=geoms.index, crs=projected.crs)


# The geometry part of content keys, memoised by the identity of the geometry objects: a warm rerun of the app
# maps the same cached layer again, and hashing its WKB (0.1 s for 32,844 LSOAs) each time is what it would spend.
# Shapely geometries are immutable, and each entry holds its own references to the objects it was computed from
# (a shallow copy of the array), so no id in an entry can be reused by another geometry while it lives: the same
# ids mean the same geometries, and any changed geometry is a new object, hence a new id and a fresh hash.
_GEOMETRY_HASHES: OrderedDict[tuple[str, int, bytes], tuple[np.ndarray, "hashlib._Hash"]] = OrderedDict()
_GEOMETRY_HASHES_MAX = 8


def _geometry_hash(values: np.ndarray, crs: str) -> "hashlib._Hash":
    """sha256 of the format, CRS and the geometries' WKB (a copy to update further), memoised by object identity."""
    objects = np.array(values, dtype=object, copy=True)  # our own references: the memo keeps these alive
    ids = np.fromiter(map(id, objects), dtype=np.int64, count=len(objects))
    memo = (crs, len(objects), hashlib.sha256(ids.tobytes()).digest())
    hit = _GEOMETRY_HASHES.get(memo)
    if hit is not None and np.array_equal(np.fromiter(map(id, hit[0]), dtype=np.int64, count=len(hit[0])), ids):
        _GEOMETRY_HASHES.move_to_end(memo)
        return hit[1].copy()
    h = hashlib.sha256(f"v{FORMAT_VERSION}|{crs}|".encode())
    for wkb in shapely.to_wkb(objects, output_dimension=2):
        h.update(wkb or b"\0")
    _GEOMETRY_HASHES[memo] = (objects, h.copy())
    while len(_GEOMETRY_HASHES) > _GEOMETRY_HASHES_MAX:
        _GEOMETRY_HASHES.popitem(last=False)
    return h


_COLUMN_TEXTS: Memo[tuple[object, bytes]] = Memo(32)  # (id of an Arrow array, sep) → (the array, its text)


def column_text(values: pd.Series, sep: str = "\x1f") -> bytes:
    """`sep`.join of a column's values as text, encoded: what content_key hashes of the codes and names.

    Memoised by the identity of the column's Arrow array when it has one (the packs' strings; pandas keeps the
    same array when columns are selected), as the geometry's hash is: Arrow arrays are immutable, and the memo
    holds a reference to each, so an id in it is never another array's. Values, not memory layout, are hashed:
    the command line and the app name the same layer's files alike."""
    def make(arrow: object = None) -> tuple[object, bytes]:
        return arrow, sep.join(map(str, values.tolist())).encode()  # tolist: 7× faster than iterating; NaN: "nan"

    arrow = getattr(values.array, "_pa_array", None)
    if arrow is None:
        return make()[1]
    return _COLUMN_TEXTS.get((id(arrow), sep), lambda: make(arrow))[1]


def geometry_digest(values: np.ndarray, crs: str) -> bytes:
    """The geometries' share of content_key (memoised by the objects' identity), as bytes."""
    return _geometry_hash(values, crs).digest()


def content_key(gdf: gpd.GeoDataFrame, code_column: str, name_column: str | None) -> str:
    """A hash of the geometry, codes, names and the format: the same layer always maps to the same files.

    The geometry's share is memoised by the identity of its (immutable) shapely objects, so mapping the same
    layer again costs a pass over the object ids, not a hash of its WKB; the key is the same either way."""
    h = _geometry_hash(gdf.geometry.values, str(gdf.crs))
    h.update(column_text(gdf[code_column]))
    if name_column:
        h.update(column_text(gdf[name_column], "\x1e"))
    return h.hexdigest()[:24]


def _encode_rings(geoms: np.ndarray, quantum: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(polygons of each feature, rings of each polygon, points of each ring, the points' deltas as an (N, 2)
    int64 array): what `encode_detail` writes.

    Vectorised: every coordinate is quantised and differenced in one pass (the running point carries
    over from ring to ring and feature to feature, as the browser's decoder reads them). Rings lose their
    closing point and repeated points; a ring left with under 3 points is dropped, and so is a polygon
    whose exterior is.
    """
    geoms = np.asarray(geoms, dtype=object)
    polys, poly_feature = shapely.get_parts(geoms, return_index=True)
    ok = (shapely.get_type_id(polys) == 3) & ~shapely.is_empty(polys)
    polys, poly_feature = polys[ok], poly_feature[ok]
    rings, ring_poly = shapely.get_rings(polys, return_index=True)
    coords, ring_of = shapely.get_coordinates(rings, return_index=True)
    n_rings = len(rings)
    if n_rings == 0:
        none = np.zeros(0, dtype=np.int64)
        return np.zeros(len(geoms), dtype=np.int64), none, none, np.zeros((0, 2), dtype=np.int64)
    last_of_ring = np.r_[ring_of[1:] != ring_of[:-1], True]  # the closing repeat of each ring
    q = np.round(coords / quantum).astype(np.int64)
    same_as_previous = np.r_[False, (ring_of[1:] == ring_of[:-1]) & np.all(q[1:] == q[:-1], axis=1)]
    keep = ~last_of_ring & ~same_as_previous
    sizes = np.bincount(ring_of[keep], minlength=n_rings)
    first_ring = np.r_[True, ring_poly[1:] != ring_poly[:-1]]
    exterior_ok = np.zeros(len(polys), dtype=bool)
    exterior_ok[ring_poly[first_ring]] = sizes[first_ring] >= 3
    ring_ok = (sizes >= 3) & exterior_ok[ring_poly]
    keep &= ring_ok[ring_of]
    kept_rings = np.flatnonzero(ring_ok)
    kept_polys, rings_of = np.unique(ring_poly[kept_rings], return_counts=True)  # rings come in polygon order
    polys_of = np.bincount(poly_feature[kept_polys], minlength=len(geoms))
    deltas = np.diff(q[keep], axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    return polys_of, rings_of, sizes[kept_rings], deltas


def _planes(values: np.ndarray) -> bytes:
    """int32s zigzagged (small magnitudes → small unsigned) and split into 4 byte planes, low byte first."""
    v = values.astype(np.int64)
    z = ((v << 1) ^ (v >> 63)).astype("<u4")
    return z.view(np.uint8).reshape(-1, 4).T.tobytes()


def _unplanes(data: bytes, n: int) -> np.ndarray:
    z = np.frombuffer(data, dtype=np.uint8, count=4 * n).reshape(4, n).T.copy().view("<u4").ravel().astype(np.int64)
    return (z >> 1) ^ -(z & 1)


def encode_detail(gdf: gpd.GeoDataFrame, tolerance_m: float, quantum_m: float,
                  codes: list[str] | None = None, names: list[str] | None = None) -> tuple[bytes, int]:
    """One level of detail as stored (gzipped) bytes, plus its vertex count: Web Mercator integers in
    `quantum_m` units.

    Layout before gzip, little-endian: b"ATG2"; u32 header length; the header (UTF-8 JSON: v, q, n, polys,
    rings, points, and the codes and names on the first level), padded with spaces to 4 bytes; u32 polygons
    of each feature (n); u32 rings of each polygon (polys; the first is its exterior); u32 points of each ring
    (rings); the points' x deltas, then their y deltas, as `_planes`. Deltas run on from ring to ring and
    feature to feature; rings are not closed (the last point is not the first again)."""
    simplified = simplify_coverage(gdf.geometry, tolerance_m)
    mercator = simplified.to_crs(MERCATOR).values
    polys_of, rings_of, points_of, deltas = _encode_rings(mercator, quantum_m)
    vertices = len(deltas)
    head: dict = {"v": FORMAT_VERSION, "q": quantum_m, "n": len(gdf), "polys": len(rings_of),
                  "rings": len(points_of), "points": vertices}
    if codes is not None:
        head["codes"] = codes
    if names is not None:
        head["names"] = names
    header = json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode()
    header += b" " * (-len(header) % 4)
    counts = [np.asarray(c, dtype="<u4").tobytes() for c in (polys_of, rings_of, points_of)]
    body = b"".join([MAGIC, len(header).to_bytes(4, "little"), header, *counts,
                     _planes(deltas[:, 0]), _planes(deltas[:, 1])])
    return gzip.compress(body, compresslevel=9, mtime=0), vertices


def read_detail(data: bytes) -> tuple[dict, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(header, polygons of each feature, rings of each polygon, points of each ring, absolute quantised points as
    an (N, 2) array) of a stored level (gzipped, or already inflated by the transport)."""
    raw = gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data
    if raw[:4] != MAGIC:
        raise ValueError("not an atlas geometry file (format 2)")
    size = int.from_bytes(raw[4:8], "little")
    head = json.loads(raw[8:8 + size])
    at = 8 + size
    counts = []
    for count in (head["n"], head["polys"], head["rings"]):
        counts.append(np.frombuffer(raw, dtype="<u4", count=count, offset=at).astype(np.int64))
        at += 4 * count
    points = head["points"]
    xy = np.column_stack([_unplanes(raw[at:at + 4 * points], points),
                          _unplanes(raw[at + 4 * points:at + 8 * points], points)])
    return head, counts[0], counts[1], counts[2], np.cumsum(xy, axis=0)


def prepare_geometry(gdf: gpd.GeoDataFrame, code_column: str, name_column: str | None, store: Path | None,
                     escape=str) -> PreparedGeometry:
    """Prepare (or find already prepared) the browser geometry of `gdf`, in row order, under `store`.

    Codes and names are passed through `escape` (the map's HTML escaping) before they are written.
    Files are named by content, written atomically and never rewritten, so a browser may cache them.
    With `store=None` the files are kept in memory and nothing is written (an offline page inlines them).
    """
    files: dict[str, bytes] | None = None
    if store is None:
        files = {}
    else:
        store = Path(store)
        store.mkdir(parents=True, exist_ok=True)
    key = content_key(gdf, code_column, name_column)
    meta_path = store / f"{key}.meta.json" if store is not None else None
    if meta_path is not None and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            details = tuple(Detail(**d) for d in meta["details"])
            if all((store / d.file).is_file() and (store / d.file).stat().st_size == d.nbytes for d in details):
                return PreparedGeometry(key, meta["features"], details, tuple(meta["bounds"]), store)
        except (ValueError, KeyError, TypeError, OSError):
            pass  # a damaged entry is rebuilt below
    wgs = gdf.geometry.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf.geometry
    bounds = tuple(float(b) for b in wgs.total_bounds) if len(gdf) else (-6.0, 49.8, 2.0, 55.9)
    codes = [escape(c) for c in gdf[code_column].tolist()]
    names = [escape(n) for n in (gdf[name_column] if name_column else gdf[code_column]).tolist()]
    details: list[Detail] = []
    source_vertices = int(shapely.get_num_coordinates(gdf.geometry.values).sum())
    for i, (min_zoom, tol, quantum) in enumerate(_plan(source_vertices, len(gdf))):
        if details and source_vertices < 1.15 * details[-1].vertices:
            break  # the source is hardly finer than the coarse level: that one is drawn at every zoom
        data, vertices = encode_detail(gdf, tol, quantum, codes if i == 0 else None, names if i == 0 else None)
        if details and vertices < 1.15 * details[-1].vertices:
            break  # simplified, the source is hardly finer than the coarse level after all
        name = f"{key}-{i}.bin"
        if files is not None:
            files[name] = data
        else:
            write_atomic(store / name, data)
        details.append(Detail(min_zoom, tol, quantum, name, vertices, len(data)))
    if meta_path is not None:
        meta = {"features": len(gdf), "bounds": list(bounds), "details": [d.__dict__ for d in details]}
        write_atomic(meta_path, json.dumps(meta).encode())
    return PreparedGeometry(key, len(gdf), tuple(details), bounds, store, files)


def decode_detail(data: bytes) -> gpd.GeoSeries:
    """Rebuild polygons (EPSG:3857) from one level of detail: for tests and checks, the browser's inverse."""
    head, polys_of, rings_of, points_of, pts = read_detail(data)
    coords = pts * head["q"]
    ends = np.cumsum(points_of)
    starts = ends - points_of
    geoms, poly, ring = [], 0, 0
    for count in polys_of.tolist():
        made = []
        for _ in range(count):
            rings = [coords[starts[r]:ends[r]] for r in range(ring, ring + int(rings_of[poly]))]
            ring += int(rings_of[poly])
            poly += 1
            made.append(shapely.Polygon(rings[0], rings[1:]))
        geoms.append(shapely.MultiPolygon(made) if len(made) > 1 else (made[0] if made else shapely.Polygon()))
    return gpd.GeoSeries(geoms, crs=MERCATOR)


def coverage_problems(geoms: gpd.GeoSeries, gap_width: float = 0.0) -> int:
    """How many polygons have borders that do not match their neighbours' (overlaps, or gaps narrower
    than `gap_width` in the series' units): 0 for a clean coverage."""
    edges = shapely.coverage_invalid_edges(np.asarray(geoms.values), gap_width=gap_width)
    return int(np.count_nonzero(~shapely.is_empty(edges) & ~pd.isna(edges)))
