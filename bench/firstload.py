"""First map after navigation (#18 item 2): the national LSOA map of the IoD2019 pack, opened in headless Chromium
directly on a replica and through the team proxy (deploy/launch.py: Caddy, compression, geometry from disk with
immutable caching), each in a fresh browser context (empty cache) and then reloaded (warm cache). Reports the
time from navigation to the map painted and the bytes on the wire (CDP encodedDataLength), direct vs proxy in
the same run.

The time is the page's own: from the navigation's start (the page's performance.timeOrigin) to the map frame's
first paint on screen (atlas-coverage.js sets window.atlasFirstPaintAt at the start of the frame after its
canvas's first draw), read after the fact, so the poll that waits for it does not decide it. Timed loads record
nothing on the network (the recording shares the page's 2 cores); the bytes come from one more load of each kind
with the recording on.

    .venv/bin/python bench/firstload.py [--packs DIR] [--runs 3] [--baseline ../other-checkout]

With --baseline, the other checkout's own deployment (its launcher, app and .venv) is measured the same way in
the same run, before this one, and the table gives this checkout's figures as ratios of it.
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
# The map frame's first paint on the page's clock. A checkout from before atlasFirstPaintAt (a baseline) has only
# the time of its latest paint, the same on a first view that paints once; an SVG map, the poll's own time.
FIRST_PAINT = """() => {
  const at = window.atlasFirstPaintAt || (window.atlasPainted > 0 && window.atlasPaintedAt) ||
    (document.querySelectorAll('path.leaflet-interactive').length > 0 && performance.now());
  return at ? performance.timeOrigin + at : null;
}"""


def painted_at(page) -> float | None:
    """Seconds from the page's navigation to its map's first paint, by the page's clock; None until painted."""
    for frame in page.frames:
        try:
            first = frame.evaluate(FIRST_PAINT)
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
    ap.add_argument("--baseline", help="another checkout (with its .venv) to measure the same way, as the baseline")
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
        checkouts = {"baseline": Path(args.baseline).resolve()} if args.baseline else {}
        checkouts["this"] = ROOT
        found = {}
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for name, root in checkouts.items():
                with deployment(1, packs, tmp / f"run-{name}", env, root=root) as (proxy, state):
                    replica = state["replicas"][0]["port"]
                    measure(browser, f"http://127.0.0.1:{replica}/{QUERY}", 1)  # warm the server: its caches
                    found[name] = {
                        "direct (replica)": measure(browser, f"http://127.0.0.1:{replica}/{QUERY}", args.runs),
                        "through the proxy": measure(browser, f"http://127.0.0.1:{proxy}/{QUERY}", args.runs)}
            browser.close()
    rows = found["this"]
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({**rows, "baseline": found.get("baseline"),
                                     "baseline_checkout": args.baseline}, indent=2) + "\n")
    print(f"\nfirstload: national LSOA map (IoD2019), warm server, medians of {args.runs}")
    print(f"{'':32} {'first s':>8} {'worst s':>8} {'first MB':>9} {'reload s':>9} {'reload MB':>10} "
          f"{'s vs base':>10} {'MB vs base':>11}")
    for path in ("direct (replica)", "through the proxy"):
        for name in checkouts:
            r = found[name][path]
            base = found["baseline"][path] if "baseline" in found else found["this"]["direct (replica)"]
            print(f"{path + ', ' + name:32} {r['cold_s']:>8.2f} {r['cold_worst_s']:>8.2f} {r['cold_mb']:>9.2f} "
                  f"{r['warm_s']:>9.2f} {r['warm_mb']:>10.2f} {r['cold_s'] / base['cold_s']:>9.2f}× "
                  f"{r['cold_mb'] / base['cold_mb']:>10.2f}×")
    print("(vs base: against the baseline checkout's same path, else against this checkout's direct path)")
    print("(first s: median; worst s: the slowest of the runs; by the page's clock, from navigation to the first "
          "paint of the map, with no network recording; the bytes from one more load each, recorded)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
