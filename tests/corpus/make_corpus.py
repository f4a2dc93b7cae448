"""Generate the bad-input corpus, and run a case through the real readers.

    python -m tests.corpus.make_corpus OUT_DIR        # write the files
    python -m tests.corpus.make_corpus --summary      # build in a temporary folder, run every case, print a table

Every file is made here, deterministically, by code: nothing binary is committed. Each `Case`
names the file(s), the family it belongs to, and what the atlas must do with it: read it
correctly ("ok", with the notes or numbers in `checks`) or refuse it with a given
`geo.errors` class whose message or hint contains `contains`. Never a traceback, never a
silent change of meaning.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import sys
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
from shapely.geometry import LineString, Point, box

from tests import cases as bench

FAMILIES = ("injection", "file types", "archives", "shapefiles", "geopackages", "geometry", "crs", "tables",
            "codes", "values", "rows", "first pick", "arguments")

# Why each family's refusals exist (the refusals table of SECURITY.md and the README is generated from these).
WHY = {
    "file types": "a file that lies about its type would reach a parser (GDAL's VRT, KML, CSV drivers) that reads "
                  "other files or URLs",
    "archives": "an archive can name paths outside its folder, unpack to far more than it holds, or hide a link",
    "shapefiles": "a Shapefile missing parts, or whose parts disagree, would pair shapes with the wrong rows",
    "geopackages": "a GeoPackage is an SQLite database: triggers, views or damage would run or mislead",
    "geometry": "shapes that are not areas, or too many of them, cannot be mapped (or would exhaust memory)",
    "crs": "coordinates in an unknown or mislabelled system would put every area in the wrong place",
    "tables": "a table that would be read with shifted, merged or expanded cells would map the wrong values",
    "codes": "codes that cannot be told apart (levels mixed, prefixes lost) would join to the wrong areas",
    "values": "a map of values that are not there (formulas never calculated) would look like real data",
    "rows": "rows that would vanish or be merged without a word",
    "first pick": "several candidates (layers, sheets, Shapefiles, columns) and nothing saying which is meant: "
                  "the atlas never picks the first one for you",
    "arguments": "an option value that cannot be right is refused before anything is read",
    "injection": "",
}


@dataclass
class Case:
    """One bad input and the behaviour the atlas must show for it."""

    name: str
    family: str
    kind: str  # "boundaries" | "table" | "join" | "map" | "columns" | "export" | "cli" (python -m geo, in-process)
    path: str  # the file (or literal path string) read; for join/map the boundaries
    expected: str = "ok"  # "ok" or the name of a geo.errors class
    contains: str = ""  # in the error's message or hint; for "ok", in the notes / join messages
    table: str | None = None  # join/map: the indicator table
    options: dict = field(default_factory=dict)  # reader/join arguments; "settings": limits to lower
    checks: dict = field(default_factory=dict)  # further checks on a correct result
    known_issue: str = ""  # set when the atlas still gets this wrong (the test xfails, strictly)

    @property
    def paths(self) -> list[str]:
        return [p for p in (self.path, self.table) if p]


@dataclass
class Outcome:
    """What the atlas did with a case."""

    outcome: str  # "ok", an AtlasError class name, or "CRASH <ExceptionType>"
    message: str = ""
    hint: str = ""
    notes: list[str] = field(default_factory=list)
    result: object = None
    extra: dict = field(default_factory=dict)


# ------------------------------------------------------------------------------------- small builders

LEEDS = (-1.5, 53.8)
PAYLOADS = ("{{7*7}}", "{% for x in [1,2] %}loop{% endfor %}", "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>", "${alert(1)}", "`id`", "</script><script>alert(2)</script>")


def _square(i: int, x0: float = LEEDS[0], y0: float = LEEDS[1], size: float = 0.01) -> list:
    x = x0 + i * size
    return [[[x, y0], [x + size, y0], [x + size, y0 + size], [x, y0 + size], [x, y0]]]


def _feature(props: dict, geometry: dict | None) -> dict:
    return {"type": "Feature", "properties": props, "geometry": geometry}


def _poly(i: int, **kw) -> dict:
    return {"type": "Polygon", "coordinates": _square(i, **kw)}


def _fc(features: list[dict], crs: str | None = None) -> bytes:
    doc: dict = {"type": "FeatureCollection", "features": features}
    if crs:
        doc["crs"] = {"type": "name", "properties": {"name": crs}}
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")


def _areas(codes: list[str], names: list[str] | None = None) -> bytes:
    names = names or [f"Area {i + 1}" for i in range(len(codes))]
    return _fc([_feature({"code": c, "name": n}, _poly(i)) for i, (c, n) in enumerate(zip(codes, names))])


def _csv(rows: list[list[str]], delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    import csv

    csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = method
            zf.writestr(info, data)
    return buf.getvalue()


def _shp_parts(tmp: Path, gdf: gpd.GeoDataFrame, encoding: str | None = None, tag: str = "areas") -> dict[str, bytes]:
    """The files of one Shapefile, by extension."""
    folder = Path(tempfile.mkdtemp(dir=tmp))
    kw = {"encoding": encoding} if encoding else {}
    gdf.to_file(folder / f"{tag}.shp", engine="pyogrio", **kw)
    return {p.suffix.lower(): p.read_bytes() for p in folder.iterdir()}


def _shp_zip(parts: dict[str, bytes], stem: str = "areas", drop: tuple[str, ...] = ()) -> bytes:
    return _zip({f"{stem}{ext}": data for ext, data in sorted(parts.items()) if ext not in drop})


def _encrypted(data: bytes) -> bytes:
    """Set the 'encrypted' flag bit in every local and central header of a zip (no real cipher needed)."""
    raw = bytearray(data)
    for sig, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (at := raw.find(sig, start)) >= 0:
            flags = int.from_bytes(raw[at + flag_at:at + flag_at + 2], "little") | 0x1
            raw[at + flag_at:at + flag_at + 2] = flags.to_bytes(2, "little")
            start = at + 4
    return bytes(raw)


def _corrupt_member(data: bytes, member: str) -> bytes:
    """Flip bytes inside one member's stored data so its CRC no longer matches."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
    raw = bytearray(data)
    header = info.header_offset
    name_len = int.from_bytes(raw[header + 26:header + 28], "little")
    extra_len = int.from_bytes(raw[header + 28:header + 30], "little")
    body = header + 30 + name_len + extra_len
    for k in range(min(8, info.compress_size)):
        raw[body + k] ^= 0x5A
    return bytes(raw)


