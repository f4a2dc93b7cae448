"""Generate the embedded ILLUSTRATIVE demo data pack (fictional places, synthetic values).

Writes, relative to ``--out-dir`` (default: the repository root):

* ``boundaries/demo_districts.geojson`` - fictional local authority districts (LAD19CD, LAD19NM)
* ``boundaries/demo_lsoa.geojson``      - fictional neighbourhoods (LSOA11CD, LSOA11NM, LAD19CD, LAD19NM)
* ``indicators/demo_iod_file7.csv``     - synthetic values in the IoD2019 "File 7" column layout

Geometry is a seeded Voronoi tessellation inside a smooth irregular outline in northern England,
snap-rounded to a 1e-6 degree grid (EPSG:4326) so that LSOAs form an exact coverage and every
district is the exact dissolve of its LSOAs. Output is byte-for-byte deterministic for a given
numpy/GEOS version. Run: ``python boundaries/make_demo_pack.py [--out-dir DIR]``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Polygon, mapping

SEED = 20190926  # IoD2019 publication date
GRID = 1e-6  # output precision in degrees (6 decimal places)
CX, CY, KX = -1.8, 53.8, float(np.cos(np.radians(53.8)))  # centre; lon->plane scale
OUTPUTS = {"districts": "boundaries/demo_districts.geojson", "lsoa": "boundaries/demo_lsoa.geojson",
           "iod": "indicators/demo_iod_file7.csv"}
N_NATIONAL = 32844  # number of LSOAs in England (2011 geography)
DISTRICT_NAMES = ["Ashbridge", "Northmoor", "Calderbank", "St. Aldhelm's", "Wexley Fold", "Brackenholme",
                  "Kettlewick", "Ravensby", "Thornsett Dale", "Easterfield", "Mossgill", "Wyndham Cross"]
MEASURES = ["Index of Multiple Deprivation (IMD)", "Income", "Employment", "Education, Skills and Training",
            "Health Deprivation and Disability", "Crime", "Barriers to Housing and Services", "Living Environment"]
SCORE_HEADER = {"Income": "Income Score (rate)", "Employment": "Employment Score (rate)"}
DOMAINS = MEASURES[1:]
WEIGHTS = np.array([0.225, 0.225, 0.135, 0.135, 0.093, 0.093, 0.093])
RHO = np.array([0.95, 0.9, 0.8, 0.85, 0.6, 0.15, 0.5])  # correlation of each domain with common latent
POP_COLS = ["Total population: mid 2015 (excluding prisoners)",
            "Dependent Children aged 0-15: mid 2015 (excluding prisoners)",
            "Population aged 16-59: mid 2015 (excluding prisoners)",
            "Older population aged 60 and over: mid 2015 (excluding prisoners)",
            "Working age population 18-59/64: for use with Employment Deprivation Domain (excluding prisoners)"]


def expit(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def region_outline(rng: np.random.Generator) -> Polygon:
    """Smooth irregular outline in the local plane (x = (lon-CX)*KX, y = lat)."""
    t = np.linspace(0, 2 * np.pi, 240, endpoint=False)
    r = 1 + sum(rng.uniform(0.03, 0.08) * np.cos(k * t + rng.uniform(0, 2 * np.pi)) for k in range(2, 6))
    r = r / r.max()
    return Polygon(np.c_[0.85 * KX * r * np.cos(t), CY + 0.62 * r * np.sin(t)])


def urbanity(xy: np.ndarray, cores: np.ndarray) -> np.ndarray:
    d2 = ((xy[:, None, :] - cores[None, :, :]) ** 2).sum(-1)
    return np.exp(-d2 / (2 * 0.12 ** 2)).max(1)


def sample_points(rng: np.random.Generator, poly: Polygon, n: int, cores: np.ndarray, dmin: float) -> np.ndarray:
    """n points in poly, denser near urban cores, with an urbanity-scaled minimum spacing."""
    x0, y0, x1, y1 = poly.bounds
    pts: list[np.ndarray] = []
    while len(pts) < n:  # rejection sampling; relax the spacing if the polygon is crowded
        for _ in range(40 * n):
            p = rng.uniform((x0, y0), (x1, y1))
            u = urbanity(p[None], cores)[0]
            if not shapely.contains_xy(poly, *p) or rng.random() > 0.3 + 0.7 * u:
                continue
            if all(np.hypot(*(p - q)) > dmin * (1 - 0.55 * u) for q in pts):
                pts.append(p)
                if len(pts) == n:
                    break
        dmin *= 0.9
    return np.array(pts)


def voronoi_cells(pts: np.ndarray, clip: Polygon) -> list[shapely.Geometry]:
    cells = shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=clip.buffer(1), ordered=True)
    return [c.intersection(clip) for c in shapely.get_parts(cells)]


def absorb_fragments(geoms: list[shapely.Geometry]) -> list[shapely.Geometry]:
    """Keep the largest part of each geometry; give detached parts to the neighbour sharing most border."""
    parts = [sorted(shapely.get_parts(g), key=lambda p: -p.area) for g in geoms]
    main = [p[0] for p in parts]
    for i, ps in enumerate(parts):
        for frag in ps[1:]:
            shared = [main[j].boundary.intersection(frag.boundary).length if j != i else -1 for j in range(len(main))]
            j = int(np.argmax(shared))
            main[j] = shapely.union_all([main[j], frag])
    return main


def to_lonlat(g: shapely.Geometry) -> shapely.Geometry:
    return shapely.transform(g, lambda c: np.c_[CX + c[:, 0] / KX, c[:, 1]])


def build_geometry(rng: np.random.Generator) -> tuple[pd.DataFrame, np.ndarray]:
    """Return one row per LSOA (district index, polygon in lon/lat) and the urban cores (plane coords)."""
    region = region_outline(rng)
    inner = region.buffer(-0.15)
    cores = sample_points(rng, inner, 2, np.zeros((1, 2)) + 99, 0.35)
    districts = absorb_fragments(voronoi_cells(sample_points(rng, region, 12, cores, 0.22), region))
    rows = []
    for d, dist in enumerate(districts):
        u = float(urbanity(np.array(dist.centroid.coords), cores)[0])
        n = 40 + int(round(20 * u))
        pts = sample_points(rng, dist, n, cores, 0.9 * np.sqrt(dist.area / n))
        rows += [(d, to_lonlat(c)) for c in absorb_fragments(voronoi_cells(pts, dist))]
    # Snap-round the shared linework once, then rebuild polygons from its faces: exact coverage on the grid.
    raw = [g for _, g in rows]
    lines = shapely.union_all(shapely.boundary(raw), grid_size=GRID)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(lines)))
    tree = shapely.STRtree(raw)
    owner = []
    for f in faces:
        cand = tree.query(f)
        owner.append(int(cand[np.argmax([f.intersection(raw[c]).area for c in cand])]))
    geoms = [shapely.union_all([f for f, o in zip(faces, owner) if o == i], grid_size=GRID) for i in range(len(raw))]
    df = pd.DataFrame({"district": [d for d, _ in rows], "geometry": geoms})
    return df, cores


def name_lsoas(rng: np.random.Generator, df: pd.DataFrame, cores: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Assign fictional district codes/names and ONS-style LSOA codes and names."""
    plane = lambda g: np.array([(g.centroid.x - CX) * KX, g.centroid.y])  # noqa: E731
    dist_geom = df.groupby("district")["geometry"].agg(lambda s: shapely.union_all(list(s), grid_size=GRID))
    u = np.array([urbanity(plane(g)[None], cores)[0] for g in dist_geom])
    metro = set(np.argsort(-u)[:5])
    order = sorted(dist_geom.index, key=lambda d: (d not in metro, -dist_geom[d].centroid.y))
    codes = {d: f"E08{901 + k:06d}" for k, d in enumerate(d for d in order if d in metro)}
    codes |= {d: f"E07{901 + k:06d}" for k, d in enumerate(d for d in order if d not in metro)}
    names = {d: DISTRICT_NAMES[k] for k, d in enumerate(order)}
    out = []
    for d in sorted(codes, key=codes.get):
        sub = df[df.district == d]
        c = np.array([plane(g) for g in sub.geometry])
        band = np.floor((c[:, 1].max() - c[:, 1]) / 0.045).astype(int)  # north-to-south serpentine order
        idx = sub.index[np.lexsort((np.where(band % 2, -c[:, 0], c[:, 0]), band))]
        sizes: list[int] = []
        while sum(sizes) < len(idx):
            sizes.append(int(rng.integers(4, 7)))
        sizes[-1] -= sum(sizes) - len(idx)
        if sizes[-1] < 3 and len(sizes) > 1:  # fold a short tail into the previous "MSOA"
            last = sizes.pop()
            sizes[-1] += last
        labels = [f"{names[d]} {m + 1:03d}{chr(65 + k)}" for m, s in enumerate(sizes) for k in range(s)]
        out += [(i, codes[d], names[d], lab) for i, lab in zip(idx, labels)]
    lsoa = pd.DataFrame(out, columns=["row", "LAD19CD", "LAD19NM", "LSOA11NM"])
    lsoa["geometry"] = df.geometry[lsoa.row].values
    lsoa.insert(0, "LSOA11CD", [f"E01{900001 + i:06d}" for i in range(len(lsoa))])
    lsoa = lsoa.drop(columns="row")
    assert len(lsoa) == len(df) and lsoa.LSOA11NM.is_unique
    lad = lsoa.groupby(["LAD19CD", "LAD19NM"], sort=True)["geometry"].agg(
        lambda s: shapely.union_all(list(s), grid_size=GRID)).reset_index()
    return lsoa, lad


