"""Benchmark: national maps at interactive speed (`make bench` runs it after bench/run.py).

Cases, each beside naive folium on the same data in the same run where naive can run at all:

* national districts (317, BUC) and Birmingham's 639 LSOAs: warm server time, bytes, paint;
* national neighbourhoods (all 32,844 LSOAs 2011, BSC): server time cold (empty geometry store,
  fresh process), cold with the store on disk (fresh process), and warm; bytes over the wire
  (gzipped, as Streamlit's static route sends them); paint time in headless Chromium; redraw
  times for zoom and pan;
* the real app through a byte-counting loopback proxy: first load of the national map, then a
  change of measure and a change of classification (repaint time, bytes, geometry not resent),
  and the server's resident memory as browser sessions come and go;
* growth on synthetic Voronoi coverages of 10k, 33k, 100k and 200k polygons.

Medians of --repeats. Nothing here asserts a time: it prints a table and writes JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import geopandas as gpd  # noqa: E402
import numpy as np  # noqa: E402
import shapely  # noqa: E402

from bench.load import memory_mb, start_app, stop_app  # noqa: E402
from bench.run import naive_page, timed  # noqa: E402
from geo.load.assets import atlas_text, leaflet_dir  # noqa: E402
from geo.present.classify import classify_values  # noqa: E402
from geo.load.io import read_boundaries, read_table  # noqa: E402
from geo.link.join import join_indicators  # noqa: E402
from geo.present.mapping import MapSpec, build_choropleth, prepare_map  # noqa: E402
from geo.link.layers import district_summaries, prepare_table  # noqa: E402

SHARED = Path(os.environ.get("ATLAS_SHARED_DATA", ROOT.parent / "shared" / "data"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
GEOMETRY_URL = "/geometry"


# ------------------------------------------------------------------ data

def load_layers() -> dict[str, tuple]:
    """(layer, spec, deciles column) for the real cases."""
    ind = prepare_table(read_table(SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv"))
    lad, _ = join_indicators(read_boundaries(SHARED / "boundaries" / "lad19_england_buc.gpkg"),
                             district_summaries(ind, "imd"), indicator_code="district_code")
    lsoa, _ = join_indicators(read_boundaries(SHARED / "boundaries" / "lsoa11_england_bsc.gpkg"), ind.frame,
                              indicator_code="lsoa11cd")
    tips = (("Rank", "imd_rank"), ("Decile", "imd_decile"))
    lsoa_spec = MapSpec("imd_score", "IMD score", "lsoa11_name", "lsoa11_code", tooltip_columns=tips)
    # 2021 boundaries are not in ../shared/data: the test fixture builds 33,755 LSOA 2021 polygons from the
    # 2011 ones with the real ONS lookup (splits as strips, merges as unions), with SYNTHETIC values.
    from tests.iod2025_fixture import iod2025_fixture

    fx = iod2025_fixture()
    lsoa21 = fx["lsoa21"].merge(fx["table"][["lsoa21cd", "imd_score", "imd_rank", "imd_decile"]],
                                left_on="LSOA21CD", right_on="lsoa21cd", how="left")
    spec21 = MapSpec("imd_score", "IMD score (synthetic)", "LSOA21NM", "LSOA21CD", tooltip_columns=tips)
    return {
        "national districts (317)": (lad, MapSpec("average_score", "Average score", "ltla19_name", "ltla19_code"), None),
        "Birmingham LSOAs (639)": (lsoa[lsoa["lad19cd"] == "E08000025"].copy(), lsoa_spec, "imd_decile"),
        "national LSOAs (32,844)": (lsoa, lsoa_spec, "imd_decile"),
        "LSOA 2021-shaped (33,755)": (lsoa21, spec21, "imd_decile"),
    }


def voronoi_coverage(n: int, seed: int = 7) -> gpd.GeoDataFrame:
    """A gap-free coverage of about `n` polygons over England's extent (BNG), with a value per polygon."""
    rng = np.random.default_rng(seed)
    # Denser in the middle, like population: a mix of uniform and clustered points.
    pts = np.column_stack([rng.uniform(100_000, 650_000, n), rng.uniform(10_000, 650_000, n)])
    centres = rng.uniform([150_000, 50_000], [600_000, 600_000], (40, 2))
    k = n // 2
    pts[:k] = centres[rng.integers(0, 40, k)] + rng.normal(0, 20_000, (k, 2))
    frame = shapely.box(100_000, 10_000, 650_000, 650_000)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(pts), extend_to=frame))
    cells = shapely.intersection(cells, frame)
    cells = cells[~shapely.is_empty(cells)]
    gdf = gpd.GeoDataFrame({"code": [f"S{i:07d}" for i in range(len(cells))]}, geometry=cells, crs=27700)
    gdf["name"] = gdf["code"]
    gdf["value"] = rng.gamma(2.0, 10.0, len(gdf)).round(3)
    return gdf


