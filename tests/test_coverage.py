"""Prepared geometry for big maps: gap-free simplification, exact round trips, content-keyed cache, and
every real LSOA still found where it was (so its class, looked up by place, is unchanged)."""

from __future__ import annotations

import json
import re

import geopandas as gpd
import numpy as np
import pytest
import shapely

from geo.present.classify import classify_values
from geo.present.coverage import (
    BNG,
    MERCATOR,
    _planes,
    _unplanes,
    content_key,
    coverage_problems,
    decode_detail,
    encode_detail,
    prepare_geometry,
    read_detail,
    simplify_coverage,
)
from geo.present.mapping import MapSpec, build_choropleth, escape_text, map_html, prepare_map
from tests import cases


@pytest.fixture(scope="module")
def lsoa11():
    path = cases.SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"
    if not path.exists():
        pytest.skip("real open data not present (set ATLAS_SHARED_DATA)")
    from geo.load.io import read_boundaries

    return read_boundaries(path)


def grid(n: int = 4, size: float = 1000.0, wobble: float = 3.0, per_side: int = 4) -> gpd.GeoDataFrame:
    """An n x n coverage of squares in BNG with wobbly shared borders (so simplification has work to do):
    `per_side` vertices along each side, each jittered by `wobble` metres, the same for both neighbours."""
    rng = np.random.default_rng(1)
    k = per_side
    xs = np.linspace(400_000, 400_000 + n * size, k * n + 1)
    ys = np.linspace(300_000, 300_000 + n * size, k * n + 1)
    jx = rng.normal(0, wobble, (len(ys), len(xs)))
    jy = rng.normal(0, wobble, (len(ys), len(xs)))
    jx[:, [0, -1]] = 0
    jy[[0, -1], :] = 0
    polys, codes = [], []
    for i in range(n):
        for j in range(n):
            ring = ([(k * j + t, k * i) for t in range(k + 1)] + [(k * j + k, k * i + t) for t in range(1, k + 1)]
                    + [(k * j + k - t, k * i + k) for t in range(1, k + 1)] + [(k * j, k * i + k - t) for t in range(1, k + 1)])
            polys.append(shapely.Polygon([(xs[c] + jx[r, c], ys[r] + jy[r, c]) for c, r in ring]))
            codes.append(f"E0100{i}{j:03d}")
    return gpd.GeoDataFrame({"code": codes, "name": [f"Area {c}" for c in codes]}, geometry=polys, crs=BNG)


def test_tiny_grid_is_a_clean_coverage_before_and_after():
    g = grid(wobble=60)
    assert coverage_problems(g.geometry) == 0
    simplified = simplify_coverage(g.geometry, 50)
    assert coverage_problems(simplified) == 0
    assert shapely.get_num_coordinates(simplified.values).sum() < shapely.get_num_coordinates(g.geometry.values).sum()
    # Plain per-polygon simplification is what this avoids: it opens gaps and overlaps between neighbours.
    plain = gpd.GeoSeries(shapely.simplify(g.geometry.values, 50), crs=BNG)
    assert coverage_problems(plain) > 0


def test_round_trip_at_one_metre_is_exact_up_to_the_quantum():
    g = grid()
    data, vertices = encode_detail(g, 0, 1.0, codes=list(g["code"]))
    doc = read_detail(data)[0]
    assert doc["codes"] == list(g["code"]) and doc["n"] == len(g) and vertices > 0
    back = decode_detail(data).to_crs(BNG)
    for a, b in zip(g.geometry, back):
        assert a.symmetric_difference(b).area < 0.01 * a.area
    assert coverage_problems(decode_detail(data)) == 0


def test_holes_islands_and_big_jumps_survive_the_binary_round_trip():
    """Format 2: a polygon with two holes, a two-part feature far from the others (deltas beyond 16 bits, both
    signs), in the stored bytes (gzip) and as a transport that inflated them already would hand them over."""
    import gzip

    square = lambda x, y, s: [(x, y), (x + s, y), (x + s, y + s), (x, y + s)]  # noqa: E731
    x, y = 450_000, 530_000  # Hartlepool, in BNG metres; the islands 150-250 km away, in England still
    holed = shapely.Polygon(square(x, y, 900), [square(x + 100, y + 100, 200), square(x + 500, y + 500, 300)])
    islands = shapely.MultiPolygon([shapely.Polygon(square(x - 150_000, y - 250_000, 500)),
                                    shapely.Polygon(square(x + 100_000, y - 100_000, 700))])
    plain = shapely.Polygon(square(x + 1000, y, 900))
    g = gpd.GeoDataFrame({"code": ["a", "b", "c"]}, geometry=[holed, islands, plain], crs=BNG).to_crs(MERCATOR)
    data, vertices = encode_detail(g, 0, 1.0)
    assert data[:2] == b"\x1f\x8b" and vertices == 4 * 3 + 4 * 2 + 4
    for stored in (data, gzip.decompress(data)):
        back = decode_detail(stored)
        assert [len(p.interiors) for p in [back[0]]] == [2] and back[1].geom_type == "MultiPolygon"
        assert len(back[1].geoms) == 2 and back[2].geom_type == "Polygon"
        for a, b in zip(g.geometry, back):
            assert a.symmetric_difference(b).area < 0.01 * a.area
    values = np.array([0, 1, -1, 2**30, -(2**30), 2**31 - 1, -(2**31), 12345, -54321], dtype=np.int64)
    assert _unplanes(_planes(values), len(values)).tolist() == values.tolist()
    with pytest.raises(ValueError, match="not an atlas geometry file"):
        read_detail(gzip.compress(b'{"v":1,"q":4,"n":0,"f":[]}'))