def domain_scores(z: np.ndarray) -> np.ndarray:
    """Map standard-normal domain latents (n x 7) to the published scales of the seven domains."""
    return np.c_[0.6 * expit(-1.5 + 0.9 * z[:, 0]), 0.6 * expit(-1.9 + 0.8 * z[:, 1]),
                 80 * expit(-1.3 + 1.0 * z[:, 2]), 3 * np.tanh(0.3 * z[:, 3]), 3 * np.tanh(0.3 * z[:, 4]),
                 60 * expit(-1.0 + 0.7 * z[:, 5]), 90 * expit(-1.3 + 0.8 * z[:, 6])]


def all_scores(z: np.ndarray, mu: np.ndarray, sd: np.ndarray, csd: float) -> np.ndarray:
    dom = domain_scores(z)
    combined = ((dom - mu) / sd) @ WEIGHTS / csd
    imd = 0.5 + 89.5 * expit(-1.6 + 1.0 * combined)
    return np.round(np.c_[imd, dom], 3) + 0.0  # + 0.0 removes negative zeros


def latents(common: np.ndarray, specific: np.ndarray) -> np.ndarray:
    return RHO * common[:, None] + np.sqrt(1 - RHO ** 2) * specific


def std(v: np.ndarray) -> np.ndarray:
    return (v - v.mean()) / v.std()


