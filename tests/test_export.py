"""Exports: CSV a spreadsheet cannot run, RFC 7946 GeoJSON, atomic writes — table-driven, read back with pandas/geopandas."""

from __future__ import annotations

import csv
import io
import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, box

from geo.errors import AtlasError
from geo.present.export import DiskFull, csv_bytes, geojson_bytes, neutralise_cell, write_atomic
from tests.cases import FillsUp, squares

# (cell as the user's file had it, cell as written in the CSV)
CELLS = [
    ("=1+1", "'=1+1"),
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+44 20 7946 0000", "'+44 20 7946 0000"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
    ("  =1+1", "'  =1+1"),
    ("\u00a0@x", "'\u00a0@x"),
    ("\uff1dcmd|' /C calc'!A0", "'\uff1dcmd|' /C calc'!A0"),  # full-width equals sign
    ("-12.5", "-12.5"),  # a number written as text stays a number
    ("+3", "+3"),
    ("1e-3", "1e-3"),
    ("Leeds 001A", "Leeds 001A"),
    ("E01000001", "E01000001"),
    ("a=b", "a=b"),
    ("", ""),
    ("St. Helen's", "St. Helen's"),
    ("{{7*7}}", "{{7*7}}"),
]


@pytest.mark.parametrize(("cell", "expected"), CELLS)
def test_formula_like_text_is_neutralised(cell, expected):
    assert neutralise_cell(cell) == expected
    frame = pd.DataFrame({"code": ["E01000001"], "text": [cell]})
    back = pd.read_csv(io.BytesIO(csv_bytes(frame)), encoding="utf-8-sig", dtype=str, keep_default_na=False)
    assert back["text"].iloc[0] == expected


def test_numbers_stay_numbers_and_headers_are_neutralised():
    frame = pd.DataFrame({"code": ["E01000001", "E01000002", "E01000003"], "change": [-3.5, 0.0, 12.25],
                          "rank": pd.array([-1, 2, None], dtype="Int64"), "=cmd": ["x", "=2*3", None],
                          "flag": [True, False, True]})
    data = csv_bytes(frame)
    assert data.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads UTF-8
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig")
    assert list(back.columns) == ["code", "change", "rank", "'=cmd", "flag"]
    assert back["change"].tolist() == [-3.5, 0.0, 12.25] and back["change"].dtype == float
    assert back["rank"].iloc[0] == -1 and pd.isna(back["rank"].iloc[2])
    assert back["'=cmd"].iloc[1] == "'=2*3" and pd.isna(back["'=cmd"].iloc[2])
    assert back["flag"].tolist() == [True, False, True]
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[1][1] == "-3.5" and rows[1][2] == "-1", rows  # raw: no quote before a negative number


def test_csv_of_a_geodataframe_drops_geometry_and_keeps_unicode():
    gdf = squares(2, names=["Bryncethin — Pen-y-fai", "Ynys Môn"])
    back = pd.read_csv(io.BytesIO(csv_bytes(gdf)), encoding="utf-8-sig")
    assert list(back.columns) == ["code", "name"] and back["name"].tolist() == ["Bryncethin — Pen-y-fai", "Ynys Môn"]


def _signed_area(ring) -> float:
    xy = np.asarray(ring)
    return 0.5 * float(np.sum(xy[:-1, 0] * xy[1:, 1] - xy[1:, 0] * xy[:-1, 1]))


CLOCKWISE = Polygon([(-1.5, 53.8), (-1.5, 53.81), (-1.49, 53.81), (-1.49, 53.8)],
                    [[(-1.498, 53.802), (-1.492, 53.802), (-1.492, 53.808), (-1.498, 53.808)]])  # hole anticlockwise


@pytest.mark.parametrize(("geometry", "crs"), [
    (CLOCKWISE, "EPSG:4326"),
    (MultiPolygon([CLOCKWISE, box(-1.47, 53.8, -1.46, 53.81)]), "EPSG:4326"),
    (shapely.affinity.translate(box(430000, 433000, 431000, 434000), 0.123456789, 0.987654321), "EPSG:27700"),
    (Point(-1.5123456789, 53.8123456789), "EPSG:4326"),
    (None, "EPSG:4326"),
])
def test_geojson_is_rfc7946(geometry, crs):
    gdf = gpd.GeoDataFrame({"code": ["E01000001"], "value": [1.5], "missing": [np.nan], "name": ["<b>x</b> {{7*7}}"]},
                           geometry=[geometry], crs=crs)
    doc = json.loads(geojson_bytes(gdf))
    assert "crs" not in doc and doc["type"] == "FeatureCollection"
    feature = doc["features"][0]
    assert feature["properties"] == {"code": "E01000001", "value": 1.5, "missing": None, "name": "<b>x</b> {{7*7}}"}
    if geometry is None:
        assert feature["geometry"] is None
        return
    coords = np.asarray(shapely.get_coordinates(shapely.from_geojson(json.dumps(feature["geometry"]))))
    assert np.all(np.abs(coords[:, 0]) <= 180) and np.all(np.abs(coords[:, 1]) <= 90)
    assert 49 < coords[:, 1].min() and coords[:, 0].max() < 2  # lon, lat order in England
    assert np.allclose(coords, np.round(coords, 6), atol=0, rtol=0)
    text = json.dumps(feature["geometry"])
    assert not any(len(d.split(".")[1]) > 6 for d in __import__("re").findall(r"-?\d+\.\d+", text)), text
    polygons = feature["geometry"]["coordinates"] if feature["geometry"]["type"] == "MultiPolygon" else \
        [feature["geometry"]["coordinates"]] if feature["geometry"]["type"] == "Polygon" else []
    for rings in polygons:
        assert _signed_area(rings[0]) > 0, "exterior ring must be counter-clockwise"
        for hole in rings[1:]:
            assert _signed_area(hole) < 0, "holes must be clockwise"


