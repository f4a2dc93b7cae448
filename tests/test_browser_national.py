"""End to end: every LSOA in England on one map, in the real app in headless Chromium, offline.

With the real IoD2019 pack loaded, the default view is the national LSOA map drawn by the canvas
coverage layer (geo/present/js/atlas-coverage.js). The test checks it draws all 32,844 areas with the classes
the server computed, that hovering a known LSOA shows its official rank, that search finds an area,
and that changing measure or classification repaints without fetching the geometry again.
"""

from __future__ import annotations

import json

import pytest

from tests import test_browser as tb
from tests.test_browser import ARTIFACTS, _eval, choose_select, screenshot, sidebar, wait_for, wait_idle

# The same fixtures as the other browser tests: the app on an IoD2019 pack built through the loopback mirror.
browser, session, national_app = tb.browser, tb.session, tb.iod2019_app

pytestmark = pytest.mark.browser

PAINTED = "window.atlasLayer && window.atlasLayer.count && window.atlasLayer.count() > 0 && window.atlasPainted > 0"


@pytest.fixture(scope="module")
def official():
    """Official IoD2019 File 1 ranks and a point inside each LSOA (from the official boundaries)."""
    import pandas as pd

    from geo.load.io import read_boundaries
    from tests.cases import SHARED
    from tests.iod2025_fixture import shared_data_available

    if not shared_data_available():
        pytest.skip("real open data not present (set ATLAS_SHARED_DATA)")
    table = pd.read_csv(SHARED / "indicators" / "iod2019" / "iod2019_lsoa11_all_scores.csv", dtype=str)
    lsoa = read_boundaries(SHARED / "boundaries" / "lsoa11_england_bsc.gpkg").set_index("lsoa11_code")
    return table, lsoa


def national_frame(page, timeout: float = 90.0):
    def find():
        for frame in page.frames:
            if _eval(frame, PAINTED, False):
                return frame
        return None
    return wait_for(find, timeout, "the national map to paint")


def point_of(frame, lsoa, code: str) -> dict:
    """The page position of a point inside LSOA `code`, after zooming the map to it."""
    pt = lsoa.loc[code].geometry.representative_point()
    frame.evaluate(f"""() => {{ const l = window.atlasLayer, m = l._map;
        m.setView([{pt.y}, {pt.x}], 14, {{animate: false}}); }}""")
    wait_for(lambda: _eval(frame, "!window.atlasLayer._map._animatingZoom", False), 10, "the zoom to settle")
    p = frame.evaluate(f"() => window.atlasLayer._map.latLngToContainerPoint([{pt.y}, {pt.x}])")
    box = frame.frame_element().bounding_box()
    return {"x": box["x"] + p["x"], "y": box["y"] + p["y"]}


def test_national_lsoa_map_is_the_default_and_matches_the_official_file(session, national_app, official):
    table, lsoa = official
    page = session.page
    geometry_requests = []
    page.on("request", lambda r: geometry_requests.append(r.url) if "/app/static/geometry/" in r.url else None)
    page.goto(national_app + "/?data=iod2019", wait_until="domcontentloaded")
    wait_idle(page, timeout=120)
    frame = national_frame(page)
    views = sidebar(page).locator('[data-testid="stRadio"]').filter(has_text="Districts (England)")
    assert views.locator("label:has(input:checked)").inner_text().strip() == "Neighbourhoods (LSOAs)"
    assert frame.evaluate("window.atlasLayer.count()") == 32_844
    # Classes drawn are the published national deciles of the IMD, area by area.
    drawn = frame.evaluate("""() => { const l = window.atlasLayer, out = {};
        for (let i = 0; i < l.count(); i++) { out[l.code(i)] = l.classOf(i); } return out; }""")
    deciles = dict(zip(table["lsoa11cd"], table["imd_decile"]))
    assert len(drawn) == 32_844
    mismatched = [c for c, k in drawn.items() if k != 10 - int(deciles[c])]
    assert mismatched == [], mismatched[:5]
    screenshot(page, ARTIFACTS / "app_national_lsoas.png")

    # Hover the most deprived LSOA in England (IMD rank 1): its tooltip names it with the official rank.
    first = table.loc[table["imd_rank"].astype(int) == 1, "lsoa11cd"].iloc[0]
    at = point_of(frame, lsoa, first)
    page.mouse.move(at["x"] - 4, at["y"] - 4)
    page.mouse.move(at["x"], at["y"], steps=3)
    tip = frame.locator(".leaflet-tooltip")
    wait_for(lambda: tip.count() > 0 and first in tip.last.inner_text() and "Rank: 1\n" in tip.last.inner_text() + "\n",
             15, f"the tooltip of {first}")

    # Search finds an area by code and fits the map to it.
    box = frame.locator(".atlas-search-input")
    box.fill("E01033768")
    box.press("Enter")
    wait_for(lambda: _eval(frame, "window.atlasFound", None) == "E01033768", 10, "search to find E01033768")

    fetched = len(geometry_requests)
    geometry_files = [u for u in geometry_requests if "/v-" not in u and "/b-" not in u]  # b-: the live map's base
    assert len(geometry_files) == 1, geometry_requests
    assert len([u for u in geometry_requests if "/b-" in u]) <= 1, geometry_requests

    # Another measure, then another classification: repainted with new classes, geometry not fetched again.
    before = frame.evaluate("window.atlasLayer.o.classes")
    choose_select(page, "Measure", "Income")
    frame = national_frame(page)
    wait_for(lambda: _eval(frame, "window.atlasLayer.o.classes", before) != before, 30, "the new measure's classes")
    choose_select(page, "Classification", "Quantiles")
    frame = national_frame(page)
    new_geometry = [u for u in geometry_requests[fetched:] if "/v-" not in u]
    assert new_geometry == [], f"geometry fetched again: {new_geometry}"
    session.assert_clean()
    print(json.dumps({"geometry_requests": geometry_requests}))