def _xlsx(sheets: list[tuple[str, list[list], str]]) -> bytes:
    """A workbook of (title, rows, state) sheets."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows, state in sheets:
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        ws.sheet_state = state
    buf = io.BytesIO()
    wb.save(buf)
    return _stable_zip(buf.getvalue())


def _stable_zip(data: bytes) -> bytes:
    """The same archive with fixed member dates and document timestamps, so builds are byte-identical."""
    src = zipfile.ZipFile(io.BytesIO(data))
    members = {}
    for info in src.infolist():
        body = src.read(info.filename)
        if info.filename == "docProps/core.xml":
            body = re.sub(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", b"2020-01-01T00:00:00Z", body)
        members[info.filename] = body
    return _zip(members)


def _gpkg(tmp: Path, layers: dict[str, gpd.GeoDataFrame], table: pd.DataFrame | None = None) -> bytes:
    """A GeoPackage (tests.cases.gpkg_bytes) with its 'last change' timestamps fixed."""
    import sqlite3

    tmp.mkdir(parents=True, exist_ok=True)
    bench.gpkg_bytes(tmp, layers, table)
    path = tmp / "layers.gpkg"
    con = sqlite3.connect(path)
    con.execute("UPDATE gpkg_contents SET last_change = '2020-01-01T00:00:00.000Z'")
    con.commit()
    con.execute("VACUUM")
    con.close()
    raw = bytearray(path.read_bytes())
    raw[24:28] = raw[92:96] = (1).to_bytes(4, "big")  # SQLite's change counter varies between runs
    return bytes(raw)


def _zip_with_symlink(members: dict[str, bytes], link: str, target: str) -> bytes:
    """A zip whose member `link` is a Unix symbolic link to `target` (as `zip --symlinks` makes)."""
    import stat

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0)), data)
        info = zipfile.ZipInfo(link, (2020, 1, 1, 0, 0, 0))
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, target)
    return buf.getvalue()


def _replace_member(data: bytes, member: str, new: bytes) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    return _zip({i.filename: new if i.filename == member else src.read(i.filename) for i in src.infolist()})


_LAUGHS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
           + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
           + "]>\n")


_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"


def _minimal_xlsx(sheet_xml: bytes, shared_strings: bytes) -> bytes:
    """A hand-made workbook (one sheet and a shared-strings part), for XML that openpyxl would never write."""
    types = (f'<?xml version="1.0"?><Types xmlns="{_PKG}/content-types">'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
             '<Default Extension="xml" ContentType="application/xml"/>'
             '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
             'spreadsheetml.sheet.main+xml"/>'
             '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.worksheet+xml"/>'
             '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.sharedStrings+xml"/></Types>')
    rels = (f'<?xml version="1.0"?><Relationships xmlns="{_PKG}/relationships">'
            f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    workbook = (f'<?xml version="1.0"?><workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
                '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>')
    wb_rels = (f'<?xml version="1.0"?><Relationships xmlns="{_PKG}/relationships">'
               f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
               f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>')
    return _zip({"[Content_Types].xml": types.encode(), "_rels/.rels": rels.encode(),
                 "xl/workbook.xml": workbook.encode(), "xl/_rels/workbook.xml.rels": wb_rels.encode(),
                 "xl/worksheets/sheet1.xml": sheet_xml, "xl/sharedStrings.xml": shared_strings})


_PLAIN_SHEET = (f'<?xml version="1.0"?><worksheet xmlns="{_MAIN}"><sheetData>'
                '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
                '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>5</v></c></row></sheetData></worksheet>').encode()
_PLAIN_STRINGS = (f'<?xml version="1.0"?><sst xmlns="{_MAIN}" count="3" uniqueCount="3"><si><t>code</t></si>'
                  '<si><t>value</t></si><si><t>E01000001</t></si></sst>').encode()


def _bomb_shared_strings() -> bytes:
    return (_LAUGHS + '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
            'uniqueCount="1"><si><t>&lol9;</t></si></sst>').encode()


def _bomb_sheet() -> bytes:
    return (_LAUGHS + '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            '<row r="1"><c r="A1" t="inlineStr"><is><t>code</t></is></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
            '</sheetData></worksheet>').encode()


# ------------------------------------------------------------------------------------- the corpus


def build_corpus(out_dir: str | os.PathLike) -> list[Case]:
    """Write every corpus file into `out_dir` (deterministically) and return the cases."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scratch = out / "_scratch"
    scratch.mkdir(exist_ok=True)
    found: list[Case] = []

    def put(name: str, data: bytes) -> str:
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return str(path)

    def case(*args, **kw) -> None:
        found.append(Case(*args, **kw))

    lsoas5 = [f"E0100000{i}" for i in range(1, 6)]
    areas5 = put("common/areas5.geojson", _areas(lsoas5))

    # ------------------------------------------------------------------ injection
    fam = "injection"
    codes7 = [f"E0100000{i}" for i in range(1, len(PAYLOADS) + 1)]
    hostile_names = put("injection/names.geojson", _areas(codes7, list(PAYLOADS)))
    header = "{{7*7}} <script>alert(1)</script> ${x} `id`"
    hostile_table = put("injection/table.csv", _csv(
        [["code", header, "{% for x in y %}note{% endfor %}"]]
        + [[c, str(i + 1), p] for i, (c, p) in enumerate(zip(codes7, PAYLOADS))]))
    checks = {"value_column": header, "tooltip_column": "{% for x in y %}note{% endfor %}", "name_column": "name",
              "payloads": list(PAYLOADS) + [header, "{% for x in y %}note{% endfor %}"]}
    case("names-headers-values", fam, "map", hostile_names, table=hostile_table,
         checks={**checks, "names": list(PAYLOADS)})
    fname = put("injection/{{7*7}}<img src=x onerror=alert(1)>${x}`id`.geojson", _areas(codes7))
    case("file-name", fam, "map", fname, table=hostile_table,
         checks={**checks, "title_from_file": True,
                 "payloads": checks["payloads"] + ["{{7*7}}<img src=x onerror=alert(1)>${x}`id`.geojson"]})
    codes_payload = put("injection/code-payload.csv", _csv(
        [["code", "value"]] + [[c, "1"] for c in codes7[:3]] + [["<script>alert(3)</script>", "2"],
                                                                  ["{{7*7}}", "3"]]))
    case("payloads-as-codes", fam, "map", hostile_names, table=codes_payload,
         checks={"value_column": "value", "name_column": "name", "payloads": list(PAYLOADS)
                 + ["<script>alert(3)</script>"], "unmatched": ["<SCRIPT>ALERT(3)</SCRIPT>", "{{7*7}}"]})
    attr_props = put("injection/property-names.geojson", _fc(
        [_feature({"code": c, "name": "ok", "<b onmouseover=alert(1)>{{7*7}}</b>": "${x}"}, _poly(i))
         for i, c in enumerate(codes7[:3])]))
    case("payload-property-name", fam, "map", attr_props, table=hostile_table,
         checks={"value_column": header, "name_column": "name",
                 "tooltip_column": "<b onmouseover=alert(1)>{{7*7}}</b>",
                 "payloads": ["<b onmouseover=alert(1)>{{7*7}}</b>", header]})

    formulas = ["=1+1", "+44 20 7946 0000", "-2.5", "@SUM(A1:A9)", "=HYPERLINK(\"http://x\",\"y\")",
                "<script>alert(1)</script>", "{{7*7}}"]
    formula_header = '=HYPERLINK("http://x","header")'
    formula_table = put("injection/formulas.csv", _csv(
        [["code", formula_header, "value"]] + [[c, f, str(-1.5 * i)] for i, (c, f) in enumerate(zip(codes7, formulas))]))
    case("formulas-in-exports", fam, "export", hostile_names, table=formula_table,
         checks={"csv_header": "'" + formula_header, "csv_cells": {"'" + formula_header: [
             "'=1+1", "'+44 20 7946 0000", "-2.5", "'@SUM(A1:A9)", "'=HYPERLINK(\"http://x\",\"y\")",
             "<script>alert(1)</script>", "{{7*7}}"], "value": [str(-1.5 * i) for i in range(7)],
             "name": list(PAYLOADS)},
             "geojson_values": {formula_header: formulas, "name": list(PAYLOADS)}})

    # ------------------------------------------------------------------ file types lying about themselves
    fam = "file types"
    case("vrt-as-geojson", fam, "boundaries", put("types/vrt.geojson", bench.VRT), "UnsupportedFile", "VRT")
    case("kml-as-geojson", fam, "boundaries", put("types/kml.geojson", bench.KML), "UnsupportedFile", "KML")
    gml = (b'<?xml version="1.0"?><gml:FeatureCollection xmlns:gml="http://www.opengis.net/gml">'
           b"<gml:featureMember/></gml:FeatureCollection>")
    case("gml-as-geojson", fam, "boundaries", put("types/gml.geojson", gml), "UnsupportedFile", "GML")
    case("sqlite-not-geopackage", fam, "boundaries", put("types/plain.gpkg", bench.plain_sqlite_bytes(scratch)),
         "UnsupportedFile", "not a GeoPackage")
    case("csv-as-geojson", fam, "boundaries", put("types/table.geojson", b"code,value\nE01000001,1\n"),
         "UnsupportedFile", "GeoJSON")
    case("geojson-as-table", fam, "table", areas5, "UnsupportedFile", "not an indicator table")
    case("xls-ole", fam, "table", put("types/old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
         "UnsupportedFile", ".xls")
    case("elf-binary-as-geojson", fam, "boundaries", put("types/binary.geojson", b"\x7fELF\x02\x01\x01\x00" * 8),
         "UnsupportedFile", "binary")
    case("json-not-geojson", fam, "boundaries", put("types/list.geojson", b"[1, 2, 3]"),
         "UnsupportedFile", "GeoJSON")
    case("json-deeply-nested", fam, "boundaries", put("types/deep.geojson", b'{"a":' + b"[" * 200_000 + b"]" * 200_000
                                                      + b"}"), "UnsupportedFile", "GeoJSON")
    case("utf16-geojson", fam, "boundaries", put("types/utf16.geojson", _areas(lsoas5[:2]).decode().encode("utf-16")),
         "UnsupportedFile", "")
    for label, literal in (("path-csv-driver", "CSV:/etc/passwd"), ("path-vsicurl", "/vsicurl/http://x/a.geojson"),
                           ("path-http", "http://example.invalid/areas.geojson"),
                           ("path-vsizip", "/vsizip//etc/passwd.zip/x.shp"),
                           ("path-parent", "../../../../../../etc/passwd")):
        case(label, fam, "boundaries", literal, "UnsupportedFile", "")
    case("table-path-csv-driver", fam, "table", "CSV:/etc/passwd", "UnsupportedFile", "No file")
    link = out / "types" / "link.geojson"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(areas5)
    case("symlink-to-file", fam, "boundaries", str(link), "UnsupportedFile", "symbolic link")
    table_link = out / "types" / "link.csv"
    if table_link.is_symlink() or table_link.exists():
        table_link.unlink()
    table_link.symlink_to(put("types/real.csv", b"code,value\nE01000001,1\n"))
    case("symlink-to-table", fam, "table", str(table_link), "UnsupportedFile", "symbolic link")
    plain_parquet = io.BytesIO()
    pd.DataFrame({"code": lsoas5[:2], "value": [1, 2]}).to_parquet(plain_parquet)
    case("parquet-without-geometry", fam, "boundaries", put("types/plain.parquet", plain_parquet.getvalue()),
         "UnsupportedFile", "GeoParquet")
    linked = json.loads(_areas(lsoas5[:2]))
    linked["crs"] = {"type": "link", "properties": {"href": "http://example.invalid/crs.wkt", "type": "ogcwkt"}}
    case("crs-link-to-a-url-not-fetched", fam, "boundaries", put("types/linked-crs.geojson", json.dumps(linked).encode()),
         checks={"rows": 2, "lon_lat": True})

    # ------------------------------------------------------------------ archives
    fam = "archives"
    parts = _shp_parts(scratch, bench.squares(3))
    good_zip = _shp_zip(parts)
    case("zip-bomb", fam, "boundaries", put("zips/bomb.zip", _zip({"areas.shp": b"\x00" * 50_000_000,
                                                                   "areas.shx": b"\x00" * 100,
                                                                   "areas.dbf": b"\x00" * 100})), "FileTooLarge", "zip bomb")
    many = {f"junk/{i:05d}.txt": b"x" for i in range(3000)}
    many.update({f"areas{ext}": data for ext, data in parts.items()})
    case("thousands-of-members", fam, "boundaries", put("zips/many.zip", _zip(many)), "FileTooLarge", "limit is 64")
    case("path-traversal-members", fam, "boundaries",
         put("zips/traversal.zip", _zip({f"../../../../tmp/atlas-evil/areas{e}": d for e, d in parts.items()})),
         "UnsupportedFile", "outside the archive", checks={"no_file": "/tmp/atlas-evil"})
    case("absolute-member-paths", fam, "boundaries",
         put("zips/absolute.zip", _zip({f"/tmp/atlas-evil-abs/areas{e}": d for e, d in parts.items()})),
         "UnsupportedFile", "outside the archive", checks={"no_file": "/tmp/atlas-evil-abs"})
    beside = {f"areas{e}": d for e, d in parts.items()}
    case("traversal-member-beside-valid-shapefile", fam, "boundaries", put("zips/traversal-beside.zip", _zip(
        beside | {"../../../../tmp/atlas-evil-beside.txt": b"x"})), "UnsupportedFile", "outside the archive",
         checks={"no_file": "/tmp/atlas-evil-beside.txt"})
    case("absolute-member-beside-valid-shapefile", fam, "boundaries", put("zips/absolute-beside.zip", _zip(
        beside | {"/etc/cron.d/atlas-evil": b"x"})), "UnsupportedFile", "outside the archive")
    case("windows-drive-member-beside-valid-shapefile", fam, "boundaries", put("zips/drive-beside.zip", _zip(
        beside | {"C:/Windows/atlas-evil.txt": b"x"})), "UnsupportedFile", "outside the archive")
    case("nested-zip", fam, "boundaries", put("zips/nested.zip", _zip({"inner.zip": good_zip})),
         "UnsupportedFile", "no Shapefile")
    case("encrypted-flag", fam, "boundaries", put("zips/encrypted.zip", _encrypted(_zip(
        {f"areas{e}": d for e, d in parts.items()}, zipfile.ZIP_STORED))), "UnsupportedFile", "encrypted")
    case("empty-zip", fam, "boundaries", put("zips/empty.zip", _zip({})), "UnsupportedFile", "no Shapefile")
    case("truncated-zip", fam, "boundaries", put("zips/truncated.zip", good_zip[: len(good_zip) // 2]),
         "UnsupportedFile", "damaged")
    case("corrupt-member-crc", fam, "boundaries", put("zips/crc.zip", _corrupt_member(
        _zip({f"areas{e}": d for e, d in parts.items()}, zipfile.ZIP_STORED), "areas.dbf")),
         "UnsupportedFile", "damaged")
    case("symlink-member", fam, "boundaries", put("zips/symlink.zip", _zip_with_symlink(
        {f"areas{e}": d for e, d in parts.items() if e != ".dbf"}, "areas.dbf", "/etc/passwd")),
         "UnsupportedFile", "symbolic link")
    case("zip-in-zip-in-zip", fam, "boundaries", put("zips/deeply-nested.zip", _zip(
        {"outer/inner.zip": _zip({"inner2.zip": good_zip})})), "UnsupportedFile", "no Shapefile")
    case("zip-with-directory-named-shp", fam, "boundaries",
         put("zips/dir.zip", _zip({"folder.shp/": b"", "readme.txt": b"hi"})), "UnsupportedFile", "")

    # ------------------------------------------------------------------ shapefiles
    fam = "shapefiles"
    case("missing-shx", fam, "boundaries", put("shp/no-shx.zip", _shp_zip(parts, drop=(".shx",))),
         "UnsupportedFile", ".shx")
    case("missing-dbf", fam, "boundaries", put("shp/no-dbf.zip", _shp_zip(parts, drop=(".dbf",))),
         "UnsupportedFile", ".dbf")
    case("missing-prj", fam, "boundaries", put("shp/no-prj.zip", _shp_zip(parts, drop=(".prj",))),
         "CRSProblem", "Choose the coordinate system")
    case("missing-prj-crs-chosen", fam, "boundaries", put("shp/no-prj-chosen.zip", _shp_zip(parts, drop=(".prj",))),
         contains="as you chose", options={"assume_crs": "EPSG:4326"}, checks={"rows": 3})
    other = _shp_parts(scratch, bench.squares(5), tag="other")
    two = {f"a/areas{e}": d for e, d in parts.items()} | {f"b/other{e}": d for e, d in other.items()}
    two_zip = put("shp/two.zip", _zip(two))
    case("two-shapefiles", "first pick", "boundaries", two_zip, "UnsupportedFile", "--layer")
    case("two-shapefiles-chosen", "first pick", "boundaries", two_zip, contains="as chosen",
         options={"layer": "b/other"}, checks={"rows": 5})
    accents = bench.squares(3, names=["Café – Ashby", "Ynys Môn", "Säffle ‘quoted’"])
    cp = _shp_parts(scratch, accents, encoding="cp1252")
    case("cp1252-with-cpg", fam, "boundaries", put("shp/cp1252-cpg.zip", _shp_zip(cp)),
         checks={"column_equals": {"name": ["Café – Ashby", "Ynys Môn", "Säffle ‘quoted’"]}})
    case("cp1252-without-cpg", fam, "boundaries", put("shp/cp1252-no-cpg.zip", _shp_zip(cp, drop=(".cpg",))),
         checks={"column_equals": {"name": ["Café – Ashby", "Ynys Môn", "Säffle ‘quoted’"]}})
    utf = _shp_parts(scratch, accents, encoding="utf-8")
    case("utf8-without-cpg", fam, "boundaries", put("shp/utf8-no-cpg.zip", _shp_zip(utf, drop=(".cpg",))),
         checks={"column_equals": {"name": ["Café – Ashby", "Ynys Môn", "Säffle ‘quoted’"]}})
    fewer = _shp_parts(scratch, bench.squares(2))
    mismatch = dict(parts, **{".dbf": fewer[".dbf"]})
    case("dbf-fewer-records", fam, "boundaries", put("shp/mismatch.zip", _shp_zip(mismatch)),
         "UnsupportedFile", "records")
    case("shp-not-a-shapefile", fam, "boundaries",
         put("shp/fake.zip", _shp_zip(dict(parts, **{".shp": b"hello, I am not a shapefile" * 10}))),
         "UnsupportedFile", "not a real .shp")
    case("shp-truncated", fam, "boundaries",
         put("shp/truncated.zip", _shp_zip(dict(parts, **{".shp": parts[".shp"][:120]}))),
         "UnsupportedFile", "")
    case("upper-case-extensions", fam, "boundaries",
         put("shp/upper.zip", _zip({f"AREAS{e.upper()}": d for e, d in parts.items()})), checks={"rows": 3})

    # ------------------------------------------------------------------ geopackages
    fam = "geopackages"
    multi = _gpkg(scratch / "gp1", {"districts": bench.squares(2), "lsoas": bench.squares(4)})
    multi_path = put("gpkg/multi.gpkg", multi)
    case("multi-layer", "first pick", "boundaries", multi_path, "UnsupportedFile", "2 spatial layers")
    first_table = put("gpkg/table.csv", _csv([["code", "value"], ["E01000001", "1"], ["E01000002", "2"]]))
    case("multi-layer-cli-map", "first pick", "cli", multi_path, "UnsupportedFile", "--layer", table=first_table,
         options={"argv": ["map", "{path}", "{table}", "--column", "value", "--out", "{out}.html"]})
    case("multi-layer-cli-map-chosen", "first pick", "cli", multi_path, table=first_table, checks={"exit": 0},
         options={"argv": ["map", "{path}", "{table}", "--column", "value", "--layer", "lsoas",
                           "--out", "{out}.html"]})
    case("multi-layer-chosen", fam, "boundaries", put("gpkg/multi-chosen.gpkg", multi), options={"layer": "lsoas"},
         checks={"rows": 4})
    case("missing-layer-name", fam, "boundaries", put("gpkg/missing.gpkg", multi), "UnsupportedFile",
         "no layer called", options={"layer": "nope"})
    only_table = _gpkg(scratch / "gp2", {}, table=pd.DataFrame({"code": ["E01000001"], "v": [1]}))
    case("only-non-spatial-layer", fam, "boundaries", put("gpkg/attributes.gpkg", only_table),
         "UnsupportedFile", "no spatial layer")
    mixed = _gpkg(scratch / "gp3", {"areas": bench.squares(3)}, table=pd.DataFrame({"code": ["E01000001"]}))
    case("non-spatial-layer-chosen", fam, "boundaries", put("gpkg/mixed.gpkg", mixed), "UnsupportedFile",
         "has no geometry", options={"layer": "attributes"})
    case("truncated-geopackage", fam, "boundaries", put("gpkg/truncated.gpkg", multi[:8192]), "UnsupportedFile", "")

    # ------------------------------------------------------------------ geometry
    fam = "geometry"
    bow = {"type": "Polygon", "coordinates": [[[-1.5, 53.8], [-1.49, 53.81], [-1.49, 53.8], [-1.5, 53.81],
                                               [-1.5, 53.8]]]}
    case("self-intersection", fam, "boundaries", put("geom/bowtie.geojson", _fc(
        [_feature({"code": "E01000001"}, bow), _feature({"code": "E01000002"}, _poly(3))])),
         contains="feature 1 (E01000001): Self-intersection", checks={"rows": 2, "all_valid": True, "polygonal": True})
    spike = {"type": "Polygon", "coordinates": [[[-1.5, 53.8], [-1.49, 53.8], [-1.49, 53.805], [-1.4, 53.805],
                                                 [-1.49, 53.805], [-1.49, 53.81], [-1.5, 53.81], [-1.5, 53.8]]]}
    case("spike", fam, "boundaries", put("geom/spike.geojson", _fc([_feature({"code": "E01000001"}, spike)])),
         contains="spike", checks={"rows": 1, "all_valid": True, "polygonal": True})
    unclosed = {"type": "Polygon", "coordinates": [_square(0)[0][:-1]]}
    case("unclosed-ring", fam, "boundaries", contains="Closed 1 polygon ring", path=put("geom/unclosed.geojson", _fc(
        [_feature({"code": "E01000001"}, unclosed), _feature({"code": "E01000002"}, _poly(2))])),
         checks={"rows": 2, "all_valid": True})
    short = {"type": "Polygon", "coordinates": [[[-1.5, 53.8], [-1.49, 53.8]]]}
    case("ring-too-short", fam, "boundaries", put("geom/short.geojson", _fc([_feature({"code": "E01000001"}, short)])),
         "UnsupportedFile", "geometry")
    case("empty-and-null-geometries", fam, "boundaries", put("geom/empty-null.geojson", _fc(
        [_feature({"code": "E01000001"}, _poly(0)), _feature({"code": "E01000002"}, None),
         _feature({"code": "E01000003"}, {"type": "Polygon", "coordinates": []})])),
         contains="no geometry", checks={"rows": 3})
    case("points-not-polygons", fam, "boundaries", put("geom/points.geojson", bench.geojson_bytes(bench.points())),
         "UnsupportedFile", "not areas")
    lines = gpd.GeoDataFrame({"code": ["E01000001"]}, geometry=[LineString([(-1.5, 53.8), (-1.4, 53.9)])], crs=4326)
    case("lines-not-polygons", fam, "boundaries", put("geom/lines.geojson", bench.geojson_bytes(lines)),
         "UnsupportedFile", "not areas")
    mixed_types = gpd.GeoDataFrame({"code": ["E01000001", "E01000002"]},
                                   geometry=[box(-1.5, 53.8, -1.49, 53.81), Point(-1.4, 53.8)], crs=4326)
    case("polygon-and-point-mixed", fam, "boundaries", put("geom/mixed.geojson", bench.geojson_bytes(mixed_types)),
         contains="non-polygon", checks={"rows": 2})
    case("unknown-geometry-type", fam, "boundaries", put("geom/unknown.geojson", _fc(
        [_feature({"code": "E01000001"}, {"type": "Circle", "coordinates": [0, 0]})])), "UnsupportedFile", "")
    n = 1_000_001
    ring = ",".join(f"[{-1.5 + 0.05 * math.cos(2 * math.pi * k / n):.6f},{53.8 + 0.05 * math.sin(2 * math.pi * k / n):.6f}]"
                    for k in range(n))
    big = ('{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"E01000001"},'
           '"geometry":{"type":"Polygon","coordinates":[[' + ring + ',[-1.45,53.8]]]}}]}')
    case("million-vertices", fam, "boundaries", put("geom/million.geojson", big.encode()), "FileTooLarge",
         "500,000", options={"settings": {"max_vertices": 500_000}})
    case("many-features", fam, "boundaries", put("geom/many.geojson", _areas([f"E01{i:06d}" for i in range(1, 60)])),
         "FileTooLarge", "limit is 50", options={"settings": {"max_features": 50}})
    case("many-features-shapefile", fam, "boundaries", put("geom/many.zip", _shp_zip(
        _shp_parts(scratch, bench.squares(12)))), "FileTooLarge", "limit is 10", options={"settings": {"max_features": 10}})
    nan = b'{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"E01000001"},' \
          b'"geometry":{"type":"Polygon","coordinates":[[[NaN,53.8],[Infinity,53.8],[-1.4,53.9],[NaN,53.8]]]}}]}'
    case("nan-infinite-coordinates", fam, "boundaries", put("geom/nan.geojson", nan), "UnsupportedFile", "")
    collection = {"type": "GeometryCollection", "geometries": [_poly(0), _poly(1)]}
    case("geometry-collection", fam, "boundaries", put("geom/collection.geojson", _fc(
        [_feature({"code": "E01000001"}, collection)])), contains="GeometryCollection of Polygon, Polygon",
         checks={"rows": 1, "polygonal": True})
    poly_point = {"type": "GeometryCollection", "geometries": [_poly(0), {"type": "Point", "coordinates": [-1.5, 53.8]}]}
    case("collection-polygon-and-point", fam, "boundaries", put("geom/collection-point.geojson", _fc(
        [_feature({"code": "E01000001"}, poly_point), _feature({"code": "E01000002"}, _poly(2))])),
         contains="feature 1 (E01000001): a GeometryCollection of Polygon, Point — kept the 1 polygon part(s), "
                  "dropped Point", checks={"rows": 2, "polygonal": True})
    only_points = {"type": "GeometryCollection", "geometries": [{"type": "Point", "coordinates": [-1.5, 53.8]}]}
    case("collection-of-points-only-beside-polygon", fam, "boundaries", put("geom/collection-points.geojson", _fc(
        [_feature({"code": "E01000001"}, only_points), _feature({"code": "E01000002"}, _poly(2))])),
         contains="feature 1 (E01000001): GeometryCollection", checks={"rows": 2, "polygonal": True})
    three = {"type": "Polygon", "coordinates": [[[-1.5, 53.8], [-1.49, 53.8], [-1.5, 53.8]]]}
    case("three-point-ring", fam, "boundaries", put("geom/three-point.geojson", _fc(
        [_feature({"code": "E01000001"}, three), _feature({"code": "E01000002"}, _poly(2))])),
         contains="feature 1 (E01000001)", checks={"rows": 2, "polygonal": True})
    geom_table = put("geom/table.csv", _csv([["code", "value"], ["E01000001", "1"], ["E01000002", "2"]]))
    case("bowtie-cli-map-notes", fam, "cli", put("geom/bowtie-cli.geojson", _fc(
        [_feature({"code": "E01000001"}, bow), _feature({"code": "E01000002"}, _poly(3))])), table=geom_table,
         contains="note [geometry-repaired]: Repaired 1 invalid polygon(s) with make_valid: feature 1 (E01000001)",
         options={"argv": ["map", "{path}", "{table}", "--column", "value", "--out", "{out}.html"]},
         checks={"exit": 0})
    case("collection-cli-map-notes", fam, "cli", put("geom/collection-cli.geojson", _fc(
        [_feature({"code": "E01000001"}, poly_point), _feature({"code": "E01000002"}, _poly(2))])), table=geom_table,
         contains="note [geometry-collection]", checks={"exit": 0, "no_collection_in_page": True},
         options={"argv": ["map", "{path}", "{table}", "--column", "value", "--out", "{out}.html"]})
    n_big = 200_000
    ring_big = [[round(-1.5 + 0.05 * math.cos(2 * math.pi * k / n_big), 6),
                 round(53.8 + 0.05 * math.sin(2 * math.pi * k / n_big), 6)] for k in range(n_big)]
    ring_big.append(ring_big[0])
    big_areas = put("geom/one-huge-polygon.geojson", _fc(
        [_feature({"code": "E01000001", "name": "Huge"}, {"type": "Polygon", "coordinates": [ring_big]})]
        + [_feature({"code": f"E0100000{i}", "name": f"Area {i}"}, _poly(i, x0=-1.3)) for i in (2, 3)]))
    big_table = put("geom/huge-table.csv", _csv([["code", "value"], ["E01000001", "1"], ["E01000002", "2"],
                                                 ["E01000003", "3"]]))
    case("200k-vertex-polygon-cli-map", fam, "cli", big_areas, table=big_table, contains="Simplified the 3 areas",
         options={"argv": ["map", "{path}", "{table}", "--column", "value", "--out", "{out}.html"]},
         checks={"exit": 0, "max_bytes": 1_500_000})

    # ------------------------------------------------------------------ CRS
    fam = "crs"
    bng = bench.squares(2, x0=430000, y0=433000, size=500, crs=None)
    case("bng-labelled-wgs84", fam, "boundaries", put("crs/bng-as-wgs84.geojson", bench.geojson_bytes(bng)),
         "CRSProblem", "British National Grid")
    case("bng-with-crs84-member", fam, "boundaries", put("crs/bng-crs84.geojson", bench.geojson_bytes(
        bng, "urn:ogc:def:crs:OGC:1.3:CRS84")), "CRSProblem", "British National Grid")
    lying = _shp_parts(scratch, bng.set_crs(4326, allow_override=True))
    case("lying-prj", fam, "boundaries", put("crs/lying-prj.zip", _shp_zip(lying)), "CRSProblem",
         "British National Grid")
    swapped = bench.squares(2, x0=53.8, y0=-1.5)
    case("swapped-lat-lon", fam, "boundaries", put("crs/swapped.geojson", bench.geojson_bytes(swapped)),
         "CRSProblem", "swapped")
    no_crs = _shp_parts(scratch, bench.squares(2, x0=430000, y0=433000, size=500, crs=None))
    case("missing-crs", fam, "boundaries", put("crs/no-crs.zip", _shp_zip(no_crs)), "CRSProblem",
         "Choose the coordinate system")
    case("missing-crs-bng-chosen", fam, "boundaries", put("crs/no-crs-chosen.zip", _shp_zip(no_crs)),
         contains="Reprojected", options={"assume_crs": "EPSG:27700"}, checks={"rows": 2, "lon_lat": True})
    case("unknown-epsg-member", fam, "boundaries", put("crs/bogus-epsg.geojson", bench.geojson_bytes(
        bench.squares(2), "urn:ogc:def:crs:EPSG::999999")), "CRSProblem", "999999")
    case("legacy-bng-member", fam, "boundaries", put("crs/bng-member.geojson", bench.geojson_bytes(
        bng, "urn:ogc:def:crs:EPSG::27700")), contains="Reprojected", checks={"rows": 2, "lon_lat": True})
    buf = io.BytesIO()
    bench.squares(2, x0=430000, y0=433000, size=500, crs="EPSG:27700").to_parquet(buf)
    case("geoparquet-bng", fam, "boundaries", put("crs/bng.parquet", buf.getvalue()), contains="Reprojected",
         checks={"rows": 2, "lon_lat": True})

    mixed = json.loads(bench.geojson_bytes(bench.squares(2)))
    mixed["features"] += json.loads(bench.geojson_bytes(bench.squares(1, x0=430000, y0=433000, size=500, crs=None,
                                                                      codes=["E01000003"])))["features"]
    case("mixed-crs-features", fam, "boundaries", put("crs/mixed.geojson", json.dumps(mixed).encode()),
         "CRSProblem", "mixes coordinate systems")
    case("mixed-crs-no-prj", fam, "boundaries", put("crs/mixed-no-prj.zip", _shp_zip(_shp_parts(
        scratch, gpd.read_file(io.BytesIO(json.dumps(mixed).encode())).set_crs(None, allow_override=True),
        tag="mixed"), stem="mixed")), "CRSProblem", "mixes coordinate systems")

    # ------------------------------------------------------------------ tables
    fam = "tables"
    case("windows-1252", fam, "table", put("tables/cp1252.csv", "code,name,value\nE01000001,Café – Ashby,1\n"
                                            "E01000002,Ynys Môn,2\n".encode("cp1252")),
         contains="Windows-1252", checks={"column_equals": {"name": ["Café – Ashby", "Ynys Môn"]}})
    case("utf-16-tab-text", fam, "table", put("tables/unicode-text.txt", "code\tvalue\r\nE01000001\t1\r\n"
                                                "E01000002\t2\r\n".encode("utf-16")),
         contains="UTF-16", checks={"column_equals": {"code": ["E01000001", "E01000002"], "value": ["1", "2"]}})
    case("semicolon-decimal-comma", fam, "table", put("tables/semicolon.csv",
                                                       b"code;score\nE01000001;1,5\nE01000002;22,25\n"),
         contains="decimal comma", checks={"numbers": {"score": [1.5, 22.25]}})
    case("unbalanced-quote", fam, "table", put("tables/quote.csv",
                                                b'code,value\nE01000001,"3\nE01000002,4\nE01000003,5\n'),
         "UnsupportedFile", "quote")
    case("stray-quote-in-field", fam, "table", put("tables/stray.csv", b'code,name\nE01000001,5" screen\n'
                                                   b"E01000002,ok\n"), checks={"rows": 2})
    case("huge-cell", fam, "table", put("tables/huge.csv", b'code,value\nE01000001,"' + b"x" * 300_000 + b'"\n'),
         "UnsupportedFile", "")
    case("nul-bytes-early", fam, "table", put("tables/nul.csv", b"code,value\nE01\x00000001,1\n"),
         "UnsupportedFile", "binary")
    case("nul-bytes-late", fam, "table", put("tables/nul-late.csv", b"code,value\n" + b"E01000001,1\n" * 500
                                               + b"E01000002,\x00\n"), "UnsupportedFile", "NUL")
    case("empty-file", fam, "table", put("tables/empty.csv", b""), "UnsupportedFile", "empty")
    case("whitespace-only", fam, "table", put("tables/blank.csv", b"\n  \n\n"), "UnsupportedFile", "empty")
    case("header-only", fam, "table", put("tables/header.csv", b"code,value\n"), "UnsupportedFile", "no data rows")
    case("duplicate-headers", fam, "table", put("tables/dup-headers.csv", b"code,value,value\nE01000001,1,2\n"),
         contains="more than once", checks={"columns": ["code", "value", "value (2)"]})
    case("ragged-rows", fam, "table", put("tables/ragged.csv", b"code,value\nE01000001,1,,\nE01000002\n"),
         contains="fewer cells than the header", checks={"rows": 2})
    case("more-fields-than-header", fam, "table", put("tables/thousands-unquoted.csv",
                                                       b"code,value\nE01000001,5\nE01000002,1,234\n"),
         "UnsupportedFile", "thousands separator")
    dup_value = put("tables/dup-value.csv", b"code,value,value\nE01000001,1,2\nE01000002,3,4\n")
    case("duplicate-header-cli-map", "first pick", "cli", areas5, "AtlasError", "--column 'value (2)'",
         table=dup_value, options={"argv": ["map", "{path}", "{table}", "--column", "value", "--out", "{out}.html"]})
    two_sheets = put("tables/two-sheets.xlsx", _xlsx([("2019", [["code", "value"], ["E01000001", 1]], "visible"),
                                                      ("2024", [["code", "value"], ["E01000001", 2]], "visible")]))
    case("two-visible-sheets", "first pick", "table", two_sheets, "UnsupportedFile", "--sheet")
    case("two-visible-sheets-chosen", "first pick", "table", two_sheets, options={"sheet": "2024"},
         checks={"column_equals": {"value": ["2"]}})
    case("two-visible-sheets-cli-join", "first pick", "cli", areas5, "UnsupportedFile", "'2019', '2024'",
         table=two_sheets, options={"argv": ["join", "{path}", "{table}", "--report", "{out}.json"]})
    wb = _xlsx([("data", [["code", "value"], ["E01000001", "a"]], "visible")])
    case("xlsx-hand-made-control", fam, "table", put("tables/hand-made.xlsx", _minimal_xlsx(
        _PLAIN_SHEET, _PLAIN_STRINGS)), checks={"column_equals": {"code": ["E01000001"], "value": ["5"]}})
    case("xlsx-billion-laughs-shared-strings", fam, "table",
         put("tables/laughs-sst.xlsx", _minimal_xlsx(_PLAIN_SHEET, _bomb_shared_strings())),
         "UnsupportedFile", "billion laughs")
    case("xlsx-billion-laughs-sheet", fam, "table",
         put("tables/laughs-sheet.xlsx", _minimal_xlsx(_bomb_sheet(), _PLAIN_STRINGS)), "UnsupportedFile",
         "billion laughs")
    padded = _bomb_shared_strings().replace(b"<!DOCTYPE", b"<!--" + b" " * 70_000 + b"-->\n<!DOCTYPE", 1)
    case("xlsx-billion-laughs-after-long-comment", fam, "table",
         put("tables/laughs-padded.xlsx", _minimal_xlsx(_PLAIN_SHEET, padded)), "UnsupportedFile", "billion laughs")
    only_formulas = put("tables/only-formulas.xlsx", _xlsx(
        [("data", [["code", "value"], ["E01000001", "=1+1"], ["E01000002", "=B2*2"]], "visible")]))
    case("xlsx-formulas-cli-map", "values", "cli", areas5, "AtlasError", "no saved result", table=only_formulas,
         options={"argv": ["map", "{path}", "{table}", "--column", "value", "--out", "{out}.html"]})
    case("xlsx-formulas-without-values", fam, "table", put("tables/formulas.xlsx", _xlsx(
        [("data", [["code", "value"], ["E01000001", "=1+1"], ["E01000002", "=B2*2"], ["E01000003", 7]], "visible")])),
         contains="formula", checks={"column_equals": {"value": ["", "", "7"]}})
    case("title-rows", fam, "table", put("tables/titles.csv", b"Indices of Deprivation extract\nProduced 2024\n\n"
                                         b"code,value\nE01000001,1\nE01000002,2\n"),
         contains="title row", checks={"columns": ["code", "value"], "rows": 2})
    case("title-row-with-two-cells", fam, "table", put("tables/titles-two-cells.csv",
                                                       b"Deprivation extract,,Date: 2019\ncode,value\nE01000001,1\n"),
         contains="title row", checks={"columns": ["code", "value"], "rows": 1})
    case("footnotes-below-data", fam, "table", put("tables/footnotes.csv",
                                                   b"code,value\nE01000001,1\nE01000002,2\nE01000003,3\n\n"
                                                   b"Source: MHCLG,\n\"Note: [c] means suppressed, see p.4\",\n"
                                                   b"* provisional,\n"),
         contains="footnote", checks={"rows": 3, "column_equals": {"code": ["E01000001", "E01000002", "E01000003"]}})
    case("xlsx-titles-and-footnotes", fam, "table", put("tables/titles-footnotes.xlsx", _xlsx(
        [("data", [["Table 1: extract"], [], ["code", "value"], ["E01000001", 1], ["E01000002", 2.5], [],
                   ["Source: MHCLG"], ["© Crown copyright"]], "visible")])),
         contains="footnote", checks={"rows": 2, "column_equals": {"value": ["1", "2.5"]}})
    case("hidden-sheet-first", fam, "table", put("tables/hidden.xlsx", _xlsx(
        [("secret", [["code", "value"], ["E01000001", 999]], "hidden"),
         ("data", [["code", "value"], ["E01000001", 1]], "visible"),
         ("very", [["code", "value"], ["E01000001", 666]], "veryHidden")])),
         contains="hidden", checks={"column_equals": {"value": ["1"]}})
    two = _xlsx([("first", [["code", "value"], ["E01000001", 1]], "hidden"),
                 ("second", [["code", "value"], ["E01000001", 2]], "visible")])
    every_hidden = zipfile.ZipFile(io.BytesIO(two)).read("xl/workbook.xml").replace(b'state="visible"',
                                                                                   b'state="hidden"')
    case("every-sheet-hidden", fam, "table", put("tables/all-hidden.xlsx", _replace_member(
        two, "xl/workbook.xml", every_hidden)), contains="Every sheet of the workbook is hidden",
         checks={"column_equals": {"value": ["1"]}})
    case("xlsx-damaged", fam, "table", put("tables/damaged.xlsx", _replace_member(
        wb, "xl/workbook.xml", b"<workbook><not closed")), "UnsupportedFile", "")

    # ------------------------------------------------------------------ codes
    fam = "codes"

    def join_case(name: str, rows: list[list[str]], boundaries: str = areas5, expected: str = "ok", contains: str = "",
                  options: dict | None = None, checks: dict | None = None, known_issue: str = "") -> None:
        table = put(f"codes/{name}.csv", _csv(rows))
        case(name, fam, "join", boundaries, expected, contains, table=table, options=options or {},
             checks=checks or {}, known_issue=known_issue)

    join_case("whitespace-case-invisible-fullwidth", [["code", "value"], [" e01000001 ", "1"], ["E01000002\u200b", "2"],
                                                      ["Ｅ０１０００００３", "3"], ["E0100\u00a00004", "4"]],
              checks={"matched": 4, "normalisations": ["invisible", "full-width", "whitespace", "upper-cased"]})
    join_case("leading-zeros-lost-some", [["code", "value"], ["1000001", "1"], ["1000002", "2"], ["E01000003", "3"],
                                          ["E01000004", "4"], ["E01000005", "5"]],
              contains="looks like E01000001", checks={"matched": 3, "unmatched": ["1000001", "1000002"]})
    join_case("leading-zeros-lost-all", [["code", "value"], ["1000001", "1"], ["1000002", "2"], ["1000003", "3"]],
              expected="AtlasError", contains="leading zeros")
    join_case("scientific-notation", [["code", "value"], ["1.23E+08", "1"], ["E01000002", "2"], ["E01000003", "3"]],
              checks={"matched": 2, "normalisations": ["scientific notation"], "unmatched": ["1.23E+08"]})
    join_case("duplicates-same", [["code", "value"], ["E01000001", "1"], ["E01000001", "1"], ["e01000001 ", "1"],
                                  ["E01000002", "2"]],
              contains="Collapsed exact duplicate", checks={"matched": 2})
    join_case("duplicates-conflicting", [["code", "value"], ["E01000001", "1"], ["E01000001", "9"]],
              expected="JoinBlocked", contains="more than once")
    join_case("duplicates-conflicting-keep-first", [["code", "value"], ["E01000001", "1"], ["E01000001", "9"]],
              contains="Kept the first", options={"resolve_conflicts": "first"},
              checks={"matched": 1, "joined_values": {"E01000001": "1"}})
    join_case("mixed-levels", [["code", "value"], ["E01000001", "1"], ["E01000002", "2"], ["E02000001", "3"],
                               ["E06000001", "4"]], expected="AtlasError", contains="MSOA")
    join_case("leading-apostrophe", [["code", "value"], ["'E01000001", "1"], ["\u2019E01000002", "2"],
                                     ["E01000003", "3"]],
              checks={"matched": 3, "normalisations": ["apostrophe"]})
    join_case("welsh-codes-on-england", [["code", "value"]] + [[f"W0100000{i}", str(i)] for i in range(1, 5)],
              contains="Wales", checks={"matched": 0})
    join_case("scottish-codes-on-england", [["code", "value"]] + [[f"S0100000{i}", str(i)] for i in range(1, 5)],
              contains="Scotland", checks={"matched": 0})
    join_case("empty-code-cells", [["code", "value"], ["E01000001", "1"], ["", "2"], ["  ", "3"]],
              contains="no code", checks={"matched": 1})
    join_case("no-code-column", [["name", "value"], ["Ashby", "1"], ["Bolton", "2"]], expected="AtlasError",
              contains="No column")
    join_case("named-code-column-missing", [["code", "value"], ["E01000001", "1"]], expected="AtlasError",
              contains="no column",
              options={"indicator_code": "LSOA code"})
    districts = put("codes/districts-2023.geojson", _areas(["E06000058", "E06000059", "E08000025"],
                                                           ["BCP", "Dorset", "Birmingham"]))
    join_case("retired-district-codes", [["code", "population", "score"], ["E06000028", "100", "10"],
                                         ["E06000029", "100", "20"], ["E07000048", "50", "30"],
                                         ["E07000049", "10", "5"], ["E07000050", "10", "5"], ["E07000051", "10", "5"],
                                         ["E07000052", "10", "5"], ["E07000053", "10", "5"], ["E08000025", "1", "1"]],
              boundaries=districts, options={"across_vintages": True}, checks={"matched": 3, "conversion": True})
    lsoa21 = put("codes/lsoa21.geojson", _areas(["E01035000", "E01035001", "E01000001"]))
    join_case("lsoa2011-table-on-2021-boundaries", [["code", "value"], ["E01000001", "1"], ["E01000002", "2"],
                                                    ["E01000003", "3"]],
              boundaries=lsoa21, options={"across_vintages": True}, contains="LSOA 2011", checks={"matched": 1})
    dup_bounds = put("codes/dup-boundaries.geojson", _areas(["E01000001", "E01000001", "E01000002"]))
    join_case("duplicate-boundary-codes", [["code", "value"], ["E01000001", "1"], ["E01000002", "2"]],
              boundaries=dup_bounds, contains="more than one polygon", checks={"matched": 3})

    # ------------------------------------------------------------------ values
    fam = "values"
    case("suppression-markers", fam, "table", put("values/suppressed.csv", _csv(
        [["code", "value"], ["E01000001", "*"], ["E01000002", "[c]"], ["E01000003", ".."], ["E01000004", "[low]"],
         ["E01000005", "x"], ["E01000006", "5"], ["E01000007", ""]])),
         checks={"suppressed": {"value": 5}, "numbers": {"value": [None] * 5 + [5.0, None]}})
    case("excel-errors", fam, "table", put("values/errors.csv", _csv(
        [["code", "value"], ["E01000001", "#N/A"], ["E01000002", "#DIV/0!"], ["E01000003", "3"]])),
         checks={"suppressed": {"value": 2}, "numbers": {"value": [None, None, 3.0]}})
    case("percent-as-text", fam, "table", put("values/percent.csv", _csv(
        [["code", "value"], ["E01000001", "12.5%"], ["E01000002", " 3 % "]])),
         checks={"numbers": {"value": [12.5, 3.0]}})
    case("thousands-separators", fam, "table", put("values/thousands.csv", _csv(
        [["code", "value"], ["E01000001", "29,199"], ["E01000002", "1,234,567"], ["E01000003", "-1,000.5"]])),
         checks={"numbers": {"value": [29199.0, 1234567.0, -1000.5]}})
    iod = ["LSOA code (2011)", "Index of Multiple Deprivation (IMD) Score",
           "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
           "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"]
    case("iod-rank-direction", fam, "columns", put("values/iod-headers.csv", _csv(
        [iod, ["E01000001", "35.1", "1,234", "1"]])),
         checks={"recognised": {iod[1]: ("imd", "score", True), iod[2]: ("imd", "rank", False),
                                iod[3]: ("imd", "decile", False)}})
    local = ["code", "IMD local decile", "Index of Multiple Deprivation (IMD) Decile (local)", "imd_local_decile",
             "IMD Decile (recalculated within district)"]
    case("local-deciles-not-national", fam, "columns", put("values/local-deciles.csv", _csv(
        [local, ["E01000001", "1", "1", "1", "1"]])), checks={"not_recognised": local[1:]})
    local2 = ["code", "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs in the "
                      "district)"]
    case("local-decile-official-style", fam, "columns", put("values/local-decile-where.csv", _csv(
        [local2, ["E01000001", "1"]])), checks={"not_recognised": local2[1:]})
    # ------------------------------------------------------------------ rows: every input row accounted for
    fam = "rows"

    def rows_case(name: str, rows: list[list[str]], boundaries: str, expected: str = "ok", contains: str = "",
                  checks: dict | None = None, options: dict | None = None) -> None:
        table = put(f"rows/{name}.csv", _csv(rows))
        case(name, fam, "join", boundaries, expected, contains, table=table,
             options={"across_vintages": True} | (options or {}), checks=checks or {})

    d23 = put("rows/districts-2023.geojson", _areas(["E06000063", "E06000064", "E08000025"],
                                                    ["Cumberland", "Westmorland and Furness", "Birmingham"]))
    d21 = put("rows/districts-2021.geojson", _areas(["E06000060", "E06000061", "E08000025"],
                                                    ["Buckinghamshire", "North Northamptonshire", "Birmingham"]))
    rows_case("cumbria-retired-beside-successor", [["code", "value"], ["E07000026", "1"], ["E07000028", "2"],
                                                   ["E07000029", "3"], ["E06000063", "4"]], d23,
              contains="E07000026 → E06000063 Cumberland",
              checks={"matched": 1, "unmatched": ["E07000026", "E07000028", "E07000029"], "rows_in": 4})
    rows_case("bucks-rates-without-weight", [["code", "value"], ["E07000004", "1"], ["E07000005", "2"],
                                             ["E07000006", "3"], ["E07000007", "4"]], d21,
              contains="E07000004 → E06000060 Buckinghamshire",
              checks={"matched": 0, "unmatched": ["E07000004", "E07000005", "E07000006", "E07000007"]})
    rows_case("bucks-with-population", [["code", "population", "score"], ["E07000004", "100", "10"],
                                        ["E07000005", "100", "20"], ["E07000006", "100", "30"],
                                        ["E07000007", "100", "40"], ["E08000025", "5", "1"]], d21,
              contains="formed by merging 4", checks={"matched": 2, "conversion": True, "rows_converted": 3,
                                                      "joined_values": {"E06000060": "400.0"}})
    rows_case("cumbria-part-of-a-merger", [["code", "population", "score"], ["E07000026", "10", "1"],
                                           ["E07000028", "10", "2"], ["E08000025", "5", "1"]], d23,
              contains="the table lacks some of the areas",
              checks={"matched": 1, "unmatched": ["E07000026", "E07000028"]})
    rows_case("retired-codes-with-duplicates-and-blanks", [["code", "population", "score"], ["E07000004", "1", "1"],
                                                           ["E07000004", "1", "1"], ["", "3", "3"],
                                                           ["E07000005", "1", "2"], ["E07000006", "1", "3"],
                                                           ["E07000007", "1", "4"]], d21,
              contains="no code", checks={"matched": 1, "rows_collapsed": 1, "rows_converted": 3})
    rows_case("lsoa2011-table-vintages-named-apart", [["code", "value"], ["E01000001", "1"], ["E01000002", "2"]],
              put("rows/lsoa21.geojson", _areas(["E01035000", "E01035001", "E01000001"])),
              checks={"summary": ["Table: LSOA, LSOA 2011", "boundaries: LSOA, LSOA 2021"], "matched": 1})
    case("cumbria-cli-join", fam, "cli", d23, table=put("rows/cumbria-cli.csv", _csv(
        [["code", "value"], ["E07000026", "1"], ["E07000028", "2"], ["E07000029", "3"], ["E06000063", "4"]])),
         contains="4 table row(s): 1 matched + 3 without an area", checks={"exit": 0},
         options={"argv": ["join", "{path}", "{table}", "--report", "{out}.json"]})

    # ------------------------------------------------------------------ arguments: no traceback, exit code 2
    fam = "arguments"
    for name, extra, contains in (
            ("k-zero", ["--k", "0", "--out", "{out}.html"], "--k"),
            ("k-huge", ["--k", "99", "--out", "{out}.html"], "--k"),
            ("boundary-code-missing", ["--boundary-code", "no_such_column", "--out", "{out}.html"], "no column"),
            ("indicator-code-missing", ["--indicator-code", "no_such_column", "--out", "{out}.html"], "no column"),
            ("breaks-without-user-defined", ["--breaks", "1", "2", "--out", "{out}.html"], "user_defined"),
            ("user-defined-without-breaks", ["--scheme", "user_defined", "--out", "{out}.html"], "--breaks"),
            ("unknown-crs", ["--assume-crs", "EPSG:99999", "--out", "{out}.html"], "--assume-crs"),
            ("out-folder-missing", ["--out", "/nonexistent-atlas-folder/x.html"], "does not exist")):
        case(f"map-{name}", fam, "cli", areas5, "AtlasError", contains, table=first_table,
             options={"argv": ["map", "{path}", "{table}", "--column", "value"] + extra})
    case("join-boundary-code-missing", fam, "cli", areas5, "AtlasError", "--boundary-code", table=first_table,
         options={"argv": ["join", "{path}", "{table}", "--boundary-code", "no_such_column", "--report", "{out}.json"]})
    case("summarise-national-lsoas-zero", fam, "cli", first_table, "AtlasError", "--national-lsoas",
         options={"argv": ["summarise", "{path}", "--national-lsoas", "0", "--out", "{out}.csv"]})
    case("replay-n-negative", fam, "cli", first_table, "AtlasError", "--n",
         options={"argv": ["replay2001", "{path}", "--n", "-3"]})
    case("eligibility-percent-nan", fam, "cli", first_table, "AtlasError", "--percent",
         options={"argv": ["eligibility", "--rule", str(bench.REPO / "geo" / "reference" / "rules" / "1_nrf_2001.toml"),
                           "--release", "{path}", "--percent", "nan", "--out", "{out}.csv"]})
    return found


# ------------------------------------------------------------------------------------- running a case


@contextlib.contextmanager
def lowered_settings(overrides: dict):
    """Temporarily change limits in geo.settings.DEFAULTS (restored afterwards)."""
    import geo.settings

    saved = {k: geo.settings.DEFAULTS[k] for k in overrides}
    geo.settings.DEFAULTS.update(overrides)
    try:
        yield
    finally:
        geo.settings.DEFAULTS.update(saved)


def _source(path: str) -> object:
    return Path(path) if os.path.isabs(path) and os.path.lexists(path) else path


def run_case(case: Case) -> Outcome:
    """Run one case through the real readers (and join / map). Never raises."""
    from geo.errors import AtlasError

    notes_all: list[str] = []
    try:
        with lowered_settings(case.options.get("settings", {})):
            result, extra = _run(case, notes_all)
    except AtlasError as exc:
        names = [k.__name__ for k in type(exc).__mro__]
        return Outcome(type(exc).__name__, exc.message, exc.hint, notes_all, extra={"classes": names})
    except Exception as exc:  # noqa: BLE001 — this is what the corpus exists to find
        return Outcome(f"CRASH {type(exc).__name__}", str(exc)[:300], "", notes_all)
    return Outcome("ok", notes=notes_all, result=result, extra=extra)


def _run(case: Case, notes_all: list[str]) -> tuple[object, dict]:
    from geo.load.io import ReadNotes, read_boundaries, read_table

    opts = case.options
    if case.kind == "boundaries":
        notes = ReadNotes()
        try:
            return read_boundaries(_source(case.path), layer=opts.get("layer"), assume_crs=opts.get("assume_crs"),
                                   notes=notes), {}
        finally:
            notes_all += notes.messages
    if case.kind in ("table", "columns"):
        notes = ReadNotes()
        try:
            return read_table(_source(case.path), sheet=opts.get("sheet"), notes=notes), {}
        finally:
            notes_all += notes.messages
    if case.kind == "cli":
        return _run_cli(case, notes_all)
    notes_b, notes_t = ReadNotes(), ReadNotes()
    try:
        gdf = read_boundaries(_source(case.path), notes=notes_b)
        table = read_table(_source(case.table), notes=notes_t)
    finally:
        notes_all += notes_b.messages + notes_t.messages
    if case.kind == "join":
        from geo.link.join import join_across_vintages, join_indicators

        join = join_across_vintages if opts.get("across_vintages") else join_indicators
        joined, report = join(gdf, table, boundary_code=opts.get("boundary_code"),
                              indicator_code=opts.get("indicator_code"),
                              resolve_conflicts=opts.get("resolve_conflicts", "block"))
        notes_all += report.messages + report.normalisations
        return joined, {"report": report}
    if case.kind == "map":
        return _run_map(case, gdf, table, notes_all)
    if case.kind == "export":
        from geo.present.export import csv_bytes, geojson_bytes
        from geo.link.join import join_indicators

        joined, report = join_indicators(gdf, table)
        notes_all += report.messages + report.normalisations
        shown = joined[[c for c in joined.columns if not str(c).startswith("_")]]
        return joined, {"csv": csv_bytes(shown), "geojson": json.loads(geojson_bytes(shown))}
    raise ValueError(f"unknown kind {case.kind}")


def _run_cli(case: Case, notes_all: list[str]) -> tuple[object, dict]:
    """`python -m geo …` in-process (geo.__main__.dispatch): AtlasError propagates; stderr lines become the notes."""
    from geo.__main__ import dispatch

    with tempfile.TemporaryDirectory(prefix="atlas-cli-") as tmp:  # outputs are read here, never left in the corpus
        out = os.path.join(tmp, "out")
        argv = [a.replace("{path}", case.path).replace("{table}", case.table or "").replace("{out}", out)
                for a in case.options["argv"]]
        stdout, stderr = io.StringIO(), io.StringIO()
        try:
            with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
                status = dispatch(argv)
        finally:
            notes_all += [ln for ln in (stderr.getvalue() + stdout.getvalue()).splitlines() if ln.strip()]
        extra: dict = {"exit": status, "stdout": stdout.getvalue(), "stderr": stderr.getvalue()}
        written = [a for a in argv if a.startswith(out)]
        if written and os.path.exists(written[0]):
            data = Path(written[0]).read_bytes()
            extra["bytes"] = len(data)
            if written[0].endswith(".json"):
                extra["report_dict"] = json.loads(data)
            if written[0].endswith(".html"):
                extra["html"] = data.decode("utf-8")
    return None, extra


def _run_map(case: Case, gdf: gpd.GeoDataFrame, table: pd.DataFrame, notes_all: list[str]) -> tuple[object, dict]:
    from geo.present.classify import classify_values
    from geo.load.io import parse_numbers
    from geo.link.join import join_indicators
    from geo.present.mapping import MapSpec, build_choropleth, map_html

    joined, report = join_indicators(gdf, table)
    notes_all += report.messages + report.normalisations
    value_col = case.checks["value_column"]
    values, _ = parse_numbers(joined[value_col]) if value_col in joined else (pd.Series([float("nan")] * len(joined)),
                                                                             None)
    joined["_value"] = values.to_numpy()
    cls = classify_values(joined["_value"], "quantiles", 3)
    tip = case.checks.get("tooltip_column")
    title = Path(case.path).name if case.checks.get("title_from_file") else value_col
    spec = MapSpec("_value", value_col, case.checks.get("name_column"), report.boundary_code,
                   tooltip_columns=((tip, tip),) if tip and tip in joined else (), title=title, subtitle=value_col,
                   caveat=value_col)
    page = map_html(build_choropleth(joined, spec, cls, attribution=title))
    return joined, {"report": report, "page": page}


# ------------------------------------------------------------------------------------- checking a case


def _map_payload(page: str) -> dict:
    """The payload of the page's one call into atlas-map.js: AtlasMap.svg(map, meta, payload)."""
    call = "AtlasMap.svg("
    if page.count(call) < 2:  # the first is in atlas-map.js itself
        return {}
    start = page.index(", ", page.rindex(call)) + 2
    decoder = json.JSONDecoder()
    _, end = decoder.raw_decode(page, start)
    return decoder.raw_decode(page, end + 2)[0]


def check_case(case: Case, got: Outcome) -> list[str]:
    """Every way `got` differs from what `case` expects (empty when the atlas behaved)."""
    problems: list[str] = []
    if got.outcome.startswith("CRASH"):
        return [f"{got.outcome}: {got.message} — a traceback in the app"]
    if got.outcome != case.expected and case.expected not in got.extra.get("classes", []):
        return [f"expected {case.expected}, got {got.outcome}: {got.message} {got.hint}".strip()]
    if case.expected != "ok":
        if not got.message.strip():
            problems.append("the error has no message")
        if not got.hint.strip():
            problems.append("the error has no hint (what to do)")
        if case.contains and case.contains.lower() not in f"{got.message} {got.hint}".lower():
            problems.append(f"message/hint lacks {case.contains!r}: {got.message} | {got.hint}")
        return problems
    said = " ".join(got.notes)
    if case.contains and case.contains.lower() not in said.lower():
        problems.append(f"notes lack {case.contains!r}: {got.notes}")
    frame = got.result
    c = case.checks
    if case.kind == "cli":
        return problems + _check_cli(case, got)
    if "rows" in c and len(frame) != c["rows"]:
        problems.append(f"expected {c['rows']} rows, got {len(frame)}")
    if "columns" in c and list(frame.columns) != c["columns"]:
        problems.append(f"expected columns {c['columns']}, got {list(frame.columns)}")
    for col, want in c.get("column_equals", {}).items():
        have = [("" if pd.isna(v) else str(v)) for v in frame[col].tolist()] if col in frame else None
        if have != want:
            problems.append(f"column {col!r}: expected {want}, got {have}")
    if c.get("all_valid") and not frame.geometry.dropna().is_valid.all():
        problems.append("some geometries are still invalid")
    if c.get("polygonal"):
        kinds = set(frame.geometry.dropna().geom_type)
        if kinds - {"Polygon", "MultiPolygon"}:
            problems.append(f"geometries other than polygons remain: {sorted(kinds)}")
    if c.get("lon_lat"):
        minx, miny, maxx, maxy = frame.total_bounds
        if not (-8 < minx < 2 and 49 < miny < 61):
            problems.append(f"not placed in England: bounds {frame.total_bounds}")
    if "no_file" in c and os.path.exists(c["no_file"]):
        problems.append(f"{c['no_file']} was written outside the working folder")
    if "numbers" in c or "suppressed" in c:
        from geo.load.io import parse_numbers

        for col, want in c.get("numbers", {}).items():
            numbers, _ = parse_numbers(frame[col])
            have = [None if pd.isna(v) else float(v) for v in numbers.tolist()]
            if have != want:
                problems.append(f"numbers of {col!r}: expected {want}, got {have}")
        for col, want in c.get("suppressed", {}).items():
            _, marked = parse_numbers(frame[col])
            if int(marked.sum()) != want:
                problems.append(f"suppressed in {col!r}: expected {want}, got {int(marked.sum())}")
    if "recognised" in c or "not_recognised" in c:
        from geo.catalogue import recognise_columns

        found = recognise_columns([str(h) for h in frame.columns])
        for header, (measure, kind, worse_high) in c.get("recognised", {}).items():
            col = found.get(header)
            if col is None or (col.measure, col.kind, col.higher_is_worse) != (measure, kind, worse_high):
                problems.append(f"{header!r}: expected {(measure, kind, worse_high)}, got {col}")
        for header in c.get("not_recognised", []):
            if header in found:
                problems.append(f"{header!r} was taken for the catalogue's {found[header].label}")
    report = got.extra.get("report")
    if report is not None:
        problems += accounting_problems(report.to_dict())
        for key in ("rows_in", "rows_collapsed", "rows_converted"):
            if key in c and getattr(report, key) != c[key]:
                problems.append(f"expected {key} {c[key]}, got {getattr(report, key)}")
        for text in c.get("summary", []):
            if text not in report.summary():
                problems.append(f"the summary lacks {text!r}: {report.summary()}")
        if "matched" in c and report.matched != c["matched"]:
            problems.append(f"expected {c['matched']} matched, got {report.matched}")
        for kind in c.get("normalisations", []):
            if not any(kind in n for n in report.normalisations):
                problems.append(f"no normalisation {kind!r} reported: {report.normalisations}")
        for code in c.get("unmatched", []):
            if code not in report.data_without_boundary:
                problems.append(f"{code!r} not listed as data without an area: {report.data_without_boundary}")
        if c.get("conversion") and not report.conversion:
            problems.append("no vintage conversion was made")
        for code, value in c.get("joined_values", {}).items():
            row = frame[frame["_code"] == code]
            col = [k for k in frame.columns if k not in ("_code", "_has_data", "code", "name", "geometry")][0]
            if str(row[col].iloc[0]) != value:
                problems.append(f"{code}: expected {value}, got {row[col].iloc[0]}")
    page = got.extra.get("page")
    if page is not None:
        problems += _check_page(case, page)
    if "csv" in got.extra:
        problems += _check_export(case, got.extra["csv"], got.extra["geojson"])
    return problems


def accounting_problems(report: dict) -> list[str]:
    """Every input row accounted for: rows_in == matched + without an area + collapsed (+ converted)."""
    parts = ("rows_matched", "rows_without_area", "rows_collapsed", "rows_converted")
    total = sum(int(report.get(k, 0)) for k in parts)
    if report.get("rows_in") != total or report.get("rows_in") != report.get("indicator_rows"):
        return [f"rows do not add up: {report.get('rows_in')} in (of {report.get('indicator_rows')}) != "
                + " + ".join(f"{report.get(k)} {k[5:]}" for k in parts)]
    return []


def _check_cli(case: Case, got: Outcome) -> list[str]:
    problems = []
    c, extra = case.checks, got.extra
    if "exit" in c and extra.get("exit") != c["exit"]:
        problems.append(f"exit code {extra.get('exit')}, expected {c['exit']}")
    if "Traceback" in extra.get("stderr", ""):
        problems.append("a traceback on stderr")
    if "report_dict" in extra:
        problems += accounting_problems(extra["report_dict"])
        notes = extra["report_dict"].get("notes", [])
        if any(not n.get("kind") for n in notes):
            problems.append("a note in the report has no kind")
        printed = extra.get("stderr", "")
        missing = [n["message"] for n in notes if n["message"] not in printed]
        if missing:
            problems.append(f"notes in the report not printed on stderr: {missing[:2]}")
    if "max_bytes" in c and extra.get("bytes", 0) > c["max_bytes"]:
        problems.append(f"the map is {extra.get('bytes'):,} bytes; the budget is {c['max_bytes']:,}")
    if c.get("no_collection_in_page"):
        kinds = {(f.get("geometry") or {}).get("type") for f in _map_payload(extra.get("html", "")).get("features", [])}
        if not kinds or kinds - {"Polygon", "MultiPolygon", None}:
            problems.append(f"the map's geometries are {sorted(map(str, kinds))}, not only polygons")
    return problems


def _check_export(case: Case, data: bytes, doc: dict) -> list[str]:
    """The CSV: BOM, formula-like cells neutralised, numbers kept; the GeoJSON: values exactly as read."""
    import csv

    problems = []
    if not data.startswith(b"\xef\xbb\xbf"):
        problems.append("the CSV has no UTF-8 byte-order mark")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    if case.checks.get("csv_header") and case.checks["csv_header"] not in (rows[0] if rows else {}):
        problems.append(f"CSV header {case.checks['csv_header']!r} missing: {list(rows[0]) if rows else []}")
    for col, want in case.checks.get("csv_cells", {}).items():
        have = [r.get(col) for r in rows]
        if have != want:
            problems.append(f"CSV column {col!r}: expected {want}, got {have}")
    if "crs" in doc:
        problems.append("the GeoJSON has a crs member (RFC 7946 has none)")
    for col, want in case.checks.get("geojson_values", {}).items():
        have = [f["properties"].get(col) for f in doc.get("features", [])]
        if have != want:
            problems.append(f"GeoJSON property {col!r}: expected {want}, got {have}")
    return problems


def _check_page(case: Case, page: str) -> list[str]:
    from geo.present.mapping import escape_text

    problems = []
    for raw in case.checks.get("payloads", []):
        if raw in page:
            problems.append(f"raw payload {raw!r} appears unescaped in the map page")
    for live in ("<script>alert", "<img src=x", "<b onmouseover"):
        if live in page:
            problems.append(f"an executable payload ({live} …) reached the page")
    data = _map_payload(page)
    feats = data.get("features", [])
    if not feats:
        problems.append("no features in the map payload")
    names = [f["properties"]["n"] for f in feats]
    if "names" in case.checks and names != [escape_text(n) for n in case.checks["names"]]:
        problems.append(f"names shown are not the names escaped: {names}")
    shown = json.dumps([f["properties"] for f in feats])
    if "49" in shown:
        problems.append("'49' appears in the map's names or tooltips: a template was evaluated")
    return problems


# ------------------------------------------------------------------------------------- summary


def summarise(results: list[tuple[Case, Outcome, list[str]]]) -> str:
    """A table of families × outcomes, then one line per case."""
    lines = []
    counts = Counter((case.family, got.outcome) for case, got, _ in results)
    outcomes = sorted({o for _, o in counts})
    width = max(len(f) for f in FAMILIES) + 2
    lines.append("family".ljust(width) + "".join(o[:16].rjust(18) for o in outcomes) + "    cases  failing")
    for fam in FAMILIES:
        rows = [r for r in results if r[0].family == fam]
        failing = sum(1 for _, _, p in rows if p)
        lines.append(fam.ljust(width) + "".join(str(counts.get((fam, o), "")).rjust(18) for o in outcomes)
                     + f"{len(rows):9d}{failing:9d}")
    lines.append("")
    for case, got, problems in results:
        status = "PASS" if not problems else ("XFAIL" if case.known_issue else "FAIL")
        lines.append(f"{status:5} {case.family:12} {case.name:40} {got.outcome:16} "
                     + (problems[0][:90] if problems else (got.message or "; ".join(got.notes))[:90]))
    return "\n".join(lines)


REFUSALS_START = "<!-- refusals: generated by python -m tests.corpus.make_corpus --refusals; do not edit -->"
REFUSALS_END = "<!-- /refusals -->"


def refusals_table(cases: list[Case]) -> str:
    """What the readers refuse and why, from the corpus cases (so the documents cannot drift from the tests)."""
    lines = [REFUSALS_START, "", "| family | refused (corpus cases) | as | why |", "|---|---|---|---|"]
    for fam in FAMILIES:
        refused = [c for c in cases if c.family == fam and c.expected != "ok"]
        if not refused:
            continue
        by_class: dict[str, list[str]] = {}
        for c in refused:
            by_class.setdefault(c.expected, []).append(c.name)
        for cls, names in by_class.items():
            lines.append(f"| {fam} | {', '.join(f'`{n}`' for n in names)} | `{cls}` | {WHY.get(fam, '')} |")
    lines += ["", REFUSALS_END]
    return "\n".join(lines)


def replace_block(text: str, block: str) -> str:
    """`text` with its generated refusals block replaced by `block` (which must already be marked in it)."""
    start, end = text.index(REFUSALS_START), text.index(REFUSALS_END) + len(REFUSALS_END)
    return text[:start] + block + text[end:]


REFUSAL_DOCS = ("SECURITY.md", "README.md")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", help="where to write the corpus")
    parser.add_argument("--summary", action="store_true", help="run every case and print a table")
    parser.add_argument("--refusals", action="store_true",
                        help="rewrite the refusals table in SECURITY.md and README.md from the corpus")
    args = parser.parse_args(argv)
    if args.refusals:
        with tempfile.TemporaryDirectory(prefix="atlas-corpus-") as tmp:
            block = refusals_table(build_corpus(tmp))
        for name in REFUSAL_DOCS:
            path = bench.REPO / name
            path.write_text(replace_block(path.read_text(encoding="utf-8"), block), encoding="utf-8")
            print(f"updated {path}")
        return 0
    if not args.summary:
        if not args.out_dir:
            parser.error("give OUT_DIR or --summary")
        print(f"{len(build_corpus(args.out_dir))} cases written to {args.out_dir}")
        return 0
    with tempfile.TemporaryDirectory(prefix="atlas-corpus-") as tmp:
        corpus = build_corpus(args.out_dir or tmp)
        results = []
        for case in corpus:
            got = run_case(case)
            results.append((case, got, check_case(case, got)))
        print(summarise(results))
    return 1 if any(p and not c.known_issue for c, _, p in results) else 0


if __name__ == "__main__":
    sys.exit(main())
