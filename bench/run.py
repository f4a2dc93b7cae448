"""Benchmark: the atlas map against naive folium on the same data, in the same run (`make bench`).

Cases: the national district map (IoD2019 average IMD score on 317 district BUC boundaries) and one
district's neighbourhood map (Birmingham's 639 LSOAs, BSC boundaries). For each: Python time to build
the map and render it to HTML, the HTML bytes (raw and gzipped) a browser receives, and the time
headless Chromium takes to paint every polygon, served from a loopback HTTP server. Reported as
medians of N repeats and as ratios atlas/naive. Not a test: nothing here asserts a time.

Needs the real data in ../shared/data (or ATLAS_SHARED_DATA) and Debian's chromium ($CHROMIUM).
"""

from __future__ import annotations

import argparse
import functools
import gzip
import http.server
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import folium  # noqa: E402
import pandas as pd  # noqa: E402

from geo.load.assets import atlas_text, leaflet_dir  # noqa: E402
from geo.present.classify import classify_values  # noqa: E402
from geo.load.io import read_boundaries, read_table  # noqa: E402
from geo.link.join import join_indicators  # noqa: E402
from geo.present.mapping import MapSpec, build_choropleth, map_html  # noqa: E402
from geo.link.layers import district_summaries, prepare_table  # noqa: E402

