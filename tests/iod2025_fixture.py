"""Files shaped like the official IoD sources, built from the shared open data, for end-to-end pack tests.

- ``iod2019_file7_csv()``: a File 7-shaped CSV (official headers, UTF-8 with BOM) of the REAL IoD2019
  values (from ``indicators/iod2019/iod2019_lsoa11_all_scores.csv``).
- ``ons_lsoa11()`` / ``ons_lad19()``: the real 2011 LSOA and 2019 district boundaries under the ONS
  FeatureServer field names (``LSOA11CD``/``LSOA11NM``, ``LAD19CD``/``LAD19NM``).
- ``iod2025_fixture()``: a SYNTHETIC IoD2025-shaped release. There is no IoD2025 data and no LSOA 2021
  boundary file in the shared data, so this is TEST DATA SHAPED LIKE THE RELEASE, NOT REAL VALUES:
  the 33,755 English 2021 LSOAs are made from the 2011 polygons with the real ONS 2011→2021 lookup
  (U kept, M merged, S split into vertical strips, X best effort), the 296 districts of 2024 are the
  2021 districts with the 2023 mergers and 2024 recodes applied, and the File 7 values are the 2011
  parents' IoD2019 values with a seeded perturbation, ranks and deciles recomputed. Never present
  these numbers as IoD2025 results.
- ``serve_iod2019(mirror)`` / ``serve_iod2025(mirror)``: register all of a release's sources on a
  ``tests.mirror.Mirror`` at the paths of ``geo/reference/releases.toml``.

Everything is deterministic (fixed seed) and cached per process (``lru_cache``); callers get copies.
Raises FileNotFoundError when the shared data is absent (tests skip on ``shared_data_available()``).
"""

from __future__ import annotations

import functools
import tomllib
from urllib.parse import urlsplit

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from tests.cases import REPO, SHARED

ALL_SCORES = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"
LSOA11_GPKG = SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"
LAD19_GPKG = SHARED / "boundaries" / "lad19_england_buc.gpkg"
LAD21_GPKG = SHARED / "boundaries" / "lad21_england_buc.gpkg"
LOOKUP_11_21 = SHARED / "lookups" / "lookup_lsoa11_lsoa21_ltla22.csv"
CODE_CHANGES = REPO / "geo" / "reference" / "district_code_changes.csv"
RELEASES = REPO / "geo" / "reference" / "releases.toml"

SEED = 2025
BOM = b"\xef\xbb\xbf"

# The eight measures (IMD and the seven domains): snake_case stem → File 7 header stem.
MEASURES = {
    "imd": ("Index of Multiple Deprivation (IMD) Score", "Index of Multiple Deprivation (IMD) Rank",
            "Index of Multiple Deprivation (IMD) Decile"),
    "income": ("Income Score (rate)", "Income Rank", "Income Decile"),
    "employment": ("Employment Score (rate)", "Employment Rank", "Employment Decile"),
    "education": ("Education, Skills and Training Score", "Education, Skills and Training Rank",
                  "Education, Skills and Training Decile"),
    "health": ("Health Deprivation and Disability Score", "Health Deprivation and Disability Rank",
               "Health Deprivation and Disability Decile"),
    "crime": ("Crime Score", "Crime Rank", "Crime Decile"),
    "barriers": ("Barriers to Housing and Services Score", "Barriers to Housing and Services Rank",
                 "Barriers to Housing and Services Decile"),
    "living_env": ("Living Environment Score", "Living Environment Rank", "Living Environment Decile"),
}
RANK_SUFFIX = " (where 1 is most deprived)"
DECILE_SUFFIX = " (where 1 is most deprived 10% of LSOAs)"


def _measure_headers() -> dict[str, str]:
    out = {}
    for stem, (score, rank, decile) in MEASURES.items():
        out[f"{stem}_score"] = score
        out[f"{stem}_rank"] = rank + RANK_SUFFIX
        out[f"{stem}_decile"] = decile + DECILE_SUFFIX
    return out


POP_STEMS = ["pop_total", "pop_0_15", "pop_16_59", "pop_60plus", "pop_working_age"]

