"""Safe readers for boundary layers and indicator tables.

The file type is decided here, from the bytes, before any parser sees the file; GDAL is only
ever handed a file we have already identified as a GeoPackage or an ESRI Shapefile, under a
name we chose, so it never picks a driver (VRT, KML, CSV …) by itself. GeoJSON and GeoParquet
are parsed without GDAL at all.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Union

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from geo.errors import CRSProblem, FileTooLarge, UnsupportedFile
from geo.settings import setting

Source = Union[str, os.PathLike, bytes]

BOUNDARY_FORMATS = ("geojson", "gpkg", "shapefile-zip", "geoparquet")
TABLE_FORMATS = ("csv", "xlsx")
_GPKG_APPLICATION_ID = 0x47504B47  # "GPKG"


@dataclass(frozen=True)
class Note:
    """One thing a reader, repair, conversion or join did: a machine-readable `kind` and words a user can read."""

    kind: str
    message: str

    def to_dict(self) -> dict:
        return {"kind": self.kind, "message": self.message}


@dataclass
class ReadNotes:
    """What a reader noticed and did: `items` (kind + message); `messages` the same words, as plain strings.

    `duplicate_columns` maps a header that appears more than once to the names its copies were given;
    `formula_blanks` maps a column to its formula cells that have no saved result (they read as empty).
    """

    format: str = ""
    messages: list[str] = field(default_factory=list)
    items: list[Note] = field(default_factory=list)
    duplicate_columns: dict[str, list[str]] = field(default_factory=dict)
    formula_blanks: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, message: str) -> None:
        self.items.append(Note(kind, message))
        self.messages.append(message)

    def to_list(self) -> list[dict]:
        return [n.to_dict() for n in self.items]


class AmbiguousInput(UnsupportedFile):
    """The file holds several candidates (layers, sheets, Shapefiles) and nothing says which one is meant.

    The app asks (a list to choose from); the command line refuses, naming the candidates and the option.
    """

    def __init__(self, message: str, hint: str, candidates: list[str], option: str) -> None:
        super().__init__(message, hint)
        self.candidates = candidates
        self.option = option


def _ambiguous(display: str, what: str, candidates: list[str], option: str) -> AmbiguousInput:
    shown = ", ".join(f"'{c}'" for c in candidates[:12]) + (" …" if len(candidates) > 12 else "")
    return AmbiguousInput(f"'{display}' holds {len(candidates)} {what}s ({shown}) and none was chosen; the atlas "
                          f"does not pick the first one for you.",
                          f"Choose the {what} (on the command line: {option} NAME; in the app: the {what} list).",
                          candidates, option)


def _load_bytes(source: Source, name: str | None) -> tuple[bytes, str]:
    """Return the content and a display name, refusing anything over the size limit."""
    limit = int(setting("max_file_mb")) * 1024 * 1024
    if isinstance(source, (bytes, bytearray)):
        data = bytes(source)
        display = name or "uploaded file"
    else:
        path = Path(source)
        if not path.is_file():
            raise UnsupportedFile(f"No file at '{path}'.", "Check the path, or pick a file from the list.")
        if path.is_symlink():
            raise UnsupportedFile(f"'{path.name}' is a symbolic link.", "Use the file itself.")
        size = path.stat().st_size
        if size > limit:
            raise FileTooLarge(
                f"'{path.name}' is {size / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB.",
                "Simplify or clip the file, or raise max_file_mb in geo/settings.py.",
            )
        data = path.read_bytes()
        display = name or path.name
    if len(data) > limit:
        raise FileTooLarge(
            f"'{display}' is {len(data) / 1e6:.0f} MB; the limit is {limit / 1e6:.0f} MB.",
            "Simplify or clip the file first.",
        )
    if not data:
        raise UnsupportedFile(f"'{display}' is empty.", "Check that the upload or export finished.")
    return data, display


def sniff_format(data: bytes, name: str = "") -> str:
    """Identify a file from its bytes (its name is only a tie-breaker). Raises UnsupportedFile."""
    head = data[:4096]
    lower = name.lower()
    if head.startswith(b"SQLite format 3\x00"):
        app_id = int.from_bytes(data[68:72], "big") if len(data) >= 72 else 0
        if app_id != _GPKG_APPLICATION_ID:
            raise UnsupportedFile(
                f"'{name}' is an SQLite database but not a GeoPackage.",
                "Export the layer as a GeoPackage (.gpkg), GeoJSON or zipped Shapefile.",
            )
        return "gpkg"
    if head.startswith(b"PAR1"):
        return "geoparquet"
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                names = [n.lower() for n in zf.namelist()]
        except zipfile.BadZipFile as exc:
            raise UnsupportedFile(f"'{name}' is a damaged zip file.", "Re-create the archive.") from exc
        if "[content_types].xml" in names and any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.endswith(".shp") for n in names):
            return "shapefile-zip"
        raise UnsupportedFile(
            f"'{name}' is a zip archive with no Shapefile (.shp) or Excel workbook inside.",
            "Zip the .shp, .shx, .dbf and .prj files of one Shapefile together.",
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnsupportedFile(
            f"'{name}' is an old-style Excel (.xls) or other OLE file.", "Save it as .xlsx or .csv and try again."
        )
    text = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if text.startswith(b"{"):
        return "geojson"
    if text.startswith(b"<"):
        raise UnsupportedFile(
            f"'{name}' is an XML/HTML document (e.g. KML, GML or an OGR VRT), which the atlas does not read.",
            "Convert it to GeoJSON, GeoPackage or a zipped Shapefile.",
        )
    if b"\x00" in head:
        raise UnsupportedFile(f"'{name}' is a binary file of a type the atlas does not read.",
                              "Supported: GeoJSON, GeoPackage, zipped Shapefile, GeoParquet, CSV, XLSX.")
    if lower.endswith((".geojson", ".json")):
        raise UnsupportedFile(f"'{name}' does not start like a GeoJSON document.", "Check the file is GeoJSON.")
    return "csv"


# ---------------------------------------------------------------- boundaries


def list_layers(source: Source, name: str | None = None) -> list[tuple[str, str]]:
    """Layers of a GeoPackage as (name, geometry type), the Shapefiles of a zip holding several (their member path
    without .shp); other formats have one layer. A file with several needs one named (`layer=`) to be read."""
    import pyogrio

    data, display = _load_bytes(source, name)
    fmt = sniff_format(data, display)
    if fmt == "shapefile-zip":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                shps = [i.filename[:-4] for i in check_zip(zf, display) if i.filename.lower().endswith(".shp")]
        except zipfile.BadZipFile as exc:
            raise UnsupportedFile(f"'{display}' is a damaged zip file: {exc}.", "Re-create the archive.") from exc
        return [(s, "Shapefile") for s in shps] if len(shps) > 1 else [(Path(display).stem, "")]
    if fmt != "gpkg":
        return [(Path(display).stem, "")]
    with _TempFile(data, ".gpkg") as path:
        return [(str(n), str(t) if t is not None else "") for n, t in pyogrio.list_layers(path)]


class _TempFile:
    """A private temporary copy of some bytes under a name and suffix we chose."""

    def __init__(self, data: bytes, suffix: str) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="atlas-")
        self.path = os.path.join(self._dir.name, "input" + suffix)
        with open(self.path, "wb") as fh:
            fh.write(data)

    def __enter__(self) -> str:
        return self.path

    def __exit__(self, *exc: object) -> None:
        self._dir.cleanup()


def read_boundaries(
    source: Source,
    name: str | None = None,
    layer: str | None = None,
    assume_crs: str | None = None,
    notes: ReadNotes | None = None,
) -> gpd.GeoDataFrame:
    """Read a boundary layer (GeoJSON, GeoPackage, zipped Shapefile, GeoParquet) into EPSG:4326.

    The CRS is never guessed: a file without one needs `assume_crs`, and coordinates that do not
    fit the declared CRS (British National Grid metres labelled as WGS84, say) are refused.
    """
    notes = notes if notes is not None else ReadNotes()
    data, display = _load_bytes(source, name)
    fmt = sniff_format(data, display)
    notes.format = fmt
    if fmt not in BOUNDARY_FORMATS:
        raise UnsupportedFile(
            f"'{display}' looks like a {fmt.upper()} table, not a boundary file.",
            "Boundaries must be GeoJSON, GeoPackage, a zipped Shapefile or GeoParquet.",
        )
    if fmt == "geojson":
        gdf = _read_geojson(data, display, notes)
    elif fmt == "geoparquet":
        try:
            gdf = gpd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow raises many types
            raise UnsupportedFile(f"'{display}' could not be read as GeoParquet: {exc}.",
                                  "Check it was written by geopandas/GDAL as GeoParquet.") from exc
    elif fmt == "gpkg":
        gdf = _read_gpkg(data, display, layer, notes)
    else:
        gdf = _read_shapefile_zip(data, display, notes, layer)
    _check_size(gdf, display)
    gdf = _settle_crs(gdf, display, assume_crs, notes)
    return _clean_geometries(gdf, display, notes)


def _has_unclosed_ring(geometry: object) -> bool:
    """Whether a GeoJSON Polygon/MultiPolygon has a ring whose last position is not its first."""
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        return False
    polys = geometry.get("coordinates") or []
    polys = [polys] if geometry["type"] == "Polygon" else polys
    try:
        return any(isinstance(ring, list) and len(ring) > 1 and ring[0] != ring[-1] for poly in polys for ring in poly)
    except TypeError:
        return False


def _read_geojson(data: bytes, display: str, notes: ReadNotes) -> gpd.GeoDataFrame:
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnsupportedFile(f"'{display}' is not valid GeoJSON: {exc}.", "Re-export it as GeoJSON.") from exc
    except RecursionError as exc:
        raise UnsupportedFile(f"'{display}' is nested too deeply to be GeoJSON.", "Re-export it as GeoJSON.") from exc
    if isinstance(doc, dict) and doc.get("type") == "Feature":
        doc = {"type": "FeatureCollection", "features": [doc]}
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise UnsupportedFile(f"'{display}' is JSON but not a GeoJSON FeatureCollection.",
                              "Boundaries must be a FeatureCollection of polygons.")
    if len(doc["features"]) > int(setting("max_features")):
        raise FileTooLarge(f"'{display}' has {len(doc['features']):,} features; the limit is "
                           f"{int(setting('max_features')):,}.", "Clip the file to the area you need.")
    crs = None
    legacy = doc.get("crs")
    if isinstance(legacy, dict):
        crs_name = str((legacy.get("properties") or {}).get("name", ""))
        match = re.search(r"EPSG:{1,2}(\d+)", crs_name)
        if match:
            crs = f"EPSG:{match.group(1)}"
        elif "CRS84" in crs_name:
            crs = "EPSG:4326"
    features, unclosed = [], []
    for feat in doc["features"]:
        if not isinstance(feat, dict):
            continue
        props = feat.get("properties") or {}
        if _has_unclosed_ring(feat.get("geometry")):
            code = next((str(v) for v in (props.values() if isinstance(props, dict) else [])
                         if isinstance(v, str) and re.fullmatch(r"\s*[EWSNK]\d{8}\s*", v)), "")
            unclosed.append(f"feature {len(features) + 1}" + (f" ({code.strip()})" if code else ""))
        features.append({"type": "Feature", "geometry": feat.get("geometry"),
                         "properties": props if isinstance(props, dict) else {}})
    if unclosed:
        notes.add("ring-closed", f"Closed {len(unclosed)} polygon ring(s) whose last point was not their first "
                  f"(the shape is otherwise unchanged): {_name_each(unclosed)}.")
    try:
        gdf = gpd.GeoDataFrame.from_features(features)
    except Exception as exc:
        raise UnsupportedFile(f"'{display}' has a geometry that could not be read: {exc}.",
                              "Repair the file in QGIS (Vector > Geometry tools > Fix geometries).") from exc
    if "geometry" not in gdf:
        gdf = gpd.GeoDataFrame(gdf, geometry=gpd.GeoSeries([None] * len(gdf)))
    # RFC 7946 GeoJSON is WGS84 unless a legacy crs member says otherwise.
    return gdf.set_crs(_known_crs(crs or "EPSG:4326", display), allow_override=True)


def _known_crs(crs: str, display: str) -> CRS:
    """The CRS for a code a file or the user gave, or CRSProblem naming the code."""
    try:
        return CRS.from_user_input(crs)
    except Exception as exc:  # pyproj.exceptions.CRSError and friends
        raise CRSProblem(f"'{display}' names a coordinate system the atlas does not know ({crs}).",
                         "Re-export it in British National Grid (EPSG:27700) or WGS84 (EPSG:4326).") from exc


def _gdal_errors() -> tuple[type[Exception], ...]:
    import pyogrio.errors as errors

    return (errors.DataSourceError, errors.DataLayerError, errors.FieldError, errors.GeometryError,
            errors.FeatureError, errors.CRSError)


def _read_gpkg(data: bytes, display: str, layer: str | None, notes: ReadNotes) -> gpd.GeoDataFrame:
    try:
        return _read_gpkg_unguarded(data, display, layer, notes)
    except _gdal_errors() as exc:
        raise UnsupportedFile(f"'{display}' is a damaged GeoPackage: {exc}.", "Re-export it.") from exc


def _read_gpkg_unguarded(data: bytes, display: str, layer: str | None, notes: ReadNotes) -> gpd.GeoDataFrame:
    import pyogrio

    with _TempFile(data, ".gpkg") as path:
        _check_sqlite_is_plain_gpkg(path, display)
        layers = [(str(n), t) for n, t in pyogrio.list_layers(path)]
        spatial = [n for n, t in layers if t is not None]
        if not spatial:
            raise UnsupportedFile(f"'{display}' has no spatial layer.", "Choose a GeoPackage with polygon layers.")
        if layer is None:
            if len(spatial) > 1:
                raise _ambiguous(display, "spatial layer", spatial, "--layer")
            layer = spatial[0]
        elif layer not in [n for n, _ in layers]:
            raise UnsupportedFile(f"'{display}' has no layer called '{layer}'.",
                                  f"Layers: {', '.join(n for n, _ in layers)}.")
        elif layer not in spatial:
            raise UnsupportedFile(f"Layer '{layer}' of '{display}' has no geometry.",
                                  f"Spatial layers: {', '.join(spatial)}.")
        info = pyogrio.read_info(path, layer=layer)
        if info.get("driver") != "GPKG":
            raise UnsupportedFile(f"'{display}' was not recognised as a GeoPackage.", "Re-export it as .gpkg.")
        if int(info.get("features") or 0) > int(setting("max_features")):
            raise FileTooLarge(f"Layer '{layer}' has {info['features']:,} features; the limit is "
                               f"{int(setting('max_features')):,}.", "Clip the layer to the area you need.")
        return pyogrio.read_dataframe(path, layer=layer, use_arrow=False)


def _check_sqlite_is_plain_gpkg(path: str, display: str) -> None:
    """Refuse GeoPackages carrying triggers or views, which GDAL would run or evaluate."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        kinds = dict(con.execute("SELECT type, count(*) FROM sqlite_master GROUP BY type").fetchall())
    except sqlite3.DatabaseError as exc:
        raise UnsupportedFile(f"'{display}' is a damaged GeoPackage: {exc}.", "Re-export it.") from exc
    finally:
        con.close()
    risky = {k: v for k, v in kinds.items() if k in ("trigger", "view") and v}
    # GDAL itself creates a handful of standard rtree triggers and views.
    if risky.get("trigger", 0) > 40 or risky.get("view", 0) > 20:
        raise UnsupportedFile(f"'{display}' carries {risky} — more than a plain GeoPackage.",
                              "Export a plain copy with QGIS or ogr2ogr.")


