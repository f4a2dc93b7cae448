"""Readers: formats decided from the bytes, limits enforced, CRS never guessed, bad files named clearly."""

from __future__ import annotations

import io

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box

import geo.settings
from geo.errors import CRSProblem, FileTooLarge, UnsupportedFile
from geo.load.io import AmbiguousInput, ReadNotes, list_layers, parse_numbers, read_boundaries, read_table, sniff_format
from tests import cases


@pytest.mark.parametrize("data,name,expected", [
    (b'{"type":"FeatureCollection","features":[]}', "a.geojson", "geojson"),
    (b"\xef\xbb\xbf  {", "a.json", "geojson"),
    (b"PAR1....", "a.parquet", "geoparquet"),
    (b"code,value\nE01000001,3\n", "a.csv", "csv"),
])
def test_sniff_known_formats(data, name, expected):
    assert sniff_format(data, name) == expected


@pytest.mark.parametrize("data,name,words", [
    (cases.VRT, "boundaries.geojson", "VRT"),
    (cases.KML, "boundaries.geojson", "KML"),
    (b"\xd0\xcf\x11\xe0rest", "old.xls", ".xls"),
    (b"\x7fELF\x02\x01\x01\x00\x00", "x.geojson", "binary"),
    (b"PK\x03\x04broken", "x.zip", "damaged"),
])
def test_sniff_refuses_lying_or_foreign_files(data, name, words):
    with pytest.raises(UnsupportedFile) as err:
        sniff_format(data, name)
    assert words in str(err.value)


def test_sqlite_that_is_not_a_geopackage_is_refused(tmp_path):
    with pytest.raises(UnsupportedFile, match="not a GeoPackage"):
        read_boundaries(cases.plain_sqlite_bytes(tmp_path), name="fake.gpkg")


def test_path_strings_are_never_opened_as_gdal_paths():
    for bad in ("CSV:/etc/passwd", "/vsicurl/http://example.com/x.geojson", "../../etc/passwd"):
        with pytest.raises(UnsupportedFile):
            read_boundaries(bad)


def test_geojson_round_trip_keeps_every_feature_and_reports_nothing_odd():
    notes = ReadNotes()
    gdf = read_boundaries(cases.geojson_bytes(cases.squares(3)), name="sq.geojson", notes=notes)
    assert len(gdf) == 3 and gdf.crs.to_epsg() == 4326
    assert notes.format == "geojson" and notes.messages == []


def test_bng_coordinates_labelled_wgs84_are_detected():
    bng = cases.squares(2, x0=430000, y0=433000, size=500, crs=None)
    with pytest.raises(CRSProblem, match="British National Grid"):
        read_boundaries(cases.geojson_bytes(bng), name="bng.geojson")


def test_swapped_lat_lon_is_detected():
    swapped = cases.squares(2, x0=53.8, y0=-1.5)
    with pytest.raises(CRSProblem, match="swapped"):
        read_boundaries(cases.geojson_bytes(swapped), name="swapped.geojson")


def test_legacy_geojson_crs_member_is_honoured_and_reprojected():
    bng = cases.squares(2, x0=430000, y0=433000, size=500, crs=None)
    notes = ReadNotes()
    gdf = read_boundaries(cases.geojson_bytes(bng, "urn:ogc:def:crs:EPSG::27700"), name="bng.geojson", notes=notes)
    assert gdf.crs.to_epsg() == 4326
    minx, miny, _, _ = gdf.total_bounds
    assert -1.6 < minx < -1.4 and 53.7 < miny < 53.9
    assert any("Reprojected" in m for m in notes.messages)


def test_geopackage_layers_are_listed_and_chosen(tmp_path):
    data = cases.gpkg_bytes(tmp_path, {"districts": cases.squares(2), "lsoas": cases.squares(4)})
    names = [n for n, _ in list_layers(data, name="two.gpkg")]
    assert names == ["districts", "lsoas"]
    with pytest.raises(AmbiguousInput, match="2 spatial layers") as err:  # never the first one, silently
        read_boundaries(data, name="two.gpkg")
    assert err.value.candidates == ["districts", "lsoas"] and "--layer" in err.value.hint
    assert len(read_boundaries(data, name="two.gpkg", layer="lsoas")) == 4
    with pytest.raises(UnsupportedFile, match="no layer called"):
        read_boundaries(data, name="two.gpkg", layer="nope")


def test_geopackage_in_bng_is_reprojected(tmp_path):
    bng = cases.squares(2, x0=430000, y0=433000, size=500, crs="EPSG:27700")
    gdf = read_boundaries(cases.gpkg_bytes(tmp_path, {"a": bng}), name="bng.gpkg")
    assert gdf.crs.to_epsg() == 4326 and gdf.total_bounds[0] < 0


def test_zipped_shapefile_with_member_paths_outside_is_refused_and_never_touches_disk(tmp_path):
    data = cases.shapefile_zip(tmp_path, cases.squares(3), prefix="../../evil/")
    with pytest.raises(UnsupportedFile, match="outside the archive"):
        read_boundaries(data, name="areas.zip")
    assert not (tmp_path.parent.parent / "evil").exists()
    gdf = read_boundaries(cases.shapefile_zip(tmp_path, cases.squares(3), prefix="sub/"), name="areas.zip")
    assert len(gdf) == 3 and set(gdf["code"]) == {"E01000001", "E01000002", "E01000003"}


