"""The committed illustrative demo pack is reproducible and internally consistent."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
import shapely
from shapely.geometry import shape

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "boundaries" / "make_demo_pack.py"
N_NATIONAL = 32844
DECILE = "Decile (where 1 is most deprived 10% of LSOAs)"
RANK = "Rank (where 1 is most deprived)"


def _load_script():
    spec = importlib.util.spec_from_file_location("make_demo_pack", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _features(name: str) -> list[dict]:
    return json.loads((ROOT / "boundaries" / name).read_text(encoding="utf-8"))["features"]


@pytest.fixture(scope="module")
def lsoa() -> list[dict]:
    return _features("demo_lsoa.geojson")


@pytest.fixture(scope="module")
def districts() -> list[dict]:
    return _features("demo_districts.geojson")


@pytest.fixture(scope="module")
def iod() -> pd.DataFrame:
    return pd.read_csv(ROOT / "indicators" / "demo_iod_file7.csv", encoding="utf-8-sig", dtype={"LSOA code (2011)": str})


def test_regenerates_byte_identical(tmp_path: Path) -> None:
    paths = _load_script().build_demo_pack(tmp_path)
    assert len(paths) == 3
    for path in paths.values():
        committed = ROOT / path.relative_to(tmp_path)
        assert path.read_bytes() == committed.read_bytes(), f"{committed} is stale: rerun {SCRIPT.name}"


def test_csv_is_utf8_with_bom_in_file7_layout(iod: pd.DataFrame) -> None:
    raw = (ROOT / "indicators" / "demo_iod_file7.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert list(iod.columns[:4]) == ["LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
                                     "Local Authority District name (2019)"]
    assert iod.columns[4] == "Index of Multiple Deprivation (IMD) Score"
    assert "Income Score (rate)" in iod.columns and "Employment Score (rate)" in iod.columns
    assert len(iod.columns) == 4 + 8 * 3 + 5


def test_codes_match_between_csv_and_geojson(lsoa: list[dict], districts: list[dict], iod: pd.DataFrame) -> None:
    geo_codes = [f["properties"]["LSOA11CD"] for f in lsoa]
    assert len(set(geo_codes)) == len(geo_codes) == len(iod)
    assert set(geo_codes) == set(iod["LSOA code (2011)"])
    assert 500 <= len(geo_codes) <= 700
    assert all(len(c) == 9 and c.startswith("E019") for c in geo_codes)
    lad_codes = {f["properties"]["LAD19CD"] for f in districts}
    assert lad_codes == {f["properties"]["LAD19CD"] for f in lsoa}
    assert lad_codes == set(iod["Local Authority District code (2019)"])
    assert any("'" in f["properties"]["LAD19NM"] for f in districts)


def test_geometries_valid_single_polygons(lsoa: list[dict], districts: list[dict]) -> None:
    for f in lsoa + districts:
        geom = shape(f["geometry"])
        assert geom.geom_type == "Polygon" and geom.is_valid and not geom.is_empty, f["properties"]


def test_districts_are_dissolve_of_lsoas(lsoa: list[dict], districts: list[dict]) -> None:
    lsoa_geoms = [shape(f["geometry"]) for f in lsoa]
    union = shapely.union_all(lsoa_geoms)
    assert union.geom_type == "Polygon" and not union.interiors  # no gaps
    assert abs(sum(g.area for g in lsoa_geoms) - union.area) < 1e-9 * union.area  # no overlaps
    for d in districts:
        code = d["properties"]["LAD19CD"]
        dissolved = shapely.union_all([g for g, f in zip(lsoa_geoms, lsoa) if f["properties"]["LAD19CD"] == code])
        district = shape(d["geometry"])
        assert district.symmetric_difference(dissolved).area < 1e-9 * district.area, code


def test_ranks_and_deciles(iod: pd.DataFrame) -> None:
    ranks = [c for c in iod.columns if c.endswith(RANK)]
    assert len(ranks) == 8
    for rank_col in ranks:
        rank = iod[rank_col]
        decile = iod[rank_col.replace(RANK, DECILE)]
        assert rank.dtype.kind == "i" and rank.between(1, N_NATIONAL).all()
        assert (decile == (rank * 10 + N_NATIONAL - 1) // N_NATIONAL).all()  # ceil(rank / 3284.4)
        stem = rank_col.replace(RANK, "Score")
        score_col = stem if stem in iod.columns else stem + " (rate)"
        by_score = iod.sort_values(score_col, ascending=False, kind="stable")
        assert by_score[rank_col].is_monotonic_increasing  # rank 1 = highest score (ties share a rank)
    imd = iod["Index of Multiple Deprivation (IMD) " + DECILE]
    per_district = (imd == 1).groupby(iod["Local Authority District code (2019)"]).sum()
    assert per_district.max() >= 10 and per_district.min() == 0


def test_population_components_add_up(iod: pd.DataFrame) -> None:
    total = iod["Total population: mid 2015 (excluding prisoners)"]
    parts = (iod["Dependent Children aged 0-15: mid 2015 (excluding prisoners)"]
             + iod["Population aged 16-59: mid 2015 (excluding prisoners)"]
             + iod["Older population aged 60 and over: mid 2015 (excluding prisoners)"])
    working = iod["Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)"]
    assert (parts == total).all()
    assert total.between(1000, 3000).all() and (working <= total).all() and (working > 0).all()