def _read_shapefile_zip(data: bytes, display: str, notes: ReadNotes, layer: str | None = None) -> gpd.GeoDataFrame:
    import zlib

    try:
        return _read_shapefile_zip_unguarded(data, display, notes, layer)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise UnsupportedFile(f"'{display}' is a damaged zip file: {exc}.", "Re-create the archive.") from exc
    except _gdal_errors() as exc:
        raise UnsupportedFile(f"The Shapefile in '{display}' is damaged: {exc}.", "Re-export the Shapefile.") from exc


def check_zip(zf: zipfile.ZipFile, display: str, max_members: int | None = None,
              advice: tuple[str, str, str] = ("Zip just the .shp, .shx, .dbf, .prj and .cpg of one layer.",
                                               "Clip or simplify the layer.", "Send the Shapefile zipped normally.")
              ) -> list[zipfile.ZipInfo]:
    """The members of an archive, once its member count, unpacked size, compression ratios and encryption are
    checked (before anything is unpacked); `advice` is what to do about too many members, too much data, a bomb."""
    members = [i for i in zf.infolist() if not i.is_dir()]
    max_members = int(setting("max_zip_members")) if max_members is None else max_members
    if len(members) > max_members:
        raise FileTooLarge(f"'{display}' holds {len(members)} files; the limit is {max_members}.", advice[0])
    total = sum(i.file_size for i in members)
    if total > int(setting("max_unzipped_mb")) * 1024 * 1024:
        raise FileTooLarge(f"'{display}' unpacks to {total / 1e6:.0f} MB; the limit is "
                           f"{setting('max_unzipped_mb')} MB.", advice[1])
    for info in members:
        if info.flag_bits & 0x1:
            raise UnsupportedFile(f"'{display}' is encrypted.", "Zip the files without a password.")
        if info.create_system == 3 and (info.external_attr >> 16) & 0o170000 == 0o120000:  # a Unix symlink
            raise UnsupportedFile(f"'{display}' holds a symbolic link ({info.filename}), not a file.",
                                  "Zip the files themselves (e.g. zip without --symlinks).")
        if info.compress_size and info.file_size / info.compress_size > float(setting("max_zip_ratio")):
            raise FileTooLarge(f"'{info.filename}' in '{display}' expands {info.file_size // info.compress_size}×, "
                               "which looks like a zip bomb.", advice[2])
    return members