# ------------------------------------------------------------------ serving and measuring pages

class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files gzipped when the browser asks (as Streamlit's /app/static route does); counts bytes sent."""

    sent = 0
    lock = threading.Lock()

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = Path(self.translate_path(self.path.split("?", 1)[0]))
        if not path.is_file():
            self.send_error(404)
            return
        body = path.read_bytes()
        gz = "gzip" in self.headers.get("Accept-Encoding", "")
        if gz:
            body = gzip.compress(body, 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(str(path)))
        self.send_header("Content-Length", str(len(body)))
        if gz:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        self.wfile.write(body)
        with GzipHandler.lock:
            GzipHandler.sent += len(body)


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    (folder / "leaflet").mkdir(parents=True, exist_ok=True)
    for name in ("leaflet.js", "leaflet.css"):
        (folder / "leaflet" / name).write_bytes((leaflet_dir() / name).read_bytes())
    for name in ("atlas-map.js", "atlas-coverage.js", "atlas-map.css"):
        (folder / "leaflet" / name).write_text(atlas_text(name), encoding="utf-8")

    def handler(*a, **k):
        return GzipHandler(*a, directory=str(folder), **k)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"


def launch(p):
    return p.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def page_paint(browser, url: str, ready: str) -> tuple[float, int, dict | None]:
    """Seconds from navigation to `ready` being true, and bytes the server sent for it (fresh cache)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    # Offline, as at a conference: naive folium's CDN links fail fast instead of hanging.
    context.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
    page = context.new_page()
    before = GzipHandler.sent
    start = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.wait_for_function(ready, timeout=600_000, polling=20)
    seconds = time.perf_counter() - start
    page.wait_for_load_state("networkidle")
    sent = GzipHandler.sent - before
    redraw = None
    if "atlasPainted" in ready:
        redraw = page.evaluate("""() => { const l = window.atlasLayer, m = l._map, out = {};
            const c = m.getCenter(), z = m.getZoom();
            for (const [name, fn] of [['zoom_in', () => m.setZoom(z + 2, {animate: false})],
                                      ['pan', () => m.panBy([300, 150], {animate: false})],
                                      ['zoom_out', () => m.setView(c, z, {animate: false})]]) {
                const t = performance.now(); fn(); l._update(); out[name] = performance.now() - t; }
            return out; }""")
    context.close()
    return seconds, sent, redraw


# ------------------------------------------------------------------ server-side timings

_COLD = """
import sys, time, json
sys.path.insert(0, {root!r})
import geopandas as gpd
from pathlib import Path
from geo.present.classify import classify_values
from geo.present.mapping import MapSpec, build_choropleth, prepare_map
layer = gpd.read_parquet({layer!r})
spec = MapSpec(**json.loads({spec!r}))
start = time.perf_counter()
cls = classify_values(layer[spec.value_column], {scheme!r}, 10, deciles=layer[{deciles!r}] if {deciles!r} else None)
m = build_choropleth(layer, spec, cls, prepared=prepare_map(layer, spec, Path({store!r})))
html = m.get_root().render()
print(json.dumps({{"seconds": time.perf_counter() - start, "html": len(html)}}))
"""


def cold_build(layer: gpd.GeoDataFrame, spec: MapSpec, deciles: str | None, store: Path, workdir: Path) -> float:
    """Seconds to classify, build and render the map in a fresh process (imports and data reading excluded)."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / "layer.parquet"
    if not path.exists():
        layer.to_parquet(path)
    spec_json = json.dumps({"value_column": spec.value_column, "value_label": spec.value_label,
                            "name_column": spec.name_column, "code_column": spec.code_column,
                            "tooltip_columns": [list(t) for t in spec.tooltip_columns]})
    code = _COLD.format(root=str(ROOT), layer=str(path), spec=spec_json, store=str(store), deciles=deciles,
                        scheme="national_deciles" if deciles else "quantiles")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def atlas_build(layer, spec, deciles, store: Path) -> str:
    cls = classify_values(layer[spec.value_column], "national_deciles" if deciles else "quantiles", 10 if deciles else 5,
                          deciles=layer[deciles] if deciles else None)
    prepared = prepare_map(layer, spec, store)  # found again by content once prepared (as in the app)
    m = build_choropleth(layer, spec, cls, asset_base="/leaflet", prepared=prepared, geometry_url=GEOMETRY_URL)
    return m.get_root().render()


def map_case(name: str, layer, spec, deciles, workdir: Path, url: str, browser, repeats: int,
             naive: bool = True) -> dict:
    store = workdir / "geometry"
    row: dict = {"case": name, "features": len(layer),
                 "vertices": int(shapely.get_num_coordinates(layer.geometry.values).sum())}
    canvas = len(layer) >= 2000
    if canvas:
        empty = Path(tempfile.mkdtemp(prefix="atlas-cold-", dir=workdir))
        row["atlas_cold_s"] = round(cold_build(layer, spec, deciles, empty, workdir / f"{len(layer)}"), 2)
        row["atlas_cold_cached_s"] = round(cold_build(layer, spec, deciles, empty, workdir / f"{len(layer)}"), 2)
    atlas_build(layer, spec, deciles, store)  # prepare once, as the first request would
    seconds, page = timed(lambda: atlas_build(layer, spec, deciles, store), repeats)
    row["atlas_warm_s"] = round(seconds, 3)
    file = f"atlas-{abs(hash(name))}.html"
    (workdir / file).write_text(page, encoding="utf-8")
    row["atlas_html_bytes"] = len(page.encode())
    ready = ("window.atlasPainted >= 1" if canvas
             else f"document.querySelectorAll('path.leaflet-interactive').length >= {len(layer)}")
    paints = [page_paint(browser, f"{url}/{file}", ready) for _ in range(repeats)] if browser else []
    if paints:
        row["atlas_paint_s"] = round(statistics.median(p[0] for p in paints), 2)
        row["atlas_wire_bytes"] = paints[0][1]
        if paints[0][2]:
            row["redraw_ms"] = {k: round(statistics.median(p[2][k] for p in paints)) for k in paints[0][2]}
    if naive:
        n_repeats = 1 if len(layer) > 5000 else repeats
        cls_args = (layer, spec.value_column, spec.name_column, spec.code_column, deciles)
        seconds, page = timed(lambda: naive_page(*cls_args), n_repeats)
        row["naive_build_s"] = round(seconds, 2)
        nfile = f"naive-{abs(hash(name))}.html"
        (workdir / nfile).write_text(page, encoding="utf-8")
        row["naive_html_bytes"] = len(page.encode())
        if browser:
            p = page_paint(browser, f"{url}/{nfile}",
                           f"document.querySelectorAll('path.leaflet-interactive').length >= {len(layer)}")
            row["naive_paint_s"] = round(p[0], 2)
            row["naive_wire_bytes"] = p[1]
        for key, naive_key in (("atlas_warm_s", "naive_build_s"), ("atlas_paint_s", "naive_paint_s"),
                               ("atlas_wire_bytes", "naive_wire_bytes")):
            if key in row and naive_key in row and row[key]:
                row[f"naive/atlas {key.split('_', 1)[1]}"] = round(row[naive_key] / row[key], 1)
    return row


# ------------------------------------------------------------------ the real app through a counting proxy

class CountingProxy:
    """A loopback TCP proxy that counts the bytes the server sends to the browser."""

    def __init__(self, target_port: int) -> None:
        self.target_port, self.down, self.up = target_port, 0, 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        threading.Thread(target=self._run, args=(ready,), daemon=True).start()
        ready.wait(10)

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader, writer, down: bool) -> None:
        try:
            while data := await reader.read(65536):
                if down:
                    self.down += len(data)
                else:
                    self.up += len(data)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader, writer) -> None:
        r2, w2 = await asyncio.open_connection("127.0.0.1", self.target_port)
        await asyncio.gather(self._pipe(reader, w2, False), self._pipe(r2, writer, True))


