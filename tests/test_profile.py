"""The area profile on the real IoD2019 data: Hartlepool's numbers against the shared all-scores table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geo.views import LINK_PARAMS, get_view, resolve_values
from tests.cases import SHARED

TABLE = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"
LSOA = SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"
HARTLEPOOL, MIDDLESBROUGH = "E06000001", "E06000002"
DOMAINS = ("income", "employment", "education", "health", "crime", "barriers", "living_env")

pytestmark = pytest.mark.skipif(not (TABLE.is_file() and LSOA.is_file()), reason=f"real IoD2019 data not at {SHARED}")


@pytest.fixture(scope="module")
def data():
    from geo.link.join import join_indicators
    from geo.link.layers import prepare_table
    from geo.load.io import read_boundaries, read_table
    from geo.views import ViewData

    ind = prepare_table(read_table(TABLE))
    joined, report = join_indicators(read_boundaries(LSOA), ind.frame, indicator_code="lsoa11cd")
    return ViewData(ind, joined, report, "lsoa11_name")


@pytest.fixture(scope="module")
def shared():
    return pd.read_csv(TABLE)


def build(data, link: dict):
    view = get_view("profile")
    values, _ = resolve_values(view, data, link, strict=True)
    return view.build(data, values)


def test_the_profile_is_registered_with_its_parameters_in_links(data):
    view = get_view("profile")
    assert view.available(data) is None
    assert {p.name for p in view.params(data)} <= set(LINK_PARAMS)


def test_hartlepool_profile_numbers_match_the_shared_table(data, shared):
    result = build(data, {"area": HARTLEPOOL})
    p = result.extra["profile"]
    own = shared[shared["lad19cd"] == HARTLEPOOL]
    assert p.n_lsoas == len(own) == 58 and len(result.layer) == 58
    decile1 = int((own["imd_decile"] == 1).sum())
    assert p.deciles.loc[1] == decile1 == 21
    assert p.deciles.to_dict() == own["imd_decile"].value_counts().reindex(range(1, 11), fill_value=0).to_dict()
    assert p.in_most_deprived(20) == int((own["imd_decile"] <= 2).sum())
    assert result.headlines[0] == (f"Hartlepool: 21 of its 58 LSOAs are in England's most deprived 10%; "
                                   f"{p.in_most_deprived(20)} are in the most deprived 20%.")
    # Priority neighbourhoods: the decile 1 and 2 LSOAs, worst domains = their lowest domain ranks.
    assert set(p.priority["code"]) == set(own.loc[own["imd_decile"] <= 2, "lsoa11cd"])
    first = own.sort_values("imd_rank").iloc[0]
    labels = data.measure_labels()
    worst = sorted((int(first[f"{d}_rank"]), d) for d in DOMAINS)[:3]
    top = p.priority.iloc[0]
    assert top["code"] == first["lsoa11cd"]
    assert top["worst_domains"] == "; ".join(f"{labels[d]} (rank {r:,})" for r, d in worst)
    # The local gap: population-weighted mean IMD score of the priority LSOAs minus the rest's.
    pri = own["imd_decile"] <= 2
    w = own["pop_total_mid2015"]
    gap = p.gaps.set_index("measure").loc["imd"]
    expected = (np.average(own.loc[pri, "imd_score"], weights=w[pri])
                - np.average(own.loc[~pri, "imd_score"], weights=w[~pri]))
    assert gap["gap"] == pytest.approx(expected) and gap["priority_lsoas"] == int(pri.sum())
    # District summaries with national ranks: Hartlepool is 10th of 317 on the IMD average score.
    s = result.extra["summaries"]
    row = s[(s["measure"] == "Index of Multiple Deprivation") & (s["summary"] == "Average score")].iloc[0]
    assert row["national_rank"] == 10 and row["of"] == 317
    # NRF: eligible under the default preset, and one of the 88 of 2001; no series loaded: said so.
    nrf = result.extra["nrf"].iloc[0]
    assert bool(nrf["eligible"]) and bool(nrf["nrf_2001"])
    assert any("No target series is loaded" in h for h in result.headlines)
    # The spine chart has every domain, with Hartlepool marked; the CSV is the profile table.
    svg = result.extra["spine_svg"]
    assert svg.count('class="spine-area"') == 8 and "<script" not in svg
    table = next(iter(result.tables.values()))
    assert list(table.columns)[:4] == ["section", "area", "item", "value"]
    assert {"LSOAs by national IMD decile", "District summaries", "Priority neighbourhoods", "Local gap",
            "NRF status"} <= set(table["section"])


def test_a_group_of_districts_is_profiled_together(data, shared):
    result = build(data, {"area": f"{HARTLEPOOL},{MIDDLESBROUGH}"})
    p = result.extra["profile"]
    own = shared[shared["lad19cd"].isin([HARTLEPOOL, MIDDLESBROUGH])]
    assert p.n_lsoas == len(own) and p.deciles.loc[1] == int((own["imd_decile"] == 1).sum())
    assert p.name == "Hartlepool and Middlesbrough" and result.headlines[0].startswith(
        f"Hartlepool and Middlesbrough: {p.deciles.loc[1]} of their {len(own)} LSOAs")
    assert result.extra["spine_svg"].count('class="spine-area"') == 16


def test_render_profile_from_the_command_line(tmp_path):
    import subprocess
    import sys

    from tests.cases import REPO

    districts = SHARED / "boundaries" / "lad19_england_buc.gpkg"
    args = ["--lsoa", str(LSOA), "--table", str(TABLE), "--districts", str(districts)]
    for out in ("hartlepool.png", "hartlepool.csv"):
        run = subprocess.run([sys.executable, "-m", "geo", "render", *args, "--view", f"?view=profile&area={HARTLEPOOL}",
                              "--out", str(tmp_path / out)], cwd=REPO, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
    table = pd.read_csv(tmp_path / "hartlepool.csv")
    assert str(table.loc[table["item"] == "decile 1", "value"].iloc[0]) == "21"
    assert (tmp_path / "hartlepool.png").read_bytes()[:4] == b"\x89PNG"