def _refuse_unsafe_member_names(members: list[zipfile.ZipInfo], display: str) -> None:
    """Refuse an archive with a member named outside its own folder ('../x', '/etc/x', 'C:\\x'), even beside a
    valid Shapefile: nothing is unpacked under those names, but an archive made like that is not an export."""
    bad = []
    for info in members:
        name = info.filename.replace("\\", "/")
        if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in PurePosixPath(name).parts:
            bad.append(info.filename)
    if bad:
        raise UnsupportedFile(f"'{display}' holds member(s) named outside the archive's folder ({', '.join(bad[:3])}"
                              f"{' …' if len(bad) > 3 else ''}), as a path-traversal attack would; it was not read.",
                              "Zip the Shapefile's files themselves, with plain names (e.g. areas.shp, areas.dbf).")


def _read_shapefile_zip_unguarded(data: bytes, display: str, notes: ReadNotes, layer: str | None) -> gpd.GeoDataFrame:
    import pyogrio

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = check_zip(zf, display)
        _refuse_unsafe_member_names(members, display)
        shps = [i for i in members if i.filename.lower().endswith(".shp")]
        stems = [i.filename[:-4] for i in shps]
        if layer is not None and len(shps) > 1:
            chosen = [i for i in shps if layer in (i.filename[:-4], PurePosixPath(i.filename).stem)]
            if len(chosen) != 1:
                raise UnsupportedFile(f"'{display}' has no single Shapefile called '{layer}'.",
                                      f"Shapefiles: {', '.join(stems)}.")
            shps = chosen
            notes.add("layer-chosen", f"Read the Shapefile '{shps[0].filename}' of {len(stems)}, as chosen.")
        elif len(shps) > 1:
            raise _ambiguous(display, "Shapefile", stems, "--layer")
        stem = shps[0].filename[:-4]
        parts: dict[str, zipfile.ZipInfo] = {}
        for info in members:
            if info.filename[: len(stem)] == stem and len(info.filename) == len(stem) + 4:
                parts[info.filename[-4:].lower()] = info
        for needed in (".shx", ".dbf"):
            if needed not in parts:
                raise UnsupportedFile(f"The Shapefile in '{display}' has no {needed} file.",
                                      "A Shapefile needs its .shp, .shx and .dbf (and .prj) files zipped together.")
        with tempfile.TemporaryDirectory(prefix="atlas-") as tmp:
            for ext, info in parts.items():
                if ext not in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                    continue
                # Written under our own name: member paths (../, absolute) never touch the disk.
                with zf.open(info) as src, open(os.path.join(tmp, "layer" + ext), "wb") as dst:
                    dst.write(src.read(int(setting("max_unzipped_mb")) * 1024 * 1024 + 1))
            shp_path = os.path.join(tmp, "layer.shp")
            with open(shp_path, "rb") as fh:
                if int.from_bytes(fh.read(4), "big") != 9994:
                    raise UnsupportedFile(f"'{PurePosixPath(shps[0].filename).name}' is not a real .shp file.",
                                          "Re-export the Shapefile.")
            _check_record_counts(tmp, display)
            if ".prj" not in parts:
                notes.add("crs-missing", "The Shapefile has no .prj file, so its coordinate system is unknown.")
            info = pyogrio.read_info(shp_path)
            if info.get("driver") != "ESRI Shapefile":
                raise UnsupportedFile(f"'{display}' was not recognised as a Shapefile.", "Re-export it.")
            if int(info.get("features") or 0) > int(setting("max_features")):
                raise FileTooLarge(f"The Shapefile has {info['features']:,} features; the limit is "
                                   f"{int(setting('max_features')):,}.", "Clip it to the area you need.")
            encoding = None if ".cpg" in parts else _guess_dbf_encoding(os.path.join(tmp, "layer.dbf"), notes)
            return pyogrio.read_dataframe(shp_path, encoding=encoding, use_arrow=False)


