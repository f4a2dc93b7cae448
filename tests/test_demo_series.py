"""The committed illustrative floor-target series is reproducible and internally consistent."""
from __future__ import annotations

import csv
import importlib.util
import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "indicators" / "make_demo_series.py"
CSV = ROOT / "indicators" / "demo_floor_targets.csv"
TOML = ROOT / "indicators" / "demo_floor_targets.toml"
COLUMNS = ["code", "name", "indicator", "period", "value", "numerator", "denominator", "lower", "upper"]
YEARS = [str(y) for y in range(2001, 2011)]
SURVEY_YEARS = ["2003", "2006", "2008"]
MARKERS = {"[c]", "*", ".."}
SCALE = {"employment_rate": 100, "crime_rate": 1000, "premature_mortality": 100000, "gcse_5ac": 100}
DIRECTION = {"employment_rate": True, "crime_rate": False, "premature_mortality": False, "gcse_5ac": True,
             "non_decent_homes": False, "satisfied_with_area": True}


def _load_script():
    spec = importlib.util.spec_from_file_location("make_demo_series", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def rows() -> list[dict[str, str]]:
    with CSV.open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


@pytest.fixture(scope="module")
def meta() -> list[dict]:
    return tomllib.loads(TOML.read_text(encoding="utf-8"))["indicator"]


@pytest.fixture(scope="module")
def district_names() -> dict[str, str]:
    features = json.loads((ROOT / "boundaries" / "demo_districts.geojson").read_text(encoding="utf-8"))["features"]
    return {f["properties"]["LAD19CD"]: f["properties"]["LAD19NM"] for f in features}


@pytest.fixture(scope="module")
def deprivation() -> pd.Series:
    """Population-weighted mean LSOA IMD score per demo district."""
    iod = pd.read_csv(ROOT / "indicators" / "demo_iod_file7.csv", encoding="utf-8-sig")
    pop = iod["Total population: mid 2015 (excluding prisoners)"]
    weighted = (iod["Index of Multiple Deprivation (IMD) Score"] * pop).groupby(iod["Local Authority District code (2019)"])
    return (weighted.sum() / pop.groupby(iod["Local Authority District code (2019)"]).sum()).sort_values()


def test_regenerates_byte_identical(tmp_path: Path) -> None:
    paths = _load_script().build_demo_series(tmp_path)
    assert len(paths) == 2
    for path in paths.values():
        committed = ROOT / path.relative_to(tmp_path)
        assert path.read_bytes() == committed.read_bytes(), f"{committed} is stale: rerun {SCRIPT.name}"


def test_csv_is_plain_utf8_long_form_sorted(rows: list[dict[str, str]]) -> None:
    raw = CSV.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and b"\r" not in raw
    raw.decode("utf-8")
    keys = [(r["indicator"], r["code"], r["period"]) for r in rows]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys), "a (code, indicator, period) appears twice"


def test_codes_and_names_are_demo_districts(rows: list[dict[str, str]], district_names: dict[str, str]) -> None:
    assert {r["code"] for r in rows} == set(district_names)
    assert all(r["name"] == district_names[r["code"]] for r in rows)


def test_periods(rows: list[dict[str, str]]) -> None:
    by_ind: dict[str, dict[str, set[str]]] = {}
    for r in rows:
        assert len(r["period"]) == 4 and r["period"].isdigit()
        by_ind.setdefault(r["indicator"], {}).setdefault(r["code"], set()).add(r["period"])
    assert set(by_ind) == set(DIRECTION)
    for ind, per_code in by_ind.items():
        expected = set(SURVEY_YEARS if ind == "satisfied_with_area" else YEARS)
        assert all(p == expected for p in per_code.values()), ind
    assert len(rows) == 5 * 12 * 10 + 12 * 3


def test_values_match_counts_and_bounds(rows: list[dict[str, str]], meta: list[dict]) -> None:
    info = {m["id"]: m for m in meta}
    for r in rows:
        m = info[r["indicator"]]
        if r["value"] in MARKERS:
            continue
        value = float(r["value"])
        assert r["value"] == f"{value:.1f}"
        if "numerator" in m["kinds"]:
            num, den = int(r["numerator"]), int(r["denominator"])
            assert 0 <= num <= den or r["indicator"] == "crime_rate", r
            assert abs(value - SCALE[r["indicator"]] * num / den) <= 0.05 + 1e-9, r
        else:
            assert r["numerator"] == r["denominator"] == "", r
        if "lower" in m["kinds"]:
            assert float(r["lower"]) <= value <= float(r["upper"]), r
        else:
            assert r["lower"] == r["upper"] == "", r
        if m["unit"] == "%":
            assert 0 <= value <= 100, r
    gcse = [int(r["denominator"]) for r in rows if r["indicator"] == "gcse_5ac" and r["denominator"]]
    assert 300 <= min(gcse) and max(gcse) <= 2000


def test_suppressed_rows_use_markers_and_empty_counts(rows: list[dict[str, str]]) -> None:
    suppressed = [r for r in rows if not r["value"].replace(".", "", 1).isdigit()]
    assert 3 <= len(suppressed) <= 6
    for r in suppressed:
        assert r["value"] in MARKERS, r
        assert r["numerator"] == r["denominator"] == r["lower"] == r["upper"] == "", r
    assert {r["value"] for r in suppressed} == MARKERS


def test_deprived_districts_start_worse_and_employment_gap_narrows(rows: list[dict[str, str]],
                                                                   deprivation: pd.Series) -> None:
    third = len(deprivation) // 3
    least, most = set(deprivation.index[:third]), set(deprivation.index[-third:])

    def mean(ind: str, period: str, codes: set[str]) -> float:
        vals = [float(r["value"]) for r in rows
                if r["indicator"] == ind and r["period"] == period and r["code"] in codes and r["value"] not in MARKERS]
        return sum(vals) / len(vals)

    gap = {p: mean("employment_rate", p, least) - mean("employment_rate", p, most) for p in ("2001", "2010")}
    assert gap["2001"] > 0, "the most deprived third should start with a lower employment rate"
    assert 0 < gap["2010"] < gap["2001"], gap
    for ind, higher_is_better in DIRECTION.items():
        p = SURVEY_YEARS[0] if ind == "satisfied_with_area" else "2001"
        worse = mean(ind, p, most) < mean(ind, p, least) if higher_is_better else mean(ind, p, most) > mean(ind, p, least)
        assert worse, ind


def test_csv_and_toml_list_the_same_indicators(rows: list[dict[str, str]], meta: list[dict]) -> None:
    ids = [m["id"] for m in meta]
    assert len(ids) == len(set(ids)) == 6
    assert set(ids) == {r["indicator"] for r in rows}
    assert {m["theme"] for m in meta} == {"worklessness", "crime", "health", "skills", "housing", "liveability"}
    for m in meta:
        assert m["higher_is_worse"] is not DIRECTION[m["id"]]  # DIRECTION: is higher better?
        assert m["kinds"][0] == "value" and set(m["kinds"]) <= {"value", "numerator", "denominator", "lower", "upper"}
        assert m["label"] and m["unit"] and len(m["description"]) > 20
        assert "not real statistics" in m["source"]
