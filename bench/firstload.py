"""First map after navigation (#18 item 2): the national LSOA map of the IoD2019 pack, opened in headless Chromium
directly on a replica and through the team proxy (deploy/launch.py: Caddy, compression, geometry from disk with
immutable caching), each in a fresh browser context (empty cache) and then reloaded (warm cache). Reports the
time from navigation to the map painted and the bytes on the wire (CDP encodedDataLength), direct vs proxy in
the same run.

The time is the page's own: from the navigation's start (the page's performance.timeOrigin) to the map frame's
first paint (atlas-coverage.js sets window.atlasFirstPaintAt when its canvas is drawn), read after the fact, so
the poll that waits for it does not decide it. Timed loads carry no network instrumentation: on 2 cores,
recording every response and decoding every websocket message in this process delayed the page by about 0.4 s.
The bytes come from one more load of each kind with the recording on.

    .venv/bin/python bench/firstload.py [--packs DIR] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.teamload import deployment, packs_folder  # noqa: E402

QUERY = "?data=iod2019&view=lsoas&measure=imd"


def painted_at(page) -> float | None:
    """Seconds from the page's navigation to its map's first paint, by the page's clock; None until painted."""
    for frame in page.frames:
        try:
            first = frame.evaluate("() => window.atlasFirstPaintAt ? performance.timeOrigin + window.atlasFirstPaintAt"
                                   " : (window.atlasPainted > 0 || document.querySelectorAll("
                                   "'path.leaflet-interactive').length > 0 ? performance.now() + performance.timeOrigin"
                                   " : null)")
        except Exception:  # noqa: BLE001 — a frame going away
            continue
        if first:
            return round((first - page.evaluate("() => performance.timeOrigin")) / 1000, 3)
    return None


def open_once(page, url: str, net=None, reload: bool = False) -> dict:
    from tests.test_browser import wait_for
    from tests.test_deploy import pumped

    before = net.total_bytes() if net else 0
    if reload:
        page.reload(wait_until="commit")
    else:
        page.goto(url, wait_until="commit")
    wait_for(lambda: painted_at(page) is not None, 180, "the national map to paint", interval=0.1)
    seconds = painted_at(page)
    if net is None:
        return {"seconds": seconds}
    wait_for(pumped(page, net.settled), 60, "the page load to finish", interval=0.25)
    return {"seconds": seconds, "mb": round((net.total_bytes() - before) / 1e6, 3)}


def measure(browser, url: str, runs: int) -> dict:
    from tests.test_deploy import Network

    cold, warm = [], []
    for _ in range(runs):  # timed: nothing recorded but the page's own clock
        context = browser.new_context(viewport={"width": 1920, "height": 1080})
        page = context.new_page()
        cold.append(open_once(page, url))
        warm.append(open_once(page, url, reload=True))  # the same browser again: its cache holds the geometry
        context.close()
    context = browser.new_context(viewport={"width": 1920, "height": 1080})  # the bytes, recorded
    page = context.new_page()
    net = Network(context, page, cache=True)  # the browser's cache as a user's: a reload reuses it
    first, again = open_once(page, url, net), open_once(page, url, net, reload=True)
    context.close()
    pick = lambda rows: statistics.median(r["seconds"] for r in rows)  # noqa: E731
    return {"cold_s": pick(cold), "cold_worst_s": max(r["seconds"] for r in cold), "cold_mb": first["mb"],
            "warm_s": pick(warm), "warm_mb": again["mb"], "recorded_cold_s": first["seconds"], "runs": runs,
            "cold_all_s": [r["seconds"] for r in cold]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--packs")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path, default=ROOT / "bench" / "results" / "firstload.json")
    args = ap.parse_args(argv)
    if not shutil.which("caddy"):
        print("firstload: skipped — caddy is not installed")
        return 0
    from playwright.sync_api import sync_playwright

    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS

    with tempfile.TemporaryDirectory(prefix="atlas-firstload-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "packs").mkdir()
        packs = packs_folder(args.packs, tmp / "packs")
        if packs is None:
            print("firstload: skipped — no packs folder and no shared open data to build one")
            return 0
        env = {**os.environ, "ATLAS_PACKS_DIR": str(packs)}
        with deployment(1, packs, tmp / "run", env) as (proxy, state), sync_playwright() as p:
            replica = state["replicas"][0]["port"]
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            measure(browser, f"http://127.0.0.1:{replica}/{QUERY}", 1)  # warm the server: its caches
            rows = {"direct (replica)": measure(browser, f"http://127.0.0.1:{replica}/{QUERY}", args.runs),
                    "through the proxy": measure(browser, f"http://127.0.0.1:{proxy}/{QUERY}", args.runs)}
            browser.close()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(rows, indent=2) + "\n")
    base = rows["direct (replica)"]
    print(f"\nfirstload: national LSOA map (IoD2019), warm server, medians of {args.runs}")
    print(f"{'':22} {'first s':>8} {'worst s':>8} {'first MB':>9} {'reload s':>9} {'reload MB':>10} "
          f"{'s vs direct':>12} {'MB vs direct':>13}")
    for name, r in rows.items():
        print(f"{name:22} {r['cold_s']:>8.2f} {r['cold_worst_s']:>8.2f} {r['cold_mb']:>9.2f} {r['warm_s']:>9.2f} "
              f"{r['warm_mb']:>10.2f} {r['cold_s'] / base['cold_s']:>11.2f}× {r['cold_mb'] / base['cold_mb']:>12.2f}×")
    print("(first s: median; worst s: the slowest of the runs; by the page's clock, from navigation to the first "
          "paint of the map, with no network recording; the bytes from one more load each, recorded)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