def _check_record_counts(folder: str, display: str) -> None:
    """Refuse a Shapefile whose .shx and .dbf disagree on the number of features (rows would be lost)."""
    shx = os.path.getsize(os.path.join(folder, "layer.shx"))
    with open(os.path.join(folder, "layer.dbf"), "rb") as fh:
        head = fh.read(8)
    shapes = (shx - 100) // 8
    records = int.from_bytes(head[4:8], "little") if len(head) == 8 else -1
    if shapes != records:
        raise UnsupportedFile(f"The Shapefile in '{display}' has {shapes:,} shapes but {records:,} attribute records "
                              "in its .dbf, so shapes and records would be mismatched.",
                              "Re-export the Shapefile so that its .shp, .shx and .dbf belong together.")


def _guess_dbf_encoding(dbf_path: str, notes: ReadNotes) -> str:
    """Encoding of a .dbf with no .cpg: UTF-8 if its text is valid non-ASCII UTF-8, else Windows-1252 (said)."""
    with open(dbf_path, "rb") as fh:
        raw = fh.read()
    header_len = int.from_bytes(raw[8:10], "little") if len(raw) >= 10 else 0
    body = raw[header_len:]
    if body.isascii():
        return "cp1252"
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        notes.add("encoding", "The Shapefile has no .cpg file; its text was read as Windows-1252.")
        return "cp1252"
    notes.add("encoding", "The Shapefile has no .cpg file; its text was read as UTF-8.")
    return "utf-8"


def _check_size(gdf: gpd.GeoDataFrame, display: str) -> None:
    if len(gdf) > int(setting("max_features")):
        raise FileTooLarge(f"'{display}' has {len(gdf):,} features; the limit is {int(setting('max_features')):,}.",
                           "Clip the file to the area you need.")
    vertices = int(shapely.get_num_coordinates(gdf.geometry.values).sum()) if len(gdf) else 0
    if vertices > int(setting("max_vertices")):
        raise FileTooLarge(f"'{display}' has {vertices:,} vertices; the limit is {int(setting('max_vertices')):,}.",
                           "Simplify it (e.g. mapshaper or QGIS Simplify) before loading.")