# Every column of IoD2019 File 7 that the all-scores table can fill, in File 7 order (the headers of
# indicators/demo_iod_file7.csv). The supplementary indices (IDACI, IDAOPI) and sub-domains of the
# real File 7 are not included.
SNAKE_TO_FILE7 = {
    "lsoa11cd": "LSOA code (2011)", "lsoa11nm": "LSOA name (2011)",
    "lad19cd": "Local Authority District code (2019)", "lad19nm": "Local Authority District name (2019)",
    **_measure_headers(),
    "pop_total_mid2015": "Total population: mid 2015 (excluding prisoners)",
    "pop_0_15_mid2015": "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
    "pop_16_59_mid2015": "Population aged 16-59: mid 2015 (excluding prisoners)",
    "pop_60plus_mid2015": "Older population aged 60 and over: mid 2015 (excluding prisoners)",
    "pop_working_age_mid2015": "Working age population 18-59/64: for use with Employment Deprivation Domain "
                               "(excluding prisoners)",
}

# IoD2025-shaped headers: 2021 LSOAs, 2024 districts, the same measure headers, mid-2022 denominators.
# The code/name and total population headers follow geo/reference/releases.toml; the other four
# denominator headers are a guess at the pattern (only "mid 2022" is known).
SNAKE_TO_FILE7_2025 = {
    "lsoa21cd": "LSOA code (2021)", "lsoa21nm": "LSOA name (2021)",
    "lad24cd": "Local Authority District code (2024)", "lad24nm": "Local Authority District name (2024)",
    **_measure_headers(),
    "pop_total": "Total population: mid 2022",
    "pop_0_15": "Dependent Children aged 0-15: mid 2022",
    "pop_16_59": "Population aged 16-59: mid 2022",
    "pop_60plus": "Older population aged 60 and over: mid 2022",
    "pop_working_age": "Working age population 18-66 (for use with Employment Deprivation Domain): mid 2022",
}

EXPECTED = {"lsoa11": 32844, "lad19": 317, "lsoa21": 33755, "lad24": 296}


def shared_data_available() -> bool:
    return all(p.exists() for p in (ALL_SCORES, LSOA11_GPKG, LAD19_GPKG, LAD21_GPKG, LOOKUP_11_21))


def _csv_bytes(df: pd.DataFrame) -> bytes:
    """UTF-8 with BOM and CRLF-free lines, like the GOV.UK File 7 downloads."""
    return BOM + df.to_csv(index=False, lineterminator="\n").encode("utf-8")


# --------------------------------------------------------------------------------------------
# IoD2019 (real values)


@functools.lru_cache(maxsize=1)
def iod2019_file7_csv() -> bytes:
    """A File 7-shaped CSV of the real IoD2019 values: 32,844 rows, 33 columns, UTF-8 with BOM."""
    df = pd.read_csv(ALL_SCORES, dtype=str, keep_default_na=False)
    return _csv_bytes(df[list(SNAKE_TO_FILE7)].rename(columns=SNAKE_TO_FILE7))


@functools.lru_cache(maxsize=1)
def _lsoa11() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(LSOA11_GPKG, engine="pyogrio")
    gdf = gdf.rename(columns={"lsoa11_code": "LSOA11CD", "lsoa11_name": "LSOA11NM"})
    return gdf[["LSOA11CD", "LSOA11NM", "geometry"]]


def ons_lsoa11() -> gpd.GeoDataFrame:
    """The real 2011 LSOAs (32,844, BSC, EPSG:4326) with the ONS field names LSOA11CD, LSOA11NM.

    One polygon is invalid, as published.
    """
    return _lsoa11().copy()


@functools.lru_cache(maxsize=1)
def _lad19() -> gpd.GeoDataFrame:
    gdf = gpd.read_file(LAD19_GPKG, engine="pyogrio")
    gdf = gdf.rename(columns={"ltla19_code": "LAD19CD", "ltla19_name": "LAD19NM"})
    return gdf[["LAD19CD", "LAD19NM", "geometry"]]


def ons_lad19() -> gpd.GeoDataFrame:
    """The real December 2019 districts of England (317, BUC, EPSG:4326) with the ONS field names LAD19CD, LAD19NM."""
    return _lad19().copy()


# --------------------------------------------------------------------------------------------
# IoD2025 (SYNTHETIC)


def _district_changes() -> tuple[dict[str, str], dict[str, str]]:
    """old code → newest code (following chains), and new code → name, from district_code_changes.csv."""
    ch = pd.read_csv(CODE_CHANGES, dtype=str)
    step = dict(zip(ch["old_code"], ch["new_code"]))
    names = dict(zip(ch["new_code"], ch["new_name"]))
    final = {}
    for old in step:
        code, seen = old, set()
        while code in step and code not in seen:
            seen.add(code)
            code = step[code]
        final[old] = code
    return final, names


