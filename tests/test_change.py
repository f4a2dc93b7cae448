"""Change between releases: per-LSOA changes and decile transitions, districts on one geography."""

from __future__ import annotations

import pandas as pd
import pytest

from geo.derive.change import CAVEAT, decile_transitions, district_change, lsoa_change, to_current_districts
from tests.cases import SHARED

needs_shared = pytest.mark.skipif(not (SHARED / "indicators").is_dir(), reason=f"real open data not at {SHARED}")


def test_lsoa_change_signs_and_transitions():
    old = pd.DataFrame({"code": ["E01000001", "E01000002", "E01000003"], "score": [10.0, 50, 5],
                        "rank": [2000, 10, 30000], "decile": [1, 1, 10]})
    new = pd.DataFrame({"code": ["E01000001", "E01000002", "E01000004"], "score": [12.0, 40, 1],
                        "rank": [1500, 4000, 1], "decile": [1, 2, 1]})
    change = lsoa_change(old, new).set_index("code")
    assert list(change.index) == ["E01000001", "E01000002"]
    assert change.loc["E01000001", "rank_change"] == 500 and change.loc["E01000002", "rank_change"] == -3990
    assert change.loc["E01000002", "decile_change"] == 1
    transitions = decile_transitions(change.reset_index())
    assert transitions.loc[1, 1] == 1 and transitions.loc[1, 2] == 1 and transitions.to_numpy().sum() == 2
    assert "relative" in CAVEAT


def test_retired_districts_follow_every_successor():
    codes = pd.Series(["E07000026", "E08000016", "E07000004", "E06000001"])
    assert to_current_districts(codes).tolist() == ["E06000063", "E08000038", "E06000060", "E06000001"]


@needs_shared
def test_real_2015_to_2019_lsoa_change():
    old = pd.read_csv(SHARED / "indicators" / "imd2015_england_lsoa11.csv").rename(
        columns={"lsoa11_code": "code", "IMD_score": "score", "IMD_rank": "rank", "IMD_decile": "decile"})
    new = pd.read_csv(SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv").rename(
        columns={"lsoa11cd": "code", "imd_score": "score", "imd_rank": "rank", "imd_decile": "decile"})
    change = lsoa_change(old[["code", "score", "rank", "decile"]], new[["code", "score", "rank", "decile"]])
    assert len(change) == 32844
    transitions = decile_transitions(change)
    assert transitions.to_numpy().sum() == 32844
    stayed = sum(transitions.loc[d, d] for d in range(1, 11))
    assert 0.5 < stayed / 32844 < 0.9  # most LSOAs keep their decile; many move one


@needs_shared
def test_district_change_on_one_geography():
    frame = pd.read_csv(SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv")
    lsoas = frame.rename(columns={"lad19cd": "district", "imd_score": "score", "imd_rank": "rank",
                                  "pop_total_mid2015": "population"})[["district", "score", "rank", "population"]]
    change = district_change(lsoas, lsoas, 32844, 32844)
    assert len(change) == 296 and (change["in"] == "both").all()
    assert change["average_score_change"].abs().max() < 1e-9
    cumberland = change.set_index("district_code").loc["E06000063"]
    assert cumberland["lsoa_count_old"] == frame["lad19cd"].isin(["E07000026", "E07000028", "E07000029"]).sum()