def describe_crs_problem(bounds: np.ndarray, crs: CRS | None) -> str | None:
    """Say what is wrong when the coordinates do not fit the declared CRS, or None if they fit."""
    minx, miny, maxx, maxy = bounds
    if crs is not None and crs.is_geographic:
        if maxx > 180 or minx < -180 or maxy > 90 or miny < -90:
            if 0 <= minx and maxx <= 800_000 and 0 <= miny and maxy <= 1_400_000:
                return ("its coordinates are in metres like British National Grid (EPSG:27700) but the file "
                        "says they are longitude/latitude")
            return "its coordinates are outside the range of longitude/latitude"
        if 49 <= minx and maxx <= 61.5 and -9 <= miny and maxy <= 2.5:
            return "its longitude and latitude look swapped (x looks like UK latitudes)"
    return None


def _settle_crs(gdf: gpd.GeoDataFrame, display: str, assume_crs: str | None, notes: ReadNotes) -> gpd.GeoDataFrame:
    valid = gdf.geometry.notna() & ~gdf.geometry.is_empty
    bounds = gdf.geometry[valid].total_bounds if valid.any() else np.array([0.0, 0.0, 0.0, 0.0])
    if bounds[2] > 180 or bounds[3] > 90:  # some coordinates are not lon/lat: are they all?
        each = gdf.geometry[valid].bounds
        degrees = int(((each["maxx"].abs() <= 180) & (each["maxy"].abs() <= 90)).sum())
        if 0 < degrees < len(each):
            raise CRSProblem(f"'{display}' mixes coordinate systems: {degrees:,} feature(s) have longitude/latitude "
                             f"coordinates and {len(each) - degrees:,} have coordinates in metres (like British "
                             "National Grid).",
                             "Put every feature in one coordinate system (e.g. reproject the odd ones in QGIS), "
                             "then load the file again.")
    if gdf.crs is None:
        if assume_crs is None:
            looks = "British National Grid (EPSG:27700)" if bounds[2] > 180 else "WGS84 longitude/latitude (EPSG:4326)"
            raise CRSProblem(f"'{display}' does not say which coordinate system it uses (coordinates look like {looks}).",
                             "Choose the coordinate system explicitly, or add a .prj / re-export with one.")
        gdf = gdf.set_crs(_known_crs(assume_crs, display))
        notes.add("crs-assumed", f"Coordinate system set to {assume_crs} as you chose.")
    problem = describe_crs_problem(bounds, gdf.crs)
    if problem:
        raise CRSProblem(f"'{display}' cannot be placed on the map: {problem}.",
                         "Fix the file's coordinate system (e.g. in QGIS: Assign projection), then load it again.")
    if gdf.crs.to_epsg() != 4326:
        notes.add("reprojected", f"Reprojected from {gdf.crs.name} (EPSG:{gdf.crs.to_epsg()}) to WGS84 for the map.")
        gdf = gdf.to_crs(4326)
    return gdf


_LIST_FEATURES = 20  # features named one by one in a note; the rest are counted


def _feature_labels(gdf: gpd.GeoDataFrame) -> list[str]:
    """'feature 3 (E01000003)': the row number, with the first GSS-like property of the row when there is one."""
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    code_col = None
    for c in columns:
        values = gdf[c].astype("string").str.strip().head(200)
        if len(values) and values.str.fullmatch(r"[EWSNK]\d{8}").fillna(False).mean() > 0.5:
            code_col = c
            break
    codes = gdf[code_col].astype("string").tolist() if code_col is not None else [None] * len(gdf)
    return [f"feature {i + 1}" + (f" ({c})" if c else "") for i, c in enumerate(codes)]


def _name_each(items: list[str]) -> str:
    more = len(items) - _LIST_FEATURES
    return "; ".join(items[:_LIST_FEATURES]) + (f"; and {more:,} more" if more > 0 else "")


def _polygon_parts(geom) -> list:
    return [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]