def test_prepared_files_are_named_by_content_and_reused(tmp_path):
    g = grid()
    first = prepare_geometry(g, "code", "name", tmp_path)
    files = {d.file: (tmp_path / d.file).stat().st_mtime_ns for d in first.details}
    again = prepare_geometry(g, "code", "name", tmp_path)
    assert again.key == first.key and {d.file: (tmp_path / d.file).stat().st_mtime_ns for d in again.details} == files
    renamed = g.assign(name=g["name"].str.upper())
    assert content_key(renamed, "code", "name") != first.key
    moved = g.set_geometry(g.geometry.translate(10, 0))
    assert content_key(moved, "code", "name") != first.key


def test_a_damaged_cache_entry_is_rebuilt_not_trusted(tmp_path):
    g = grid()
    first = prepare_geometry(g, "code", "name", tmp_path)
    path = first.path(first.details[0])
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])  # half-written, as after a crash or a full disk
    again = prepare_geometry(g, "code", "name", tmp_path)
    assert again.path(again.details[0]).read_bytes() == good
    assert not list(tmp_path.glob(".*.tmp"))


def test_codes_and_names_are_escaped_in_the_geometry_file(tmp_path):
    g = grid(2)
    g.loc[0, "name"] = "<img src=x onerror=alert(1)>{{7*7}}"
    prepared = prepare_geometry(g, "code", "name", tmp_path, escape=escape_text)
    doc = read_detail(prepared.path(prepared.details[0]).read_bytes())[0]
    assert doc["names"][0] == escape_text(g.loc[0, "name"]) and "<img" not in doc["names"][0]


def test_canvas_map_carries_classes_not_geometry_and_exports_inline(tmp_path):
    g = grid(4).to_crs(4326)
    g["v"] = np.arange(len(g), dtype=float)
    g.loc[3, "v"] = np.nan
    cls = classify_values(g["v"], "quantiles", 4)
    spec = MapSpec("v", "Value", "name", "code", tooltip_columns=(("Code again", "code"),))
    m = build_choropleth(g, spec, cls, prepared=prepare_map(g, spec, tmp_path, canvas=True), canvas=True)
    page = m.get_root().render()
    payload = json.loads(re.search(r"AtlasMap\.canvas\(map_\w+, \{.*?\}, (\{.*?\})\);", page).group(1))
    assert payload["classes"] == "".join("-" if k < 0 else str(k) for k in cls.classes)
    assert all("url" in d and "data" not in d for d in payload["details"])
    assert "/app/static/geometry/" in payload["values"]["url"]
    values = json.loads((tmp_path / payload["values"]["url"].rsplit("/", 1)[1]).read_bytes())
    assert values[0][3] is None and values[0][5] == 5 and values[1][0] == g["code"][0]
    inner = g.geometry[5].exterior.coords[2]  # a vertex inside the map, not on its bounds
    assert '"coordinates"' not in page and f"{inner[0]:.4f}" not in page and f"{inner[1]:.4f}" not in page
    offline = map_html(m)
    assert "L.AtlasCoverage = L.Layer.extend" in offline and '"data":' in offline and "/app/static/" not in offline
    # The map value is unchanged by the export: it still fetches by URL in the app.
    assert m.get_root().render() == page


def _tree(folder) -> dict:
    return {p.relative_to(folder): p.stat().st_mtime_ns for p in folder.rglob("*")} if folder.exists() else {}