def rss_mb(pid: int) -> float:
    return round(memory_mb(pid).get("VmRSS", 0.0), 1)


def app_case(browser, repeats: int) -> dict:
    """The real app on the IoD2019 pack: first national map, change of measure, of classes; memory per session."""
    from geo.load.packs import fetch_release
    from tests.iod2025_fixture import serve_iod2019
    from tests.mirror import Mirror

    packs = Path(tempfile.mkdtemp(prefix="atlas-bench-national-"))
    with Mirror() as mirror:
        serve_iod2019(mirror)
        fetch_release("iod2019", packs, mirror=mirror.url)
    proc, app_url = start_app(packs / "streamlit.log", packs, watch_files=False)  # the load test's launcher
    out: dict = {}
    try:
        out["server_rss_idle_mb"] = rss_mb(proc.pid)
        proxy = CountingProxy(int(app_url.rsplit(":", 1)[1]))
        url = f"http://127.0.0.1:{proxy.port}/?data=iod2019"

        def frame_of(page):
            for frame in page.frames:
                try:
                    if frame.evaluate("!!(window.atlasLayer && window.atlasLayer.count && window.atlasPainted > 0)"):
                        return frame
                except Exception:  # noqa: BLE001 — frames come and go while Streamlit reruns
                    pass
            return None

        def wait_frame(page, other=None, timeout=300):
            end = time.monotonic() + timeout
            while time.monotonic() < end:
                f = frame_of(page)
                if f is not None and f != other:
                    return f
                time.sleep(0.02)
            raise RuntimeError("map did not paint")

        def select(page, label, option):
            box = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=label, exact=True)
            box.click()
            page.get_by_role("option", name=option, exact=True).click()

        firsts, changes, classes_ = [], [], []
        for run in range(repeats):
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            geometry = []
            page.on("response", lambda r, g=geometry: g.append(r.url) if "/app/static/geometry/" in r.url
                    and "/v-" not in r.url else None)
            down = proxy.down
            start = time.perf_counter()
            page.goto(url, wait_until="commit")
            frame = wait_frame(page)
            firsts.append({"s": time.perf_counter() - start, "bytes": proxy.down - down})
            time.sleep(1.0)
            for label, option, sink in (("Measure", "Income", changes), ("Classification", "Quantiles", classes_)):
                down, n_geometry = proxy.down, len(geometry)
                start = time.perf_counter()
                select(page, label, option)
                frame = wait_frame(page, other=frame)
                sink.append({"s": time.perf_counter() - start, "bytes": proxy.down - down,
                             "geometry_refetched": len(geometry) - n_geometry})
                time.sleep(1.0)
            if run == 0:
                out["server_rss_one_session_mb"] = rss_mb(proc.pid)
            context.close()
        out["first_paint_s"] = round(statistics.median(f["s"] for f in firsts), 2)
        out["first_load_bytes"] = int(statistics.median(f["bytes"] for f in firsts))
        for name, rows in (("measure_change", changes), ("classes_change", classes_)):
            out[f"{name}_s"] = round(statistics.median(r["s"] for r in rows), 2)
            out[f"{name}_bytes"] = int(statistics.median(r["bytes"] for r in rows))
            out[f"{name}_share_of_first_load"] = round(out[f"{name}_bytes"] / out["first_load_bytes"], 3)
            out[f"{name}_geometry_refetched"] = max(r["geometry_refetched"] for r in rows)
        # Memory as sessions come and go: 6 concurrent sessions on the national map, then all closed.
        contexts = []
        for _ in range(6):
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})
            pg = ctx.new_page()
            pg.goto(url, wait_until="commit")
            wait_frame(pg)
            contexts.append(ctx)
        out["server_rss_six_sessions_mb"] = rss_mb(proc.pid)
        out["per_extra_session_mb"] = round((out["server_rss_six_sessions_mb"] - out["server_rss_one_session_mb"]) / 5, 1)
        for ctx in contexts:
            ctx.close()
        time.sleep(5)
        out["server_rss_after_close_mb"] = rss_mb(proc.pid)
    finally:
        stop_app(proc)
    return out



