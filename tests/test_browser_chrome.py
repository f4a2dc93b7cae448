"""The map's chrome in headless Chromium, from `map_html` pages served locally (no Streamlit): district outlines
and names over LSOA maps (both renderers), the title naming the place, presenter mode's large text, the bare
maps of a comparison, the legend in words, and the browser's number style against the server's.

Each page is written to a temporary folder and served over http://127.0.0.1 on a port of 8760–8779 (the first
free one); every request elsewhere is aborted and recorded (tb.session), so the maps need nothing outside.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading

import geopandas as gpd
import pytest
from shapely.geometry import box

from geo.present.classify import classify_values
from geo.present.mapping import MapSpec, build_choropleth, format_value, map_html
from tests import test_browser as tb
from tests.test_browser import ARTIFACTS, _eval, screenshot, wait_for

browser, session = tb.browser, tb.session
pytestmark = tb.pytestmark

PORTS = range(8760, 8780)
HOSTILE = "<script>window.pwned=1</script>"
DISTRICTS = [("E06000001", HOSTILE), ("E06000002", "{{7*7}}"), ("E06000003", "Hartlepool"), ("E08000035", "Leeds")]
READY = "window.atlasReady === true && !!window.atlasLayer && !!window.atlasLayer._map && !window.atlasLayer._map._animatingZoom"

# Every element with text of its own that is drawn on screen, with its computed font size (inputs: their own).
TEXT_SIZES = """() => {
    const out = [];
    for (const el of document.querySelectorAll('body *')) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())
            || (el.tagName === 'INPUT' && (el.value || el.placeholder));
        if (!own) continue;
        const st = getComputedStyle(el), r = el.getBoundingClientRect();
        if (st.visibility === 'hidden' || st.display === 'none' || !el.getClientRects().length) continue;
        if (r.bottom < 0 || r.right < 0 || r.top > innerHeight || r.left > innerWidth || !r.width || !r.height) continue;
        if (el.closest('[style*="-9999px"]')) continue;  // the search box's label for screen readers, off screen
        out.push([parseFloat(st.fontSize), el.className || el.tagName, (el.value || el.textContent).trim().slice(0, 40)]);
    }
    return out;
}"""


def district_grid(n: int = 5, size: float = 0.01) -> gpd.GeoDataFrame:
    """Four districts of n×n square LSOAs near Leeds (2n×2n in all), with district codes and (hostile) names."""
    rows = []
    for gx in range(2 * n):
        for gy in range(2 * n):
            d = (gx // n) + 2 * (gy // n)
            rows.append({"code": f"E01{len(rows):06d}", "name": f"{DISTRICTS[d][1]} {len(rows):03d}",
                         "lad": DISTRICTS[d][0], "lad_name": DISTRICTS[d][1], "v": float(len(rows) % 17),
                         "rank": float(len(rows) * 97 + 0.5), "share": len(rows) / 400,
                         "geometry": box(-1.6 + gx * size, 53.75 + gy * size, -1.6 + (gx + 1) * size,
                                         53.75 + (gy + 1) * size)})
    return gpd.GeoDataFrame(rows, crs="EPSG:4326")


def grid_map(canvas: bool = False, **spec_kw) -> str:
    gdf = district_grid()
    classes = classify_values(gdf["v"], "quantiles", 5)
    spec = MapSpec("v", "Income — score", "name", "code",
                   tooltip_columns=(("Income — rank", "rank"), ("Share income deprived", "share")),
                   title="Income — score", subtitle="IoD2019, LSOAs", caveat="Ranks: 1 is the most deprived.",
                   district_column="lad", district_name_column="lad_name", **spec_kw)
    return map_html(build_choropleth(gdf, spec, classes, canvas=canvas,
                                     attribution="Contains OS data © Crown copyright 2019"))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A static server of a temporary folder on the first free port of 8760–8779: (folder, base URL)."""
    folder = tmp_path_factory.mktemp("chrome_pages")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = None
    for port in PORTS:
        try:
            server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
            break
        except OSError:
            continue
    if server is None:
        pytest.skip("no free port in 8760-8779")
    server.RequestHandlerClass.log_message = lambda *a, **k: None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield folder, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def open_map(session, served, name: str, html: str, viewport=(1400, 900)):
    folder, base = served
    (folder / name).write_text(html, encoding="utf-8")
    page = session.page
    page.set_viewport_size({"width": viewport[0], "height": viewport[1]})
    page.goto(f"{base}/{name}", wait_until="load")
    wait_for(lambda: _eval(page, READY, False), 30, f"{name} to draw")
    if _eval(page, "!!window.atlasLayer.ready", False):  # the canvas: its geometry decoded and painted
        wait_for(lambda: _eval(page, "window.atlasLayer.count() > 0 && window.atlasPainted > 0", False), 30, "paint")
    return page