def _clean_geometries(gdf: gpd.GeoDataFrame, display: str, notes: ReadNotes) -> gpd.GeoDataFrame:
    """Repair invalid polygons and unpack collections, naming each feature and what was done; refuse layers that
    are not polygons. What reaches the map is only ever a Polygon, a MultiPolygon or no shape (its row kept)."""
    gdf = gdf.copy()
    geo_col = gdf.geometry.name
    geoms = gdf.geometry
    present = geoms.notna() & ~geoms.is_empty
    if not present.any():
        raise UnsupportedFile(f"'{display}' has no geometries.", "Check the right layer or file was chosen.")
    labels = _feature_labels(gdf)
    kinds = geoms.geom_type.where(present, None)
    polygonal = kinds.isin(["Polygon", "MultiPolygon"])
    collections = kinds == "GeometryCollection"
    has_polygon_parts = collections & geoms.map(lambda g: bool(g is not None and _polygon_parts(g)))
    if not (polygonal | has_polygon_parts).any():
        types = set(kinds[present])
        raise UnsupportedFile(f"'{display}' holds {', '.join(sorted(types))} geometries, not areas.",
                              "Choose a boundary file of polygons.")
    unpacked = []
    for pos in np.flatnonzero(has_polygon_parts.to_numpy()):
        geom = gdf.geometry.iloc[pos]
        parts = list(shapely.get_parts(geom))
        kept = _polygon_parts(geom)
        dropped = [p.geom_type for p in parts if p not in kept]
        gdf.iloc[pos, gdf.columns.get_loc(geo_col)] = shapely.union_all(kept) if len(kept) > 1 else kept[0]
        unpacked.append(f"{labels[pos]}: a GeometryCollection of {', '.join(p.geom_type for p in parts)} — kept the "
                        f"{len(kept)} polygon part(s)" + (f", dropped {', '.join(dropped)}" if dropped else ""))
    if unpacked:
        notes.add("geometry-collection", f"Unpacked {len(unpacked)} GeometryCollection(s) into polygons: "
                  + _name_each(unpacked) + ".")
    other = present & ~polygonal & ~has_polygon_parts
    if other.any():
        named = [f"{labels[i]}: {kinds.iloc[i]}" for i in np.flatnonzero(other.to_numpy())]
        notes.add("geometry-not-polygon", f"Ignored the geometry of {len(named)} non-polygon feature(s) (they keep "
                  "their row, without a shape): " + _name_each(named) + ".")
        gdf.loc[other, geo_col] = None
    if (~present).any():
        notes.add("geometry-missing", f"{int((~present).sum())} features have no geometry; they are kept in the "
                  "table: " + _name_each([labels[i] for i in np.flatnonzero((~present).to_numpy())]) + ".")
    invalid = gdf.geometry.notna() & ~gdf.geometry.is_empty & ~gdf.geometry.is_valid
    if invalid.any():
        repaired, emptied = [], []
        for pos in np.flatnonzero(invalid.to_numpy()):
            geom = gdf.geometry.iloc[pos]
            reason = shapely.is_valid_reason(geom)
            fixed = shapely.make_valid(geom, method="structure", keep_collapsed=False)
            fixed = shapely.union_all(_polygon_parts(fixed)) if fixed is not None and not fixed.is_empty else None
            if fixed is None or fixed.is_empty or fixed.area == 0:
                emptied.append(f"{labels[pos]}: {reason} — it encloses no area (e.g. a ring of three points)")
                gdf.iloc[pos, gdf.columns.get_loc(geo_col)] = None
                continue
            before, after = abs(shapely.area(shapely.make_valid(geom))), fixed.area
            parts = shapely.get_num_geometries(fixed)
            change = "area unchanged" if before and abs(after - before) <= 1e-9 * max(before, 1e-12) else (
                f"area {after / before - 1:+.1%}" if before else "area from none")
            spike = " (a zero-width spike or line removed)" if shapely.get_num_coordinates(fixed) < \
                shapely.get_num_coordinates(geom) and change == "area unchanged" else ""
            repaired.append(f"{labels[pos]}: {reason} — now {fixed.geom_type}"
                            + (f" of {parts} parts" if parts > 1 else "") + f", {change}{spike}")
            gdf.iloc[pos, gdf.columns.get_loc(geo_col)] = fixed
        if repaired:
            notes.add("geometry-repaired", f"Repaired {len(repaired)} invalid polygon(s) with make_valid: "
                      + _name_each(repaired) + ".")
        if emptied:
            notes.add("geometry-dropped", f"Dropped the shape of {len(emptied)} feature(s) that cannot be repaired "
                      "into an area (they keep their row, without a shape): " + _name_each(emptied) + ".")
    return gdf


# ---------------------------------------------------------------- tables


def read_table(
    source: Source,
    name: str | None = None,
    sheet: str | None = None,
    notes: ReadNotes | None = None,
) -> pd.DataFrame:
    """Read an indicator table (CSV or XLSX) with every cell as a string; numbers are parsed later."""
    notes = notes if notes is not None else ReadNotes()
    data, display = _load_bytes(source, name)
    if data.startswith(b"\x1f\x8b"):
        import gzip

        try:
            data = gzip.GzipFile(fileobj=io.BytesIO(data)).read(int(setting("max_file_mb")) * 1024 * 1024 * 8)
        except OSError as exc:
            raise UnsupportedFile(f"'{display}' is a damaged gzip file.", "Re-download it.") from exc
        notes.add("gzip", "Unpacked gzip-compressed table.")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError as exc:
            raise UnsupportedFile(f"'{display}' starts like UTF-16 text but is not.", "Save it again as CSV (UTF-8).") from exc
        notes.add("encoding", "The file is UTF-16 text (Excel's 'Unicode Text'); read it as such.")
    fmt = sniff_format(data, display)
    notes.format = fmt
    if fmt == "xlsx":
        df = _read_xlsx(data, display, sheet, notes)
    elif fmt == "csv":
        df = _read_csv(data, display, notes)
    else:
        raise UnsupportedFile(f"'{display}' is a {fmt} file, not an indicator table.", "Tables must be CSV or XLSX.")
    if len(df) > int(setting("max_table_rows")):
        raise FileTooLarge(f"'{display}' has {len(df):,} rows; the limit is {int(setting('max_table_rows')):,}.",
                           "Filter the table to the areas you need.")
    if df.empty or len(df.columns) == 0:
        raise UnsupportedFile(f"'{display}' has no data rows.", "Check the file has a header row and data below it.")
    return df


def _dedupe_headers(headers: list[str], notes: ReadNotes) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for h in headers:
        h = str(h).strip().lstrip("\ufeff") or "unnamed"
        if h in seen:
            seen[h] += 1
            new = f"{h} ({seen[h]})"
            notes.add("duplicate-header", f"Column '{h}' appears more than once; the repeat is called '{new}'.")
            notes.duplicate_columns.setdefault(h, [h]).append(new)
            h = new
        else:
            seen[h] = 1
        out.append(h)
    return out


def _read_csv(data: bytes, display: str, notes: ReadNotes) -> pd.DataFrame:
    if b"\x00" in data:
        raise UnsupportedFile(f"'{display}' contains NUL bytes, so it is not a plain text CSV.",
                              "Save it again as CSV (UTF-8).")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        notes.add("encoding", "The file is not UTF-8; read it as Windows-1252 (Excel's usual encoding).")
    delimiter = _sniff_delimiter(text[:50000])
    if delimiter != ",":
        notes.add("delimiter", f"Columns are separated by {'a tab' if delimiter == chr(9) else repr(delimiter)}.")
    try:
        rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    except csv.Error as exc:
        raise UnsupportedFile(f"'{display}' has malformed CSV quoting: {exc}.", "Re-export it from the spreadsheet.") from exc
    if text.count('"') % 2 and any("\n" in c or "\r" in c for r in rows for c in r):
        raise UnsupportedFile(f"'{display}' has an unmatched quote character (\"), so the rows after it would run "
                              "together into one cell.", "Find the stray quote (or close it) and export the file again.")
    df = _rows_to_frame(rows, f"'{display}'", notes)
    if delimiter == ";":
        decimal_comma = df.apply(lambda col: col.str.fullmatch(r"\s*-?\d+,\d+\s*").fillna(False))
        if decimal_comma.to_numpy().any():
            df = df.apply(lambda col: col.str.replace(r"^\s*(-?\d+),(\d+)\s*$", r"\1.\2", regex=True))
            notes.add("decimal-comma", f"Read {int(decimal_comma.to_numpy().sum()):,} numbers written with a decimal comma.")
    return df


