"""Integration on the real IoD2019 files and ONS boundaries in ../shared/data (skipped where absent)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from geo.load.io import ReadNotes, read_boundaries, read_table
from geo.link.join import join_indicators
from geo.link.layers import district_summaries, prepare_table
from tests.cases import REPO, SHARED
from tests.iod2025_fixture import SNAKE_TO_FILE7

pytestmark = pytest.mark.skipif(not (SHARED / "indicators" / "iod2019").is_dir(),
                                reason=f"real open data not present at {SHARED} (set ATLAS_SHARED_DATA)")

IOD = SHARED / "indicators" / "iod2019"
FILE1 = IOD / "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
FILE2 = IOD / "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz"
ALL_SCORES = IOD / "iod2019_lsoa11_all_scores.csv"
LSOA11 = SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"
LAD19 = SHARED / "boundaries" / "lad19_england_buc.gpkg"
LAD21 = SHARED / "boundaries" / "lad21_england_buc.gpkg"

# Published IoD2019 local authority summaries (MHCLG File 10): average score, proportion of LSOAs in
# the most deprived 10% nationally, extent.
PUBLISHED = {
    "E06000001": (35.037, 0.3621, 0.4973),  # Hartlepool
    "E08000012": (42.412, 0.4866, 0.6213),  # Liverpool
    "E09000030": (27.913, 0.0139, 0.3057),  # Tower Hamlets
    "E07000026": (22.938, 0.1167, 0.1985),  # Allerdale
}
@pytest.fixture(scope="module")
def file7(tmp_path_factory):
    """A File 7-shaped CSV (official headers, UTF-8 BOM, ranks with thousands separators)."""
    df = pd.read_csv(ALL_SCORES, dtype=str)[list(SNAKE_TO_FILE7)].rename(columns=SNAKE_TO_FILE7)
    rank = "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"
    df[rank] = df[rank].astype(int).map("{:,}".format)
    path = tmp_path_factory.mktemp("iod") / "File_7_-_All_IoD2019_Scores.csv"
    path.write_bytes(b"\xef\xbb\xbf" + df.to_csv(index=False).encode())
    return path


@pytest.fixture(scope="module")
def lsoa_boundaries():
    notes = ReadNotes()
    return read_boundaries(LSOA11, notes=notes), notes


def test_file1_joins_every_lsoa(lsoa_boundaries):
    gdf, notes = lsoa_boundaries
    assert any("Repaired 1 invalid" in m for m in notes.messages)  # one polygon is invalid as published
    table = read_table(FILE1)
    joined, report = join_indicators(gdf, table)
    assert (report.boundary_rows, report.indicator_rows, report.matched) == (32844, 32844, 32844)
    assert report.level == "LSOA" and "LSOA 2011" in report.vintage
    assert report.indicator_code == "LSOA code (2011)" and report.boundaries_without_data == []
    ind = prepare_table(table)
    assert ind.frame["Index of Multiple Deprivation (IMD) Rank"].iloc[0] == 29199


def test_file2_long_headers_are_recognised():
    ind = prepare_table(read_table(FILE2))
    kinds = {(c.measure, c.kind) for c in ind.columns.values()}
    assert len(kinds) == 16 and ("living_env", "decile") in kinds
    assert ind.district_column == "Local Authority District code (2019)"


def test_district_summaries_match_published_figures(file7):
    ind = prepare_table(read_table(file7))
    assert ind.n_national() == 32844
    out = district_summaries(ind, "imd").set_index("district_code")
    assert len(out) == 317
    for code, (score, proportion, extent) in PUBLISHED.items():
        assert round(out.loc[code, "average_score"], 3) == score, code
        assert round(out.loc[code, "proportion_most_deprived_10pct"], 4) == proportion, code
        assert abs(out.loc[code, "extent"] - extent) < 0.001, code


def test_cli_summarise_defaults_to_file7_headers(file7, tmp_path):
    out = tmp_path / "summaries.csv"
    run = subprocess.run([sys.executable, "-m", "geo", "summarise", str(file7), "--out", str(out)],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    df = pd.read_csv(out).set_index("district_code")
    # Today's IMD column names are kept, each beside its rank; the domains follow, prefixed by their id.
    for column in ("average_score", "average_rank", "proportion_most_deprived_10pct", "extent", "local_concentration"):
        assert column in df.columns and f"{column}_rank" in df.columns
    assert {"income_scale", "income_scale_rank", "employment_scale", "employment_scale_rank"} <= set(df.columns)
    assert round(df.loc["E06000001", "average_score"], 3) == 35.037 and df.loc["E06000001", "average_score_rank"] == 10


def test_cli_join_report_on_real_files(tmp_path):
    report_path = tmp_path / "report.json"
    run = subprocess.run([sys.executable, "-m", "geo", "join", str(LSOA11), str(FILE1), "--report", str(report_path)],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(report_path.read_text())
    for key in ("boundary_rows", "indicator_rows", "matched", "share_matched", "boundaries_without_data",
                "data_without_boundary", "duplicates", "level", "vintage", "normalisations"):
        assert key in report
    assert report["matched"] == 32844 and report["share_matched"] == 1.0


def test_district_vintages_of_the_ons_layers():
    from geo.link.codes import detect_vintage, normalise_codes

    lad19 = read_boundaries(LAD19)
    lad21 = read_boundaries(LAD21)
    assert detect_vintage(normalise_codes(lad19["ltla19_code"])[0], "District") == "District codes of 2019"
    assert detect_vintage(normalise_codes(lad21["ltla21_code"])[0], "District") == "District codes of 2021–2022"


def test_summaries_join_to_lad19_but_not_fully_to_lad21(file7):
    table = district_summaries(prepare_table(read_table(file7)), "imd")
    _, r19 = join_indicators(read_boundaries(LAD19), table, indicator_code="district_code")
    _, r21 = join_indicators(read_boundaries(LAD21), table, indicator_code="district_code")
    assert r19.matched == 317 and r19.data_without_boundary == []
    assert r21.matched < 309 and "E07000150" in r21.data_without_boundary  # Corby, merged in 2021


def test_cli_map_writes_an_offline_page(file7, tmp_path):
    summaries = tmp_path / "s.csv"
    subprocess.run([sys.executable, "-m", "geo", "summarise", str(file7), "--out", str(summaries)], cwd=REPO,
                   check=True, capture_output=True)
    out = tmp_path / "map.html"
    run = subprocess.run([sys.executable, "-m", "geo", "map", str(LAD19), str(summaries), "--column", "average_score",
                          "--scheme", "quantiles", "--k", "5", "--out", str(out)], cwd=REPO, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    page = out.read_text()
    assert page.count('"type":"Feature"') == 317 and "https://unpkg" not in page and "cdn.jsdelivr" not in page
