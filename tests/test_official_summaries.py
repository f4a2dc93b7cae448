"""District summaries against MHCLG's published IoD2019 table: every district, every published measure.

The worst difference of each measure is printed (run with -s) and bounded by the published rounding:
scores to 3 d.p. (≤ 0.0011 allowed), proportions to 4 d.p. (≤ 0.00011), extent to 4 d.p. (≤ 0.0006).
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from geo.catalogue import measures, recognise_release
from geo.derive.summaries import summarise_release
from tests.cases import REPO, SHARED

ALL_SCORES = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"
PUBLISHED = SHARED / "indicators" / "iod2019" / "iod2019_lad19_district_summaries.csv"
needs_shared = pytest.mark.skipif(not (ALL_SCORES.is_file() and PUBLISHED.is_file()),
                                  reason=f"IoD2019 all-scores table or published district summaries not at {SHARED}")
# Published column stem → our measure id.
DOMAINS = {"": "imd", "Income_": "income", "Employment_": "employment", "Education_": "education",
           "Health_": "health", "Crime_": "crime", "Housing_and_Access_": "barriers", "Environment_": "living_env"}
TOLERANCE = {"Score": 0.0011, "Proportion": 0.00011, "Extent": 0.0006}


@pytest.fixture(scope="module")
def computed() -> pd.DataFrame:
    if not ALL_SCORES.is_file() or not PUBLISHED.is_file():
        pytest.skip(f"IoD2019 data not at {SHARED}")
    table = pd.read_csv(ALL_SCORES)
    layout = recognise_release(list(table.columns))
    assert layout.release == "IoD2019 all-scores (snake_case)" and layout.n_national == 32844
    return summarise_release(table, layout, measures()).set_index("district_code")


def _ours(measure: str, published: str) -> str:
    column = {"Score": "average_score", "Proportion": "proportion_most_deprived_10pct", "Extent": "extent"}[published]
    return column if measure == "imd" else f"{measure}_{column}"


@needs_shared
def test_every_district_and_measure_matches_the_published_table(computed: pd.DataFrame) -> None:
    published = pd.read_csv(PUBLISHED).set_index("ltla19_code")
    assert len(published) == 317 and set(published.index) == set(computed.index)
    worst: dict[str, tuple[float, str]] = {}
    checked = 0
    for stem, measure in DOMAINS.items():
        for kind in ("Score", "Proportion", "Extent"):
            column = f"{stem}{kind}" if stem else kind
            if column not in published.columns:
                continue
            diff = (computed[_ours(measure, kind)].astype(float) - published[column]).abs()
            worst[column] = (float(diff.max()), str(diff.idxmax()))
            checked += len(diff)
            assert diff.max() <= TOLERANCE[kind], (column, diff.max(), diff.idxmax())
    assert checked == 317 * 17  # 17 published measures: IMD score, proportion, extent; 7 domains' score and proportion
    print("\nworst difference against the published IoD2019 district summaries (317 districts):")
    for column, (value, code) in sorted(worst.items()):
        print(f"  {column:32s} {value:.6f} ({code})")
    assert worst["Extent"][0] <= 0.0005  # banded extent: every district to its published rounding


@needs_shared
def test_ranks_and_scales_of_known_districts(computed: pd.DataFrame) -> None:
    # Published IoD2019 ranks of average score (of 317): Middlesbrough 5, Liverpool 3, Hartlepool 10, Blackpool 1.
    ranks = computed["average_score_rank"]
    assert (ranks["E06000009"], ranks["E08000012"], ranks["E06000002"], ranks["E06000001"]) == (1, 3, 5, 10)
    # Scale is counted only for Income and Employment; Birmingham has the most people deprived on both.
    assert computed["income_scale_rank"].idxmin() == "E08000025" == computed["employment_scale_rank"].idxmin()
    assert "imd_scale" not in computed.columns and "scale" not in computed.columns
    assert "health_scale" not in computed.columns
    hartlepool = computed.loc["E06000001"]
    assert hartlepool["income_scale"] == pytest.approx(21118.6, abs=1)
    for column in computed.columns:
        if column.endswith("_rank") and column[:-5] in computed.columns:
            assert computed[column].min() == 1 and computed[column].max() <= 317


def _file7_2025_shaped(tmp_path) -> tuple:
    """IoD2019's File 7 with the IoD2025 header pattern (2021/2024 codes in the headers, mid-2022 denominators)."""
    from tests.iod2025_fixture import iod2019_file7_csv

    raw = iod2019_file7_csv().decode("utf-8-sig")
    header, rest = raw.split("\n", 1)
    renamed = (header.replace("LSOA code (2011)", "LSOA code (2021)").replace("LSOA name (2011)", "LSOA name (2021)")
               .replace("Local Authority District code (2019)", "Local Authority District code (2024)")
               .replace("Local Authority District name (2019)", "Local Authority District name (2024)")
               .replace("Total population: mid 2015 (excluding prisoners)", "Total population: mid 2022")
               .replace("Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)",
                        "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022"))
    assert renamed != header
    path = tmp_path / "File_7_IoD2025_All_Ranks_Scores_Deciles_Population_Denominators.csv"
    path.write_bytes(("\ufeff" + renamed + "\n" + rest).encode("utf-8"))
    return path, header


