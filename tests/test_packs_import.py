"""`data import` on the folder as downloaded: subfolders, zips, symlinks, File 1 beside File 7, ONS column spellings."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from geo.load.packs import ImportReport, PackError, import_release
from tests.cases import REPO, SHARED
from tests.iod2025_fixture import iod2019_file7_csv, ons_lad19, shared_data_available

pytestmark = pytest.mark.skipif(not shared_data_available(), reason="real open data not present (set ATLAS_SHARED_DATA)")
FILE7 = "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv"
FILE1 = "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"


def downloads(tmp_path):
    """The files as people download them: File 7 and File 1 in a subfolder, the LSOAs in a zip (re-saved with
    `lsoa11_code`), the districts (`ltla19_code`) in a subfolder and a symlink to them, a symlink out of the folder."""
    dl = tmp_path / "Downloads"
    (dl / "IoD2019").mkdir(parents=True)
    (dl / "IoD2019" / FILE7).write_bytes(iod2019_file7_csv())
    shutil.copy(SHARED / "indicators" / "iod2019" / FILE1, dl / "IoD2019")
    with zipfile.ZipFile(dl / "LSOA_Dec_2011_Boundaries_BSC.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(SHARED / "boundaries" / "lsoa11_england_bsc.gpkg", "LSOA_2011_EW_BSC.gpkg")
        zf.writestr("metadata.txt", "ONS")
    (dl / "boundaries").mkdir()
    shutil.copy(SHARED / "boundaries" / "lad19_england_buc.gpkg", dl / "boundaries" / "lad19.gpkg")
    (dl / "LAD_Dec_2019_BUC.gpkg").symlink_to(dl / "boundaries" / "lad19.gpkg")
    (dl / "lad21_elsewhere.gpkg").symlink_to(SHARED / "boundaries" / "lad21_england_buc.gpkg")
    (dl / "notes.pdf").write_bytes(b"%PDF-1.4")
    return dl


def test_import_of_the_folder_as_downloaded_names_every_file_not_used(tmp_path):
    report = ImportReport({}, [], [])
    pack = import_release("iod2019", downloads(tmp_path), tmp_path / "packs", report=report)
    m = pack.manifest
    assert (m["layers"]["lsoa"]["features"], m["layers"]["districts"]["features"], m["table"]["rows"]) == (32844, 317, 32844)
    assert report.used["File 7"] == f"IoD2019/{FILE7}"
    assert report.used["LSOA boundaries"].startswith("LSOA_Dec_2011_Boundaries_BSC.zip/LSOA_2011_EW_BSC.gpkg")
    assert "lsoa11_code" in report.used["LSOA boundaries"] and "ltla19_code" in report.used["district boundaries"]
    not_used = dict(report.not_used)
    assert "Total population: mid 2015" in not_used[f"IoD2019/{FILE1}"] and "not File 7" in not_used[f"IoD2019/{FILE1}"]
    assert "outside" in not_used["lad21_elsewhere.gpkg"] and "not followed" in not_used["lad21_elsewhere.gpkg"]
    assert "not a table or boundary file" in not_used["notes.pdf"]
    assert any("same file" in reason for reason in not_used.values()), "the symlinked copy is named, not read twice"
    assert {s["part"] for s in m["sources"]} == {"File 7", "LSOA boundaries", "district boundaries"}


def test_codes_recognised_by_their_values_and_a_missing_name_column_tolerated(tmp_path):
    (tmp_path / "f7.csv").write_bytes(iod2019_file7_csv())
    shutil.copy(SHARED / "boundaries" / "lsoa11_england_bsc.gpkg", tmp_path / "lsoa.gpkg")
    ons_lad19().rename(columns={"LAD19CD": "area"}).drop(columns="LAD19NM").to_parquet(tmp_path / "districts.parquet")
    report = ImportReport({}, [], [])
    pack = import_release("iod2019", tmp_path, tmp_path / "packs", report=report)
    assert pack.manifest["layers"]["districts"]["features"] == 317
    assert "by its codes" in report.used["district boundaries"] and "'area'" in report.used["district boundaries"]
    assert any("districts.parquet" in n and "codes stand in for names" in n for n in report.notes)


def test_file_1_alone_is_named_with_the_reason(tmp_path):
    shutil.copy(SHARED / "indicators" / "iod2019" / FILE1, tmp_path)
    (tmp_path / "outside.csv").symlink_to(SHARED / "indicators" / "imd2015_england_lsoa11.csv")
    with pytest.raises(PackError) as err:
        import_release("iod2019", tmp_path, tmp_path / "packs")
    message = err.value.message
    assert "No IoD2019 File 7" in message and FILE1 in message and "Total population" in message
    assert "outside.csv" in message and "not followed" in message
    assert "English indices of deprivation 2019" in err.value.hint and "File 7" in err.value.hint


def test_an_archive_with_members_named_outside_it_is_refused_and_named(tmp_path):
    (tmp_path / "f7.csv").write_bytes(iod2019_file7_csv())
    with zipfile.ZipFile(tmp_path / "evil.zip", "w") as zf:
        zf.writestr("../lsoa.geojson", '{"type": "FeatureCollection", "features": []}')
    with pytest.raises(PackError) as err:
        import_release("iod2019", tmp_path, tmp_path / "packs")
    assert "evil.zip (refused" in err.value.message and "outside the archive" in err.value.message


def test_cli_import_prints_what_was_used_and_what_not(tmp_path):
    run = subprocess.run([sys.executable, "-m", "geo", "data", "import", "--release", "iod2019",
                          "--from", str(downloads(tmp_path)), "--dest", str(tmp_path / "packs")],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert f"used for File 7: IoD2019/{FILE7}" in run.stdout
    assert f"not used: IoD2019/{FILE1} — an IoD2019 table but not File 7" in run.stdout
    assert "Built iod2019" in run.stdout