def _strip(geom, j: int, k: int):
    """Part j (0-based) of k of ``geom``: its intersection with the j-th of k equal-width vertical strips of its bounds.

    A strip that misses the polygon (a gap in a multipolygon) falls back to equal-area strips by
    cumulative area along x, and in the last resort to a tiny square at a point on the surface.
    """
    if k == 1:
        return geom
    minx, miny, maxx, maxy = geom.bounds
    w = (maxx - minx) / k
    lo, hi = minx + j * w, (minx + (j + 1) * w) if j < k - 1 else maxx + 1e-9
    piece = shapely.intersection(geom, shapely.box(lo, miny - 1e-9, hi, maxy + 1e-9))
    piece = _polygonal(piece)
    if piece is not None:
        return piece
    # equal-area cuts along x
    xs = np.linspace(minx, maxx, 201)
    areas = np.array([shapely.intersection(geom, shapely.box(minx - 1e-9, miny - 1e-9, x, maxy + 1e-9)).area for x in xs])
    total = areas[-1] or 1.0
    lo = xs[np.searchsorted(areas, total * j / k)]
    hi = xs[min(len(xs) - 1, np.searchsorted(areas, total * (j + 1) / k))] + 1e-9
    piece = _polygonal(shapely.intersection(geom, shapely.box(lo, miny - 1e-9, hi, maxy + 1e-9)))
    if piece is not None:
        return piece
    p = shapely.point_on_surface(geom)
    return shapely.box(p.x - 1e-5 * (j + 1), p.y - 1e-5, p.x + 1e-5 * (j + 1), p.y + 1e-5)