def test_shapefile_missing_parts_or_prj(tmp_path):
    with pytest.raises(UnsupportedFile, match=r"no \.shx"):
        read_boundaries(cases.shapefile_zip(tmp_path, cases.squares(2), drop=(".shx",)), name="a.zip")
    no_prj = cases.shapefile_zip(tmp_path, cases.squares(2), drop=(".prj",))
    with pytest.raises(CRSProblem, match="does not say"):
        read_boundaries(no_prj, name="a.zip")
    assert len(read_boundaries(no_prj, name="a.zip", assume_crs="EPSG:4326")) == 2


def test_zip_bomb_is_refused():
    with pytest.raises(FileTooLarge, match="zip bomb"):
        read_boundaries(cases.zip_bomb(), name="bomb.zip")


def test_geoparquet_reads_without_gdal():
    buf = io.BytesIO()
    cases.squares(3).to_parquet(buf)
    assert len(read_boundaries(buf.getvalue(), name="a.parquet")) == 3


def test_points_are_not_boundaries():
    with pytest.raises(UnsupportedFile, match="not areas"):
        read_boundaries(cases.geojson_bytes(cases.points()), name="pts.geojson")


def test_invalid_polygon_repaired_and_null_geometry_kept_with_notes():
    gdf = cases.squares(3)
    gdf.loc[1, "geometry"] = cases.bowtie()
    gdf.loc[2, "geometry"] = None
    notes = ReadNotes()
    out = read_boundaries(cases.geojson_bytes(gdf), name="odd.geojson", notes=notes, assume_crs=None)
    assert len(out) == 3 and out.geometry.iloc[1].is_valid and out.geometry.iloc[2] is None
    assert any("Repaired 1" in m for m in notes.messages)
    assert any("no geometry" in m for m in notes.messages)


def test_size_limits_are_enforced(monkeypatch):
    monkeypatch.setitem(geo.settings.DEFAULTS, "max_features", 2)
    with pytest.raises(FileTooLarge, match="limit is 2"):
        read_boundaries(cases.geojson_bytes(cases.squares(3)), name="three.geojson")
    monkeypatch.setitem(geo.settings.DEFAULTS, "max_file_mb", 0)
    with pytest.raises(FileTooLarge):
        read_table(b"code,v\nE01000001,1\n", name="t.csv")


# ---------------------------------------------------------------- tables

def test_official_iod_csv_with_bom_and_thousands_separators():
    data = ("\ufeffLSOA code (2011),Index of Multiple Deprivation (IMD) Rank\n"
            'E01000001,"29,199"\nE01000002,"1,234"\n').encode("utf-8")
    df = read_table(data, name="File_1.csv")
    assert list(df.columns) == ["LSOA code (2011)", "Index of Multiple Deprivation (IMD) Rank"]
    numbers, _ = parse_numbers(df["Index of Multiple Deprivation (IMD) Rank"])
    assert numbers.tolist() == [29199.0, 1234.0]


def test_windows_1252_semicolons_title_rows_and_duplicate_headers():
    text = "Deprivation extract – Café district\n\ncode;value;value\nE01000001;1,5;2\nE01000002;3;4\n"
    notes = ReadNotes()
    df = read_table(text.encode("cp1252"), name="t.csv", notes=notes)
    assert list(df.columns) == ["code", "value", "value (2)"]
    joined = " ".join(notes.messages)
    assert "Windows-1252" in joined and "';'" in joined and "title" in joined and "more than once" in joined
    assert df["code"].tolist() == ["E01000001", "E01000002"]


@pytest.mark.parametrize("data,words", [
    (b"", "empty"),
    (b"code,value\n", "no data rows"),
    (b"code,value\nE01\x00,1\n", "binary"),
])
def test_unusable_tables_say_why(data, words):
    with pytest.raises((UnsupportedFile,)) as err:
        read_table(data, name="t.csv")
    assert words in str(err.value)


def test_gzip_table_is_unpacked():
    import gzip

    df = read_table(gzip.compress(b"code,v\nE01000001,1\n"), name="t.csv.gz")
    assert df["code"].tolist() == ["E01000001"]


def test_xlsx_with_title_rows_and_hidden_sheet(tmp_path):
    wb = openpyxl.Workbook()
    hidden = wb.active
    hidden.title = "notes"
    hidden.sheet_state = "hidden"
    hidden.append(["secret"])
    ws = wb.create_sheet("data")
    ws.append(["Indices of deprivation — extract"])
    ws.append([])
    ws.append(["LSOA code", "Score"])
    ws.append(["E01000001", 12.5])
    ws.append(["E01000002", 3])
    path = tmp_path / "t.xlsx"
    wb.save(path)
    notes = ReadNotes()
    df = read_table(path, notes=notes)
    assert list(df.columns) == ["LSOA code", "Score"]
    assert df["Score"].tolist() == ["12.5", "3"]
    assert any("title" in m for m in notes.messages)


@pytest.mark.parametrize("raw,value,suppressed", [
    ("29,199", 29199.0, False), ("12.5%", 12.5, False), (" 7 ", 7.0, False), ("*", None, True),
    ("[c]", None, True), ("..", None, True), ("#N/A", None, True), ("", None, False), ("1,234,567", 1234567.0, False),
])
def test_parse_numbers(raw, value, suppressed):
    numbers, marked = parse_numbers(pd.Series([raw]))
    assert (pd.isna(numbers.iloc[0]) and value is None) or numbers.iloc[0] == value
    assert bool(marked.iloc[0]) is suppressed


def test_bounds_helper_on_real_looking_geometry():
    gdf = gpd.GeoDataFrame(geometry=[box(-2, 53, -1, 54)], crs=4326)
    assert read_boundaries(cases.geojson_bytes(gdf), name="a.geojson").crs.to_epsg() == 4326
