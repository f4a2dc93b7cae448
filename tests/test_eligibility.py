"""Eligibility rules: parsing with clear errors, evaluation with reasons, allocations that reconcile to the penny."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from geo.eligibility import (
    Formula,
    allocate,
    compare_with_reference,
    evaluate_rule,
    parse_rule,
    presets,
)
from geo.errors import AtlasError
from tests.cases import REPO, SHARED

needs_shared = pytest.mark.skipif(not (SHARED / "indicators").is_dir(), reason=f"real open data not at {SHARED}")


def tiny() -> dict[str, pd.DataFrame]:
    # 10 LSOAs nationally in 3 districts; A is the most deprived.
    frame = pd.DataFrame({"district": list("AAABBBBCCC"), "score": [50.0, 30, 10, 40, 20, 5, 4, 3, 2, 1],
                          "rank": [1, 3, 6, 2, 4, 5, 7, 8, 9, 10], "population": [100, 300, 600] + [100] * 7})
    return {"imd": frame}


def rule(text: str):
    return parse_rule(text, ("imd",))


@pytest.mark.parametrize("text,words", [
    ("name = 'x'", "no [[condition]]"),
    ("[[condition]]\nkind = 'magic'", "unknown kind"),
    ("[[condition]]\nkind = 'top_n'\nmeasures = ['average_score']\nn = 0", "selects nobody"),
    ("[[condition]]\nkind = 'top_n'\nmeasures = ['happiness']\nn = 5", "unknown district measure"),
    ("[[condition]]\nkind = 'share_in_most_deprived'\nat_least = 20", "impossible"),
    ("[[condition]]\nkind = 'count_in_most_deprived'\npercent = 150\nat_least = 1", "impossible"),
    ("[[condition]]\nkind = 'score_at_least'\ndomain = 'wealth'\nat_least = 1", "not in this release"),
    ("combine = 'xor'\n[[condition]]\nkind = 'score_at_least'", "not understood"),
    ("[[condition]\nkind=", "not valid TOML"),
])
def test_bad_rules_say_what_is_wrong(text, words):
    with pytest.raises(AtlasError) as err:
        rule(text)
    assert words in str(err.value)


def test_rule_round_trips_through_toml():
    for preset in presets().values():
        assert parse_rule(preset.to_toml()) == preset


def test_conditions_reasons_and_combination():
    r = rule("combine = 'any'\n[[condition]]\nkind = 'top_n'\nmeasures = ['average_score']\nn = 1\n"
             "[[condition]]\nkind = 'count_in_most_deprived'\npercent = 20\nat_least = 1")
    table = evaluate_rule(r, tiny(), 10).table.set_index("district_code")
    assert table["eligible"].to_dict() == {"A": True, "B": True, "C": False}
    assert "average score: 1 of 3" in table.loc["A", "reasons"]
    assert "1 LSOAs in the most deprived 20%" in table.loc["B", "reasons"]  # B has rank 2
    both = evaluate_rule(parse_rule(r.to_toml().replace("combine = \"any\"", "combine = \"all\"")), tiny(), 10)
    assert both.eligible_codes == ["A"]


def test_share_and_score_conditions():
    share = rule("[[condition]]\nkind = 'share_in_most_deprived'\npercent = 30\nat_least = 0.5")
    assert evaluate_rule(share, tiny(), 10).eligible_codes == ["A"]  # ranks ≤ 3: A 2 of 3, B 1 of 4
    looser = rule("[[condition]]\nkind = 'share_in_most_deprived'\npercent = 30\nat_least = 0.25")
    assert evaluate_rule(looser, tiny(), 10).eligible_codes == ["A", "B"]
    score = rule("[[condition]]\nkind = 'score_at_least'\nat_least = 20")
    assert evaluate_rule(score, tiny(), 10).eligible_codes == ["A"]  # A 20.0


def test_reference_statuses():
    table = evaluate_rule(rule("[[condition]]\nkind = 'top_n'\nmeasures = ['average_score']\nn = 1"), tiny(), 10).table
    out = compare_with_reference(table, {"B": ["Old B"]}).set_index("district_code")
    assert out["status"].to_dict() == {"A": "newly eligible", "B": "no longer eligible", "C": "not eligible"}


@pytest.mark.parametrize("formula", [Formula(pot=1_000_000.01), Formula(pot=900_000_000, floor=100_000_000),
                                     Formula(pot=100, ceiling=60), Formula(pot=7, weight_by_score=False)])
def test_allocations_reconcile_to_the_penny(formula):
    table = evaluate_rule(rule("[[condition]]\nkind = 'top_n'\nmeasures = ['average_score']\nn = 3"), tiny(), 10).table
    out = allocate(table, tiny()["imd"], Formula(**{**formula.__dict__, "percent": 100}), 10)
    pence = (out["allocation"] * 100).round().astype(int)
    assert pence.sum() == round(formula.pot * 100)
    if formula.floor:
        assert out["allocation"].min() >= formula.floor
    if formula.ceiling:
        assert out["allocation"].max() <= formula.ceiling


def test_impossible_allocations_and_empty_results_are_explained():
    table = evaluate_rule(rule("[[condition]]\nkind = 'top_n'\nmeasures = ['average_score']\nn = 3"), tiny(), 10).table
    with pytest.raises(AtlasError, match="more than the pot"):
        allocate(table, tiny()["imd"], Formula(pot=100, floor=50), 10)
    with pytest.raises(AtlasError, match="cannot spend the pot"):
        allocate(table, tiny()["imd"], Formula(pot=100, ceiling=10), 10)
    none = evaluate_rule(rule("[[condition]]\nkind = 'score_at_least'\nat_least = 99"), tiny(), 10).table
    with pytest.raises(AtlasError, match="No district is eligible"):
        allocate(none, tiny()["imd"], Formula(), 10)


@needs_shared
def test_nrf_style_preset_on_iod2019(tmp_path):
    """The CLI on a File 7-shaped IoD2019 table: how many of the NRF 88 the preset selects."""
    from tests.iod2025_fixture import iod2019_file7_csv

    table = tmp_path / "File_7.csv"
    table.write_bytes(iod2019_file7_csv())
    out = tmp_path / "eligibility.csv"
    run = subprocess.run([sys.executable, "-m", "geo", "eligibility", "--rule",
                          str(REPO / "geo" / "reference" / "rules" / "1_nrf_style.toml"), "--release", str(table),
                          "--out", str(out)], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = pd.read_csv(out)
    assert list(result.columns)[:6] == ["code", "name", "eligible", "reasons", "allocation", "allocation_per_head"]
    assert len(result) == 317 and round(result["allocation"].sum(), 2) == 900_000_000.00
    eligible = result[result["eligible"]]
    assert 60 <= len(eligible) <= 90
    stays = (result["status"] == "stays eligible").sum()
    assert stays == len(eligible) - (result["status"] == "newly eligible").sum()
    assert stays >= 50  # most of today's NRF-style selection were NRF authorities in 2001
    print(run.stdout)