# ------------------------------------------------------------------ switching: the live frame against the old path

SWITCH_PORTS = {"live": 8862, "folium": 8863}  # this worktree's ports (8860-8879)
SWITCHES = (("measure", "Measure"), ("scheme", "Classification"), ("palette", "Colours (colour-blind safe)"))
# The map box's least opacity (itself and every ancestor) seen on any animation frame until sampling stops:
# Streamlit fades stale elements during a rerun ("greys out").
_SAMPLE_OPACITY = """() => { window.__minOpacity = 1; window.__sampling = true;
    (function loop() { const e = document.querySelector('.st-key-atlas_map_box');
        if (e) { let o = 1; for (let n = e; n && n.nodeType === 1; n = n.parentElement) { o *= +getComputedStyle(n).opacity; }
                 window.__minOpacity = Math.min(window.__minOpacity, o); }
        if (window.__sampling) { requestAnimationFrame(loop); } })(); }"""
_STYLE_KEY = """() => { const l = window.atlasLayer; if (!(l && l.count && l.count() > 0 && window.atlasPainted > 0)) return null;
    return JSON.stringify([l.o.classes.length, l.o.classes.slice(0, 4000), l.o.colours]); }"""


def start_switch_app(frame_kind: str, packs_dir: Path, log_path: Path, cwd: Path = ROOT) -> tuple[subprocess.Popen, str]:
    """The app with ATLAS_MAP_FRAME=`frame_kind` on its own port; (process, URL) once healthy."""
    from bench.load import _die_with_parent, healthy

    port = SWITCH_PORTS[frame_kind]
    env = {k: v for k, v in os.environ.items() if k != "ATLAS_DATA_DIRS"}
    env.update(ATLAS_PACKS_DIR=str(packs_dir), ATLAS_MAP_FRAME=frame_kind)
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--server.fileWatcherType", "none"], cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
        preexec_fn=_die_with_parent)
    proc.log = log  # type: ignore[attr-defined]
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while not healthy(url):
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_app(proc)
            raise RuntimeError(f"the {frame_kind} app did not start; log: {log_path}")
        time.sleep(0.2)
    return proc, url


