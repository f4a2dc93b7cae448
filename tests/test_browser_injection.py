"""No payload executes: a map built in the real app from injection payloads, every feature hovered and clicked.

The hostile strings sit in area names (boundary file), a column header (the mapped measure: title,
legend, tooltip), text values and an unmatched code (table), and in the file names shown in the
sidebar. Before any page script runs, a trap is installed in every frame (the Streamlit page and the
st_folium map iframe): setting `window.__pwned`, calling alert/confirm/prompt, or a script element
carrying a payload is recorded; page dialogs, uncaught errors and console errors are recorded too.
Then the test moves the real mouse onto every polygon, clicks it, reads its tooltip, searches for a
payload, downloads the CSV and the join report, and asserts the payloads were shown literally and
nothing ran.
"""
from __future__ import annotations

import io
import json

import pandas as pd
import pytest

from tests.corpus.make_corpus import PAYLOADS as CORPUS_PAYLOADS
from tests.test_browser import (  # noqa: F401 — fixtures used by name
    CHROMIUM,
    _eval,
    browser,
    choose_radio,
    choose_select,
    map_frame,
    reveal,
    running_app,
    screenshot,
    session,
    sidebar,
    wait_for,
    wait_idle,
    ARTIFACTS,
)
from pathlib import Path

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not found at {CHROMIUM}"),
]

PWN = "window.__pwned=1"
AREA_NAMES = [
    '<img src=x onerror="window.__pwned=1">',
    "<script>window.__pwned=1</script>",
    "{{7*7}}",
    "${7*7}",
    "javascript:window.__pwned=1",
    '"><svg onload=window.__pwned=1>',
]
AREA_NAMES += [p for p in CORPUS_PAYLOADS if p not in AREA_NAMES]  # and every payload of the bad-input corpus
CODES = [f"E01{i + 1:06d}" for i in range(len(AREA_NAMES))]
HEADER = '<img src=x onerror="window.__pwned=1"> {{7*7}} ${7*7}'
NOTES = ["{% for x in [1] %}loop{% endfor %}", "<a href=\"javascript:window.__pwned=1\">link</a>",
         "`id` $(id)", "</script><script>window.__pwned=1</script>", "{{ config }}", '=HYPERLINK("http://x","y")']
FORMULA = NOTES[-1]
UNMATCHED = "<svg onload=window.__pwned=1>"
BOUNDARY_FILE = "{{7*7}} <img src=x onerror=window.__pwned=1>.geojson"
TABLE_FILE = "${7*7} <svg onload=window.__pwned=1>.csv"

# Runs before any script of every document (top page, component iframes, srcdoc frames).
TRAP = """(() => {
  const hits = [];
  Object.defineProperty(window, '__trapHits', {value: hits, configurable: false});
  Object.defineProperty(window, '__trapInstalled', {value: true, configurable: false});
  const record = what => { hits.push(what); try { console.error('TRAP FIRED: ' + what); } catch (e) {} };
  let pwned;
  Object.defineProperty(window, '__pwned', {configurable: false,
    get() { return pwned; }, set(v) { pwned = v; record('window.__pwned set to ' + v); }});
  for (const name of ['alert', 'confirm', 'prompt']) {
    const original = window[name];
    window[name] = function(...args) { record(name + '(' + args.join(',') + ')'); return original.apply(this, args); };
  }
  // Any element carrying an inline handler or a payload script, the moment it is inserted.
  new MutationObserver(muts => { for (const m of muts) { for (const n of m.addedNodes) {
    if (n.nodeType !== 1) { continue; }
    for (const el of [n, ...n.querySelectorAll('*')]) {
      for (const a of el.getAttributeNames()) {
        if (/^on/i.test(a) && /__pwned/.test(el.getAttribute(a))) {
          record('element with ' + a + ': ' + el.outerHTML.slice(0, 120));
        }
      }
      if (el.tagName === 'SCRIPT' && /__pwned/.test(el.textContent)) {
        record('script element: ' + el.textContent.slice(0, 120));
      }
      if (el.tagName === 'A' && /^\\s*javascript:/i.test(el.getAttribute('href') || '')) { record('javascript: link'); }
    }
  } } }).observe(document, {childList: true, subtree: true});
})();"""