def smooth_field(rng: np.random.Generator, xy: np.ndarray, bumps: int = 30) -> np.ndarray:
    """Standardised sum of random Gaussian bumps: a spatially autocorrelated random surface."""
    c, a = rng.uniform(xy.min(0), xy.max(0), (bumps, 2)), rng.normal(size=bumps)
    return std((a * np.exp(-((xy[:, None] - c[None]) ** 2).sum(-1) / (2 * 0.1 ** 2))).sum(1))


def build_indicators(lsoa: pd.DataFrame, cores: np.ndarray, seed: int) -> pd.DataFrame:
    nat_rng, rng = np.random.default_rng([seed, 1]), np.random.default_rng([seed, 2])
    # National reference distribution: i.i.d. latents through the same generator.
    z_nat = latents(nat_rng.normal(size=N_NATIONAL), nat_rng.normal(size=(N_NATIONAL, 7)))
    dom_nat = domain_scores(z_nat)
    mu, sd = dom_nat.mean(0), dom_nat.std(0)
    csd = float((((dom_nat - mu) / sd) @ WEIGHTS).std())
    nat = np.sort(all_scores(z_nat, mu, sd, csd), axis=0)
    # Demo latents: spatially autocorrelated, urban cores more deprived, barriers higher in rural areas.
    pts = shapely.point_on_surface(lsoa.geometry.values)
    xy = np.c_[(shapely.get_x(pts) - CX) * KX, shapely.get_y(pts)]
    u = std(urbanity(xy, cores))
    n = len(xy)
    common = std(1.6 * u + 0.6 * smooth_field(rng, xy) + 0.5 * rng.normal(size=n)) + 0.15
    spec = np.c_[[std(smooth_field(rng, xy) + 0.7 * rng.normal(size=n)) for _ in range(7)]].T
    spec[:, 5] = std(spec[:, 5] - 1.5 * u)
    scores = all_scores(latents(common, spec), mu, sd, csd)
    out = lsoa[["LSOA11CD", "LSOA11NM", "LAD19CD", "LAD19NM"]].copy()
    out.columns = ["LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
                   "Local Authority District name (2019)"]
    for k, m in enumerate(MEASURES):
        greater = N_NATIONAL - np.searchsorted(nat[:, k], scores[:, k], side="right")
        rank = np.clip(1 + greater, 1, N_NATIONAL)
        out[SCORE_HEADER.get(m, f"{m} Score")] = scores[:, k]
        out[f"{m} Rank (where 1 is most deprived)"] = rank
        out[f"{m} Decile (where 1 is most deprived 10% of LSOAs)"] = (rank * 10 + N_NATIONAL - 1) // N_NATIONAL
    total = np.clip(np.round(rng.lognormal(np.log(1650), 0.2, n)), 1000, 3000).astype(int)
    kids = np.round(total * np.clip(0.19 + 0.03 * common + rng.normal(0, 0.02, n), 0.08, 0.35)).astype(int)
    older = np.round(total * np.clip(0.24 - 0.05 * u + rng.normal(0, 0.04, n), 0.06, 0.45)).astype(int)
    mid = total - kids - older  # 18-59/64 = 16-59, minus 16-17 year olds, plus men aged 60-64
    work = mid - np.round(0.024 * total).astype(int) + np.round(0.12 * older).astype(int)
    out[POP_COLS] = np.c_[total, kids, mid, older, work]
    return out