def test_a_change_of_measure_restyles_the_same_map_frame(session, national_app):
    """The live map (ui/atlas_map): a change of measure keeps the frame (same iframe element, a marker set in its
    window still there, the view and zoom where the user left them, no rebuild, no geometry fetched again) and
    repaints it with the new measure's classes, the legend counting the same classes."""
    page = session.page
    geometry_requests = []
    page.on("request", lambda r: geometry_requests.append(r.url) if "/app/static/geometry/" in r.url
            and "/v-" not in r.url else None)
    page.goto(national_app + "/?data=iod2019", wait_until="domcontentloaded")
    wait_idle(page, timeout=120)
    frame = national_frame(page)
    element = frame.frame_element()
    frame.evaluate("() => { window.__kept = 'before the change'; window.atlasLayer._map.setView([52.48, -1.9], 10,"
                   " {animate: false}); }")
    fetched = len(geometry_requests)
    before = frame.evaluate("window.atlasLayer.o.classes")
    painted = frame.evaluate("window.atlasPainted")
    where = "() => { const m = window.atlasLayer._map, c = m.getCenter(); return [m.getZoom(), c.lat, c.lng]; }"
    view = frame.evaluate(where)
    choose_select(page, "Measure", "Income")
    wait_for(lambda: _eval(frame, "window.atlasLayer.o.classes", before) != before, 30, "the new measure's classes")
    assert frame.evaluate("window.__kept") == "before the change"
    assert page.evaluate("([a, b]) => a === b", [element, frame.frame_element()])
    assert frame.evaluate("window.atlasBuilt") == 1
    assert frame.evaluate("window.atlasPainted") > painted
    assert view[0] == 10 and abs(view[1] - 52.48) < 0.01 and abs(view[2] + 1.9) < 0.01, view
    after = frame.evaluate(where)  # the view and zoom where the user left them (to Leaflet's pixel rounding)
    assert after[0] == view[0] and abs(after[1] - view[1]) < 1e-3 and abs(after[2] - view[2]) < 1e-3, after
    classes = frame.evaluate("window.atlasLayer.o.classes")
    assert len(classes) == 32_844 and classes != before
    legend = frame.locator(".atlas-legend")
    assert "Income" in legend.locator(".atlas-legend-title").inner_text()
    assert "Income" in frame.locator(".atlas-title").inner_text()
    counts = [int(t.replace(",", "")) for t in legend.locator(".atlas-count").all_inner_texts()]
    k = len(counts) - 1  # darkest first, then "No data"
    assert counts[:-1] == [classes.count(chr(48 + c)) for c in range(k - 1, -1, -1)]
    assert counts[-1] == classes.count("-")
    assert [u for u in geometry_requests[fetched:]] == [], "geometry fetched again"
    # The frame keeps its size through changes: the page's fit (ui/layout.py) used to follow elements re-rendered
    # above the map during the run, so on every other change the frame grew 46 px and shrank back, and each
    # resize repainted all 32,844 areas (a repaint ~1 s after the click instead of ~0.3 s).
    frame.evaluate("() => { window.__resizes = []; window.addEventListener('resize',"
                   " () => window.__resizes.push([innerWidth, innerHeight])); }")
    for measure in ("Employment", "Crime", "Income"):
        shown = frame.evaluate("window.atlasLayer.o.classes")
        choose_select(page, "Measure", measure)
        wait_for(lambda shown=shown: _eval(frame, "window.atlasLayer.o.classes", shown) != shown, 30,
                 f"{measure}'s classes")
        wait_idle(page)
    assert frame.evaluate("window.__resizes") == [], "the map frame was resized by a change of measure"
    session.assert_clean()