def test_geojson_round_trip_with_geopandas():
    gdf = squares(3).to_crs(27700)
    gdf["score"] = [1.25, -2.5, None]
    back = gpd.read_file(io.BytesIO(geojson_bytes(gdf)))
    assert back.crs.to_epsg() == 4326 and len(back) == 3
    assert back["code"].tolist() == ["E01000001", "E01000002", "E01000003"]
    assert back["score"].iloc[1] == -2.5 and pd.isna(back["score"].iloc[2])
    original = squares(3)
    assert back.geometry.geom_equals_exact(original.geometry, tolerance=1e-6).all()


def test_geojson_without_crs_is_refused():
    with pytest.raises(AtlasError, match="no coordinate system"):
        geojson_bytes(squares(1, crs=None))


def test_write_atomic_replaces_only_when_complete(tmp_path):
    target = tmp_path / "out.csv"
    write_atomic(target, b"old")
    write_atomic(target, b"new" * 1000)
    assert target.read_bytes() == b"new" * 1000
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_full_disk_names_disk_space_and_leaves_nothing(tmp_path, monkeypatch):
    import errno
    import os

    target = tmp_path / "export.geojson"
    target.write_bytes(b"previous complete export")
    real_fdopen = os.fdopen
    disks: list[FillsUp] = []

    def filling(fd, mode):
        disks.append(FillsUp(real_fdopen(fd, mode), 5000))  # the disk fills part-way
        return disks[-1]

    monkeypatch.setattr("geo.present.export.os.fdopen", filling)
    with pytest.raises(DiskFull) as err:
        write_atomic(target, b"x" * 20_000, chunk=1000)
    # the failure is the one the fake disk raised, after 5,000 of the 20,000 bytes were written
    assert len(disks) == 1 and disks[0].room == 0, "write_atomic wrote through the filling disk until it was full"
    assert isinstance(err.value.__cause__, OSError) and err.value.__cause__.errno == errno.ENOSPC
    assert "disk space" in err.value.message and "Free some disk space" in err.value.hint
    assert "export.geojson" in err.value.message and str(tmp_path) in err.value.message  # names the file and folder
    assert "20,000 bytes" in err.value.message
    assert target.read_bytes() == b"previous complete export"
    assert [p.name for p in tmp_path.iterdir()] == ["export.geojson"], "no temporary file is left behind"


def test_a_data_download_is_a_zip_of_the_csv_and_its_provenance():
    """#17: the CSV with readable, unique headers and an about.txt with source, release, licence, Crown copyright,
    the date made and each column; the CSV itself stays a plain table a spreadsheet opens."""
    import datetime as dt
    import zipfile

    from geo.present.export import csv_zip_bytes

    frame = pd.DataFrame({"district_code": ["E06000001"], "allocation": [1.5], "Allocation (£)": [2], "name": ["=1+1"]})
    data = csv_zip_bytes(frame, name="eligibility.csv", title="Fund eligibility", source="MHCLG", release="IoD2019",
                         year=2019, made=dt.date(2026, 12, 1), describe={"allocation": "£ for the district"})
    zf = zipfile.ZipFile(io.BytesIO(data))
    assert zf.namelist() == ["eligibility.csv", "about.txt"]
    rows = list(csv.reader(io.StringIO(zf.read("eligibility.csv").decode("utf-8-sig"))))
    assert rows[0] == ["District code", "Allocation (£)", "Allocation (£) (2)", "Name"]
    assert rows[1] == ["E06000001", "1.5", "2", "'=1+1"]
    about = zf.read("about.txt").decode("utf-8")
    for words in ("Source: MHCLG", "Release: IoD2019", "Licence: Open Government Licence v3.0",
                  "Contains public sector information licensed under the Open Government Licence v3.0.",
                  "© Crown copyright and database right 2019", "Made: 2026-12-01",
                  "- Allocation (£): £ for the district (column allocation)", "- District code: column district_code"):
        assert words in about, words
    assert csv_zip_bytes(frame, name="x", title="t", source="s", release="r", made=dt.date(2026, 12, 1)) == \
        csv_zip_bytes(frame, name="x", title="t", source="s", release="r", made=dt.date(2026, 12, 1))  # stable


def test_the_command_lines_csv_stays_a_plain_table():
    frame = pd.DataFrame({"district_code": ["E06000001"], "value": [1.5]})
    assert csv_bytes(frame).decode("utf-8-sig").splitlines()[0] == "district_code,value"