def write_geojson(path: Path, name: str, df: pd.DataFrame, props: list[str]) -> None:
    feats = []
    for row in df.itertuples(index=False):
        geom = shapely.orient_polygons(row.geometry, exterior_cw=False)
        assert isinstance(geom, Polygon) and geom.is_valid, getattr(row, props[0])
        gj = json.loads(json.dumps(mapping(geom)), parse_float=lambda s: round(float(s), 6))
        assert shapely.geometry.shape(gj).is_valid  # re-check validity after rounding
        feat = {"type": "Feature", "properties": {p: getattr(row, p) for p in props}, "geometry": gj}
        feats.append(json.dumps(feat, ensure_ascii=False, separators=(",", ":")))
    path.write_text(f'{{"type":"FeatureCollection","name":"{name}","features":[\n' + ",\n".join(feats) + "\n]}\n",
                    encoding="utf-8")


def build_demo_pack(out_dir: Path | str, seed: int = SEED) -> dict[str, Path]:
    """Build the demo pack under out_dir and return the written paths."""
    out_dir = Path(out_dir)
    rng = np.random.default_rng([seed, 0])
    df, cores = build_geometry(rng)
    lsoa, lad = name_lsoas(rng, df, cores)
    ind = build_indicators(lsoa, cores, seed)
    d1 = ind.groupby("Local Authority District code (2019)")[
        "Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"].apply(lambda s: (s == 1).sum())
    assert d1.max() >= 10 and d1.min() == 0, d1.to_dict()
    paths = {k: out_dir / v for k, v in OUTPUTS.items()}
    for p in paths.values():
        p.parent.mkdir(parents=True, exist_ok=True)
    write_geojson(paths["districts"], "demo_districts", lad, ["LAD19CD", "LAD19NM"])
    write_geojson(paths["lsoa"], "demo_lsoa", lsoa, ["LSOA11CD", "LSOA11NM", "LAD19CD", "LAD19NM"])
    ind.to_csv(paths["iod"], index=False, encoding="utf-8-sig", lineterminator="\n", float_format="%.3f")
    return paths


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out-dir", type=Path, default=Path(__file__).resolve().parent.parent)
    ap.add_argument("--seed", type=int, default=SEED)
    args = ap.parse_args()
    for key, p in build_demo_pack(args.out_dir, args.seed).items():
        print(f"{key}: {p} ({p.stat().st_size:,} bytes)")