def set_zoom(page, zoom: float) -> None:
    page.evaluate(f"() => {{ const m = window.atlasLayer._map; m.setZoom({zoom}, {{animate: false}}); m.fire('moveend'); }}")
    wait_for(lambda: _eval(page, f"Math.abs(window.atlasLayer._map.getZoom() - {zoom}) < 0.01", False), 10, f"zoom {zoom}")


def visible_names(page) -> list[str]:
    return page.evaluate("""() => [...document.querySelectorAll('.atlas-place span')]
        .filter(s => getComputedStyle(s).visibility !== 'hidden' && s.getClientRects().length).map(s => s.textContent)""")


def outline_pixels(page) -> int:
    """Opaque pixels of the district outlines' canvas (canvas renderer)."""
    return page.evaluate("""() => { const c = document.querySelector('.leaflet-atlasOutlines-pane canvas');
        if (!c) return -1; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")


@pytest.mark.parametrize("canvas", [False, True], ids=["svg", "canvas"])
def test_district_outlines_and_names_over_lsoas(session, served, canvas):
    page = open_map(session, served, f"grid_{int(canvas)}.html", grid_map(canvas=canvas, value_labels=True))
    assert page.evaluate("window.atlasOutlines.getLatLngs().length") > 0
    if canvas:
        wait_for(lambda: outline_pixels(page) > 100, 10, "the outlines painted on their canvas")
    else:
        d = page.evaluate("document.querySelector('.leaflet-atlasOutlines-pane svg path').getAttribute('d')")
        assert d and d.count("L") > 8, d
        assert page.evaluate("getComputedStyle(document.querySelector('.leaflet-atlasOutlines-pane')).pointerEvents") == "none"
    # Drawn above the fills (the areas' pane), not interactive.
    assert page.evaluate("+getComputedStyle(document.querySelector('.leaflet-atlasOutlines-pane')).zIndex") > \
        page.evaluate("+getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex")
    assert page.evaluate("window.atlasOutlines.options.interactive") is False

    # Names: none at a national zoom, shown when zoomed in; a name is text, never markup or a template.
    set_zoom(page, 6)
    assert visible_names(page) == [] and page.evaluate("window.atlasPlaceLabels") == 0
    set_zoom(page, 12)
    wait_for(lambda: len(visible_names(page)) >= 2, 10, "district names at zoom 12")
    names = visible_names(page)
    assert set(names) <= {n for _, n in DISTRICTS}, names
    assert HOSTILE in page.evaluate("[...document.querySelectorAll('.atlas-place span')].map(s => s.textContent)")
    assert page.evaluate("window.pwned") is None and page.evaluate(
        "document.querySelectorAll('.atlas-place script, .atlas-title script').length") == 0
    # No label covers another (names first, then values): at zoom 9 the four districts and their 100 values share
    # a few hundred pixels, so most are hidden, and at least one name is shown.
    set_zoom(page, 9)
    assert len(visible_names(page)) >= 1
    shown = page.evaluate("""() => [...document.querySelectorAll('.atlas-label span')]
        .filter(s => getComputedStyle(s).visibility !== 'hidden').map(s => s.getBoundingClientRect())
        .map(r => [r.left, r.top, r.right, r.bottom])""")
    for i, a in enumerate(shown):
        for b in shown[i + 1:]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    assert 1 < len(shown) < 104, len(shown)
    screenshot(page, ARTIFACTS / f"chrome_outlines_{'canvas' if canvas else 'svg'}.png")
    session.assert_clean()


def _title(page) -> str:
    return page.evaluate("document.querySelector('.atlas-title-main').textContent + "
                         "document.querySelector('.atlas-title-place').textContent")


@pytest.mark.parametrize("canvas", [False, True], ids=["svg", "canvas"])
def test_title_names_the_searched_or_hovered_district(session, served, canvas):
    page = open_map(session, served, f"title_{int(canvas)}.html", grid_map(canvas=canvas, place="Leeds"))
    assert _title(page) == "Income — score · Leeds"  # MapSpec.place: the filtered place
    box_ = page.locator(".atlas-search-input")
    box_.fill("Hartlepool")
    box_.press("Enter")
    wait_for(lambda: _eval(page, "window.atlasFoundLevel") == "district", 10, "search to land on Hartlepool")
    assert _title(page) == "Income — score · Hartlepool"
    # Hovering an LSOA names its district (escaped: the literal text, nothing run).
    set_zoom(page, 12)
    at = page.evaluate("""() => { const c = window.atlasMap.areas.boundsOf(0).getCenter();
        return window.atlasLayer._map.latLngToContainerPoint(c); }""")
    page.mouse.move(at["x"] - 3, at["y"] - 3)
    page.mouse.move(at["x"], at["y"], steps=3)
    wait_for(lambda: _title(page).endswith(HOSTILE), 10, "the hovered district in the title")
    assert page.evaluate("window.pwned") is None
    page.mouse.move(5, 450)  # off the areas: back to the searched district
    wait_for(lambda: _title(page) == "Income — score · Hartlepool", 10, "the title after the hover")
    session.assert_clean()


def test_large_text_puts_every_text_on_the_map_at_20px_or_more(session, served):
    # Normal maps have small print (the measure can fail) ...
    page = open_map(session, served, "normal.html", grid_map(legend_words=("The darkest fifth is the most deprived.",)),
                    viewport=(1920, 1080))
    assert min(s for s, _, _ in page.evaluate(TEXT_SIZES)) < 20
    # ... presenter mode has none: title, legend (rows, head, caveat, in words), attribution, scale, search box and its
    # message, district names, value labels and a tooltip, all on screen at 1920×1080.
    html = grid_map(large_text=True, value_labels=True, legend_words=("The darkest fifth is the most deprived.",
                                                                      "No data: white, hatched."))
    page = open_map(session, served, "large.html", html, viewport=(1920, 1080))
    page.locator(".atlas-words summary").click()
    box_ = page.locator(".atlas-search-input")
    box_.fill("nowhere at all")
    box_.press("Enter")
    wait_for(lambda: page.locator(".atlas-search-msg").inner_text() != "", 10, "the search message")
    set_zoom(page, 12)
    wait_for(lambda: len(visible_names(page)) >= 1, 10, "district names")
    at = page.evaluate("""() => { const c = window.atlasMap.areas.boundsOf(55).getCenter();
        return window.atlasLayer._map.latLngToContainerPoint(c); }""")
    page.mouse.move(at["x"] - 3, at["y"] - 3)
    page.mouse.move(at["x"], at["y"], steps=3)
    wait_for(lambda: page.locator(".leaflet-tooltip").count() > 0, 10, "a tooltip")
    sizes = page.evaluate(TEXT_SIZES)
    kinds = {str(c) for _, c, _ in sizes}
    for needed in ("atlas-legend-title", "atlas-range", "atlas-caveat", "atlas-title-main", "atlas-search-msg",
                   "leaflet-control-attribution", "leaflet-control-scale-line", "atlas-tip"):
        assert any(needed in k for k in kinds), (needed, sorted(kinds))
    assert any(t in {n for _, n in DISTRICTS} for _, _, t in sizes), "a district name was measured"
    small = [s for s in sizes if s[0] < 20]
    assert small == [], small
    print(json.dumps({"smallest_px": min(s for s, _, _ in sizes), "texts": len(sizes)}))
    screenshot(page, ARTIFACTS / "chrome_large_text.png")
    session.assert_clean()


def test_large_text_legend_of_ten_classes_is_whole_on_a_laptops_presenter_map(session, served):
    """Presenter text, ten classes, a 1366-wide step's 500 px map: the legend goes to two columns, nothing scrolls
    out of sight (it used to show deciles 1–9 and hide 10 and "No data" behind a scroll bar)."""
    gdf = district_grid()
    spec = MapSpec("v", "Index of Multiple Deprivation — score", "name", "code", title="Index of Multiple Deprivation",
                   subtitle="IoD2019, LSOAs", large_text=True, legend_words=("Darker areas are more deprived.",),
                   district_column="lad", district_name_column="lad_name")
    html = map_html(build_choropleth(gdf, spec, classify_values(gdf["v"], "quantiles", 10)))
    page = open_map(session, served, "large10.html", html, viewport=(1334, 500))
    state = page.evaluate("""() => { const l = document.querySelector('.atlas-legend'), r = l.getBoundingClientRect();
        const rows = [...l.querySelectorAll('.atlas-legend-row')].map(e => e.getBoundingClientRect());
        return {cols: l.classList.contains('atlas-legend-cols'), scroll: l.scrollHeight - l.clientHeight,
                top: r.top, bottom: r.bottom, rows: rows.length,
                inside: rows.every(b => b.top >= r.top - 0.5 && b.bottom <= r.bottom + 0.5 && b.height > 0)}; }""")
    title_bottom = page.evaluate("document.querySelector('.atlas-title').getBoundingClientRect().bottom")
    assert state["rows"] == 11 and state["cols"], state
    assert state["scroll"] <= 1 and state["inside"], state
    assert title_bottom <= state["top"] and state["bottom"] <= 500, (title_bottom, state)
    screenshot(page, ARTIFACTS / "chrome_large_legend_10.png")
    # The same legend on a tall map stays one column.
    page.set_viewport_size({"width": 1334, "height": 1000})
    wait_for(lambda: _eval(page, "window.atlasLayer._map.getSize().y") == 1000, 5, "the map to take the new height")
    assert not page.evaluate("document.querySelector('.atlas-legend').classList.contains('atlas-legend-cols')")
    session.assert_clean()


def test_bare_map_has_areas_and_outlines_only(session, served):
    page = open_map(session, served, "bare.html", grid_map(chrome="bare", legend_words=("words",), place="Leeds"))
    counts = page.evaluate("""() => ['.atlas-legend', '.atlas-title', '.atlas-search', '.atlas-words']
        .map(s => document.querySelectorAll(s).length)""")
    assert counts == [0, 0, 0, 0]
    assert page.evaluate("document.querySelectorAll('path.leaflet-interactive').length") == 100
    assert page.evaluate("document.querySelectorAll('.leaflet-atlasOutlines-pane path').length") == 1
    session.assert_clean()


def test_legend_in_words_is_a_keyboard_disclosure_and_the_legend_fits_a_laptop_map(session, served):
    html = grid_map(legend_words=("Darker areas are more deprived.", "Each class holds a fifth of the areas."))
    page = open_map(session, served, "words.html", html, viewport=(1366, 600))
    words = page.locator(".atlas-words")
    assert words.get_attribute("open") is None and not page.locator(".atlas-words p").first.is_visible()
    page.locator(".atlas-words summary").focus()
    page.keyboard.press("Enter")
    wait_for(lambda: words.get_attribute("open") is not None, 5, "the words to open by keyboard")
    assert "Each class holds a fifth" in words.inner_text()
    legend = page.evaluate("(() => { const r = document.querySelector('.atlas-legend').getBoundingClientRect();"
                           " return [r.top, r.bottom, r.right]; })()")
    title_bottom = page.evaluate("document.querySelector('.atlas-title').getBoundingClientRect().bottom")
    assert legend[1] <= 600 and legend[2] <= 1366 and legend[0] >= title_bottom, (legend, title_bottom)
    # The map follows its frame: resized, Leaflet knows the new size (and the legend stays within it).
    page.set_viewport_size({"width": 900, "height": 420})
    wait_for(lambda: _eval(page, "window.atlasLayer._map.getSize().y") == 420, 5, "the map to take the new height")
    assert page.evaluate("document.querySelector('.atlas-legend').getBoundingClientRect().bottom") <= 420
    session.assert_clean()


def test_browser_numbers_match_the_servers(session, served):
    """AtlasMap.fmt (the canvas tooltips) writes each kind as format_value does (the SVG tooltips, tables)."""
    page = open_map(session, served, "fmt.html", grid_map())
    values = [0, 1, 2.5, 3.5, -0.0004, 10263.021, 10263.5, -7324.089, 0.36249, 0.0, -0.5, 1234567.8, 999999.4,
              27.5, 35.037, 14.8, 1.0, -1.04, None]
    kinds = [None, "rank", "share", "score", "money", "money-head", "count", "decile", "points"]
    browser_text = page.evaluate("([vs, ks]) => ks.map(k => vs.map(v => AtlasMap.fmt(v, k)))", [values, kinds])
    for kind, row in zip(kinds, browser_text):
        for value, got in zip(values, row):
            want = (format_value(value, "money", per_head=True) if kind == "money-head"
                    else format_value(value, kind))
            assert got == want, (kind, value, got, want)


def test_national_outlines_on_the_canvas_map(session, served):
    """All England's LSOAs (the real boundaries), with their districts' outlines: drawn, no names nationally."""
    import pandas as pd

    from tests.cases import SHARED

    gpkg, lookup = SHARED / "boundaries" / "lsoa11_england_bsc.gpkg", SHARED / "lookups" / "lookup_lsoa11_ltla19.csv"
    if not (gpkg.is_file() and lookup.is_file()):
        pytest.skip("real open data not present (set ATLAS_SHARED_DATA)")
    gdf = gpd.read_file(gpkg).merge(pd.read_csv(lookup, dtype=str)[["lsoa11_code", "ltla19_code", "ltla19_name"]],
                                    on="lsoa11_code", how="left")
    gdf["v"] = range(len(gdf))
    spec = MapSpec("v", "Order", "lsoa11_name", "lsoa11_code", title="England", subtitle="All LSOAs by deciles",
                   caveat="Ranks: 1 is the most deprived.", value_labels=True,  # → the long "not by colour alone" note
                   legend_words=("Darker areas are more deprived.",), district_column="ltla19_code",
                   district_name_column="ltla19_name")
    html = map_html(build_choropleth(gdf, spec, classify_values(gdf["v"].astype(float), "quantiles", 10)))
    page = open_map(session, served, "national.html", html, viewport=(1366, 600))  # a laptop's map below a header
    page.locator(".atlas-words summary").click()
    legend = page.evaluate("(() => { const r = document.querySelector('.atlas-legend').getBoundingClientRect();"
                           " return [r.top, r.bottom]; })()")
    title_bottom = page.evaluate("document.querySelector('.atlas-title').getBoundingClientRect().bottom")
    assert title_bottom <= legend[0] and legend[1] <= 600, (title_bottom, legend)  # the whole legend on the map
    assert page.evaluate("window.atlasLayer.count()") == len(gdf) == 32_844
    assert page.evaluate("window.atlasOutlines.getLatLngs().length") > 300
    wait_for(lambda: outline_pixels(page) > 10_000, 20, "the national outlines painted")
    assert visible_names(page) == []
    page.evaluate("() => window.atlasLayer._map.setView([54.69, -1.21], 10, {animate: false})")  # Hartlepool
    wait_for(lambda: "Hartlepool" in visible_names(page), 10, "Hartlepool named at zoom 10")
    screenshot(page, ARTIFACTS / "chrome_national_hartlepool.png")
    session.assert_clean()

