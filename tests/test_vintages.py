"""Vintage conversion: LSOA 2011 → 2021 and retired district codes → current ones, audited."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from geo.errors import AtlasError
from geo.link.vintages import (
    LIST_CAP,
    convert_districts,
    convert_lsoa11_to_21,
    describe_conversion,
    is_rank_like,
    load_lsoa_lookup,
    successor_map,
)
from tests.cases import SHARED

# A hand-made lookup with every kind of change:
#   U  E01000001 → E01000001
#   M  E01000002 + E01000003 → E01040001
#   S  E01000004 → E01040002, E01040003
#   X  E01000005 → E01040004; E01000006 → E01040004 + E01040005
#   M  E01000007 + E01000008 → E01040006 (only E01000007 is in the table: incomplete)
PAIRS = [
    ("E01000001", "E01000001", "U"),
    ("E01000002", "E01040001", "M"), ("E01000003", "E01040001", "M"),
    ("E01000004", "E01040002", "S"), ("E01000004", "E01040003", "S"),
    ("E01000005", "E01040004", "X"), ("E01000006", "E01040004", "X"), ("E01000006", "E01040005", "X"),
    ("E01000007", "E01040006", "M"), ("E01000008", "E01040006", "M"),
]


def _lookup(style: str = "ons"):
    names = {"ons": ("LSOA11CD", "LSOA21CD", "CHGIND"), "snake": ("lsoa11_code", "lsoa21_code", "change_code"),
             "lower": ("lsoa11cd", "lsoa21cd", "chgind")}[style]
    return load_lsoa_lookup(pd.DataFrame(PAIRS, columns=list(names)))


def _table() -> pd.DataFrame:
    return pd.DataFrame({
        "LSOA code (2011)": ["E01000001", "E01000002", "e01000003 ", "E01000004", "E01000005", "E01000006",
                             "E01000007", "E01999999"],
        "name": ["A", "B", "C", "D", "E", "F", "G", "Z"],
        "lad": ["E08000016"] * 8,
        "pop": [100, 100, 300, 400, 10, 10, 10, 10],
        "score": [10.0, 20.0, 40.0, 50.0, 1.0, 1.0, 1.0, 1.0],
        "score_rank": [1, 2, 3, 4, 5, 6, 7, 8],
        "Score Decile": [1, 1, 2, 2, 3, 3, 4, 4],
    })


def _convert(**kw):
    kw.setdefault("counts", ["pop"])
    kw.setdefault("rates", ["score"])
    return convert_lsoa11_to_21(_table(), "LSOA code (2011)", _lookup(), **kw)


# ---------------------------------------------------------------------------------------------- lookup


@pytest.mark.parametrize("style", ["ons", "snake", "lower"])
def test_lookup_accepts_ons_and_snake_case_columns(style):
    lookup = _lookup(style)
    assert list(lookup.frame.columns) == ["lsoa11", "lsoa21", "change"]
    assert lookup.summary() == {"unchanged": 1, "merged_groups": 2, "merged_parents": 4, "split_parents": 1,
                                "split_children": 2, "complex_2011": 2, "complex_2021": 2}
    assert lookup.reclassified == 0


def test_lookup_normalises_codes_and_change_letters():
    frame = pd.DataFrame({"LSOA11CD": [" e01000001"], "LSOA21CD": ["E01000001\u200b"], "CHGIND": ["u "]})
    lookup = load_lsoa_lookup(frame)
    assert lookup.frame.iloc[0].tolist() == ["E01000001", "E01000001", "U"]


def test_lookup_without_its_columns_is_a_clear_error():
    with pytest.raises(AtlasError, match="change"):
        load_lsoa_lookup(pd.DataFrame({"LSOA11CD": ["E01000001"], "LSOA21CD": ["E01000001"]}))
    with pytest.raises(AtlasError, match="unknown change"):
        load_lsoa_lookup(pd.DataFrame({"LSOA11CD": ["E01000001"], "LSOA21CD": ["E01000001"], "CHGIND": ["Q"]}))


def test_a_change_letter_contradicting_the_pairs_becomes_complex():
    # "U" on a code that maps to two 2021 codes cannot be a relabel.
    frame = pd.DataFrame([("E01000001", "E01040001", "U"), ("E01000001", "E01040002", "U")],
                         columns=["LSOA11CD", "LSOA21CD", "CHGIND"])
    lookup = load_lsoa_lookup(frame)
    assert set(lookup.frame.change) == {"X"} and lookup.reclassified == 1


# ---------------------------------------------------------------------------------------------- LSOA conversion


def test_unchanged_are_relabelled_and_merged_counts_summed():
    out, report = _convert(weight="pop")
    assert list(out.columns)[0] == "LSOA code (2021)"  # "(2011)" → "(2021)"
    rows = out.set_index("LSOA code (2021)")
    assert rows.loc["E01000001", "pop"] == 100 and rows.loc["E01000001", "score"] == 10.0
    assert rows.loc["E01040001", "pop"] == 400  # 100 + 300
    assert report.unchanged == 1 and report.merged_groups == 1 and report.merged_parents == 2


def test_merged_rates_are_weighted_never_summed():
    out, report = _convert(weight="pop")
    score = out.set_index("LSOA code (2021)").loc["E01040001", "score"]
    assert score == pytest.approx((20 * 100 + 40 * 300) / 400)  # 35, not 60 (sum) nor 30 (plain mean)
    assert any("score" in m and "weighted mean" in m and "(weight: pop)" in m for m in report.methods)


def test_merged_rates_without_a_weight_are_missing_and_reported():
    out, report = _convert()
    rows = out.set_index("LSOA code (2021)")
    assert math.isnan(rows.loc["E01040001", "score"])
    assert rows.loc["E01000001", "score"] == 10.0  # unchanged rows keep theirs
    assert any("no weight given" in m for m in report.methods)


def test_splits_are_not_duplicated_by_default():
    out, report = _convert(weight="pop")
    assert not out["LSOA code (2021)"].isin(["E01040002", "E01040003"]).any()
    assert report.not_converted["split"] == ["E01000004"]
    assert report.split_parents == 1 and report.split_children == 2
    assert any("describes the whole parent" in line for line in describe_conversion(report))


def test_copy_rates_copies_rates_only_and_says_so():
    out, report = _convert(weight="pop", split="copy_rates")
    kids = out.set_index("LSOA code (2021)").loc[["E01040002", "E01040003"]]
    assert kids["score"].tolist() == [50.0, 50.0]
    assert kids["pop"].isna().all()  # a count is never copied
    assert kids["lad"].isna().all()  # nor any other column
    assert "split" not in report.not_converted and report.split_children == 2
    assert any("copied to each 2021 child" in m for m in report.methods)
    assert out["LSOA code (2021)"].is_unique


def test_bad_split_option_is_refused():
    with pytest.raises(AtlasError):
        _convert(split="share")


def test_ranks_and_deciles_are_never_converted_even_when_named():
    out, report = _convert(weight="pop", rates=["score", "score_rank"], counts=["pop", "Score Decile"])
    assert "score_rank" not in out.columns and "Score Decile" not in out.columns
    assert "release on 2021 boundaries" in report.columns_not_convertible["score_rank"]
    assert "named as a value column" in report.columns_not_convertible["Score Decile"]
    assert any("Not converted" in line for line in describe_conversion(report))


@pytest.mark.parametrize("name,rank", [("imd_rank", True), ("IMD Decile", True), ("IMDRank", True),
                                       ("Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)", True),
                                       ("imd_score", False), ("Frankley pop", False), ("income_rate", False)])
def test_rank_like_names(name, rank):
    assert is_rank_like(name) is rank


def test_complex_unknown_and_incomplete_merges_are_reported_not_converted():
    out, report = _convert(weight="pop")
    assert report.not_converted["complex"] == ["E01000005", "E01000006"] and report.complex == 2
    assert report.not_converted["not_in_lookup"] == ["E01999999"]
    assert report.not_converted["merged_incomplete"] == ["E01000007"]
    assert not out["LSOA code (2021)"].isin(["E01040004", "E01040005", "E01040006", "E01999999"]).any()
    assert report.rows_in == 8 and report.rows_out == 2 == len(out)


def test_other_columns_kept_only_when_one_value_per_merged_group():
    out, report = _convert(weight="pop")
    assert "lad" in out.columns and "name" not in out.columns
    assert report.columns_kept == ["lad"] and report.columns_dropped == ["name"]


def test_output_code_column_defaults_to_lsoa21():
    table = _table().rename(columns={"LSOA code (2011)": "lsoa11cd"})
    out, _ = convert_lsoa11_to_21(table, "lsoa11cd", _lookup(), counts=["pop"])
    assert out.columns[0] == "lsoa21"


def test_conflicting_duplicate_codes_are_refused_and_exact_ones_collapsed():
    table = _table()
    with pytest.raises(AtlasError, match="different values"):
        convert_lsoa11_to_21(pd.concat([table, table.assign(pop=1).head(1)]), "LSOA code (2011)", _lookup(),
                             counts=["pop"])
    out, report = convert_lsoa11_to_21(pd.concat([table, table.head(1)]), "LSOA code (2011)", _lookup(),
                                       counts=["pop"])
    assert out.set_index("LSOA code (2021)").loc["E01000001", "pop"] == 100
    assert any("exact duplicate" in m for m in report.messages)


def test_bad_column_choices_are_clear_errors():
    with pytest.raises(AtlasError, match="no column"):
        _convert(counts=["people"])
    with pytest.raises(AtlasError, match="both"):
        _convert(counts=["pop"], rates=["pop"])


def test_missing_parent_value_leaves_the_merged_value_missing():
    table = _table()
    table.loc[1, "pop"] = None
    out, _ = convert_lsoa11_to_21(table, "LSOA code (2011)", _lookup(), counts=["pop"], rates=["score"], weight="pop")
    row = out.set_index("LSOA code (2021)").loc["E01040001"]
    assert math.isnan(row["pop"]) and math.isnan(row["score"])  # never a partial sum


def test_report_dict_caps_lists_but_keeps_lengths():
    codes = [f"E01{900000 + i:06d}" for i in range(LIST_CAP + 5)]
    table = pd.DataFrame({"code": codes, "pop": 1})
    _, report = convert_lsoa11_to_21(table, "code", _lookup(), counts=["pop"])
    d = report.to_dict()
    assert len(d["not_converted"]["not_in_lookup"]) == LIST_CAP
    assert d["not_converted_counts"]["not_in_lookup"] == LIST_CAP + 5 and d["lists_truncated"]
    assert report.rows_out == 0


# ---------------------------------------------------------------------------------------------- districts


def test_successor_map_follows_chains():
    smap = successor_map()
    assert smap["E07000190"] == "E06000066"  # Taunton Deane → Somerset West and Taunton (2019) → Somerset (2023)
    assert smap["E07000246"] == "E06000066"
    assert smap["E08000016"] == "E08000038"
    assert not set(smap.values()) & set(smap)  # every target is final


CUMBRIA = {"E07000026": 100, "E07000028": 200, "E07000029": 700}  # Allerdale, Carlisle, Copeland


def _districts() -> pd.DataFrame:
    return pd.DataFrame({
        "code": [*CUMBRIA, "E08000016", "E09000001"],
        "region": ["North West"] * 3 + ["Yorkshire", "London"],
        "name": ["Allerdale", "Carlisle", "Copeland", "Barnsley", "City of London"],
        "pop": [*CUMBRIA.values(), 50, 10],
        "score": [10.0, 20.0, 30.0, 5.0, 1.0],
        "rank_of_score": [1, 2, 3, 4, 5],
    })


def test_district_merger_sums_counts_and_weights_rates():
    out, report = convert_districts(_districts(), "code", counts=["pop"], rates=["score"], weight="pop")
    rows = out.set_index("code")
    assert rows.loc["E06000063", "pop"] == 1000
    assert rows.loc["E06000063", "score"] == pytest.approx((10 * 100 + 20 * 200 + 30 * 700) / 1000)
    assert rows.loc["E08000038", "pop"] == 50  # Barnsley recode: relabelled
    assert rows.loc["E09000001", "pop"] == 10  # current: passes through
    assert not rows.index.isin(["E07000026", "E08000016"]).any()
    assert report.merged_groups == 1 and report.merged_parents == 3
    assert report.relabelled == 1 and report.unchanged == 1 and report.rows_out == 3
    assert "region" in out.columns and "name" not in out.columns and "rank_of_score" not in out.columns
    assert "rank_of_score" in report.columns_not_convertible


def test_district_merger_without_weight_leaves_rates_missing():
    out, report = convert_districts(_districts(), "code", counts=["pop"], rates=["score"])
    rows = out.set_index("code")
    assert math.isnan(rows.loc["E06000063", "score"]) and rows.loc["E08000038", "score"] == 5.0
    assert any("no weight given" in m for m in report.methods)


def test_partial_merger_and_mixed_vintages_are_reported():
    partial = _districts().iloc[[0, 1, 3]]  # Allerdale, Carlisle, no Copeland
    out, report = convert_districts(partial, "code", counts=["pop"])
    assert report.not_converted["merged_incomplete"] == ["E07000026", "E07000028"]
    assert out["code"].tolist() == ["E08000038"]
    mixed = pd.concat([_districts(), pd.DataFrame({"code": ["E06000063"], "pop": [1000]})])
    out, report = convert_districts(mixed, "code", counts=["pop"])
    assert report.not_converted["mixed_vintages"] == ["E06000063", "E07000026", "E07000028", "E07000029"]
    assert "E06000063" not in set(out["code"])


def test_two_step_chain_is_complete_either_way():
    # Somerset from 2021-vintage codes (Somerset West and Taunton) or 2018 ones (Taunton Deane + West Somerset).
    rest = ["E07000187", "E07000188", "E07000189"]
    for parts in (["E07000246"], ["E07000190", "E07000191"]):
        table = pd.DataFrame({"code": rest + parts, "pop": 1})
        out, report = convert_districts(table, "code", counts=["pop"])
        assert out["code"].tolist() == ["E06000066"] and out["pop"].tolist() == [len(rest + parts)]


def test_current_codes_only_pass_through_untouched():
    table = pd.DataFrame({"code": ["E09000001", "E06000063"], "imd_rank": [1, 2]})
    out, report = convert_districts(table, "code")
    pd.testing.assert_frame_equal(out, table)
    assert report.unchanged == 2 and not report.not_converted


def test_describe_conversion_is_short_sentences():
    _, report = _convert(weight="pop")
    lines = describe_conversion(report)
    assert lines[0] == "Converted 8 row(s) on LSOA 2011 codes to 2 row(s) on LSOA 2021 codes."
    assert any("not in the lookup" in line for line in lines)
    _, report = convert_districts(_districts(), "code", counts=["pop"])
    assert any("recoded one-to-one" in line for line in describe_conversion(report))


# ---------------------------------------------------------------------------------------------- real data

LOOKUP = SHARED / "lookups" / "lookup_lsoa11_lsoa21_ltla22.csv"
IOD = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"
real = pytest.mark.skipif(not (LOOKUP.is_file() and IOD.is_file()),
                          reason=f"real open data not present at {SHARED} (set ATLAS_SHARED_DATA)")


@pytest.fixture(scope="module")
def iod_to_2021():
    raw = pd.read_csv(LOOKUP, dtype=str)
    iod = pd.read_csv(IOD)
    out, report = convert_lsoa11_to_21(iod, "lsoa11cd", load_lsoa_lookup(raw), counts=["pop_total_mid2015"],
                                       rates=["imd_score"], weight="pop_total_mid2015")
    return raw, iod, out, report


@real
def test_iod2019_to_2021_counts_match_the_lookup(iod_to_2021):
    raw, iod, out, report = iod_to_2021
    eng = raw[raw.lsoa11_code.str.startswith("E")]

    def n(change, side):
        return eng.loc[eng.change_code == change, side].nunique()

    assert report.unchanged == n("U", "lsoa11_code")
    assert report.merged_groups == n("M", "lsoa21_code") and report.merged_parents == n("M", "lsoa11_code")
    assert report.split_parents == n("S", "lsoa11_code") and report.split_children == n("S", "lsoa21_code")
    assert report.complex == n("X", "lsoa11_code")
    assert report.rows_in == len(iod) == 32_844
    assert report.rows_out == len(out) == n("U", "lsoa21_code") + n("M", "lsoa21_code")
    assert "not_in_lookup" not in report.not_converted and "merged_incomplete" not in report.not_converted
    assert out["lsoa21"].is_unique
    assert "imd_rank" in report.columns_not_convertible and "imd_rank" not in out.columns


@real
def test_iod2019_to_2021_conserves_population_and_weights_scores(iod_to_2021):
    raw, iod, out, _ = iod_to_2021
    eng = raw[raw.lsoa11_code.str.startswith("E") & raw.change_code.isin(["U", "M"])]
    parents = iod[iod.lsoa11cd.isin(set(eng.lsoa11_code))]
    assert out.pop_total_mid2015.sum() == parents.pop_total_mid2015.sum()
    assert out.pop_total_mid2015.notna().all() and out.imd_score.notna().all()
    # Each merged score lies between its parents' scores (a sum would exceed the larger one).
    merged = eng[eng.change_code == "M"].merge(iod, left_on="lsoa11_code", right_on="lsoa11cd")
    bounds = merged.groupby("lsoa21_code").imd_score.agg(["min", "max"])
    got = out.set_index("lsoa21").imd_score.loc[bounds.index]
    assert ((got >= bounds["min"] - 1e-9) & (got <= bounds["max"] + 1e-9)).all()


@real
def test_iod2019_copy_rates_gives_each_split_child_its_parents_score(iod_to_2021):
    raw, iod, base, _ = iod_to_2021
    out, report = convert_lsoa11_to_21(iod, "lsoa11cd", load_lsoa_lookup(raw), counts=["pop_total_mid2015"],
                                       rates=["imd_score"], weight="pop_total_mid2015", split="copy_rates")
    assert len(out) == len(base) + report.split_children and out["lsoa21"].is_unique
    kids = out[~out.lsoa21.isin(set(base.lsoa21))]
    assert kids.pop_total_mid2015.isna().all() and kids.imd_score.notna().all()
    assert out.pop_total_mid2015.sum() == base.pop_total_mid2015.sum()  # nothing counted twice


@real
def test_iod2019_districts_2019_to_current():
    iod = pd.read_csv(IOD)
    by_lad = iod.groupby("lad19cd", as_index=False).pop_total_mid2015.sum()
    out, report = convert_districts(by_lad, "lad19cd", counts=["pop_total_mid2015"])
    assert report.rows_in == 317 and report.rows_out == len(out) == 296
    assert not report.not_converted
    assert out.pop_total_mid2015.sum() == iod.pop_total_mid2015.sum()
    assert out.lad19cd.is_unique and "E06000063" in set(out.lad19cd) and "E08000038" in set(out.lad19cd)
