"""Gap measures pooled from LSOA counts: the reference counts table, share-of-LSOAs series pooled by it, the
method named per period and in words, fallbacks for periods without counts, and the CLI's method and caveat."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pandas as pd
import pytest

from geo.derive.progress import (
    LSOA_COUNTS,
    group_headline,
    indicator_meta,
    lsoa_counts,
    measure_progress,
    method_in_words,
    parse_target,
    presets,
    read_series,
    resolve_group,
)
from tests.cases import REPO, SHARED

HISTORY = SHARED / "indicators" / "imd_lad21_2004_2019.csv"
LOOKUPS = SHARED / "lookups"
NRF_TARGET = REPO / "geo" / "reference" / "targets" / "1_nrf_share_most_deprived.toml"
needs_history = pytest.mark.skipif(not HISTORY.is_file(), reason=f"IMD history not at {HISTORY}")
SHARE = "imd_proportion_top10pc"


def test_counts_table_totals():
    counts = lsoa_counts()
    assert len(counts) == 309 and counts.index.is_unique
    assert counts["lsoa01_count"].sum() == 32_482 and counts["lsoa11_count"].sum() == 32_844
    assert counts.loc["E06000001"].tolist() == [58, 58]  # Hartlepool


def test_counts_table_rebuilt_from_the_shared_lookups(tmp_path):
    l11, l01 = LOOKUPS / "lookup_lsoa11_ltla21.csv", LOOKUPS / "lookup_lsoa01_lsoa11.csv"
    if not l11.is_file() or not l01.is_file():
        pytest.skip(f"LSOA lookups not present under {LOOKUPS}")
    out = tmp_path / "counts.csv"
    script = LSOA_COUNTS.with_name("make_lsoa_counts.py")
    subprocess.run([sys.executable, str(script), str(l11), str(l01), str(out)], check=True, capture_output=True)
    assert out.read_bytes() == LSOA_COUNTS.read_bytes()


def synthetic(periods=("2004", "2019")) -> pd.DataFrame:
    """Four real 2021 districts with share-of-LSOAs values; counts from the reference table."""
    shares = {"E06000001": (0.40, 0.30, 0.40), "E06000002": (0.10, 0.20, 0.10),  # group
              "E06000003": (0.05, 0.02, 0.05), "E06000004": (0.00, 0.04, 0.00)}  # rest
    rows = [{"code": code, "period": period, "indicator": SHARE, "value": v[i]}
            for code, v in shares.items() for i, period in enumerate(periods)]
    return read_series(pd.DataFrame(rows))


def share_target(baseline="2004", by="2019") -> str:
    return (f"name = 't'\nindicator = '{SHARE}'\ngroup = 'codes:E06000001,E06000002'\nbaseline = '{baseline}'\n"
            f"by = '{by}'\namount = 0.02\nhigher_is_better = false\n")


def test_synthetic_pooled_is_not_the_mean():
    c = lsoa_counts()
    n01 = c.loc[["E06000001", "E06000002", "E06000003", "E06000004"], "lsoa01_count"].tolist()
    n11 = c.loc[["E06000001", "E06000002", "E06000003", "E06000004"], "lsoa11_count"].tolist()
    assert n01 == [58, 88, 92, 117] and n11 == [58, 86, 88, 120]
    t = parse_target(share_target())
    meta = indicator_meta(SHARE)
    out, _ = measure_progress(synthetic(), t, {"E06000001", "E06000002"}, meta)
    out = out.set_index("period")
    # By hand: 2004 group (0.40×58 + 0.10×88) / (58 + 88) = 32/146; rest (0.05×92 + 0×117) / 209 = 4.6/209.
    assert out.loc["2004", "group_value"] == pytest.approx(32 / 146)
    assert out.loc["2004", "rest_value"] == pytest.approx(4.6 / 209)
    # 2019 on 2011 LSOAs: group (0.30×58 + 0.20×86) / 144 = 34.6/144; rest (0.02×88 + 0.04×120) / 208 = 6.56/208.
    assert out.loc["2019", "group_value"] == pytest.approx(34.6 / 144)
    assert out.loc["2019", "rest_value"] == pytest.approx(6.56 / 208)
    assert out["method"].tolist() == ["pooled LSOA 2001 counts", "pooled LSOA 2011 counts"]
    mean, _ = measure_progress(synthetic(), t, {"E06000001", "E06000002"}, meta, pool=False)
    assert mean["group_value"].iloc[0] == pytest.approx(0.25) and mean["rest_value"].iloc[0] == pytest.approx(0.025)
    assert (mean["method"] == "unweighted mean of districts").all()
    assert method_in_words(out) == "pooled LSOA counts (LSOA 2001 counts for 2004, LSOA 2011 for 2019)"
    assert "Method: pooled LSOA counts" in group_headline(t, meta, out.reset_index())


def test_period_without_counts_falls_back_and_is_named():
    series = synthetic(("2004", "2019", "2025"))
    t = parse_target(share_target(by="2025"))
    out, _ = measure_progress(series, t, {"E06000001", "E06000002"}, indicator_meta(SHARE))
    out = out.set_index("period")
    assert out.loc["2025", "method"] == "unweighted mean of districts"
    assert out.loc["2025", "group_value"] == pytest.approx(0.25)  # (0.40 + 0.10) / 2, not 32/146
    assert out.loc["2004", "method"] == "pooled LSOA 2001 counts"
    words = method_in_words(out.reset_index())
    assert words == ("pooled LSOA counts (LSOA 2001 counts for 2004, LSOA 2011 for 2019); unweighted mean of "
                     "districts for 2025 (no LSOA counts for that period)")


def test_code_not_in_the_counts_table_falls_back_for_that_period():
    raw = synthetic().reset_index(drop=True)
    raw.loc[(raw["code"] == "E06000004") & (raw["period"] == "2019"), "code"] = "E06000999"
    t = parse_target(share_target())
    out, _ = measure_progress(raw, t, {"E06000001", "E06000002"}, indicator_meta(SHARE))
    assert out["method"].tolist() == ["pooled LSOA 2001 counts", "unweighted mean of districts"]
    assert "E06000999" in out["method_note"].iloc[1] and "E06000999" in method_in_words(out)


def test_scores_and_extents_are_unweighted_and_named():
    assert indicator_meta("imd_extent").pool_by == "" and indicator_meta("imd_score").pool_by == ""
    series = synthetic()
    series["indicator"] = "imd_extent"
    t = replace(parse_target(share_target()), indicator="imd_extent")
    out, _ = measure_progress(series, t, {"E06000001", "E06000002"}, indicator_meta("imd_extent"))
    assert method_in_words(out) == "unweighted mean of districts"
    assert indicator_meta("imd_extent").rank_caveat.startswith("Ranks are relative")


@needs_history
def test_nrf88_pooled_against_unweighted_on_the_imd_history():
    t = next(t for t in presets().values() if t.group == "nrf88")
    series = read_series(pd.read_csv(HISTORY, dtype=str))
    group = resolve_group(t.group, sorted(series["code"].unique()))
    assert len(group) == 84
    meta = indicator_meta(t.indicator)
    pooled, _ = measure_progress(series, t, group, meta)
    mean, _ = measure_progress(series, t, group, meta, pool=False)
    pooled, mean = pooled.set_index("period"), mean.set_index("period")
    # Pooled counts (share × LSOA count summed over the group / its LSOAs), on the corrected NRF list.
    assert pooled.loc["2004", "group_value"] * 100 == pytest.approx(21.824, abs=0.01)
    assert pooled.loc["2019", "group_value"] * 100 == pytest.approx(19.296, abs=0.01)
    assert pooled.loc["2004", "rest_value"] * 100 == pytest.approx(1.797, abs=0.01)
    assert pooled.loc["2019", "rest_value"] * 100 == pytest.approx(3.430, abs=0.01)
    narrowing = (pooled.loc["2004", "gap"] - pooled.loc["2019", "gap"]) * 100
    assert narrowing == pytest.approx(4.161, abs=0.01)
    # The unweighted mean of districts that was used before.
    assert mean.loc["2004", "group_value"] * 100 == pytest.approx(21.096, abs=0.01)
    assert mean.loc["2019", "group_value"] * 100 == pytest.approx(18.799, abs=0.01)
    assert (mean.loc["2004", "gap"] - mean.loc["2019", "gap"]) * 100 == pytest.approx(3.813, abs=0.01)
    # 2015 and 2019 shares are whole LSOAs over 2011 counts, so the pooled rest + group is England's 10%.
    c = lsoa_counts()["lsoa11_count"]
    at = series[(series["indicator"] == t.indicator) & (series["period"] == "2019")]
    assert (at["value"] * at["code"].map(c)).sum() == pytest.approx(3284)
    assert method_in_words(pooled.reset_index()) == (
        "pooled LSOA counts (LSOA 2001 counts for 2004–2010, LSOA 2011 for 2015–2019)")


@needs_history
def test_cli_prints_method_and_caveat(tmp_path):
    def run(*extra):
        return subprocess.run([sys.executable, "-m", "geo", "progress", "--target", str(NRF_TARGET), "--series",
                               str(HISTORY), "--out", str(tmp_path / "p.csv"), *extra],
                              cwd=REPO, capture_output=True, text=True)

    pooled = run()
    assert pooled.returncode == 0, pooled.stderr
    assert ("Method: pooled LSOA counts (LSOA 2001 counts for 2004–2010, LSOA 2011 for "
            "2015–2019).") in pooled.stdout
    assert "Ranks are relative: the share in the most deprived 10% can only fall somewhere if it rises elsewhere." \
        in pooled.stdout
    assert "group 19.3%, rest 3.4%" in pooled.stdout
    mean = run("--unweighted")
    assert mean.returncode == 0, mean.stderr
    assert "Method: unweighted mean of districts." in mean.stdout
    assert "group 18.8%, rest 3.1%" in mean.stdout
