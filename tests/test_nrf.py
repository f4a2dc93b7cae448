"""The NRF 2001 reference list: its fact table, and its placement in the 2019 and 2024 district sets."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from geo.link.codes import GSS
from geo.errors import AtlasError
from geo.load.io import read_boundaries
from geo.derive.nrf import (
    ALLOCATIONS,
    TABLE,
    abolished_notes,
    nrf_2001,
    reference_codes,
    reference_summary,
    verification_counts,
    verification_sentence,
)
from geo.link.vintages import successor_map
from tests.cases import SHARED

LAD19 = SHARED / "boundaries" / "lad19_england_buc.gpkg"
SHARED_NRF = SHARED / "indicators" / "nrf_2001_authorities.csv"
DURHAM, CORNWALL, NORTHUMBERLAND = "E06000047", "E06000052", "E06000057"
DURHAM_FOUR = ["Derwentside", "Easington", "Sedgefield", "Wear Valley"]


@pytest.fixture(scope="module")
def codes19() -> list[str]:
    """The 317 English district codes of December 2019 (the IoD2019 district set)."""
    if not LAD19.is_file():
        pytest.skip(f"2019 district boundaries not present at {LAD19}")
    codes = read_boundaries(str(LAD19))["ltla19_code"].astype(str).tolist()
    assert len(set(codes)) == 317
    return codes


@pytest.fixture(scope="module")
def codes24(codes19: list[str]) -> list[str]:
    """The 2019 codes taken through every later code change: today's (2024) district set."""
    latest = successor_map()
    return sorted({latest.get(c, c) for c in codes19})


def test_table_shape_and_codes() -> None:
    df = nrf_2001()
    assert len(df) == 88
    assert df.nrf_name.is_unique
    assert list(df.columns) == ["nrf_name", "lad19_code", "lad19_name", "abolished_2009", "note", *ALLOCATIONS.values(),
                                "verification", "source", "today_code"]
    for column in ("lad19_code", "today_code"):
        assert df[column].str.fullmatch(GSS.pattern).all()
        assert df[column].str[:3].isin(["E06", "E07", "E08", "E09"]).all()
    assert df.lad19_name.str.strip().ne("").all()
    assert {"Brighton & Hove", "Bristol", "Kingston upon Hull", "St. Helens"} <= set(df.nrf_name)
    named = df.set_index("nrf_name")
    assert named.loc["Bristol", "lad19_name"] == "Bristol, City of"
    assert named.loc["Brighton & Hove", "lad19_name"] == "Brighton and Hove"
    # The corrected list: Sefton and Luton in, Norwich and North East Lincolnshire out.
    assert {"Sefton", "Luton"} <= set(df.nrf_name)
    assert not {"Norwich", "North East Lincolnshire"} & set(df.nrf_name)
    assert named.loc["Sefton", "lad19_code"] == "E08000014" and named.loc["Luton", "lad19_code"] == "E06000032"


def test_allocations_and_verification() -> None:
    df = nrf_2001().set_index("nrf_name")
    assert df.loc["Hartlepool", list(ALLOCATIONS.values())].tolist() == [1.568, 2.353, 3.138]
    assert df.loc["Birmingham", "alloc_2003_04_gbp_m"] == 22.043488
    assert pd.isna(df.loc["Kirklees", "alloc_2003_04_gbp_m"])
    # Every authority's three figures stand 2:3:4 where all three were read.
    full = df.dropna(subset=list(ALLOCATIONS.values()))
    assert len(full) == 18
    ratio = full["alloc_2003_04_gbp_m"] / full["alloc_2001_02_gbp_m"]
    assert ((ratio - 2).abs() < 0.01).all(), ratio[(ratio - 2).abs() >= 0.01]
    assert df.loc["Kirklees", "verification"] == "unverified"
    assert df.loc["Knowsley", "verification"] == "secondary"
    assert df.loc["Hartlepool", "verification"] == "primary table"
    assert df.loc["Walsall", "verification"] == "primary text"
    counts = verification_counts()
    assert sum(counts.values()) == 88
    assert counts["primary table"] == int(df[list(ALLOCATIONS.values())].notna().any(axis=1).sum())
    assert f"{counts['primary table']} were read from a primary table" in verification_sentence()
    assert df["source"].str.strip().ne("").all()


def test_abolished_districts_are_named_as_merged(codes19: list[str]) -> None:
    notes = abolished_notes(codes19)
    assert set(notes) == {DURHAM, CORNWALL, NORTHUMBERLAND}
    assert notes[DURHAM] == "Derwentside, Easington, Sedgefield, Wear Valley (NRF 2001) merged into County Durham (2009)"
    assert "Wansbeck" in notes[NORTHUMBERLAND] and "merged into Northumberland (2009)" in notes[NORTHUMBERLAND]


def test_abolished_map_to_unitaries() -> None:
    df = nrf_2001().set_index("nrf_name")
    abolished = df[df.abolished_2009]
    assert sorted(abolished.index) == sorted(DURHAM_FOUR + ["Kerrier", "Penwith", "Wansbeck"])
    for names, code, name in ((DURHAM_FOUR, DURHAM, "County Durham"), (["Kerrier", "Penwith"], CORNWALL, "Cornwall"),
                              (["Wansbeck"], NORTHUMBERLAND, "Northumberland")):
        assert (df.loc[names, "lad19_code"] == code).all()
        assert (df.loc[names, "lad19_name"] == name).all()
        assert df.loc[names, "note"].str.contains(name).all()
    assert (df.loc[~df.abolished_2009, "note"] == "").all()
    assert df.loc["Easington", "note"] == "abolished 2009; merged into County Durham (2009)"


