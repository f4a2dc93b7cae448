"""Boundary files read once per version: the command line keeps what `read_boundaries` returned as GeoParquet.

Reading the national LSOA GeoPackage (32,844 polygons) costs ~0.6 s each run: GDAL, the CRS checks and the
repair of the one invalid polygon. A run of `python -m geo map` on a file it has read before reads its own
GeoParquet instead (~0.1 s) and repeats the reader's notes word for word. The entry is keyed by the file's
bytes and name, the read options, the reader's own source and the limits in geo/settings.py, and the library
versions that repair geometry, so any change to one of them reads the file afresh. The file itself is still
checked as `read_boundaries` checks it (a symbolic link or an oversized file is refused before anything else).

Entries live in a `reads/` folder of their own (see `geo.settings.read_cache`), never in the app's static/
folder, which the app serves.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import geopandas as gpd
import shapely

from geo.load import io as readers
from geo.present.export import write_atomic
from geo.settings import DEFAULTS

FORMAT = 1


def _key(data: bytes, display: str, layer: str | None, assume_crs: str | None) -> str:
    h = hashlib.sha256(f"reads v{FORMAT}|{display}|{layer}|{assume_crs}|{gpd.__version__}|{shapely.__version__}|"
                       f"{shapely.geos_version_string}|{sorted(DEFAULTS.items())}|".encode())
    h.update(Path(readers.__file__).read_bytes())  # the reader's own code: a change to it reads afresh
    h.update(data)
    return h.hexdigest()[:32]


def read_boundaries_cached(path: str | Path, layer: str | None = None, assume_crs: str | None = None,
                           notes: readers.ReadNotes | None = None, cache: Path | None = None) -> gpd.GeoDataFrame:
    """`read_boundaries(path, …)`, found again in `cache` when this file was read with these options before.

    Returns the same frame (columns, dtypes, index, CRS) and adds the same notes; with `cache=None` it reads."""
    notes = notes if notes is not None else readers.ReadNotes()
    if cache is None:
        return readers.read_boundaries(path, layer=layer, assume_crs=assume_crs, notes=notes)
    data, display = readers._load_bytes(path, None)  # the same checks (a file, no link, within the size limit)
    key = _key(data, display, layer, assume_crs)
    frame_path, notes_path = Path(cache) / f"{key}.parquet", Path(cache) / f"{key}.notes.json"
    try:
        saved = json.loads(notes_path.read_text(encoding="utf-8"))
        gdf = gpd.read_parquet(frame_path)
        if len(gdf) != saved["rows"] or list(map(str, gdf.columns)) != saved["columns"]:
            raise ValueError("a damaged entry")
        if saved["crs"] is not None:
            gdf = gdf.set_crs(saved["crs"], allow_override=True)  # as read: the same CRS text (content keys use it)
        notes.format = saved["format"]
        for kind, message in saved["items"]:
            notes.add(kind, message)
        notes.duplicate_columns.update(saved["duplicate_columns"])
        notes.formula_blanks.update(saved["formula_blanks"])
        return gdf
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not read before, or an entry that cannot be trusted: read the file
    fresh = readers.ReadNotes()
    gdf = readers.read_boundaries(data, name=display, layer=layer, assume_crs=assume_crs, notes=fresh)
    notes.format = fresh.format
    for item in fresh.items:
        notes.add(item.kind, item.message)
    notes.duplicate_columns.update(fresh.duplicate_columns)
    notes.formula_blanks.update(fresh.formula_blanks)
    try:
        Path(cache).mkdir(parents=True, exist_ok=True)
        tmp = frame_path.with_name(f".{frame_path.name}.tmp")
        gdf.to_parquet(tmp)
        tmp.replace(frame_path)
        saved = {"rows": len(gdf), "columns": list(map(str, gdf.columns)), "crs": str(gdf.crs) if gdf.crs else None,
                 "format": fresh.format, "items": [[n.kind, n.message] for n in fresh.items],
                 "duplicate_columns": fresh.duplicate_columns, "formula_blanks": fresh.formula_blanks}
        write_atomic(notes_path, json.dumps(saved, ensure_ascii=False).encode("utf-8"))  # written last: the entry
    except (OSError, ValueError):
        pass  # a cache that cannot be written costs the next run a read, nothing else
    return gdf
