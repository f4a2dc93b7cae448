"""Files read once per version: the command line keeps what `read_boundaries` and `read_table` returned as Parquet.

Reading the national LSOA GeoPackage (32,844 polygons) costs ~0.8 s of CPU each run (GDAL, the CRS checks, the
repair of the one invalid polygon) and the IoD table ~0.6 s (every cell read as text). A run of `python -m geo
map` on files it has read before reads its own Parquet instead (~0.1 s each) and repeats the readers' notes word
for word. An entry is keyed by the file's bytes and name, the read options, the reader's own source, the limits
in geo/settings.py and the library versions that repair geometry, so any change to one of them reads the file
afresh; a frame that does not come back from Parquet exactly as it went in is not kept. The file itself is still
checked as the readers check it (a symbolic link or an oversized file is refused before anything else).

Entries live in a `reads/` folder of their own (see `geo.settings.read_cache`), never in the app's static/
folder, which the app serves.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from collections.abc import Callable

import geopandas as gpd
import pandas as pd
import shapely

from geo.load import io as readers
from geo.present.export import write_atomic
from geo.settings import DEFAULTS

FORMAT = 1


def _key(kind: str, data: bytes, display: str, options: tuple) -> str:
    h = hashlib.sha256(f"reads v{FORMAT}|{kind}|{display}|{options}|{gpd.__version__}|{pd.__version__}|"
                       f"{shapely.__version__}|{shapely.geos_version_string}|{sorted(DEFAULTS.items())}|".encode())
    h.update(Path(readers.__file__).read_bytes())  # the reader's own code: a change to it reads afresh
    h.update(data)
    return h.hexdigest()[:32]


def _replay(saved: dict, notes: readers.ReadNotes) -> None:
    notes.format = saved["format"]
    for kind, message in saved["items"]:
        notes.add(kind, message)
    notes.duplicate_columns.update(saved["duplicate_columns"])
    notes.formula_blanks.update(saved["formula_blanks"])


def _cached(kind: str, path: str | Path, options: tuple, cache: Path | None, notes: readers.ReadNotes | None,
            read: Callable[[bytes, str, readers.ReadNotes], pd.DataFrame],
            load: Callable[[Path], pd.DataFrame]) -> pd.DataFrame:
    """The frame `read(data, display, notes)` returns, from `cache` when read before; the notes replayed."""
    notes = notes if notes is not None else readers.ReadNotes()
    data, display = readers._load_bytes(path, None)  # the same checks (a file, no link, within the size limit)
    if cache is None:
        return read(data, display, notes)
    key = _key(kind, data, display, options)
    frame_path, notes_path = Path(cache) / f"{key}.parquet", Path(cache) / f"{key}.notes.json"
    try:
        saved = json.loads(notes_path.read_text(encoding="utf-8"))
        frame = load(frame_path)
        if len(frame) != saved["rows"] or list(map(str, frame.columns)) != saved["columns"]:
            raise ValueError("a damaged entry")
        if saved.get("crs") is not None:
            frame = frame.set_crs(saved["crs"], allow_override=True)  # the same CRS text (content keys use it)
        _replay(saved, notes)
        return frame
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not read before, or an entry that cannot be trusted: read the file
    fresh = readers.ReadNotes()
    frame = read(data, display, fresh)
    _replay({"format": fresh.format, "items": [[n.kind, n.message] for n in fresh.items],
             "duplicate_columns": fresh.duplicate_columns, "formula_blanks": fresh.formula_blanks}, notes)
    if not all(isinstance(c, str) for c in frame.columns):
        return frame  # Parquet keeps text headers only
    try:
        Path(cache).mkdir(parents=True, exist_ok=True)
        tmp = frame_path.with_name(f".{frame_path.name}.tmp")
        frame.to_parquet(tmp)
        if not load(tmp).equals(frame):  # what does not come back as it went in is not kept
            tmp.unlink()
            return frame
        tmp.replace(frame_path)
        crs = getattr(frame, "crs", None)
        saved = {"rows": len(frame), "columns": list(map(str, frame.columns)), "crs": str(crs) if crs else None,
                 "format": fresh.format, "items": [[n.kind, n.message] for n in fresh.items],
                 "duplicate_columns": fresh.duplicate_columns, "formula_blanks": fresh.formula_blanks}
        write_atomic(notes_path, json.dumps(saved, ensure_ascii=False).encode("utf-8"))  # written last: the entry
    except Exception:  # noqa: BLE001 — pyarrow raises many types; a cache not written costs the next run a read
        pass
    return frame


def read_boundaries_cached(path: str | Path, layer: str | None = None, assume_crs: str | None = None,
                           notes: readers.ReadNotes | None = None, cache: Path | None = None) -> gpd.GeoDataFrame:
    """`read_boundaries(path, …)`, found again in `cache` when this file was read with these options before.

    Returns the same frame (columns, dtypes, index, CRS) and adds the same notes; with `cache=None` it reads."""
    return _cached("boundaries", path, (layer, assume_crs), cache, notes,
                   lambda data, display, n: readers.read_boundaries(data, name=display, layer=layer,
                                                                    assume_crs=assume_crs, notes=n),
                   gpd.read_parquet)


def read_table_cached(path: str | Path, sheet: str | None = None, notes: readers.ReadNotes | None = None,
                      cache: Path | None = None) -> pd.DataFrame:
    """`read_table(path, sheet=…)`, found again in `cache` when this file was read before (the same frame and notes)."""
    return _cached("table", path, (sheet,), cache, notes,
                   lambda data, display, n: readers.read_table(data, name=display, sheet=sheet, notes=n),
                   pd.read_parquet)