def test_today_codes_follow_successors() -> None:
    df = nrf_2001().set_index("nrf_name")
    assert df.loc["Allerdale", "today_code"] == "E06000063"
    assert df.loc["Barrow-in-Furness", "today_code"] == "E06000064"
    assert df.loc["Barnsley", "today_code"] == "E08000038"
    assert df.loc["Sheffield", "today_code"] == "E08000039"
    assert df.loc["Leeds", "today_code"] == df.loc["Leeds", "lad19_code"]


def test_table_is_a_copy() -> None:
    df = nrf_2001()
    df.loc[0, "nrf_name"] = "changed"
    assert nrf_2001().loc[0, "nrf_name"] != "changed"


def test_csv_is_committed_plain() -> None:
    raw = pd.read_csv(TABLE, dtype=str, keep_default_na=False)
    assert list(raw.columns) == ["nrf_name", "lad19_code", "lad19_name", "abolished_2009", "note", *ALLOCATIONS.values(),
                                 "verification", "source"]
    assert set(raw.abolished_2009) == {"true", "false"}


def test_every_authority_placed_on_2019_codes(codes19: list[str]) -> None:
    placed = reference_codes(codes19)
    assert sorted(n for names in placed.values() for n in names) == sorted(nrf_2001().nrf_name)
    assert set(placed) <= set(codes19)
    assert placed[DURHAM] == DURHAM_FOUR
    assert placed[CORNWALL] == ["Kerrier", "Penwith"]
    assert placed[NORTHUMBERLAND] == ["Wansbeck"]
    summary = reference_summary(codes19)
    assert summary["authorities_2001"] == 88
    assert summary["districts"] == len(placed) == nrf_2001().lad19_code.nunique() == 88 - 3 - 1
    assert summary["district_codes"] == sorted(placed)
    assert set(summary["shared"]) == {DURHAM, CORNWALL}


def test_2024_codes(codes24: list[str]) -> None:
    assert len(codes24) == 296
    placed = reference_codes(codes24)
    assert placed["E06000063"] == ["Allerdale"]
    assert placed["E06000064"] == ["Barrow-in-Furness"]
    assert placed["E08000038"] == ["Barnsley"]
    assert placed["E08000039"] == ["Sheffield"]
    assert not {"E07000026", "E07000027", "E08000016", "E08000019"} & set(placed)
    assert sum(map(len, placed.values())) == 88
    assert set(placed) == set(nrf_2001().today_code)


def test_2024_codes_without_shared_data() -> None:
    # Today's codes of the 88 alone are a code set every authority can be placed in.
    today = nrf_2001().today_code
    placed = reference_codes(today)
    assert placed["E06000063"] == ["Allerdale"] and placed["E08000038"] == ["Barnsley"]
    assert reference_summary(today)["districts"] == today.nunique()


def test_cross_check_with_shared_list() -> None:
    if not SHARED_NRF.is_file():
        pytest.skip(f"shared NRF list not present at {SHARED_NRF}")
    shared = pd.read_csv(SHARED_NRF, dtype=str)
    ours = nrf_2001()
    merged = ours.merge(shared, on="nrf_name", how="outer", validate="1:1", indicator=True)
    assert (merged._merge == "both").all(), merged.loc[merged._merge != "both", "nrf_name"].tolist()
    assert (merged.lad19_code == merged.lad19cd).all()
    assert (merged.abolished_2009_x == merged.abolished_2009_y.str.lower().eq("true")).all()
    assert (merged.source_x == merged.source_y.str.strip()).all()
    for column in ALLOCATIONS.values():
        theirs = pd.to_numeric(merged[f"{column}_y"])
        mine = merged[f"{column}_x"]
        assert ((mine == theirs) | (mine.isna() & theirs.isna())).all(), column


def test_helper_script_reproduces_csv(tmp_path) -> None:
    lookup = SHARED / "lookups" / "lookup_ltla19_region19.csv"
    if not lookup.is_file() or not SHARED_NRF.is_file():
        pytest.skip(f"2019 district names and codes or the NRF list not present under {SHARED}")
    out = tmp_path / "nrf.csv"
    script = TABLE.with_name("make_nrf_2001.py")
    subprocess.run([sys.executable, str(script), str(SHARED_NRF), str(lookup), str(out)], check=True, capture_output=True)
    assert out.read_text(encoding="utf-8") == TABLE.read_text(encoding="utf-8")


def test_impossible_code_set() -> None:
    with pytest.raises(AtlasError, match="cannot be placed"):
        reference_codes(["E09000001", "E06000001"])
    with pytest.raises(AtlasError, match="88 of the 88"):
        reference_codes([])
    with pytest.raises(AtlasError):
        reference_codes("E06000047")


def test_partial_set_names_the_missing() -> None:
    codes = set(nrf_2001().lad19_code) - {DURHAM}
    with pytest.raises(AtlasError) as err:
        reference_summary(codes)
    assert "Derwentside" in str(err.value) and "4 of the 88" in str(err.value)