def _polygonal(geom):
    """The polygonal part of geom as a (Multi)Polygon, or None if it has no area."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom if geom.area > 0 else None
    polys = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon") and g.area > 0]
    if not polys:
        return None
    return shapely.union_all(polys)


def _lookup_england() -> pd.DataFrame:
    lk = pd.read_csv(LOOKUP_11_21, dtype=str)
    lk = lk[lk["lsoa21_code"].str.startswith("E")].reset_index(drop=True)
    return lk


def _build_lsoa21(lk: pd.DataFrame, lsoa11: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    parents = lsoa11.set_index("LSOA11CD").geometry
    pairs = lk[["lsoa11_code", "lsoa21_code"]].drop_duplicates()
    children = pairs.groupby("lsoa11_code")["lsoa21_code"].apply(sorted).to_dict()
    n_parents = pairs.groupby("lsoa21_code")["lsoa11_code"].nunique()
    valid_cache: dict[str, object] = {}

    def parent_geom(code: str, need_valid: bool):
        g = parents[code]
        if not need_valid:
            return g
        if code not in valid_cache:
            valid_cache[code] = g if g.is_valid else _polygonal(shapely.make_valid(g))
        return valid_cache[code]

    pieces: dict[str, list] = {}
    for p11, p21 in zip(pairs["lsoa11_code"], pairs["lsoa21_code"]):
        kids = children[p11]
        k = len(kids)
        if k == 1:
            piece = parent_geom(p11, need_valid=n_parents[p21] > 1)  # U keeps the published polygon as is
        else:
            piece = _strip(parent_geom(p11, need_valid=True), kids.index(p21), k)
        pieces.setdefault(p21, []).append(piece)
    codes = sorted(pieces)
    geoms = []
    for c in codes:
        ps = pieces[c]
        geoms.append(ps[0] if len(ps) == 1 else _polygonal(shapely.union_all(ps)))
    names = lk.drop_duplicates("lsoa21_code").set_index("lsoa21_code")["lsoa21_name"]
    out = gpd.GeoDataFrame({"LSOA21CD": codes, "LSOA21NM": names.reindex(codes).to_numpy()},
                           geometry=geoms, crs=lsoa11.crs)
    return out


def _build_lad24() -> tuple[gpd.GeoDataFrame, dict[str, str]]:
    final, new_names = _district_changes()
    lad21 = gpd.read_file(LAD21_GPKG, engine="pyogrio")
    lad21["LAD24CD"] = lad21["ltla21_code"].map(lambda c: final.get(c, c))
    lad21["LAD24NM"] = [new_names.get(new, old_name) if new != old else old_name
                        for new, old, old_name in zip(lad21["LAD24CD"], lad21["ltla21_code"], lad21["ltla21_name"])]
    merged = lad21[["LAD24CD", "LAD24NM", "geometry"]].dissolve(by="LAD24CD", aggfunc="first", as_index=False)
    merged = merged[["LAD24CD", "LAD24NM", "geometry"]].sort_values("LAD24CD").reset_index(drop=True)
    merged["geometry"] = [g if g.geom_type == "MultiPolygon" else shapely.MultiPolygon([g]) if g.geom_type == "Polygon"
                          else g for g in merged.geometry]
    return merged, final


def _perturbed_table(lk: pd.DataFrame, lad24_of: dict[str, str], lad24_names: dict[str, str]) -> pd.DataFrame:
    """One row per 2021 LSOA: parents' IoD2019 values, perturbed (seeded), ranks and deciles recomputed."""
    rng = np.random.default_rng(SEED)
    src = pd.read_csv(ALL_SCORES).set_index("lsoa11cd")
    pairs = lk[["lsoa11_code", "lsoa21_code"]].drop_duplicates()
    k = pairs.groupby("lsoa11_code")["lsoa21_code"].transform("nunique").to_numpy()
    rows = src.reindex(pairs["lsoa11_code"])
    score_cols = [f"{m}_score" for m in MEASURES]
    pop_cols = [f"{s}_mid2015" for s in POP_STEMS]
    piece = pd.DataFrame({"lsoa21cd": pairs["lsoa21_code"].to_numpy()})
    for c in score_cols:
        piece[c] = rows[c].to_numpy()
    for c in pop_cols:
        piece[c] = rows[c].to_numpy() / k  # a split parent shares its population among its children
    agg = piece.groupby("lsoa21cd").agg({**{c: "mean" for c in score_cols}, **{c: "sum" for c in pop_cols}})
    agg = agg.sort_index()
    n = len(agg)
    out = pd.DataFrame({"lsoa21cd": agg.index})
    names = lk.drop_duplicates("lsoa21_code").set_index("lsoa21_code")
    out["lsoa21nm"] = names["lsoa21_name"].reindex(agg.index).to_numpy()
    out["lad24cd"] = [lad24_of[c] for c in out["lsoa21cd"]]
    out["lad24nm"] = out["lad24cd"].map(lad24_names)
    for m in MEASURES:
        col = f"{m}_score"
        v = agg[col].to_numpy(dtype=float)
        if src[col].min() >= 0:  # rates and non-negative scores: multiplicative noise, kept >= 0
            v = np.clip(v * (1 + rng.normal(0, 0.03, n)), 0, None)
        else:  # z-score-like domains (health, crime): additive noise
            v = v + rng.normal(0, 0.03 * src[col].std(), n)
        v = np.round(v, 3)
        rank = pd.Series(v).rank(ascending=False, method="first").astype(int).to_numpy()  # 1 = highest score
        out[f"{m}_score"] = v
        out[f"{m}_rank"] = rank
        out[f"{m}_decile"] = (rank - 1) * 10 // n + 1
    growth = 1 + rng.normal(0.04, 0.03, n)  # mid-2015 → mid-2022, roughly
    parts = {s: np.round(agg[f"{s}_mid2015"].to_numpy() * growth).astype(int) for s in POP_STEMS}
    parts["pop_total"] = parts["pop_0_15"] + parts["pop_16_59"] + parts["pop_60plus"]
    for s in POP_STEMS:
        out[s] = parts[s]
    return out[list(SNAKE_TO_FILE7_2025)]


@functools.lru_cache(maxsize=1)
def _build_iod2025() -> dict:
    lk = _lookup_england()
    lsoa11 = _lsoa11()
    lsoa21 = _build_lsoa21(lk, lsoa11)
    lad24, final = _build_lad24()
    lad24_names = dict(zip(lad24["LAD24CD"], lad24["LAD24NM"]))
    by21 = lk.drop_duplicates("lsoa21_code").set_index("lsoa21_code")["ltla22_code"]
    lad24_of = {c: final.get(d, d) for c, d in by21.items()}
    table = _perturbed_table(lk, lad24_of, lad24_names)
    file7 = _csv_bytes(table.rename(columns=SNAKE_TO_FILE7_2025))
    lad22 = lk["ltla22_code"]
    lookup = pd.DataFrame({
        "LSOA11CD": lk["lsoa11_code"], "LSOA11NM": lk["lsoa11_name"],
        "LSOA21CD": lk["lsoa21_code"], "LSOA21NM": lk["lsoa21_name"],
        "CHGIND": lk["change_code"], "LAD22CD": lad22, "LAD22NM": lk["ltla22_name"],
    })
    return {"file7_csv": file7, "lsoa21": lsoa21, "lad24": lad24, "lookup": lookup, "table": table}


