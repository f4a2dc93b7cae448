"""Exports users open elsewhere: CSV that a spreadsheet cannot run, RFC 7946 GeoJSON, and atomic file writes.

`csv_bytes` neutralises cells a spreadsheet would run as a formula (CSV/formula injection: text
starting with = + - @, a tab or a carriage return, also after leading spaces) by prefixing a
single quote, the OWASP-recommended form; real numbers, negative ones included, stay numbers. It
is UTF-8 with a byte-order mark so Excel reads accents and symbols correctly.

`geojson_bytes` writes RFC 7946 GeoJSON: WGS84 longitude/latitude, no `crs` member, coordinates
rounded to 6 decimal places (about 0.1 m), polygon rings oriented by the right-hand rule
(exteriors counter-clockwise, holes clockwise).

`csv_zip_bytes` is what the app offers as a data download: a zip of the CSV (readable, unique headers) and an
`about.txt` saying where the numbers come from (source, release, licence, the Crown copyright line, the date it
was made and what each column is), so the provenance travels with the file without a line in the CSV that a
reader would trip on. The command line's CSV outputs stay plain tables (`csv_bytes`).

`write_atomic` writes a file under a temporary name in the same folder and renames it into place
only when every byte is written, flushed and checked, so a full disk or a crash never leaves a
partial file under the real name.
"""

from __future__ import annotations

import errno
import io
import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import AtlasError

GEOJSON_DECIMALS = 6
_FORMULA_START = re.compile(r"^[\t\r]|^[ \u00a0]*[=+\-@\uff1d\uff0b\uff0d\uff20]")
_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


class DiskFull(AtlasError):
    """Writing failed because the disk (or quota) is full."""


def neutralise_cell(value: object) -> object:
    """A text cell a spreadsheet would run as a formula, made inert with a leading quote; anything else as is."""
    if not isinstance(value, str) or not _FORMULA_START.match(value):
        return value
    if _PLAIN_NUMBER.match(value.strip()):  # '-12.5' is a number, not a formula
        return value
    return "'" + value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    """The frame with formula-like text cells and headers neutralised (numeric columns untouched)."""
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series) \
                or pd.api.types.is_datetime64_any_dtype(series):
            continue
        out[col] = series.map(neutralise_cell, na_action="ignore")
    out.columns = [neutralise_cell(str(c)) for c in out.columns]
    return out


def csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV for spreadsheets: formula-like text neutralised, numbers kept, UTF-8 with BOM, CRLF, no index."""
    frame = df.drop(columns=[df.geometry.name]) if isinstance(df, gpd.GeoDataFrame) else df
    # CRLF (RFC 4180) also makes the writer quote a cell holding a lone carriage return.
    return ("\ufeff" + safe_frame(frame).to_csv(index=False, lineterminator="\r\n")).encode("utf-8")


LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
OGL_LINE = "Contains public sector information licensed under the Open Government Licence v3.0."


def crown_copyright(year: int) -> str:
    """The Crown copyright line of OGL data, for the year the data was published."""
    return f"\u00a9 Crown copyright and database right {int(year)}"


def about_text(columns: Mapping[str, str], *, title: str, source: str, release: str, year: int | None = None,
               made: date | None = None, notes: tuple[str, ...] = ()) -> str:
    """The `about.txt` of a download: what it is, source, release, licence and Crown copyright, date made, columns.

    `columns` maps each header as written in the CSV to what it holds (its machine name, or a sentence).
    `year` is the Crown copyright year (default: the year of `made`). Plain text, CRLF line ends.
    """
    made = made or date.today()
    lines = [title, "=" * len(title), "",
             f"Source: {source}", f"Release: {release}",
             f"Licence: {LICENCE} ({LICENCE_URL})", OGL_LINE, crown_copyright(year or made.year),
             f"Made: {made.isoformat()} by the Neighbourhood Renewal Atlas", ""]
    lines += [*notes, ""] if notes else []
    lines += ["Columns:"] + [f"- {h}: {what}" for h, what in columns.items()]
    return "\r\n".join(lines) + "\r\n"


def csv_zip_bytes(df: pd.DataFrame, *, name: str, title: str, source: str, release: str, year: int | None = None,
                  made: date | None = None, describe: Mapping[str, str] | None = None,
                  notes: tuple[str, ...] = ()) -> bytes:
    """A data download: a zip of `<name>.csv` and `about.txt`.

    The CSV has readable headers ("District code", not `district_code`: geo.present.numbers.unique_headers, unique
    and the same for the same columns), numbers kept as numbers, formula-like text neutralised (`csv_bytes`).
    `about.txt` gives the source, release, licence (OGL v3.0), the Crown copyright line (`year`: the data's year),
    the date made and each column: `describe` (machine name → meaning; default: its machine name).
    """
    from geo.present.numbers import unique_headers

    frame = df.drop(columns=[df.geometry.name]) if isinstance(df, gpd.GeoDataFrame) else df
    headers = unique_headers(list(frame.columns))
    meaning = dict(describe or {})
    columns = {h: (f"{meaning[str(c)]} (column {c})" if str(c) in meaning else f"column {c}")
               for h, c in zip(headers, frame.columns)}
    readable = pd.DataFrame(frame).copy()
    readable.columns = headers
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._") or "data"
    stem = stem[:-4] if stem.lower().endswith(".csv") else stem
    buffer = io.BytesIO()
    stamp = (made or date.today()).timetuple()[:3] + (0, 0, 0)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in ((f"{stem}.csv", csv_bytes(readable)),
                             ("about.txt", about_text(columns, title=title, source=source, release=release, year=year,
                                                      made=made, notes=notes).encode("utf-8"))):
            info = zipfile.ZipInfo(member, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buffer.getvalue()


def _round_and_orient(geoms: np.ndarray) -> np.ndarray:
    rounded = shapely.transform(geoms, lambda xy: np.round(xy, GEOJSON_DECIMALS))
    return shapely.orient_polygons(rounded, exterior_cw=False)  # RFC 7946 §3.1.6: right-hand rule


def geojson_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    """RFC 7946 GeoJSON of a layer: lon/lat WGS84, no crs member, 6 decimals, right-hand-rule rings."""
    if gdf.crs is None:
        raise AtlasError("These areas have no coordinate system, so they cannot be exported as GeoJSON.",
                         "Set the coordinate system of the boundary file and try again.")
    wgs84 = gdf.to_crs(4326) if gdf.crs.to_epsg() != 4326 else gdf
    geoms = _round_and_orient(np.asarray(wgs84.geometry.values, dtype=object))
    attrs = pd.DataFrame(wgs84.drop(columns=[wgs84.geometry.name]))
    attrs.columns = [str(c) for c in attrs.columns]
    records = json.loads(attrs.to_json(orient="records", date_format="iso", double_precision=15,
                                       force_ascii=False, default_handler=str)) if len(attrs.columns) else \
        [{} for _ in range(len(attrs))]
    features = []
    for props, geom in zip(records, geoms):
        geometry = None if geom is None or shapely.is_empty(geom) else json.loads(shapely.to_geojson(geom))
        features.append({"type": "Feature", "properties": props, "geometry": geometry})
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def write_atomic(path: str | os.PathLike, data: bytes, chunk: int = 1 << 20) -> Path:
    """Write `data` to `path` via a temporary name in the same folder; rename only when complete and verified.

    A full disk (ENOSPC, EDQUOT) is a DiskFull error naming the disk space and the folder; whatever
    went wrong, the temporary file is removed and an existing file at `path` is left as it was.
    """
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            for start in range(0, len(data), chunk):
                fh.write(data[start:start + chunk])
            fh.flush()
            os.fsync(fh.fileno())
        if os.path.getsize(tmp) != len(data):
            raise OSError(errno.EIO, f"wrote {os.path.getsize(tmp)} of {len(data)} bytes")
        # mkstemp makes the file private (0600): give it the mode the file had, else the usual 0644.
        os.chmod(tmp, stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644)
        os.replace(tmp, path)
        return path
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise DiskFull(f"Not enough disk space to write {path.name} in {folder} ({len(data):,} bytes needed).",
                           "Free some disk space (or choose another folder) and try again; nothing was written.") \
                from exc
        raise AtlasError(f"Could not write {path.name} in {folder}: {exc.strerror or exc}.",
                         "Check the folder exists and is writable, then try again; nothing was written.") from exc
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
