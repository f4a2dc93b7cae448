"""Codes are normalised and reported; the join keeps every polygon and accounts for every row."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.link.codes import detect_level, detect_vintage, normalise_codes
from geo.link.join import JoinBlockedWithReport, guess_code_column, join_indicators, unmatched_table
from tests import cases


def test_normalisations_are_each_counted():
    raw = pd.Series([" e01000001", "E01000002\u200b", "Ｅ01000003", "E01000004"])
    codes, report = normalise_codes(raw)
    assert codes.tolist() == ["E01000001", "E01000002", "E01000003", "E01000004"]
    kinds = {n.kind: n.count for n in report}
    assert kinds == {"removed invisible characters": 1, "converted full-width characters": 1,
                     "trimmed whitespace": 1, "upper-cased": 1}


def test_scientific_notation_is_flagged_not_silently_changed():
    codes, report = normalise_codes(pd.Series(["1.23E+08"]))
    assert codes.iloc[0] == "1.23E+08"
    assert "scientific notation" in report[0].kind


@pytest.mark.parametrize("codes,level", [
    (["E01000001", "E01000002"], "LSOA"), (["E02000001"], "MSOA"), (["E05000026"], "Ward"),
    (["E06000001", "E08000012", "E09000030", "E07000026"], "District"), (["S01006506"], "Data zone (Scotland)"),
    (["hello", "world"], "Unknown"),
])
def test_detect_level(codes, level):
    assert detect_level(pd.Series(codes, dtype="string")) == level


def test_mixed_levels_are_named():
    assert detect_level(pd.Series(["E01000001"] * 5 + ["E06000001"] * 5, dtype="string")).startswith("Mixed")


@pytest.mark.parametrize("codes,level,expected", [
    (["E01000001", "E01033769"], "LSOA", "LSOA 2021"),
    (["E01000001", "E01000002"], "LSOA", "cannot tell"),
    (["E07000026", "E06000058"], "District", "District codes of 2019–2022"),
    (["E07000004", "E06000058"], "District", "District codes of 2019"),
    (["E06000063", "E08000016"], "District", "District codes of 2023"),
    (["E06000063", "E08000038"], "District", "District codes of 2024 or later"),
    (["E07000026", "E06000063"], "District", "Mixed district vintages"),
    (["E01900001", "E01900002"], "LSOA", "demo"),
])
def test_detect_vintage(codes, level, expected):
    assert expected in detect_vintage(pd.Series(codes, dtype="string"), level)


def test_join_keeps_every_polygon_and_reports_both_ways():
    boundaries = cases.squares(4)
    table = pd.DataFrame({"LSOA code": [" e01000001", "E01000002", "E01999999"], "v": ["1", "2", "3"]})
    joined, report = join_indicators(boundaries, table)
    assert len(joined) == 4
    assert report.matched == 2 and report.share_matched == 0.5
    assert report.boundaries_without_data == ["E01000003", "E01000004"]
    assert report.data_without_boundary == ["E01999999"]
    assert report.level == "LSOA" and report.indicator_code == "LSOA code"
    assert any("trimmed whitespace" in n for n in report.normalisations)
    assert any("upper-cased" in n for n in report.normalisations)
    assert joined["_has_data"].tolist() == [True, True, False, False]
    assert set(unmatched_table(report)["code"]) == {"E01000003", "E01000004", "E01999999"}


def test_exact_duplicates_collapse_with_a_notice():
    table = pd.DataFrame({"code": ["E01000001", "E01000001", "E01000002"], "v": ["1", "1", "2"]})
    joined, report = join_indicators(cases.squares(2), table, "code", "code")
    assert len(joined) == 2 and report.duplicates == [{"code": "E01000001", "rows": 2, "kind": "exact"}]
    assert any("Collapsed" in m for m in report.messages)


def test_conflicting_duplicates_block_until_resolved():
    table = pd.DataFrame({"code": ["E01000001", "E01000001", "E01000002"], "v": ["1", "5", "2"]})
    with pytest.raises(JoinBlockedWithReport) as err:
        join_indicators(cases.squares(2), table, "code", "code")
    assert err.value.conflicts == ["E01000001"] and err.value.report.blocked
    joined, report = join_indicators(cases.squares(2), table, "code", "code", resolve_conflicts="last")
    assert joined.loc[joined["code"] == "E01000001", "v"].item() == "5"
    assert any("Kept the last" in m for m in report.messages)


def test_code_column_is_guessed_by_overlap_not_position():
    boundaries = cases.squares(2)
    table = pd.DataFrame({"district": ["E06000001", "E06000001"], "lsoa": ["E01000001", "E01000002"]})
    assert guess_code_column(table, against=boundaries["code"]) == "lsoa"


def test_level_mismatch_is_reported():
    table = pd.DataFrame({"code": ["E06000001"], "v": ["1"]})
    _, report = join_indicators(cases.squares(2), table, "code", "code")
    assert report.matched == 0 and any("District codes" in m for m in report.messages)


def test_codes_are_normalised_once_at_the_edge_and_the_report_keeps_the_clean_ups(monkeypatch):
    """prepare_join normalises the table's code column and the boundaries' once each (whole columns); the rest is
    samples for detection. The clean-ups done at the edge still reach the join report."""
    import importlib

    import geopandas as gpd
    from shapely.geometry import box

    import geo.link.codes as codes
    from geo.link.layers import measure_frame, prepare_join

    real = codes.normalise_codes
    lengths: list[int] = []

    def counting(series):
        lengths.append(len(series))
        return real(series)

    for name in ("geo.link.codes", "geo.link.join", "geo.link.layers", "geo.link.vintages"):
        module = importlib.import_module(name)
        if hasattr(module, "normalise_codes"):
            monkeypatch.setattr(module, "normalise_codes", counting)
    n = 600  # more rows than any detection sample
    gdf = gpd.GeoDataFrame({"LSOA11CD": [f"E0100{i:04d}" for i in range(n)]},
                           geometry=[box(i, 0, i + 1, 1) for i in range(n)], crs="EPSG:4326")
    frame = pd.DataFrame({"LSOA code (2011)": [f" e0100{i:04d}\u200b" for i in range(n)],
                          "Index of Multiple Deprivation (IMD) Score": [str(i) for i in range(n)]})
    ind, joined, report, _ = prepare_join(gdf, frame)
    assert lengths.count(n) == 2, lengths  # the table's code column and the boundaries', once each
    assert max(x for x in lengths if x != n) <= 500  # everything else looked at samples
    assert report.matched == n and any("invisible" in str(x) or "whitespace" in str(x) for x in report.normalisations)
    lengths.clear()
    measure_frame(ind, "imd")
    ind.n_national()
    assert n not in lengths  # downstream steps read the carried codes