def iod2025_fixture() -> dict:
    """A SYNTHETIC IoD2025-shaped release — test data shaped like the official one, NOT real IoD2025 values.

    Returns a dict:
    - ``file7_csv`` (bytes): File 7-shaped CSV, UTF-8 with BOM, 33,755 rows; headers ``LSOA code (2021)``,
      ``LSOA name (2021)``, ``Local Authority District code (2024)``, ``Local Authority District name
      (2024)``, the IoD2019 measure headers (Score/Rank/Decile of IMD and the 7 domains) and five
      ``mid 2022`` denominators. Values: the 2011 parent(s)' IoD2019 scores (mean over merged
      parents) with seeded noise, ranks recomputed over all 33,755 (1 = highest score), deciles from
      ranks; populations shared among split children, summed over merged parents, grown a little.
    - ``lsoa21`` (GeoDataFrame ``LSOA21CD``, ``LSOA21NM``, EPSG:4326): 33,755 English 2021 LSOAs built
      from the 2011 polygons (U same, M union, S vertical strips of the parent, X best effort).
    - ``lad24`` (GeoDataFrame ``LAD24CD``, ``LAD24NM``): 296 districts = 2021's 309 with the 2023
      mergers dissolved and Barnsley/Sheffield recoded (the small 2024 boundary change is not drawn).
    - ``lookup`` (DataFrame ``LSOA11CD``, ``LSOA11NM``, ``LSOA21CD``, ``LSOA21NM``, ``CHGIND``,
      ``LAD22CD``, ``LAD22NM``): the real ONS best-fit lookup, England rows only (33,855 rows).
    - ``table`` (DataFrame): the File 7 values in snake_case (``lsoa21cd``, ``imd_score`` …).
    Built once per process (cached); frames are copies.
    """
    built = _build_iod2025()
    return {k: (v.copy() if hasattr(v, "copy") and not isinstance(v, bytes) else v) for k, v in built.items()}


# --------------------------------------------------------------------------------------------
# Serving a whole release on a Mirror


def releases() -> dict:
    with open(RELEASES, "rb") as fh:
        return tomllib.load(fh)


def source_path(release: str, source: str) -> str:
    """The URL path of one source of a release (as the downloader keeps it under --mirror)."""
    return urlsplit(releases()[release][source]["url"]).path


def serve_iod2019(mirror) -> dict[str, str]:
    """Register IoD2019's table (real File 7 values) and boundaries on ``mirror``; returns {source: path}."""
    rel = releases()["iod2019"]
    paths = {name: urlsplit(rel[name]["url"]).path for name in ("table", "lsoa", "districts")}
    mirror.add_file(paths["table"], iod2019_file7_csv())
    mirror.add_arcgis(paths["lsoa"], _lsoa11(), max_record_count=int(rel["lsoa"].get("page_size", 2000)))
    mirror.add_arcgis(paths["districts"], _lad19(), max_record_count=int(rel["districts"].get("page_size", 2000)))
    return paths


def serve_iod2025(mirror) -> dict[str, str]:
    """Register the SYNTHETIC IoD2025-shaped table, boundaries and lookup on ``mirror``; returns {source: path}."""
    rel = releases()["iod2025"]
    fx = _build_iod2025()
    paths = {name: urlsplit(rel[name]["url"]).path for name in ("table", "lsoa", "districts", "lookup")}
    mirror.add_file(paths["table"], fx["file7_csv"])
    mirror.add_arcgis(paths["lsoa"], fx["lsoa21"], max_record_count=int(rel["lsoa"].get("page_size", 2000)))
    mirror.add_arcgis(paths["districts"], fx["lad24"], max_record_count=int(rel["districts"].get("page_size", 2000)))
    mirror.add_arcgis(paths["lookup"], fx["lookup"], max_record_count=int(rel["lookup"].get("page_size", 2000)))
    return paths
