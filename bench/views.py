"""Benchmark: every map view's server-side rerun in the real app script, and `python -m geo render` as a whole process.

For each view of the demo pack (and each view the command line can draw on the real IoD2019 files),
the median of N timed runs. `--repo DIR` times another checkout (e.g. a worktree of an earlier
commit) in the same run, so the figures come as ratios against that baseline. Not a test: nothing
here asserts a time. Results go to bench/results/views.json.

    .venv/bin/python bench/views.py [--repeats 5] [--repo ../baseline-checkout] [--national | --national-only]

`--national` adds the national LSOA map (32,844 areas) on an IoD2019 pack built through the loopback mirror: its
first open with the geometry prepared when the pack was built against an empty store, and its warm rerun with
the memoised content key against the key hashed afresh on each rerun (the code before #18), in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
VIEWS = ("Districts (England)", "Neighbourhoods (LSOAs)", "Fund eligibility", "Target progress")
APP_SNIPPET = r"""
import json, statistics, sys, time
from streamlit.testing.v1 import AppTest
repo, repeats = sys.argv[1], int(sys.argv[2])
out = {}
at = AppTest.from_file(repo + "/app.py", default_timeout=300).run()
for view in %r:
    at.sidebar.radio(key="view").set_value(view).run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - start)
    assert not at.exception, (view, at.exception)
    out[view] = statistics.median(times)
print(json.dumps(out))
""" % (VIEWS,)


def app_reruns(repo: Path, repeats: int) -> dict[str, float]:
    """Median rerun time of each view in the app script at `repo` (AppTest, demo pack, warm caches)."""
    run = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-c", APP_SNIPPET, str(repo), str(repeats)],
                         cwd=repo, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo)})
    if run.returncode:
        raise SystemExit(run.stderr[-2000:])
    return json.loads(run.stdout.strip().splitlines()[-1])


def cli_renders(repo: Path, repeats: int, out_dir: Path) -> dict[str, float]:
    """Median wall time of whole `python -m geo render` processes at `repo` on the real IoD2019 files."""
    lsoa = SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"
    table = SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"
    lad = SHARED / "boundaries" / "lad19_england_buc.gpkg"
    if not (lsoa.is_file() and table.is_file() and lad.is_file()):
        return {}
    files = ["--lsoa", str(lsoa), "--table", str(table), "--districts", str(lad)]
    cases = {"districts slide": "?view=districts&measure=imd&summary=average_score",
             "Hartlepool LSOAs slide": "?view=lsoas&measure=imd&districts=E06000001"}
    out = {}
    for name, link in cases.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "geo", "render", *files, "--view", link,
                                  "--out", str(out_dir / "bench.png")], cwd=repo, capture_output=True, text=True)
            times.append(time.perf_counter() - start)
            if run.returncode:
                raise SystemExit(run.stderr[-2000:])
        out[name] = statistics.median(times)
    return out


NATIONAL_SNIPPET = r"""
import hashlib, json, os, statistics, sys, time
from pathlib import Path
repo, packs, store, repeats = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.environ["ATLAS_PACKS_DIR"] = packs
import shapely
import ui.mapview
import geo.present.coverage as cov
from streamlit.testing.v1 import AppTest
ui.mapview.GEOMETRY_STORE = Path(store)
memoised = cov.content_key


def unmemoised(gdf, code_column, name_column):  # content_key before #18: the layer's WKB hashed on every rerun
    h = hashlib.sha256(f"v{cov.FORMAT_VERSION}|{gdf.crs}|".encode())
    for wkb in shapely.to_wkb(gdf.geometry.values, output_dimension=2):
        h.update(wkb or b"\0")
    h.update("\x1f".join(gdf[code_column].astype(str)).encode())
    if name_column:
        h.update("\x1e".join(gdf[name_column].astype(str)).encode())
    return h.hexdigest()[:24]