SHARED = Path(os.environ.get("ATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


def load_cases() -> dict[str, tuple]:
    """(layer, value column, name column, code column, title) for each case."""
    table = prepare_table(read_table(SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"))
    summaries = district_summaries(table, "imd")
    lad, _ = join_indicators(read_boundaries(SHARED / "boundaries" / "lad19_england_buc.gpkg"), summaries,
                             indicator_code="district_code")
    lsoa_all, _ = join_indicators(read_boundaries(SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"), table.frame,
                                  indicator_code="lsoa11cd")
    brum = lsoa_all[lsoa_all["lad19cd"] == "E08000025"].copy()
    return {
        "national districts (317)": (lad, "average_score", "ltla19_name", "ltla19_code", None),
        "Birmingham LSOAs (639)": (brum, "imd_score", "lsoa11_name", "lsoa11_code", "imd_decile"),
    }


def atlas_page(layer, value, name, code, deciles, inline: bool = False) -> str:
    """The page as the app ships it (Leaflet fetched once from the app), or inlined for offline export."""
    cls = classify_values(layer[value], "national_deciles" if deciles else "quantiles", 5,
                          deciles=layer[deciles] if deciles else None)
    m = build_choropleth(layer, MapSpec(value, value, name, code), cls, asset_base="/leaflet")
    return map_html(m) if inline else m.get_root().render()


def naive_page(layer, value, name, code, deciles) -> str:
    """What a first attempt looks like: the whole GeoDataFrame into folium.GeoJson with a style_function."""
    cls = classify_values(layer[value], "quantiles", 5)
    frame = layer.drop(columns=[c for c in layer.columns if c.startswith("_")]).copy()
    frame["_k"] = cls.classes
    colours = cls.colours
    m = folium.Map(location=[52.5, -1.5], zoom_start=7)
    folium.GeoJson(
        frame.to_json(),
        style_function=lambda f: {"fillColor": colours[f["properties"]["_k"]] if f["properties"]["_k"] >= 0 else "#fff",
                                  "fillOpacity": 0.85, "color": "#333", "weight": 0.6},
        tooltip=folium.GeoJsonTooltip(fields=[name, code, value]),
    ).add_to(m)
    m.fit_bounds([[layer.total_bounds[1], layer.total_bounds[0]], [layer.total_bounds[3], layer.total_bounds[2]]])
    page = m.get_root().render()
    # Point folium's CDN Leaflet at the same local copy so the naive page can paint offline too.
    import re

    page = re.sub(r'<script src="[^"]*leaflet[^"]*\.js"></script>', '<script src="/leaflet/leaflet.js"></script>', page,
                  count=1)
    page = re.sub(r'<link rel="stylesheet" href="[^"]*leaflet\.css"/>', '<link rel="stylesheet" href="/leaflet/leaflet.css"/>',
                  page, count=1)
    return page


def timed(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


class Server:
    """Loopback HTTP server for the pages and Leaflet."""

    def __init__(self, folder: Path) -> None:
        (folder / "leaflet").mkdir(exist_ok=True)
        for name in ("leaflet.js", "leaflet.css"):
            (folder / "leaflet" / name).write_bytes((leaflet_dir() / name).read_bytes())
        for name in ("atlas-map.js", "atlas-coverage.js", "atlas-map.css"):  # the map's own scripts and styles
            (folder / "leaflet" / name).write_text(atlas_text(name), encoding="utf-8")
        handler = functools.partial(QuietHandler, directory=str(folder))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


def paint_times(url: str, expected: int, repeats: int) -> float:
    """Median seconds from navigation to every polygon drawn, in headless Chromium, offline."""
    from playwright.sync_api import sync_playwright

    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", "--disable-quic"])
        for _ in range(repeats):
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
            start = time.perf_counter()
            page.goto(url, wait_until="commit")
            page.wait_for_function(f"document.querySelectorAll('path.leaflet-interactive').length >= {expected}",
                                   timeout=120_000, polling=20)
            times.append(time.perf_counter() - start)
            page.close()
        browser.close()
    return statistics.median(times)


_OPEN_SNIPPET = """
import sys, time, json
sys.path.insert(0, {root!r})
start = time.perf_counter()
from geo.load.io import read_boundaries, read_table
from geo.link.join import join_indicators
from geo.link.layers import prepare_table
gdf = read_boundaries({lsoa!r})
ind = prepare_table(read_table({table!r}))
joined, report = join_indicators(gdf, ind.frame, indicator_code=ind.code_column)
seconds = time.perf_counter() - start
status = dict(line.split(':', 1) for line in open('/proc/self/status') if line.startswith(('VmHWM', 'VmRSS')))
print(json.dumps({{"seconds": seconds, "matched": report.matched,
                  "peak_mb": int(status['VmHWM'].split()[0]) / 1024, "rss_mb": int(status['VmRSS'].split()[0]) / 1024}}))
"""


def open_figures(lsoa: Path, table: Path, repeats: int) -> dict:
    """Median seconds and memory to open boundaries + table, recognise and join them, in a fresh process."""
    import subprocess

    runs = []
    for _ in range(repeats):
        code = _OPEN_SNIPPET.format(root=str(ROOT), lsoa=str(lsoa), table=str(table))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {"open_s": round(statistics.median(r["seconds"] for r in runs), 2),
            "peak_mb": round(statistics.median(r["peak_mb"] for r in runs)),
            "matched": runs[0]["matched"]}


def pack_figures(repeats: int) -> dict:
    """The IoD2019 pack (built through a loopback mirror) against the official-format files it came from."""
    import tempfile

    from geo.load.packs import fetch_release
    from tests.iod2025_fixture import iod2019_file7_csv, serve_iod2019
    from tests.mirror import Mirror

    root = Path(tempfile.mkdtemp(prefix="atlas-bench-packs-"))
    with Mirror() as mirror:
        serve_iod2019(mirror)
        start = time.perf_counter()
        pack = fetch_release("iod2019", root, mirror=mirror.url)
        build_s = time.perf_counter() - start
    raw_table = root / "File_7.csv"
    raw_table.write_bytes(iod2019_file7_csv())
    baseline = open_figures(SHARED / "boundaries" / "lsoa11_england_bsc.gpkg", raw_table, repeats)
    packed = open_figures(pack.path("lsoa"), pack.path("table"), repeats)
    size = sum(p.stat().st_size for p in pack.folder.iterdir())
    return {"pack_build_s": round(build_s, 1), "pack_bytes_on_disk": size,
            "official_files_open_s": baseline["open_s"], "pack_open_s": packed["open_s"],
            "ratio_open_s": round(packed["open_s"] / baseline["open_s"], 3),
            "official_files_peak_mb": baseline["peak_mb"], "pack_peak_mb": packed["peak_mb"],
            "lsoas_matched": packed["matched"]}


def eligibility_figures(repeats: int) -> dict:
    """What-if speed on IoD2019's 317 districts: the NRF 2001 rule (six measures over three domains) evaluated,
    against the MHCLG summaries of those three domains alone (baseline)."""
    from geo.catalogue import measures
    from geo.derive.eligibility import evaluate_rule, presets
    from geo.derive.summaries import district_figures
    from geo.link.layers import measure_frame, prepare_table

    ind = prepare_table(pd.read_csv(SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"))
    frames = {m["id"]: measure_frame(ind, m["id"]) for m in measures()}
    rule = next(r for name, r in presets().items() if name.startswith("NRF"))
    domains = sorted({c.domain for c in rule.conditions})
    base, _ = timed(lambda: [district_figures(frames[d], 32844) for d in domains], repeats * 3)
    rule_s, result = timed(lambda: evaluate_rule(rule, frames, 32844), repeats * 3)
    return {"districts": len(result.table), "eligible": int(result.table["eligible"].sum()),
            "summaries_only_ms": round(base * 1000, 1), "evaluate_rule_ms": round(rule_s * 1000, 1),
            "ratio": round(rule_s / base, 2)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "latest.json"))
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-packs", action="store_true", help="skip building and opening the IoD2019 pack")
    args = parser.parse_args()
    if not (SHARED / "indicators" / "iod2019").is_dir():
        print(f"bench: real data not found at {SHARED}; set ATLAS_SHARED_DATA", file=sys.stderr)
        return 2
    import tempfile

    workdir = Path(tempfile.mkdtemp(prefix="atlas-bench-"))
    server = Server(workdir)
    cases = load_cases()
    results = []
    for case, spec in cases.items():
        row = {"case": case, "features": len(spec[0])}
        for label, builder in (("naive", naive_page), ("atlas", atlas_page)):
            seconds, page = timed(lambda builder=builder, spec=spec: builder(*spec), args.repeats)
            raw = page.encode()
            name = f"{label}-{len(results)}.html"
            (workdir / name).write_bytes(raw)
            row[f"{label}_build_s"] = round(seconds, 3)
            row[f"{label}_html_bytes"] = len(raw)
            row[f"{label}_gzip_bytes"] = len(gzip.compress(raw, 6))
            if not args.no_browser and Path(CHROMIUM).exists():
                row[f"{label}_paint_s"] = round(paint_times(f"{server.url}/{name}", len(spec[0]), args.repeats), 3)
        row["atlas_offline_export_bytes"] = len(atlas_page(*spec, inline=True).encode())
        for key in ("build_s", "html_bytes", "gzip_bytes", "paint_s"):
            if f"atlas_{key}" in row:
                row[f"ratio_{key}"] = round(row[f"atlas_{key}"] / row[f"naive_{key}"], 3)
        results.append(row)
    server.httpd.shutdown()
    packs = None if args.no_packs else pack_figures(args.repeats)
    eligibility = eligibility_figures(args.repeats)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"maps": results, "pack": packs, "eligibility": eligibility}, indent=2))
    frame = pd.DataFrame(results).set_index("case").T
    print(frame.to_string())
    if packs:
        print("\nIoD2019 pack (open = read LSOA boundaries + File 7, recognise, join; fresh process each time):")
        for key, value in packs.items():
            print(f"  {key:24} {value}")
    print("\nWhat-if eligibility on IoD2019 (NRF 2001 preset; baseline = its domains' district summaries alone):")
    for key, value in eligibility.items():
        print(f"  {key:24} {value}")
    print(f"\n(medians of {args.repeats}; ratio = atlas / naive, below 1 is better; written to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
