"""The command line as fast as the app (#18): a light start, prepared geometry and boundary reads found again in a
cache by content, the same page either way, and the cache's location as documented."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from shapely.geometry import box

from geo import settings
from geo.load.io import ReadNotes, read_boundaries, read_table
from geo.load.readcache import read_boundaries_cached, read_table_cached
from tests.cases import REPO, bowtie, geojson_bytes


def python(code: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def run_geo(*args: str, cache: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "geo", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "ATLAS_GEOMETRY_CACHE": cache})


HEAVY = ("geopandas", "pandas", "mapclassify", "scipy", "matplotlib", "sklearn", "folium", "shapely")


def test_help_imports_no_heavy_library():
    run = python("import sys, contextlib, io\nfrom geo.__main__ import main\n"
                 "with contextlib.redirect_stdout(io.StringIO()):\n"
                 "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
                 f"print([m for m in {HEAVY!r} if m in sys.modules])")
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == "[]"


def test_classify_imports_mapclassify_only_for_the_schemes_that_need_it():
    """Quantiles and equal intervals are the atlas' own (mapclassify's, written out): `geo map` with the default
    scheme never imports mapclassify (1.5–3 s of scipy.stats, matplotlib, sklearn); natural breaks still do."""
    run = python("import sys\nimport geo.present.classify as c\nimport pandas as pd\n"
                 "heavy = ('mapclassify', 'scipy.stats', 'matplotlib', 'sklearn')\n"
                 "print(sorted(m for m in heavy if m in sys.modules))\n"
                 "values = pd.Series([1.0, 2, 3, 4, 5, 6])\n"
                 "c.classify_values(values, 'quantiles', 3, True)\n"
                 "c.classify_values(values, 'equal_interval', 3, True)\n"
                 "print(sorted(m for m in heavy if m in sys.modules))\n"
                 "c.classify_values(values, 'natural_breaks', 3, True)\n"
                 "print('mapclassify' in sys.modules)")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:3] == ["[]", "[]", "True"]


def test_the_app_imports_the_classifiers_in_the_background_once_per_process():
    """ui.common.warm_classifiers: nothing heavy is imported by the call itself (the page's run goes on), the
    classifiers are there once its thread ends, and a second call (every script run makes one) starts no other."""
    run = python("import sys\nfrom ui.common import warm_classifiers\n"
                 "thread = warm_classifiers(0.5)\n"
                 "print('mapclassify' in sys.modules, thread.is_alive())\n"
                 "assert warm_classifiers(0.5) is thread\n"
                 "thread.join(60)\n"
                 "print('mapclassify' in sys.modules, thread.is_alive())")
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["False True", "True False"], run.stdout


def big_layer(tmp_path: Path, n: int = 46) -> tuple[Path, Path]:
    """n × n squares (≥ 2,000: drawn on a canvas from prepared geometry), one invalid (repaired: a read note)."""
    geoms, codes = [], []
    for i in range(n):
        for j in range(n):
            geoms.append(box(-1.5 + 0.002 * j, 53.8 + 0.002 * i, -1.498 + 0.002 * j, 53.802 + 0.002 * i))
            codes.append(f"E01{i * n + j:06d}")
    geoms[0] = shapely.affinity.translate(shapely.affinity.scale(bowtie(), 0.002, 0.002, origin=(0, 0)), -1.5, 53.8)
    gdf = gpd.GeoDataFrame({"code": codes, "name": [f"Area {c}" for c in codes]}, geometry=geoms, crs=4326)
    lsoa = tmp_path / "big.geojson"
    lsoa.write_bytes(geojson_bytes(gdf))
    table = tmp_path / "big.csv"
    pd.DataFrame({"code": codes, "score": [float(k % 97) for k in range(len(codes))]}).to_csv(table, index=False)
    return lsoa, table


def without_ids(page: str) -> str:
    return re.sub(r"[0-9a-f]{32}", "ID", page)  # folium names each map and layer afresh


def test_map_finds_its_geometry_and_boundaries_again_and_writes_the_same_page(tmp_path):
    lsoa, table = big_layer(tmp_path)
    cache = tmp_path / "cache"
    args = ("map", str(lsoa), str(table), "--column", "score")
    first = run_geo(*args, "--out", str(tmp_path / "a.html"), cache=str(cache))
    assert first.returncode == 0, first.stderr
    entries = {p.relative_to(cache): p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()}
    metas = [p for p in entries if p.name.endswith(".meta.json")]
    assert len(metas) == 1 and any(p.parts[0] == "reads" and p.suffix == ".parquet" for p in entries)
    second = run_geo(*args, "--out", str(tmp_path / "b.html"), cache=str(cache))
    assert second.returncode == 0, second.stderr
    assert {p.relative_to(cache): p.stat().st_mtime_ns for p in cache.rglob("*") if p.is_file()} == entries, \
        "the second run wrote nothing: it found the geometry and the read boundaries"
    assert "geometry-repaired" in first.stderr and second.stderr == first.stderr, "the read notes, word for word"
    off = run_geo(*args, "--out", str(tmp_path / "c.html"), cache="off")
    assert off.returncode == 0, off.stderr
    pages = [without_ids((tmp_path / f"{n}.html").read_text(encoding="utf-8")) for n in "abc"]
    assert pages[0] == pages[1] == pages[2] and "AtlasMap.canvas(" in pages[0]


def test_cached_read_is_the_read(tmp_path):
    lsoa, _ = big_layer(tmp_path, n=5)
    fresh_notes, cold_notes, warm_notes = ReadNotes(), ReadNotes(), ReadNotes()
    fresh = read_boundaries(lsoa, notes=fresh_notes)
    cold = read_boundaries_cached(lsoa, notes=cold_notes, cache=tmp_path / "reads")
    warm = read_boundaries_cached(lsoa, notes=warm_notes, cache=tmp_path / "reads")
    for frame, notes in ((cold, cold_notes), (warm, warm_notes)):
        pd.testing.assert_frame_equal(pd.DataFrame(frame.drop(columns="geometry")),
                                      pd.DataFrame(fresh.drop(columns="geometry")))
        assert list(shapely.to_wkb(frame.geometry.values)) == list(shapely.to_wkb(fresh.geometry.values))
        assert str(frame.crs) == str(fresh.crs) and notes.items == fresh_notes.items and notes.format == fresh_notes.format
    assert fresh_notes.items, "the bowtie was repaired: a note to repeat"
    # A changed file is read afresh (keyed by content), and a damaged entry is not trusted.
    gdf = fresh.copy()
    gdf.loc[1, "name"] = "Renamed"
    lsoa.write_bytes(geojson_bytes(gdf))
    assert read_boundaries_cached(lsoa, cache=tmp_path / "reads").loc[1, "name"] == "Renamed"
    for entry in (tmp_path / "reads").glob("*.parquet"):
        entry.write_bytes(b"PAR1 not really")
    again = read_boundaries_cached(lsoa, cache=tmp_path / "reads")
    assert again.loc[1, "name"] == "Renamed" and len(again) == len(fresh)


def test_cached_table_is_the_table_with_its_notes(tmp_path):
    table = tmp_path / "t.csv"
    table.write_bytes("\ufeffcode,score,score,Rank\nE01000001,1.5,2,\"29,199\"\nE01000002,,3,7\n".encode("utf-8"))
    fresh_notes = ReadNotes()
    fresh = read_table(table, notes=fresh_notes)
    assert fresh_notes.duplicate_columns, "a header given twice: the reader names its copies"
    for _ in range(2):  # cold (read and kept), then warm (from the cache)
        notes = ReadNotes()
        got = read_table_cached(table, notes=notes, cache=tmp_path / "reads")
        pd.testing.assert_frame_equal(got, fresh)
        assert (notes.items, notes.duplicate_columns, notes.format) == (
            fresh_notes.items, fresh_notes.duplicate_columns, fresh_notes.format)
    assert len(list((tmp_path / "reads").glob("*.parquet"))) == 1


def test_a_link_is_refused_from_the_cache_too(tmp_path):
    lsoa, _ = big_layer(tmp_path, n=3)
    read_boundaries_cached(lsoa, cache=tmp_path / "reads")
    link = tmp_path / "link.geojson"
    link.symlink_to(lsoa)
    with pytest.raises(Exception, match="symbolic link"):
        read_boundaries_cached(link, cache=tmp_path / "reads")


@pytest.mark.parametrize("value, expected", [
    ("off", None),
    ("/somewhere/geometry", Path("/somewhere/geometry")),
    ("", settings.app_geometry_store()),  # run from a checkout: shared with the app
])
def test_geometry_cache_location(monkeypatch, value, expected):
    monkeypatch.setenv("ATLAS_GEOMETRY_CACHE", value)
    assert settings.geometry_cache() == expected


def test_reads_never_go_into_the_app_static_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("ATLAS_GEOMETRY_CACHE", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert settings.read_cache() == tmp_path / "atlas" / "reads"
    monkeypatch.setenv("ATLAS_GEOMETRY_CACHE", str(tmp_path / "g"))
    assert settings.read_cache() == tmp_path / "g" / "reads"
    monkeypatch.setenv("ATLAS_GEOMETRY_CACHE", "off")
    assert settings.read_cache() is None
