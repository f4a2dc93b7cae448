"""The live map's own life cycle in headless Chromium, without the app: AtlasMap.live on a page of its own (the
atlas' scripts and Leaflet as install_static lays them out), for what only a browser shows.

A map rebuilt for another layer (ctl.dispose) must leave nothing running: Leaflet's remove() keeps the map's own
listeners and the 'moveend' that a resize schedules 200 ms later, and that moveend once redrew the district names
into the removed map's panes — an uncaught TypeError on leaving presenter mode (CI, stop 20)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.load.assets import install_static
from geo.present.classify import classify_values
from geo.present.mapping import MapSpec, map_parts, prepare_map
from tests import cases
from tests.test_browser import CHROMIUM, browser  # noqa: F401 — the module's Chromium, used by name

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")]


def _page(tmp_path: Path, browser):  # noqa: F811
    static = tmp_path / "static"
    install_static(static)
    gdf = cases.squares(4)
    gdf["code"] = ["E01000001", "E01000002", "E01000003", "E01000004"]
    gdf["lad"] = ["E06000001", "E06000001", "E08000012", "E08000012"]
    gdf["lad_name"] = ["Hartlepool", "Hartlepool", "Liverpool", "Liverpool"]
    gdf["v"] = [1.0, 2.0, 3.0, 4.0]
    spec = MapSpec("v", "V", "name", "code", district_column="lad", district_name_column="lad_name")
    parts = map_parts(gdf, spec, classify_values(gdf["v"], "quantiles", 2),
                      prepared=prepare_map(gdf, spec, None, canvas=False), canvas=False)
    base = {**parts.base, "labelZoom": 0}  # the district names shown at every zoom
    page_file = tmp_path / "live.html"
    page_file.write_text(f"""<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="{(static / 'vendor/leaflet/leaflet.css').as_uri()}">
<script src="{(static / 'vendor/leaflet/leaflet.js').as_uri()}"></script>
<script src="{(static / 'atlas/atlas-map.js').as_uri()}"></script>
<script src="{(static / 'atlas/atlas-coverage.js').as_uri()}"></script></head>
<body><div id="map" style="width: 640px; height: 420px"></div>
<script>window.BASE = {json.dumps(base)}; window.STYLE = {json.dumps(parts.style)};</script></body></html>""",
                         encoding="utf-8")
    context = browser.new_context(viewport={"width": 900, "height": 700})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_file.as_uri())
    return context, page, errors


def test_a_disposed_live_map_runs_nothing_after_a_resize(tmp_path, browser):  # noqa: F811
    context, page, errors = _page(tmp_path, browser)
    try:
        shown = page.evaluate("""() => { window.ctl = AtlasMap.live(document.getElementById('map'), BASE, STYLE);
            return document.querySelectorAll('.atlas-place').length; }""")
        assert shown == 2, shown  # Hartlepool and Liverpool named on the map
        # The frame shrinks (presenter mode ends): Leaflet's resize handler calls invalidateSize with its 200 ms
        # debounced moveend; the new layer's map replaces this one before that moveend fires.
        page.evaluate("""() => { const el = document.getElementById('map'); el.style.width = '500px';
            ctl.map.invalidateSize({debounceMoveend: true}); ctl.dispose(); }""")
        page.wait_for_timeout(600)
        assert errors == [], errors
        # The disposed map's controller does nothing either (a late style from the server).
        page.evaluate("() => ctl.update(STYLE)")
        page.wait_for_timeout(100)
        assert errors == [], errors
    finally:
        context.close()
