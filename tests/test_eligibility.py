"""Eligibility rules: parsing with clear errors, evaluation with reasons, allocations that reconcile to the penny."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from geo.derive.eligibility import (
    Formula,
    allocate,
    compare_with_reference,
    evaluate_rule,
    parse_rule,
    presets,
    reconcile_allocations,
    recovery,
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
    ("[[condition]]\nkind = 'top_n'\nmeasures = ['scale']\nn = 5", "not a district measure of 'imd'"),
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


def test_successors_of_abolished_districts_are_not_plain_no_longer_eligible():
    table = evaluate_rule(rule("[[condition]]\nkind = 'top_n'\nmeasures = ['average_score']\nn = 1"), tiny(), 10).table
    merged = {"C": "Oldtown, Newtown (NRF 2001) merged into C (2009)"}
    out = compare_with_reference(table, {"A": ["A"], "B": ["Old B"], "C": ["Oldtown", "Newtown"]}, merged)
    out = out.set_index("district_code")
    assert out["status"].to_dict() == {"A": "stays eligible", "B": "no longer eligible", "C": "successor not eligible"}
    assert out.loc["C", "reference_note"] == ("Oldtown, Newtown (NRF 2001) merged into C (2009); the successor is not "
                                              "eligible under this rule")
    assert out.loc["A", "reference_note"] == ""
    rec = recovery(out.reset_index().assign(name=["Aville", "Bville", "Cville"]))
    assert (rec.authorities, rec.authorities_recovered, rec.districts, rec.districts_recovered) == (4, 1, 3, 1)
    assert rec.missed == ["Bville (Old B)", "Cville (Oldtown, Newtown)"] and rec.added == []
    assert "recovers 1 of the 3 districts of 2019" in rec.sentence("2019") and "(1 of the 4 authorities)" in rec.sentence()


def test_the_default_formula_is_the_nrf_method():
    formula = Formula()
    assert not formula.weight_by_score and formula.percent == 10 and formula.is_nrf_method
    assert "standard amount per head of population living in the most deprived 10% of LSOAs" in formula.describe()
    assert "not the NRF method" in Formula(weight_by_score=True).describe()
    # Per head: A has 100 people in the national 10% (rank 1 of 10), B none in it → A takes the whole pot.
    table = evaluate_rule(rule("[[condition]]\nkind = 'top_n'\nmeasures = ['average_score']\nn = 2"), tiny(), 10).table
    out = allocate(table, tiny()["imd"], Formula(pot=1000), 10).set_index("district_code")
    assert out["allocation"].to_dict() == {"A": 1000.0, "B": 0.0, "C": 0.0}
    # At 30%: A 100 + 300 people (ranks 1, 3), B 100 (rank 2) → 800 : 200, the same amount per head.
    out = allocate(table, tiny()["imd"], Formula(pot=1000, percent=30), 10).set_index("district_code")
    assert out["allocation"].to_dict() == {"A": 800.0, "B": 200.0, "C": 0.0}


def test_reconciliation_compares_shares_of_pots():
    from geo.derive.nrf import nrf_2001

    nrf = nrf_2001().set_index("nrf_name")
    # Two real authorities with known figures stand in for districts A and B; C has no figure (Kirklees).
    reference = {"A": ["Hartlepool"], "B": ["Hastings"], "C": ["Kirklees"]}
    frame = pd.DataFrame({"district": list("AABBCC"), "score": [9.0, 8, 7, 6, 5, 4], "rank": [1, 2, 3, 4, 5, 6],
                          "population": [100, 100, 100, 100, 100, 100]})
    recon = reconcile_allocations(frame, Formula(pot=900, percent=50), 6, reference, {"A": "Aville"}, "test release")
    table = recon.table.set_index("district_code")
    assert set(table.index) == {"A", "B"}  # C: no allocation read
    # The formula: A 200 people, B 100 → 2/3 and 1/3 of the pot (C gets 0: no LSOA in the most deprived 50%).
    assert table.loc["A", "atlas_share"] == pytest.approx(2 / 3) and table.loc["B", "atlas_share"] == pytest.approx(1 / 3)
    # Actual: the latest year read over that year's pot (£400m in 2003-04).
    assert table.loc["A", "actual_share"] == pytest.approx(nrf.loc["Hartlepool", "alloc_2003_04_gbp_m"] * 1e6 / 400e6)
    assert table.loc["A", "year_read"] == "2003-04" and table.loc["A", "name"] == "Aville"
    assert "this is test release" in recon.sentence()


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
def test_nrf_2001_preset_on_iod2019(tmp_path):
    """The CLI on a File 7-shaped IoD2019 table: the 2001 rule's six measures give 89 and recover 73 of the 84."""
    from tests.iod2025_fixture import iod2019_file7_csv

    table = tmp_path / "File_7.csv"
    table.write_bytes(iod2019_file7_csv())
    out = tmp_path / "eligibility.csv"
    run = subprocess.run([sys.executable, "-m", "geo", "eligibility", "--rule",
                          str(REPO / "geo" / "reference" / "rules" / "1_nrf_2001.toml"), "--release", str(table),
                          "--out", str(out), "--reconciliation", str(tmp_path / "recon.csv")],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    result = pd.read_csv(out)
    assert list(result.columns)[:6] == ["code", "name", "eligible", "reasons", "allocation", "allocation_per_head"]
    assert len(result) == 317 and round(result["allocation"].sum(), 2) == 900_000_000.00
    eligible = result[result["eligible"]]
    assert len(eligible) == 89
    status = result["status"].value_counts().to_dict()
    # County Durham, Cornwall and Northumberland stand for the 7 NRF districts abolished in 2009.
    assert status == {"not eligible": 217, "stays eligible": 70, "successor eligible": 3, "newly eligible": 16,
                      "no longer eligible": 11}
    assert "recovers 73 of the 84 districts of 2019 that hold the 88 authorities (77 of 88 authorities" in run.stdout
    durham = result.set_index("code").loc["E06000047"]
    assert durham["reference_note"].startswith("Derwentside, Easington, Sedgefield, Wear Valley (NRF 2001) merged into "
                                               "County Durham (2009)")
    assert "Missed (11): Allerdale, Ashfield, Bolsover, Camden" in run.stdout
    assert "Added (16): Barnet" in run.stdout and "Norwich" in run.stdout.split("Added (16):")[1]
    assert "HC Deb 26 Nov 2001 cc610-1W" in run.stdout
    assert "standard amount per head of population" in run.stdout and "the NRF method of 2001" in run.stdout
    assert "48 were read from a primary table" in run.stdout
    recon = pd.read_csv(tmp_path / "recon.csv")
    assert len(recon) == 45 and "County Durham" not in set(recon["name"])  # two of its four have no figure
    assert round(recon["actual_share"].sum(), 6) < 1 and (recon["atlas_share"] >= 0).all()
    assert "correlate 0.85 (Pearson) and 0.67 by rank" in run.stdout
    print(run.stdout)


def test_a_what_if_title_follows_its_n():
    """#17: the NRF preset at N = 60 is titled "60 most deprived", not "50 most deprived"."""
    from dataclasses import replace

    from geo.derive.eligibility import retitled

    nrf = next(r for r in presets().values() if "50 most deprived" in r.name)
    at_60 = replace(nrf, conditions=tuple(replace(c, n=60) if c.kind == "top_n" else c for c in nrf.conditions))
    assert "60 most deprived" in retitled(nrf.name, nrf, at_60) and "50" not in retitled(nrf.name, nrf, at_60)
    assert retitled(nrf.name, nrf, nrf) == nrf.name
    one_moved = replace(nrf, conditions=(replace(nrf.conditions[0], n=60), *nrf.conditions[1:]))
    assert retitled(nrf.name, nrf, one_moved) == nrf.name  # 50 and 60 both in use: the name cannot say one N
    assert retitled("Top 50 most deprived (1,050 most deprived LSOAs)", nrf, at_60).startswith("Top 60 most deprived (1,050")


def test_the_pot_is_written_as_money():
    """#17: "900000000" → "£900m" in the formula's words."""
    words = Formula(pot=900_000_000.0, floor=2_000_000.0).describe()
    assert words.startswith("£900m split") and "at least £2m" in words and "900,000,000" not in words


@needs_shared
def test_an_eligible_district_with_no_deprived_lsoas_has_its_zero_per_head():
    """#17: Lambeth is eligible under the NRF rule on IoD2019 but has no LSOA in the most deprived 10%: it gets £0,
    shown as £0.00 per head in the lightest class (was "No data"), and a note says why."""
    from geo.present.render import ViewRequest, resolve_inputs, view_data
    from geo.views import get_view, resolve_values

    inputs = resolve_inputs(ViewRequest(), lsoa=str(SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"),
                            table=str(SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"),
                            districts=str(SHARED / "boundaries" / "lad19_england_buc.gpkg"))
    data = view_data(inputs, join=False)
    view = get_view("eligibility")
    values, _ = resolve_values(view, data, {"allocate": "1", "colour_by": "£ per head"})
    result = view.build(data, values)
    lambeth = result.layer.index[result.layer["district_code"] == "E09000022"][0]
    assert bool(result.layer.loc[lambeth, "eligible"]) and result.layer.loc[lambeth, "allocation_per_head"] == 0
    assert result.classification.classes[lambeth] == 0 and result.classification.labels[0].startswith("£0.00")
    assert any("Lambeth" in n and "£0" in n and "most deprived 10%" in n for n in result.notes)
    not_eligible = ~result.layer["eligible"].to_numpy()
    assert (result.classification.classes[not_eligible] == -1).all()
    assert result.extra["provenance"]["release"] == "IoD2019 · LSOA 2011"