@needs_shared
def test_summarise_cli_reads_both_file7s_with_no_column_options(tmp_path, computed: pd.DataFrame) -> None:
    from tests.iod2025_fixture import iod2019_file7_csv

    f2019 = tmp_path / "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv"
    f2019.write_bytes(iod2019_file7_csv())
    out = tmp_path / "summaries_2019.csv"
    run = subprocess.run([sys.executable, "-m", "geo", "summarise", str(f2019), "--out", str(out)], cwd=REPO,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "as IoD2019 File 7" in run.stderr and "ranks out of 32,844" in run.stderr
    got = pd.read_csv(out, dtype={"district_code": str}).set_index("district_code")
    # Today's IMD column names are kept, every measure has its rank, and the values are the library's.
    for column in ("average_score", "average_rank", "proportion_most_deprived_10pct", "extent", "local_concentration"):
        assert f"{column}_rank" in got.columns
        assert (got[column] - computed.loc[got.index, column].astype(float)).abs().max() < 1e-5
    assert (got["employment_scale_rank"] == computed.loc[got.index, "employment_scale_rank"]).all()
    assert got.loc["E06000001", "district_name"] == "Hartlepool"

    f2025, _ = _file7_2025_shaped(tmp_path)
    out25 = tmp_path / "summaries_2025.csv"
    run = subprocess.run([sys.executable, "-m", "geo", "summarise", str(f2025), "--out", str(out25)], cwd=REPO,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "as IoD2025 File 7" in run.stderr and "ranks out of 33,755" in run.stderr
    assert "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022" in run.stderr
    got25 = pd.read_csv(out25)
    assert len(got25) == 317 and "employment_scale" in got25.columns and got25["extent_rank"].min() == 1


def test_summarise_cli_refuses_an_unrecognised_table(tmp_path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("code,value\nE01000001,1\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "geo", "summarise", str(path), "--out", str(tmp_path / "o.csv")],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 2 and "not a recognised IoD LSOA table" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run([sys.executable, "-m", "geo", "summarise", str(path), "--score", "nope", "--out",
                          str(tmp_path / "o.csv")], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 2 and "no column 'nope'" in run.stderr


def test_release_recognised_from_headers() -> None:
    f2019 = ["LSOA code (2011)", "Local Authority District code (2019)", "Index of Multiple Deprivation (IMD) Score",
             "Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)",
             "Total population: mid 2015 (excluding prisoners)"]
    layout = recognise_release(f2019)
    assert layout.release == "IoD2019 File 7" and layout.n_national == 32844
    assert layout.scores == {"imd": f2019[2]} and layout.ranks == {"imd": f2019[3]}
    f2025 = ["\ufeffLSOA code (2021)", "Local Authority District code (2024)", "Total population: mid 2022",
             "Working age population 18-66: mid 2022"]
    layout = recognise_release(f2025)
    assert layout.release == "IoD2025 File 7" and layout.n_national == 33755
    assert layout.populations == {"pop_total": "Total population: mid 2022",
                                  "pop_working_age": "Working age population 18-66: mid 2022"}
    assert recognise_release(["code", "value"]) is None