def _sniff_delimiter(sample: str) -> str:
    """The delimiter giving the most lines with the same (>1) number of fields; comma on ties."""
    lines = [ln for ln in sample.splitlines()[:40] if ln.strip()]
    best, best_score = ",", 0
    for delim in (",", ";", "\t", "|"):
        try:
            counts = [len(r) for r in csv.reader(lines, delimiter=delim)]
        except csv.Error:
            continue
        multi = [c for c in counts if c > 1]
        if not multi:
            continue
        modal = max(set(multi), key=multi.count)
        score = multi.count(modal)
        if score > best_score:
            best, best_score = delim, score
    return best


def _rows_to_frame(rows: list[list[str]], what: str, notes: ReadNotes) -> pd.DataFrame:
    """Rows of cells to a string DataFrame: blank rows dropped, title rows skipped, ragged rows padded."""
    rows = [r for r in rows if any(c.strip() for c in r)]
    if not rows:
        raise UnsupportedFile(f"{what} is empty.", "Check the export finished and the right sheet or file was chosen.")
    header_at = _find_header_row(rows)
    if header_at:
        notes.add("title-rows", f"Skipped {header_at} title row(s) above the header.")
    header = _dedupe_headers(rows[header_at], notes)
    width = len(header)
    body = _drop_footnotes(rows[header_at + 1:], notes)
    longer = [r for r in body if any(c.strip() for c in r[width:])]
    if longer:
        first = longer[0]
        raise UnsupportedFile(
            f"{what}: {len(longer):,} row(s) have more filled cells than the header has columns ({width}), e.g. "
            f"'{','.join(c.strip() for c in first)[:80]}' — an unquoted thousands separator ('1,234') or a stray "
            "delimiter; reading it would shift or lose values.",
            "Quote such numbers (\"1,234\") or export them without separators, or add the missing header cells.")
    shorter = sum(1 for r in body if len(r) < width)
    if shorter:
        notes.add("short-rows", f"{shorter:,} row(s) had fewer cells than the header; the missing cells are empty.")
    return pd.DataFrame([(r + [""] * width)[:width] for r in body], columns=header, dtype="string")


_CODE_CELL = re.compile(r"^\s*['\u2018\u2019]?[EWSNK]\d{8}\s*$")  # a leading apostrophe: Excel's text marker


def _find_header_row(rows: list[list[str]]) -> int:
    """The header is the first row followed by a row holding a GSS-like code (titles sit above it).

    Rows are only skipped if neither they nor the header look like a data row (as many cells as
    the header, the first a number), so rows whose codes a spreadsheet mangled ('1000001',
    '1.23E+08') are never taken for titles or for the header.
    """
    for i, row in enumerate(rows[:30]):
        filled = sum(1 for c in row if c.strip())
        if filled >= 2 and i + 1 < len(rows) and any(_CODE_CELL.match(c) for c in rows[i + 1]):
            return 0 if any(_looks_like_data(r, filled) for r in rows[:i + 1]) else i
    return 0


def _looks_like_data(row: list[str], header_filled: int) -> bool:
    cells = [c.strip() for c in row if c.strip()]
    return len(cells) >= header_filled and re.fullmatch(r"[-+]?\d[\d.,]*([eE][-+]?\d+)?", cells[0]) is not None


def _drop_footnotes(body: list[list[str]], notes: ReadNotes) -> list[list[str]]:
    """Remove notes below the data ('Source: …', '* provisional'): trailing one-cell rows without a code.

    Only when most rows have a code in one column; a trailing row with values is kept (and reported by the join).
    """
    if len(body) < 2:
        return body
    sample = body[:500]  # the code column is found on the first rows; footnotes are only looked for at the end
    width = max(len(r) for r in sample)
    best, best_share = None, 0.0
    for j in range(width):
        share = sum(1 for r in sample if j < len(r) and _CODE_CELL.match(r[j])) / len(sample)
        if share > best_share:
            best, best_share = j, share
    if best is None or best_share < 0.5:
        return body
    end = len(body)
    while end > 0 and sum(1 for c in body[end - 1] if c.strip()) <= 1 and not (
            best < len(body[end - 1]) and _CODE_CELL.match(body[end - 1][best])):
        end -= 1
    dropped = body[end:]
    if dropped:
        first = next((c for c in dropped[0] if c.strip()), "").strip()
        notes.add("footnotes", f"Left out {len(dropped)} footnote row(s) below the data (no area code), "
                              f"starting '{first[:60]}'.")
    return body[:end]


