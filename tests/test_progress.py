"""Target progress: series read long or wide, suppression kept, group vs rest, status by a stated rule, headlines."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from geo.errors import AtlasError
from geo.derive.progress import (
    area_progress,
    headline,
    indicator_meta,
    measure_progress,
    parse_target,
    presets,
    read_series,
    resolve_group,
)
from tests.cases import REPO, SHARED

HISTORY = SHARED / "indicators" / "imd_lad21_2004_2019.csv"
needs_shared = pytest.mark.skipif(not HISTORY.is_file(), reason=f"real open data not at {SHARED}")


def long_series() -> pd.DataFrame:
    rows = []
    for code, base in (("E01000001", 60.0), ("E01000002", 62.0), ("E01000003", 75.0), ("E01000004", 76.0)):
        for i, period in enumerate(("2001", "2004", "2007", "2010")):
            lift = 2.0 * i if code in ("E01000001", "E01000002") else 0.5 * i
            rows.append({"code": code, "period": period, "indicator": "employment_rate",
                         "value": str(base + lift), "numerator": str((base + lift) * 10), "denominator": "1,000"})
    return pd.DataFrame(rows)


def target(**changes) -> str:
    fields = {"name": "'t'", "indicator": "'employment_rate'", "group": "'codes:E01000001,E01000002'",
              "baseline": "'2001'", "by": "'2010'", "amount": "3.0", **changes}
    return "\n".join(f"{k} = {v}" for k, v in fields.items())


def test_long_series_with_counts_and_suppression():
    raw = long_series()
    raw.loc[0, "value"] = "[c]"
    series = read_series(raw)
    row = series[(series["code"] == "E01000001") & (series["period"] == "2001")].iloc[0]
    assert row["suppressed"] and pd.isna(row["value"])
    assert series["denominator"].max() == 1000


def test_wide_series_years_in_headers():
    wide = pd.DataFrame({"code": ["E06000001"], "name": ["Hartlepool"], "imd2004_score": ["37.6"], "imd2019_score": ["*"]})
    series = read_series(wide)
    assert list(series["period"]) == ["2004", "2019"] and set(series["indicator"]) == {"imd_score"}
    assert series["suppressed"].tolist() == [False, True]


def test_group_gap_trajectory_and_status():
    series = read_series(long_series())
    t = parse_target(target())
    out, words = measure_progress(series, t, {"E01000001", "E01000002"})
    out = out.set_index("period")
    assert out.loc["2001", "group_value"] == pytest.approx(61.0) and out.loc["2001", "rest_value"] == pytest.approx(75.5)
    assert out.loc["2001", "gap"] == pytest.approx(14.5) and out.loc["2010", "gap"] == pytest.approx(10.0)
    assert out.loc["2004", "trajectory"] == pytest.approx(14.5 - 3.0 / 3)
    assert out["status"].tolist() == ["baseline", "on track", "achieved", "achieved"]
    assert (out["method"] == "pooled counts").all() and "straight line" in words


def test_level_target_and_off_track():
    t = parse_target(target(kind="'level'", value="80.0"))
    out, words = measure_progress(read_series(long_series()), t, {"E01000001", "E01000002"})
    assert out["status"].tolist() == ["baseline", "off track", "off track", "off track"]
    assert "at least 80" in words


def test_areas_rated_small_numbers_flagged():
    raw = long_series()
    raw.loc[raw["code"] == "E01000002", "denominator"] = "50"
    series = read_series(raw)
    t = parse_target(target())
    progress, _ = measure_progress(series, t, {"E01000001", "E01000002"})
    areas = area_progress(series, t, {"E01000001", "E01000002"}, progress)
    assert set(areas.loc[areas["code"] == "E01000002", "status"]) <= {"baseline", "small numbers — not rated"}


@pytest.mark.parametrize("changes,words", [
    ({"by": "'1999'"}, "not after the baseline"), ({"kind": "'up'"}, "not understood"),
    ({"kind": "'level'"}, "needs a value"), ({"indicator": "'joy'"}, "no indicator"),
])
def test_bad_targets_say_what_to_do(changes, words):
    with pytest.raises(AtlasError, match=words):
        parse_target(target(**changes), ("employment_rate",))


def test_groups():
    codes = ["E01000001", "E01000002", "E01000003"]
    assert resolve_group("codes:e01000001, E01000002", codes) == {"E01000001", "E01000002"}
    assert resolve_group("decile:1-2", codes, {"E01000001": 1, "E01000002": 3}) == {"E01000001"}
    with pytest.raises(AtlasError, match="not in the series"):
        resolve_group("codes:E01999999", codes)
    with pytest.raises(AtlasError, match="no rule"):
        resolve_group("rule", codes)


@needs_shared
def test_nrf_target_on_the_imd_history_and_headlines(tmp_path):
    t = next(t for t in presets().values() if t.group == "nrf88")
    series = read_series(pd.read_csv(HISTORY, dtype=str))
    group = resolve_group(t.group, sorted(series["code"].unique()))
    assert len(group) == 84  # the 88 NRF authorities on 2021 districts
    progress, _ = measure_progress(series, t, group)
    assert progress["gap"].iloc[0] > progress["gap"].iloc[-1] > 0  # narrower in 2019, still behind
    areas = area_progress(series, t, group, progress)
    meta = indicator_meta(t.indicator)
    text = headline("Hartlepool", t, meta, areas[areas["code"] == "E06000001"])
    assert text.startswith("Hartlepool: 36.2% of its neighbourhoods were in England's most deprived 10% in 2019")
    assert "narrowed by 4.3 points" in text  # against the unweighted mean of the rest (no meta: no pooling)
    run = subprocess.run([sys.executable, "-m", "geo", "progress", "--target",
                          str(REPO / "geo" / "reference" / "targets" / "1_nrf_share_most_deprived.toml"),
                          "--series", str(HISTORY), "--out", str(tmp_path / "p.csv"), "--headline", "E08000012"],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Liverpool: 48.7%" in run.stdout
    out = pd.read_csv(tmp_path / "p.csv")
    assert list(out.columns) == ["code", "name", "period", "value", "in_group", "group_value", "rest_value", "gap",
                                 "status"]
    assert len(out) == 309 * 5


def test_cli_on_the_demo_floor_target_series(tmp_path):
    run = subprocess.run([sys.executable, "-m", "geo", "progress", "--target",
                          str(REPO / "geo" / "reference" / "targets" / "2_demo_employment_gap.toml"),
                          "--series", str(REPO / "indicators" / "demo_floor_targets.csv"), "--out", str(tmp_path / "p.csv"),
                          "--headline", "E08000905"], cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "gap 5.3 points — achieved" in run.stdout and "Wexley Fold: Employment rate" in run.stdout
    out = pd.read_csv(tmp_path / "p.csv")
    assert len(out) == 12 * 10 and out["in_group"].sum() == 30


def test_cli_bad_target_is_a_message(tmp_path):
    bad = tmp_path / "t.toml"
    bad.write_text(target(indicator="'happiness'"))
    run = subprocess.run([sys.executable, "-m", "geo", "progress", "--target", str(bad), "--series",
                          str(REPO / "indicators" / "demo_floor_targets.csv"), "--out", str(tmp_path / "p.csv")],
                         cwd=REPO, capture_output=True, text=True)
    assert run.returncode == 2 and "no indicator 'happiness'" in run.stderr and "Traceback" not in run.stderr


def test_one_code_for_two_areas_is_left_out_and_said():
    raw = pd.DataFrame({"code": ["E06000062", "E06000062", "E06000001", "E06000001"],
                        "name": ["Buckinghamshire", "West Northamptonshire", "Hartlepool", "Hartlepool"],
                        "indicator": ["fe"] * 4, "period": ["2020", "2020", "2020", "2020"],
                        "value": ["5210", "5540", "7", "7"]})
    series = read_series(raw)
    assert series["code"].tolist() == ["E06000001"]
    notes = " ".join(series.attrs["notes"])
    assert "Left out 2 rows" in notes and "E06000062" in notes and "exact repeats" in notes


@needs_shared
def test_compare_with_the_rest_of_a_region():
    t = next(t for t in presets().values() if t.group == "nrf88")
    series = read_series(pd.read_csv(HISTORY, dtype=str))
    assert series["region"].notna().all()
    group = resolve_group(t.group, sorted(series["code"].unique()))
    north_east = parse_target(target(indicator="'imd_proportion_top10pc'", group="'nrf88'", baseline="'2004'",
                                     by="'2019'", compare="'region:North East'"))
    progress, _ = measure_progress(series, north_east, group)
    england, _ = measure_progress(series, t, group)
    assert progress["rest_value"].iloc[-1] != england["rest_value"].iloc[-1]
    text = headline("Hartlepool", north_east, indicator_meta(t.indicator),
                    area_progress(series, north_east, group, progress).query("code == 'E06000001'"))
    assert "gap to the rest of North East" in text
    with pytest.raises(AtlasError, match="No area of the series is in region"):
        measure_progress(series, parse_target(target(indicator="'imd_score'", baseline="'2004'", by="'2019'",
                                                     compare="'region:Atlantis'")), {"E06000001"})


def test_the_progress_table_and_chart_share_the_headlines_units():
    """#17: the trend chart's points and the table are in the units the headlines use (36.2%, 2.0 points), never
    fractions beside percentages, and the chart gets only finite values (no Vega "Infinite extent")."""
    from geo.derive.progress import IndicatorMeta
    from geo.views.progress import summary_table, trend_frame, unit_words

    raw = long_series()
    raw["value"] = (raw["value"].astype(float) / 100).astype(str)  # shares, shown ×100 as %
    raw["numerator"] = ""
    raw["denominator"] = ""
    meta = IndicatorMeta("employment_rate", "Employment rate", "%", 100.0)
    t = parse_target(target(amount="0.02"))
    summary, _ = measure_progress(read_series(raw), t, {"E01000001", "E01000002"}, meta)
    table = summary_table(summary, t, meta)
    assert table.loc[0, "Group"] == "61.0%" and table.loc[0, "Gap"] == "14.5 points"
    assert "0.145" not in table.to_string() and "Group value" not in table.columns
    assert unit_words(meta) == "percentage points"
    points = trend_frame(summary, t, meta)
    assert points["value"].between(50, 100).all() and set(points["line"]) == {"Group", t.comparison, "Target path"}
    summary.loc[summary["period"] == "2007", ["group_value", "rest_value", "trajectory"]] = float("nan")
    assert "2007" not in set(trend_frame(summary, t, meta)["period"])
    assert trend_frame(summary.iloc[0:0], t, meta).empty


def test_the_status_legend_is_in_words():
    """#17: "Class 4 of 5, on track" → "On track: 3 of the 5 areas shown"."""
    from geo.present.legend_text import sentence_legend
    from geo.views.progress import STATUS_ORDER, STATUS_WORDS
    from geo.present.classify import Classification
    import numpy as np

    nan = [float("nan")] * 5
    c = Classification(np.array([3, 3, 3, 4, 0]), [STATUS_WORDS[s] for s in STATUS_ORDER], nan, nan, [1, 0, 0, 3, 1],
                       ["#fff"] * 5, "categories", 0)
    lines = sentence_legend(c)
    assert lines[0] == "Target achieved: 1 of the 5 areas shown" and "On track: 3 of the 5 areas shown" in lines
    assert not any("Class" in line for line in lines)