@pytest.fixture(scope="module")
def injection_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("injection")
    features = []
    for i, (code, name) in enumerate(zip(CODES, AREA_NAMES)):
        x0, y0, d = -1.5 + (i % 3) * 0.01, 53.8 + (i // 3) * 0.01, 0.01
        ring = [[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]
        features.append({"type": "Feature", "properties": {"code": code, "name": name},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    (folder / BOUNDARY_FILE).write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    notes = [NOTES[i % len(NOTES)] for i in range(len(CODES))]
    table = pd.DataFrame({"code": CODES + [UNMATCHED], HEADER: [10.5 * (i + 1) for i in range(len(CODES) + 1)],
                          "note": notes + ["unmatched"]})
    table.to_csv(folder / TABLE_FILE, index=False)
    return folder


@pytest.fixture(scope="module")
def injection_app(injection_dir):
    with running_app({"ATLAS_DATA_DIRS": str(injection_dir)}, log_path=ARTIFACTS / "streamlit_injection.log") as url:
        yield url


_FEATURES = "() => { const out = []; window.atlasLayer.eachLayer(l => out.push(l.feature.properties.c)); return out; }"

# Show one feature (fit the map to it) and find a point inside it where its own path is topmost,
# not under the legend, title or search box: a grid of candidate points inside its bounds.
_POINT_IN_FEATURE = """code => {
  let target = null;
  window.atlasLayer.eachLayer(l => { if (l.feature.properties.c === code) { target = l; } });
  if (!target) { return null; }
  const map = target._map, box = map.getContainer().getBoundingClientRect(), b = target.getBounds();
  for (let i = 1; i < 8; i++) { for (let j = 1; j < 8; j++) {
    const ll = L.latLng(b.getSouth() + (b.getNorth() - b.getSouth()) * i / 8, b.getWest() + (b.getEast() - b.getWest()) * j / 8);
    const p = map.latLngToContainerPoint(ll), x = box.left + p.x, y = box.top + p.y;
    if (document.elementFromPoint(x, y) === target._path) { return {x, y}; }
  } }
  return null;
}"""


def trap_hits(page) -> dict[str, list[str]]:
    return {f.url: hits for f in page.frames if (hits := _eval(f, "window.__trapHits || []", []))}


def zipped_csv(data: bytes) -> tuple[pd.DataFrame, str]:
    """A data download of the app: the CSV in the zip, and its about.txt."""
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        csv = next(n for n in zf.namelist() if n.endswith(".csv"))
        return pd.read_csv(io.BytesIO(zf.read(csv)), encoding="utf-8-sig"), zf.read("about.txt").decode("utf-8")


def download(page, button: str) -> bytes:
    joined = "join report" in button or "unmatched" in button  # in the join's panel, else in Downloads
    reveal(page.get_by_role("button", name=button), "Data and how it joined" if joined else "Downloads")
    with page.expect_download() as info:
        page.get_by_role("button", name=button).click()
    data = Path(info.value.path()).read_bytes()
    wait_idle(page)
    return data


def test_no_payload_runs_and_all_show_literally(session, injection_app):  # noqa: F811
    page = session.page
    page.context.add_init_script(TRAP)
    session.page.goto(injection_app, wait_until="domcontentloaded")
    wait_idle(page)
    map_frame(page)  # the demo first
    choose_radio(page, "Files in data folders")
    folder = sidebar(page)
    choose_select(page, "Neighbourhood (LSOA) boundaries", next(o for o in _options(page, "Neighbourhood (LSOA) boundaries")
                                                              if o.endswith(BOUNDARY_FILE)))
    choose_select(page, "Indicator table", next(o for o in _options(page, "Indicator table") if o.endswith(TABLE_FILE)))
    views = folder.locator('[data-testid="stRadio"]').filter(has_text="Neighbourhoods (LSOAs)")
    if views.count():
        choose_radio(page, "Neighbourhoods (LSOAs)")
    frame = map_frame(page, min_paths=len(CODES), max_paths=len(CODES))

    # The trap is in both the page and the map's frame (else its silence would prove nothing).
    assert _eval(page, "window.__trapInstalled") is True
    assert _eval(frame, "window.__trapInstalled") is True, f"no trap in the map frame {frame.url}"
    assert trap_hits(page) == {}, f"a payload ran as the map loaded: {trap_hits(page)}"
    # The trap works: a deliberate set in the map frame is recorded (then the record is cleared).
    frame.evaluate("window.__pwned = 'self-test'")
    assert _eval(frame, "window.__trapHits.length") == 1
    frame.evaluate("window.__trapHits.length = 0")
    session.console.clear()

    iframe = frame.frame_element().bounding_box()
    codes = frame.evaluate(_FEATURES)
    assert sorted(codes) == CODES
    tips = {}
    for code in codes:
        frame.evaluate(f"""(() => {{ let t;
            window.atlasLayer.eachLayer(l => {{ if (l.feature.properties.c === {json.dumps(code)}) t = l; }});
            t._map.fitBounds(t.getBounds(), {{padding: [150, 150], animate: false}}); }})()""")
        point = wait_for(lambda c=code: _eval(frame, f"({_POINT_IN_FEATURE})({json.dumps(c)})"), 10,
                         f"a visible point inside {code}")
        x, y = iframe["x"] + point["x"], iframe["y"] + point["y"]
        page.mouse.move(x - 4, y - 4)
        page.mouse.move(x, y, steps=4)
        tip = frame.locator(".leaflet-tooltip")
        wait_for(lambda c=code, tip=tip: tip.count() > 0 and c in tip.last.inner_text(), 10, f"the tooltip of {code}")
        page.mouse.click(x, y)
        tips[code] = tip.last.inner_text()
        assert frame.locator(".leaflet-tooltip *").evaluate_all(
            "els => els.map(e => e.tagName).filter(t => !['DIV', 'STRONG', 'SPAN', 'BR', 'B'].includes(t))") == []
    for code, name in zip(CODES, AREA_NAMES):
        assert name in tips[code], f"tooltip of {code} should show {name!r} literally: {tips[code]!r}"
        assert HEADER in tips[code], tips[code]
    assert not any("49" in t for t in tips.values()), tips

    # The search box, given a payload: finds the area by its literal name.
    box = frame.locator("input.atlas-search-input")
    box.fill(AREA_NAMES[0])
    box.press("Enter")
    wait_for(lambda: _eval(frame, "window.atlasFound") == CODES[0], 10, "the search to find the payload-named area")
    box.fill('"><img src=x onerror=window.__pwned=1>')
    box.press("Enter")
    wait_for(lambda: "No area matches" in frame.locator(".atlas-search-msg").inner_text(), 10, "the no-match message")
    assert '"><img src=x onerror=window.__pwned=1>' in frame.locator(".atlas-search-msg").inner_text()

    # Title and legend on the map; the page's own title is untouched.
    title, legend = frame.locator(".atlas-title").inner_text(), frame.locator(".atlas-legend").inner_text()
    assert HEADER in title and HEADER in legend, (title, legend)
    assert _eval(page, "document.title") == "Neighbourhood Renewal Atlas"
    # The sidebar shows the file names and the header literally.
    shown = [b.input_value() for b in sidebar(page).get_by_role("combobox").all()]
    for text in (BOUNDARY_FILE, TABLE_FILE, HEADER):
        assert any(s.endswith(text) for s in shown), (text, shown)
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert f"{len(CODES)} of {len(CODES)}" in main, main

    # Exports: the mapped values and the join report carry the strings as they were.
    values, about = zipped_csv(download(page, "Download mapped values (CSV + about.txt, zip)"))
    assert HEADER in values.columns, list(values.columns)  # a header that reads as words is kept as it is
    assert sorted(values["Name"]) == sorted(AREA_NAMES) and set(NOTES[:-1]) <= set(values["Note"]), values
    assert "'" + FORMULA in set(values["Note"]), "a formula is neutralised for spreadsheets"
    assert "Open Government Licence v3.0" in about and HEADER in about  # provenance and every column named
    areas = json.loads(download(page, "Download mapped areas (GeoJSON)"))
    assert "crs" not in areas and sorted(f["properties"]["name"] for f in areas["features"]) == sorted(AREA_NAMES)
    assert {f["properties"][HEADER] for f in areas["features"]} == {10.5 * (i + 1) for i in range(len(CODES))}
    unmatched, _ = zipped_csv(download(page, "Download unmatched codes (CSV + about.txt, zip)"))
    # Codes are compared normalised (spaces dropped, upper case); the report keeps the original too.
    assert unmatched["Code"].tolist() == ["<SVGONLOAD=WINDOW.__PWNED=1>"], unmatched
    report = json.loads(download(page, "Download join report (JSON)"))
    assert UNMATCHED in json.dumps(report, ensure_ascii=False), report

    # Nothing ran anywhere.
    page.wait_for_timeout(500)  # let any late handler (an image error, an svg load) fire
    assert trap_hits(page) == {}, trap_hits(page)
    for f in page.frames:
        assert _eval(f, "document.querySelectorAll('img[src=x], svg[onload], [onerror]').length", 0) == 0, f.url
    screenshot(page, ARTIFACTS / "app_injection.png")
    session.assert_clean()


def _options(page, label: str) -> list[str]:
    box = sidebar(page).get_by_role("combobox", name=label, exact=True)
    box.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options