def _map_frame(page, before_key: str | None = None, timeout: float = 120):
    """(frame, style key) of the painted national map, once its style differs from `before_key`."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for frame in page.frames:
            try:
                key = frame.evaluate(_STYLE_KEY)
            except Exception:  # noqa: BLE001 — frames come and go while Streamlit reruns
                continue
            if key is not None and key != before_key:
                return frame, key
        time.sleep(0.005)
    raise RuntimeError("the map did not repaint")


def _options(page, label: str) -> tuple[str, list[str]]:
    box = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=label, exact=True)
    current = box.input_value()
    for _ in range(5):  # a selectbox low in the sidebar may need scrolling to and a second click
        box.scroll_into_view_if_needed()
        box.click()
        try:
            page.locator('[role="listbox"]').wait_for(state="attached", timeout=2_000)
            break
        except Exception:  # noqa: BLE001
            page.keyboard.press("Escape")
    time.sleep(0.3)
    names = [t.strip() for t in page.get_by_role("option").all_inner_texts()]
    page.keyboard.press("Escape")
    return current, names


def switch_case(browser, url: str, repeats: int = 5) -> dict:
    """Click-to-repaint, websocket bytes and frame survival for changes of measure, scheme and palette on the
    national LSOA map (the app at `url`). Times from the option's click (page clock) to the map's paint (its
    frame's clock, both as epoch ms), and as seen from here; bytes: CDP webSocketFrameReceived payloads
    (decompressed protobuf) and, through a counting proxy, on the wire (permessage-deflate)."""
    proxy = CountingProxy(int(url.rsplit(":", 1)[1]))
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    ws_bytes = [0]

    def frame_received(params) -> None:
        response = params.get("response", {})
        data = response.get("payloadData", "")
        ws_bytes[0] += len(data) * 3 // 4 if response.get("opcode") == 2 else len(data.encode())

    cdp.on("Network.webSocketFrameReceived", frame_received)
    pw_bytes = [0]  # the same frames as Playwright sees them (its own CDP listener), as a cross-check
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: pw_bytes.__setitem__(
        0, pw_bytes[0] + (len(payload) if isinstance(payload, bytes) else len(payload.encode())))))
    page.add_init_script("document.addEventListener('click', () => { window.__clickAt = performance.timeOrigin"
                         " + performance.now(); }, true);")
    page.goto(f"http://127.0.0.1:{proxy.port}/?data=iod2019", wait_until="commit")
    frame, key = _map_frame(page)
    time.sleep(2.0)  # the first load's stragglers (fonts, the values file) out of the way
    out: dict = {}
    for name, label in SWITCHES:
        current, names = _options(page, label)
        # Each change to an option not shown before in this session where there are enough: Streamlit's client
        # keeps large messages it has seen (by hash), so going back to one costs only a reference.
        others = [n for n in names if n != current] or [current]
        rows = []
        for i in range(repeats):
            option = others[i % len(others)] if i < len(others) or i % 2 == 0 else current
            marker = f"bench-{name}-{i}"
            try:
                frame.evaluate(f"window.__benchMarker = {marker!r}")
            except Exception:  # noqa: BLE001
                frame, key = _map_frame(page)
                frame.evaluate(f"window.__benchMarker = {marker!r}")
            element = frame.frame_element()
            ws0, wire0, pw0 = ws_bytes[0], proxy.down, pw_bytes[0]
            box = page.locator('[data-testid="stSidebar"]').get_by_role("combobox", name=label, exact=True)
            box.click()
            start = time.perf_counter()
            page.evaluate(_SAMPLE_OPACITY)
            page.get_by_role("option", name=option, exact=True).click()
            frame, key = _map_frame(page, key)
            seen = time.perf_counter() - start
            painted_at = frame.evaluate("performance.timeOrigin + window.atlasPaintedAt")
            args_at = frame.evaluate("window.atlasRenderAt ? performance.timeOrigin + window.atlasRenderAt : null")
            clicked_at = page.evaluate("window.__clickAt")
            kept = frame.evaluate("window.__benchMarker || null") == marker
            same_element = frame.frame_element().evaluate("(e, old) => e === old", element)
            page.wait_for_function("() => { const s = document.querySelector('[data-test-script-state]');"
                                   " return !s || s.getAttribute('data-test-script-state') !== 'running'; }",
                                   timeout=60_000)
            time.sleep(0.8)  # the rerun's last messages arrive
            faded = page.evaluate("() => { window.__sampling = false; return window.__minOpacity; }")
            rows.append({"option": option, "s": (painted_at - clicked_at) / 1000, "seen_s": seen,
                         "ws_bytes": ws_bytes[0] - ws0,
                         "pw_ws_bytes": pw_bytes[0] - pw0,
                         "args_s": (args_at - clicked_at) / 1000 if args_at else None,
                         "wire_bytes": proxy.down - wire0, "frame_kept": kept and same_element,
                         "min_opacity": faded})
        times = sorted(r["s"] for r in rows)
        out[name] = {"p50_s": round(statistics.median(times), 3), "max_s": round(times[-1], 3),
                     "seen_p50_s": round(statistics.median(r["seen_s"] for r in rows), 3),
                     "ws_bytes_p50": int(statistics.median(r["ws_bytes"] for r in rows)),
                     "wire_bytes_p50": int(statistics.median(r["wire_bytes"] for r in rows)),
                     "pw_ws_bytes_p50": int(statistics.median(r["pw_ws_bytes"] for r in rows)),
                     "args_arrive_p50_s": (round(statistics.median(r["args_s"] for r in rows), 3)
                                           if all(r["args_s"] is not None for r in rows) else None),
                     "frame_kept": sum(r["frame_kept"] for r in rows), "changes": len(rows),
                     "min_map_opacity": round(min(r["min_opacity"] for r in rows), 2),
                     "by_option": [[r["option"], round(r["s"], 3)] for r in rows]}
    context.close()
    return out


def switching(browser, packs_dir: Path, repeats: int, workdir: Path) -> dict:
    """switch_case for the live frame and for the old path (ATLAS_MAP_FRAME=folium), in the same run; ratios."""
    result: dict = {}
    for kind in ("folium", "live"):
        proc, url = start_switch_app(kind, packs_dir, workdir / f"switch-{kind}.log")
        try:
            result[kind] = switch_case(browser, url, repeats)
        finally:
            stop_app(proc)
        print(json.dumps({kind: result[kind]}), flush=True)
    for name, _ in SWITCHES:
        old, new = result["folium"][name], result["live"][name]
        result[f"{name} old/live"] = {"p50": round(old["p50_s"] / new["p50_s"], 1) if new["p50_s"] else None,
                                      "ws_bytes": round(old["ws_bytes_p50"] / max(1, new["ws_bytes_p50"]), 1)}
    return result


def switch_packs(given: str) -> Path:
    """A packs folder holding iod2019: the one given, else one built through the loopback mirror."""
    if given and (Path(given) / "iod2019").is_dir():
        return Path(given)
    from geo.load.packs import fetch_release
    from tests.iod2025_fixture import serve_iod2019
    from tests.mirror import Mirror

    packs = Path(tempfile.mkdtemp(prefix="atlas-bench-switch-"))
    with Mirror() as mirror:
        serve_iod2019(mirror)
        fetch_release("iod2019", packs, mirror=mirror.url)
    return packs


def print_switching(switch: dict) -> None:
    print("\nSwitching on the national LSOA map (32,844 areas): the old path (folium page re-sent) against the live "
          "frame, same run:")
    print(f"  {'change':10} {'path':7} {'p50 s':>7} {'max s':>7} {'seen s':>7} {'ws bytes':>9} {'wire bytes':>10} "
          f"{'frame kept':>10}")
    for name, _ in SWITCHES:
        for kind in ("folium", "live"):
            r = switch[kind][name]
            print(f"  {name:10} {kind:7} {r['p50_s']:7.3f} {r['max_s']:7.3f} {r['seen_p50_s']:7.3f} "
                  f"{r['ws_bytes_p50']:9,} {r['wire_bytes_p50']:10,} {r['frame_kept']:>4}/{r['changes']}")
        ratio = switch[f"{name} old/live"]
        print(f"  {name:10} {'old/live':7} {ratio['p50']:>7}x {'':7} {'':7} {ratio['ws_bytes']:>8}x")
    print("  least opacity of the map box during the reruns (1 = never greyed out): "
          + ", ".join(f"{kind} {name} {switch[kind][name]['min_map_opacity']}" for kind in ("folium", "live")
                      for name, _ in SWITCHES))
    for name, _ in SWITCHES:  # a scheme's first use computes it (k-means, Fisher-Jenks); later uses are remembered
        print(f"  live {name}, each change (option, s): "
              + ", ".join(f"{o} {t:.2f}" for o, t in switch["live"][name].get("by_option", [])))

# ------------------------------------------------------------------ main

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sizes", default="10000,33000,100000,200000")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "national.json"))
    parser.add_argument("--no-app", action="store_true", help="skip the real app through the counting proxy")
    parser.add_argument("--no-maps", action="store_true", help="skip the real-data map cases")
    parser.add_argument("--switch-only", action="store_true",
                        help="only the switching case (live frame against the old path) on --packs")
    parser.add_argument("--switch-repeats", type=int, default=5)
    parser.add_argument("--packs", default=os.environ.get("ATLAS_PACKS_DIR", ""),
                        help="packs folder with iod2019 for the switching case (default: one is built)")
    args = parser.parse_args()
    if not (SHARED / "indicators" / "iod2019").is_dir():
        print(f"bench: real data not found at {SHARED}; set ATLAS_SHARED_DATA", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="atlas-bench-national-"))
    if args.switch_only:
        with sync_playwright() as p:
            browser = launch(p)
            try:
                switch = switching(browser, switch_packs(args.packs), args.switch_repeats, workdir)
            finally:
                browser.close()
        print_switching(switch)
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).with_name("switching.json").write_text(json.dumps(switch, indent=2))
        return 0
    httpd, url = serve(workdir)
    rows, growth, app, switch = [], [], None, None
    with sync_playwright() as p:
        browser = launch(p) if Path(CHROMIUM).exists() else None
        for name, (layer, spec, deciles) in ({} if args.no_maps else load_layers()).items():
            rows.append(map_case(name, layer, spec, deciles, workdir, url, browser, args.repeats))
            print(json.dumps(rows[-1]), flush=True)
        for n in [int(s) for s in args.sizes.split(",") if s]:
            cov = voronoi_coverage(n)
            spec = MapSpec("value", "Value", "name", "code")
            row = map_case(f"synthetic {len(cov):,}", cov, spec, None, workdir, url, browser, 1 if n > 50_000 else
                           args.repeats, naive=n <= 10_000)
            growth.append(row)
            print(json.dumps(row), flush=True)
        if browser and not args.no_app:
            app = app_case(browser, args.repeats)
            print(json.dumps(app), flush=True)
            switch = switching(browser, switch_packs(args.packs), args.switch_repeats, workdir)
        if browser:
            browser.close()
    httpd.shutdown()
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"maps": rows, "growth": growth, "app": app, "switching": switch}, indent=2))
    import pandas as pd

    for title, table in (("National maps (atlas against naive folium, same data, same run):", rows),
                         ("Growth on synthetic coverages:", growth)):
        if table:
            print("\n" + title)
            print(pd.DataFrame(table).set_index("case").T.to_string())
    if app:
        print("\nThe real app on the IoD2019 pack, through a byte-counting proxy:")
        for key, value in app.items():
            print(f"  {key:40} {value}")
    if switch:
        print_switching(switch)
    print(f"\n(medians of {args.repeats}; written to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
