"""`make screenshots`: regenerate the screenshots in docs/screens/ from the real app on the IoD2019 pack.

The shots (tests/screens.py): the national LSOA map, a district's LSOAs, a comparison and a presenter step,
each at 1920×1080 and 1366×768, named `<shot>_<width>x<height>.png`; the layout figures of each (the map's
share of the viewport, above the fold, the smallest fonts) are printed and written beside them as
`figures.json`. The test suite never writes here (it writes only to tests/artifacts/).

Data: the IoD2019 pack in the packs folder ($ATLAS_PACKS_DIR, else packs/; `python -m geo fetch iod2019`
builds it); on a development machine with the shared open data, one is built into a temporary folder from
a loopback mirror of the official files when none is there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def packs_folder(tmp: Path) -> Path:
    from geo.load.packs import packs_dir

    packs = packs_dir()
    if (packs / "iod2019").is_dir():
        return packs
    from tests.iod2025_fixture import serve_iod2019, shared_data_available
    from tests.mirror import Mirror

    if not shared_data_available():
        sys.exit(f"No IoD2019 pack in {packs}: run `python -m geo fetch iod2019` first (or set ATLAS_PACKS_DIR).")
    from geo.load.packs import fetch_release

    print("Building an IoD2019 pack from a loopback mirror of the shared open data…", file=sys.stderr)
    with Mirror() as mirror:
        serve_iod2019(mirror)
        fetch_release("iod2019", tmp, mirror=mirror.url)
    return tmp


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "screens", help="folder for the PNGs (docs/screens)")
    ap.add_argument("--only", help="comma-separated shot names")
    args = ap.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from tests import screens
    from tests.test_browser import CHROMIUM, CHROMIUM_ARGS, running_app, wait_for, wait_idle

    args.out.mkdir(parents=True, exist_ok=True)
    wanted = set(args.only.split(",")) if args.only else None
    figures = {}
    with tempfile.TemporaryDirectory(prefix="atlas-shots-") as tmp:
        env = {"ATLAS_PACKS_DIR": str(packs_folder(Path(tmp)))}
        with running_app(env, log_path=Path(tmp) / "streamlit.log") as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            for width, height in screens.SIZES:
                context = browser.new_context(viewport={"width": width, "height": height})
                page = context.new_page()
                for shot in screens.shots():
                    if wanted and shot.name not in wanted:
                        continue
                    page.goto(f"{url}/?{shot.query}", wait_until="domcontentloaded")
                    wait_idle(page, 180)
                    wait_for(lambda page=page, n=shot.maps: len(screens.drawn_frames(page)) >= n, 180, f"the map of {shot.name}")
                    wait_idle(page, 180)
                    page.wait_for_timeout(800)  # fonts and the last paint
                    frame = screens.drawn_frames(page)[0]
                    path = args.out / f"{shot.name}_{width}x{height}.png"
                    page.screenshot(path=str(path))
                    figures[path.name] = screens.measure(page, frame)
                    f = figures[path.name]
                    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: map "
                          f"{f['map_w']}×{f['map_h']} px ({f['width_share']:.1%} of the width), bottom "
                          f"{f['map_bottom']} px (legend {f['legend_bottom']}), fonts ≥ {f['page_font']} px page, "
                          f"{f['map_font']} px map")
                context.close()
            browser.close()
    (args.out / "figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("CHROMIUM", "/usr/bin/chromium")
    raise SystemExit(main())
