"""The join report on a table keyed by an older code vintage than the boundaries: converted and explained."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.load.io import read_table
from geo.link.join import join_across_vintages
from geo.link.vintages import load_lsoa_lookup
from tests.cases import squares
from tests.iod2025_fixture import iod2019_file7_csv, iod2025_fixture, shared_data_available


def test_district_table_on_retired_codes_is_converted_for_current_boundaries():
    boundaries = squares(2, codes=["E06000063", "E08000038"], names=["Cumberland", "Barnsley"])
    table = pd.DataFrame({"code": ["E07000026", "E07000028", "E07000029", "E08000016"],
                          "population": ["1,000", "2,000", "3,000", "4,000"], "rate": ["10", "20", "30", "5"]})
    joined, report = join_across_vintages(boundaries, table)
    assert report.matched == 2 and report.conversion["relabelled"] == 1 and report.conversion["merged_groups"] == 1
    cumberland = joined.set_index("code").loc["E06000063"]
    assert cumberland["population"] == 6000 and cumberland["rate"] == pytest.approx((10 + 40 + 90) / 6)
    assert any("merging" in m for m in report.messages)


def test_lsoa2011_table_against_2021_boundaries_without_lookup_says_what_to_do():
    boundaries = squares(2, codes=["E01033769", "E01000002"])
    table = pd.DataFrame({"code": ["E01000001", "E01000002"], "v": ["1", "2"]})
    _, report = join_across_vintages(boundaries, table)
    assert report.conversion is None and any("LSOA 2011→2021 lookup" in m for m in report.messages)


@pytest.mark.skipif(not shared_data_available(), reason="real open data not present (set ATLAS_SHARED_DATA)")
def test_iod2019_file7_against_2021_lsoas_is_converted_and_reported():
    fx = iod2025_fixture()
    lookup = load_lsoa_lookup(fx["lookup"])
    table = read_table(iod2019_file7_csv(), name="File_7.csv")
    joined, report = join_across_vintages(fx["lsoa21"], table, "LSOA21CD", lookup=lookup)
    conv = report.conversion
    assert report.boundary_rows == 33755 and report.vintage.startswith("LSOA 2021")
    assert report.indicator_vintage.startswith("LSOA 2011") and "retired in 2021" in report.indicator_vintage
    assert conv["unchanged"] == 31810 and conv["merged_groups"] == 97 and conv["split_parents"] == 834
    assert report.matched == conv["rows_out"] == 31907
    assert len(report.boundaries_without_data) == 33755 - 31907  # split children and complex changes
    assert any("Index of Multiple Deprivation (IMD) Rank" in c for c in conv["columns_not_convertible"])
    pop = "Total population: mid 2015 (excluding prisoners)"
    assert pop in conv["methods"][0] or any(pop in m for m in conv["methods"])
    assert any("split" in m for m in report.messages)