start = time.perf_counter()
at = AppTest.from_file(repo + "/app.py", default_timeout=900).run()
first = time.perf_counter() - start
assert not at.exception, at.exception
assert at.sidebar.radio(key="view").value == "Neighbourhoods (LSOAs)"
times = {"memoised": [], "unmemoised": []}
for i in range(2 * repeats):  # alternately, so a busy machine slows both alike
    name = ("memoised", "unmemoised")[i % 2]
    cov.content_key = memoised if name == "memoised" else unmemoised
    start = time.perf_counter()
    at.run()
    times[name].append(time.perf_counter() - start)
    assert not at.exception, at.exception
print(json.dumps({"first open": first, **{k: statistics.median(v) for k, v in times.items()}}))
"""


def national_figures(repeats: int) -> dict[str, float]:
    """The national LSOA map in the real app on a freshly built IoD2019 pack (built through the loopback mirror):
    the first open with the geometry prepared at build and without (the store empty, as before #18), and the warm
    rerun with the memoised content key against the key hashed afresh (the code before #18), in the same process."""
    import sys
    import tempfile

    if not (SHARED / "boundaries" / "lsoa11_england_bsc.gpkg").is_file():
        return {}
    sys.path.insert(0, str(ROOT))
    work = Path(tempfile.mkdtemp(prefix="atlas-bench-national-"))
    try:
        return _national_in(work, repeats)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _national_in(work: Path, repeats: int) -> dict[str, float]:
    from geo.load.packs import fetch_release, list_packs, prepare_pack_geometry
    from tests.iod2025_fixture import serve_iod2019
    from tests.mirror import Mirror

    packs, prepared, empty = work / "packs", work / "prepared", work / "empty"
    with Mirror() as mirror:
        serve_iod2019(mirror)
        fetch_release("iod2019", packs, mirror=mirror.url, prepare=False)

    start = time.perf_counter()
    prepare_pack_geometry({p.id: p for p in list_packs(packs)}["iod2019"], prepared)
    out = {"prepare at build": time.perf_counter() - start}
    python = str(ROOT / ".venv" / "bin" / "python")
    for label, store in (("with geometry prepared at build", prepared), ("with an empty store (before)", empty)):
        run = subprocess.run([python, "-c", NATIONAL_SNIPPET, str(ROOT), str(packs), str(store), str(repeats)],
                             cwd=ROOT, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if run.returncode:
            raise SystemExit(run.stderr[-3000:])
        got = json.loads(run.stdout.strip().splitlines()[-1])
        out[f"first open, {label}"] = got["first open"]
        if store == prepared:
            out["warm rerun, content key memoised"] = got["memoised"]
            out["warm rerun, content key hashed each time (before)"] = got["unmemoised"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--repo", help="a baseline checkout timed in the same run (ratios are this one / it)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "views.json"))
    parser.add_argument("--national", action="store_true",
                        help="also the national LSOA map on a freshly built IoD2019 pack (first open, warm rerun)")
    parser.add_argument("--national-only", action="store_true", help="only that")
    args = parser.parse_args()
    if args.national or args.national_only:
        national = national_figures(args.repeats)
        for case, value in national.items():
            print(f"{'national: ' + case:60s} {value:8.3f}s")
        if args.national_only:
            Path(args.out).parent.mkdir(parents=True, exist_ok=True)
            Path(args.out).with_name("views_national.json").write_text(json.dumps(national, indent=2),
                                                                       encoding="utf-8")
            return
    out_dir = Path(args.out).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    repos = {"this": ROOT} | ({"baseline": Path(args.repo).resolve()} if args.repo else {})
    results = {name: {"app rerun": app_reruns(repo, args.repeats), "cli": cli_renders(repo, 3, out_dir)}
               for name, repo in repos.items()}
    print(f"{'case':40s} {'this':>9s}" + (f" {'baseline':>9s} {'ratio':>7s}" if args.repo else ""))
    for part in ("app rerun", "cli"):
        for case, value in results["this"][part].items():
            line = f"{part + ': ' + case:40s} {value:8.3f}s"
            if args.repo:
                base = results["baseline"][part].get(case)
                line += f" {base:8.3f}s {value / base:6.2f}×" if base else "        –       –"
            print(line)
    Path(args.out).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