def test_building_a_map_writes_nothing_once_prepared_even_on_a_read_only_store(tmp_path, monkeypatch):
    """Prepare, then build: building (and the offline export) only read the store, and no temporary folder is left."""
    import tempfile

    g = grid(4).to_crs(4326)
    g["v"] = np.arange(len(g), dtype=float)
    cls = classify_values(g["v"], "quantiles", 4)
    spec = MapSpec("v", "Value", "name", "code")
    store = tmp_path / "store"
    prepared = prepare_map(g, spec, store, canvas=True)
    before = _tree(store)
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))  # a temporary folder made while building would land here
    store.chmod(0o555)
    try:
        m = build_choropleth(g, spec, cls, prepared=prepared, canvas=True)
        page, offline = m.get_root().render(), map_html(m)
        assert "/app/static/geometry/" in page and '"data":' in offline and "/app/static/" not in offline
        # Without a store at all (the CLI's offline page): prepared in memory, nothing written anywhere.
        alone = map_html(build_choropleth(g, spec, cls, prepared=prepare_map(g, spec, None, canvas=True), canvas=True))
        assert '"data":' in alone and "/app/static/" not in alone
        missing = tmp_path / "does-not-exist"
        small = build_choropleth(g, spec, cls, prepared=prepare_map(g, spec, None), canvas=False)
        assert "/app/static/geometry/" not in map_html(small) and not missing.exists()
    finally:
        store.chmod(0o755)
    assert _tree(store) == before
    assert list(temp.iterdir()) == []


def test_real_lsoa_coverage_stays_gap_free_and_every_area_is_found_where_it_was(lsoa11, tmp_path):
    prepared = prepare_geometry(lsoa11, "lsoa11_code", "lsoa11_name", tmp_path)
    assert len(prepared.details) == 1  # ONS' super-generalised set: a finer level would add little
    coarse = decode_detail(prepared.path(prepared.details[0]).read_bytes())
    assert len(coarse) == 32_844
    assert int(shapely.is_empty(coarse.values).sum()) == 0  # no area vanished
    assert int((~shapely.is_valid(coarse.values)).sum()) == 0
    assert coverage_problems(coarse) == 0  # no gaps or overlaps opened between neighbours
    # Each area's own point (inside the drawn polygon) lies in the same area on the official boundaries,
    # so hovering there finds it and its class, looked up by place, is the class of the same code.
    points = gpd.GeoDataFrame({"drawn": np.arange(len(coarse))},
                              geometry=coarse.representative_point(), crs=coarse.crs).to_crs(lsoa11.crs)
    official = lsoa11.reset_index(drop=True).assign(official=np.arange(len(lsoa11)))[["official", "geometry"]]
    hit = gpd.sjoin(points, official, predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]
    same = int((hit["official"] == hit["drawn"]).sum())
    assert same >= 32_844 - 5, f"{32_844 - same} areas drawn where another area is"


def detailed_grid() -> gpd.GeoDataFrame:
    """Full-resolution-like boundaries: the wobbly grid with a vertex every 5 m along each border."""
    return grid(wobble=5, per_side=30)


def test_detailed_boundaries_get_a_finer_level_for_close_zooms(tmp_path):
    g = detailed_grid()
    assert shapely.is_valid(g.geometry.values).all() and coverage_problems(g.geometry) == 0
    prepared = prepare_geometry(g, "code", "name", tmp_path)
    coarse, fine = prepared.details
    assert (coarse.min_zoom, fine.min_zoom) == (0, 11)
    assert fine.vertices > 1.15 * coarse.vertices and coarse.vertices < shapely.get_num_coordinates(g.geometry.values).sum() / 5
    for detail in prepared.details:
        assert coverage_problems(decode_detail(prepared.path(detail).read_bytes())) == 0


def test_content_key_memo_follows_the_geometry_objects():
    """The geometry's hash is memoised by object identity (#18): the same objects give the same key without
    rehashing; equal geometry in new objects gives the same key; any changed geometry gets a new key."""
    import geo.present.coverage as coverage

    g = grid()
    first = content_key(g, "code", "name")
    assert content_key(g, "code", "name") == first  # from the memo
    # The memo alone decides nothing: emptied, the same layer hashes to the same key.
    coverage._GEOMETRY_HASHES.clear()
    assert content_key(g, "code", "name") == first
    # Equal geometry, new objects (a round trip through WKB): not found in the memo, same key all the same.
    rebuilt = g.set_geometry(gpd.GeoSeries(shapely.from_wkb(shapely.to_wkb(g.geometry.values)), crs=g.crs))
    assert rebuilt.geometry.values[0] is not g.geometry.values[0]
    assert content_key(rebuilt, "code", "name") == first
    # One polygon changed in place on a copy of the same layer: a new key (the others are the same objects).
    changed = g.copy()
    changed.loc[changed.index[5], "geometry"] = shapely.affinity.translate(g.geometry.iloc[5], 1, 0)
    assert changed.geometry.values[0] is g.geometry.values[0]
    assert content_key(changed, "code", "name") != first
    # … and the original, mapped again, still has its own.
    assert content_key(g, "code", "name") == first
    # A geometry changed in place in the very array the memo saw (not a copy) gets a new key too.
    values = g.geometry.values
    values[3] = shapely.affinity.translate(values[3], 0, 1)
    assert content_key(g, "code", "name") != first
    # The codes and the CRS are not memoised: changing them changes the key.
    assert content_key(rebuilt.assign(code=rebuilt["code"].str.lower()), "code", "name") != first
    assert content_key(rebuilt.set_crs(3857, allow_override=True), "code", "name") != first