def _read_xlsx(data: bytes, display: str, sheet: str | None, notes: ReadNotes) -> pd.DataFrame:
    import openpyxl

    _refuse_xml_entities(data, display)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        cause: BaseException | None = exc
        while cause is not None and not type(cause).__module__.startswith("defusedxml"):
            cause = cause.__cause__ or cause.__context__
        if cause is not None:
            raise UnsupportedFile(f"'{display}' declares XML entities or a DTD (as in a 'billion laughs' attack); "
                                  "the atlas does not expand them.",
                                  "Open it in Excel or LibreOffice and save it again, or export it as CSV.") from exc
        raise UnsupportedFile(f"'{display}' could not be opened as an Excel workbook: {first_line}",
                              "Save it again as .xlsx or .csv.") from exc
    try:
        visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
        if sheet is None:
            if len(visible) > 1:
                raise _ambiguous(display, "sheet", visible, "--sheet")
            sheet = visible[0] if visible else wb.sheetnames[0]
            hidden = [n for n in wb.sheetnames if n not in visible]
            if hidden and visible:
                notes.add("hidden-sheets", f"Skipped {len(hidden)} hidden sheet(s) ({', '.join(hidden[:5])}); "
                                      "choose one explicitly to read it.")
            elif hidden:
                notes.add("hidden-sheets", f"Every sheet of the workbook is hidden; read the first, '{sheet}' "
                                      f"({len(hidden) - 1} other(s): {', '.join(hidden[1:6])}).")
        if sheet not in wb.sheetnames:
            raise UnsupportedFile(f"'{display}' has no sheet '{sheet}'.", f"Sheets: {', '.join(wb.sheetnames)}.")
        rows = _sheet_rows(wb, sheet, display)
    finally:
        wb.close()
    blanks = _note_formulas_without_values(data, sheet, rows, notes) if _has_formulas(data) else {}
    frame = _rows_to_frame(rows, f"Sheet '{sheet}' of '{display}'", notes)
    for c, n in blanks.items():
        if c < len(frame.columns):
            notes.formula_blanks[str(frame.columns[c])] = n
    return frame


def list_sheets(source: Source, name: str | None = None) -> list[str]:
    """The visible sheets of a workbook (empty for a CSV): a workbook with several needs one named to be read."""
    data, display = _load_bytes(source, name)
    if sniff_format(data, display) != "xlsx":
        return []
    import openpyxl

    _refuse_xml_entities(data, display)
    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # the reader says what is wrong when the table is read
        raise UnsupportedFile(f"'{display}' could not be opened as an Excel workbook.",
                              "Save it again as .xlsx or .csv.") from exc
    try:
        return [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
    finally:
        wb.close()


def _refuse_xml_entities(data: bytes, display: str) -> None:
    """Refuse a workbook whose XML parts declare a DTD or entities (a 'billion laughs' bomb), before any parser runs.

    Excel never writes a DOCTYPE; openpyxl also refuses entities through defusedxml, but this check
    does not depend on it being installed.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if not info.filename.lower().endswith((".xml", ".rels")):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(65536)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise UnsupportedFile(f"'{display}' declares XML entities in '{info.filename}' (as in a "
                                          "'billion laughs' attack); the atlas does not expand them.",
                                          "Open it in Excel or LibreOffice and save it again, or export it as CSV.")
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise UnsupportedFile(f"'{display}' is a damaged Excel workbook: {exc}.", "Save it again as .xlsx or .csv.") from exc


def _sheet_rows(wb, sheet: str, display: str, raw: bool = False) -> list[list]:
    """Cells of one sheet (read lazily, so damaged or hostile XML is only met here)."""
    limit = int(setting("max_table_rows")) + 50
    rows = []
    try:
        for i, row in enumerate(wb[sheet].iter_rows(values_only=True)):
            if i > limit:
                break
            rows.append(list(row) if raw else ["" if v is None else _cell_text(v) for v in row])
    except Exception as exc:  # XML errors, defusedxml refusals, corrupt cells
        raise UnsupportedFile(f"Sheet '{sheet}' of '{display}' could not be read: {type(exc).__name__}: {exc}.",
                              "Open it in Excel or LibreOffice and save it again as .xlsx or .csv.") from exc
    return rows


def _has_formulas(data: bytes) -> bool:
    """Whether any worksheet of the workbook holds a formula (an <f> element)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    with zf.open(info) as fh:
                        while chunk := fh.read(1 << 20):
                            if b"<f>" in chunk or b"<f " in chunk or b":f>" in chunk or b":f " in chunk:
                                return True
    except (zipfile.BadZipFile, OSError, EOFError):
        return False
    return False


def _note_formulas_without_values(data: bytes, sheet: str, rows: list[list[str]], notes: ReadNotes) -> dict[int, int]:
    """Say how many formula cells have no saved result (they read as empty, not as missing data); returns them
    counted by column position."""
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        try:
            formulas = _sheet_rows(wb, sheet, "", raw=True)
        finally:
            wb.close()
    except Exception:  # noqa: BLE001 — the values were read already; this is only a check
        return {}
    blank, by_column = 0, {}
    for r, row in enumerate(formulas):
        for c, value in enumerate(row):
            if isinstance(value, str) and value.startswith("=") and (r >= len(rows) or c >= len(rows[r])
                                                                     or rows[r][c] == ""):
                blank += 1
                by_column[c] = by_column.get(c, 0) + 1
    if blank:
        notes.add("formulas-without-values", f"{blank:,} formula cell(s) in sheet '{sheet}' have no saved result, "
                  "so they read as empty (the workbook was not recalculated and saved by a spreadsheet program). "
                  "Open and save it in Excel or LibreOffice, or export it as CSV.")
        return by_column
    return {}


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


# ---------------------------------------------------------------- numbers

SUPPRESSION_MARKERS = {"*", "x", "..", ".", "-", "[c]", "[x]", "[low]", "[z]", "[u]", "c", "n/a", "na", "#n/a",
                       "#value!", "#div/0!", "suppressed", ":"}


def parse_numbers(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Parse strings like '29,199', '12.5%', ' 3 ' to floats; return (numbers, suppressed mask).

    Empty cells become missing; suppression markers become missing *and* are flagged so they are
    never mistaken for zero or for absent rows.
    """
    if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.astype("float64"), pd.Series(False, index=values.index)
    text = values.astype("string").str.strip()
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")  # fast path: plain numbers
    rest = numbers.isna() & text.fillna("").ne("")
    suppressed = pd.Series(False, index=values.index)
    if rest.any():  # only the cells that need it: markers, "29,199", "12.5%"
        odd = text[rest]
        marked = odd.str.lower().isin(SUPPRESSION_MARKERS).fillna(False).astype(bool)
        suppressed[odd.index] = marked
        cleaned = odd[~marked].str.replace(r"(?<=\d),(?=\d{3}(\D|$))", "", regex=True).str.rstrip("%").str.strip()
        numbers[cleaned.index] = pd.to_numeric(cleaned, errors="coerce").astype("float64")
    return numbers, suppressed
