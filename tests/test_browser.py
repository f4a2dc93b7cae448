"""End to end: the real Streamlit app in headless Chromium, fully offline.

Each test starts from a fresh browser page whose every request to anything other than the app
(127.0.0.1/localhost, or data:/blob: URLs) is aborted and recorded; every test asserts that list is
empty, which proves the map needs no CDN and no tiles. Run with `python -m pytest tests/test_browser.py`;
set $CHROMIUM to use a Chromium other than /usr/bin/chromium.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.cases import app_healthy, free_port

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 900}
LOCAL_PREFIXES = ("http://127.0.0.1", "http://localhost", "ws://127.0.0.1", "ws://localhost", "data:", "blob:")
STARTUP_TIMEOUT = 60.0
MAP_TIMEOUT = 60.0

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"Chromium not found at {CHROMIUM} (install it, or set $CHROMIUM to its path)"),
]


# ------------------------------------------------------------------ the app under test

@contextmanager
def running_app(extra_env: dict[str, str] | None = None, log_path: Path | None = None):
    """`streamlit run app.py` on a free port; yields the base URL once /_stcore/health says ok."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **(extra_env or {})}
    log_path = log_path or ARTIFACTS / f"streamlit_{port}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + STARTUP_TIMEOUT
            while not app_healthy(url):
                if proc.poll() is not None:
                    pytest.fail(f"streamlit exited with code {proc.returncode}; log: {log_path}")
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit not healthy after {STARTUP_TIMEOUT:.0f} s; log: {log_path}")
                time.sleep(0.2)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@pytest.fixture(scope="module")
def app_url():
    with running_app(log_path=ARTIFACTS / "streamlit_main.log") as url:
        yield url


@pytest.fixture(scope="module")
def hostile_dir(tmp_path_factory) -> Path:
    """A data folder with three squares named to tempt template engines and HTML, and a table for them."""
    folder = tmp_path_factory.mktemp("hostile")
    names = ["{{7*7}}", "<img src=x onerror=window.pwned=1>", "${alert(1)}"]
    features = []
    for i, name in enumerate(names):
        x0, y0, d = -1.5 + i * 0.01, 53.8, 0.008
        ring = [[x0, y0], [x0 + d, y0], [x0 + d, y0 + d], [x0, y0 + d], [x0, y0]]
        features.append({"type": "Feature", "properties": {"code": f"E0100000{i + 1}", "name": name},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    collection = {"type": "FeatureCollection",
                  "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
                  "features": features}
    (folder / "hostile_lsoa.geojson").write_text(json.dumps(collection), encoding="utf-8")
    # The table has no name column: tooltips take the names from the boundary file.
    rows = ['code,"<b>bad</b> {{ header }}"']
    for i in range(len(names)):
        rows.append(f"E0100000{i + 1},{10 * (i + 1) + 0.5}")
    (folder / "hostile_table.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def hostile_app_url(hostile_dir):
    with running_app({"ATLAS_DATA_DIRS": str(hostile_dir)}, log_path=ARTIFACTS / "streamlit_hostile.log") as url:
        yield url


# ------------------------------------------------------------------ the browser

@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def page_error(e) -> str:
    """An uncaught page error with where it was thrown (its stack's first frames), so a CI log can say which script."""
    stack = (getattr(e, "stack", None) or "").strip().splitlines()
    return str(e) + ("".join("\n  " + line.strip() for line in stack[1:5]) if len(stack) > 1 else "")


def throttle(page) -> None:
    """ATLAS_CPU_THROTTLE=4 runs the page's scripts four times slower (Chromium's CPU throttling), to find races
    that only a slower machine (the CI's) shows; unset, nothing changes."""
    rate = float(os.environ.get("ATLAS_CPU_THROTTLE") or 0)
    if rate > 1:
        page.context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": rate})


@dataclass
class Session:
    page: object
    external: list[str] = field(default_factory=list)
    console: list[tuple[str, str]] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"]

    def assert_clean(self) -> None:
        assert self.external == [], f"requests outside the app were made (and blocked): {self.external}"
        assert self.page_errors == [], f"uncaught errors in the page: {self.page_errors}"
        assert self.console_errors() == [], f"console errors: {self.console_errors()}"
        assert self.dialogs == [], f"dialogs were opened: {self.dialogs}"


@pytest.fixture
def session(browser):
    context = browser.new_context(viewport=VIEWPORT)
    s = Session(context.new_page())

    def route(r):
        url = r.request.url
        if url.startswith(LOCAL_PREFIXES):
            r.continue_()
        else:
            s.external.append(url)
            r.abort()

    context.route("**/*", route)
    s.page.on("console", lambda m: s.console.append((m.type, m.text)))
    s.page.on("pageerror", lambda e: s.page_errors.append(page_error(e)))
    throttle(s.page)

    def on_dialog(d):
        s.dialogs.append(f"{d.type}: {d.message}")
        d.dismiss()

    s.page.on("dialog", on_dialog)
    s.page.set_default_timeout(30_000)
    yield s
    context.close()


# ------------------------------------------------------------------ helpers

def _eval(frame, script: str, default=None):
    try:
        return frame.evaluate(script)
    except Exception:  # frame detached or navigating while Streamlit re-renders
        return default


def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# The map script has run, and the map is not still animating its initial zoom: Leaflet silently
# ignores a fitBounds made during a zoom animation, and atlasReady is set while the zoom from
# folium's zoom_start to the fitted bounds is still animating.
SETTLED = """window.atlasReady === true && !!window.atlasLayer && !!window.atlasLayer._map
    && !window.atlasLayer._map._animatingZoom
    && !(window.atlasLayer._map._panAnim && window.atlasLayer._map._panAnim._inProgress)"""


def map_frame(page, min_paths: int = 1, max_paths: int | None = None, timeout: float = MAP_TIMEOUT):
    """The frame whose map script has run (window.atlasReady), with a path count in range, at rest."""
    def find():
        for frame in page.frames:
            if not _eval(frame, SETTLED, False):
                continue
            n = _eval(frame, "document.querySelectorAll('path.leaflet-interactive').length", 0)
            if n >= min_paths and (max_paths is None or n <= max_paths):
                return frame
        return None
    return wait_for(find, timeout, f"a map frame with {min_paths}..{max_paths or ''} polygons")


def sidebar(page):
    return page.locator('[data-testid="stSidebar"]')


def choose_radio(page, label: str) -> None:
    sidebar(page).locator('[data-testid="stRadio"] label').filter(has_text=label).first.click()
    wait_idle(page)


def choose_select(page, label: str, option: str) -> None:
    """Pick `option` in the sidebar selectbox labelled `label` (click it, then click the option text)."""
    box = sidebar(page).get_by_role("combobox", name=label, exact=True)
    box.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_for(lambda: box.input_value() == option, 10, f"selectbox {label!r} to show {option!r}")
    wait_idle(page)


def reveal(locator, expander: str = "Downloads") -> None:
    """Open the collapsed expander a control sits in, below the map (ui.layout), so it can be used: the one
    holding it, else the one whose label starts with `expander` (a collapsed expander may not draw its content)."""
    if locator.count() and locator.first.is_visible():
        return
    if locator.count():
        locator.first.evaluate("e => { const d = e.closest('details');"
                               " if (d && !d.open) { d.querySelector('summary').click(); } }")
    else:
        locator.page.locator('[data-testid="stExpander"] summary').filter(has_text=expander).first.click()
    wait_for(lambda: locator.count() > 0 and locator.first.is_visible(), 20,
             "the control to show once its expander opened")


def screenshot(page, *paths: Path) -> None:
    data = page.screenshot(full_page=False)
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


_POINT_ON_AREA = """code => {
    // A point (in the frame's viewport) where an area's own polygon is the topmost element: the area
    // with this code, or else the uncovered area nearest a point in the upper left of the map (so the
    // tooltip, which opens to the right there, is not drawn under the legend at the bottom right).
    let best = null;
    window.atlasLayer.eachLayer(l => {
        if (code != null && l.feature.properties.c !== code) { return; }
        const map = l._map, box = map.getContainer().getBoundingClientRect();
        const p = map.latLngToContainerPoint(l.getBounds().getCenter());
        const x = box.left + p.x, y = box.top + p.y;
        const d = Math.hypot(x - (box.left + box.width * 0.2), y - (box.top + box.height * 0.35));
        if ((!best || d < best.d) && document.elementFromPoint(x, y) === l._path) {
            best = {x, y, d, code: l.feature.properties.c};
        }
    });
    return best;
}"""


def hover_area(page, frame, code: str | None = None) -> tuple[str, str]:
    """Move the mouse onto the polygon with this code (or any uncovered one); return (code, tooltip text)."""
    point = wait_for(lambda: _eval(frame, f"({_POINT_ON_AREA})({json.dumps(code)})", None),
                     10, f"an uncovered point on {code or 'any area'}")
    iframe = frame.frame_element().bounding_box()
    x, y = iframe["x"] + point["x"], iframe["y"] + point["y"]
    page.mouse.move(x - 3, y - 3)
    page.mouse.move(x, y, steps=4)
    tip = frame.locator(".leaflet-tooltip")
    wait_for(lambda: tip.count() > 0 and point["code"] in tip.last.inner_text(), 10,
             f"the tooltip of {point['code']}")
    return point["code"], tip.last.inner_text()


def wait_idle(page, timeout: float = MAP_TIMEOUT) -> None:
    """Wait until Streamlit has finished its script run and no element is stale (seen twice in a row)."""
    state = """() => { const app = document.querySelector('[data-test-script-state]');
        return !!app && app.getAttribute('data-test-script-state') !== 'running'
            && !document.querySelector('[data-stale="true"]'); }"""
    streak = [0]

    def idle():
        streak[0] = streak[0] + 1 if _eval(page, state, False) else 0
        return streak[0] >= 2
    wait_for(idle, timeout, "Streamlit to finish running the script", interval=0.15)


def open_app(session: Session, url: str):
    session.page.goto(url, wait_until="domcontentloaded")
    wait_idle(session.page)
    return map_frame(session.page)


# ------------------------------------------------------------------ tests

def test_default_districts_map_renders_offline(session, app_url):
    page = session.page
    frame = open_app(session, app_url)
    assert frame.locator("path.leaflet-interactive").count() >= 12
    legend = frame.locator(".atlas-legend")
    legend.wait_for(state="visible")
    text = legend.inner_text()
    assert "No data" in text and "most deprived" in text, text
    # Leaflet came from the app itself.
    assert _eval(frame, "typeof L !== 'undefined' && L.version") == "1.9.4"
    page.wait_for_load_state("networkidle")
    screenshot(page, ARTIFACTS / "app_districts.png")
    session.assert_clean()


def test_neighbourhoods_view_and_tooltip(session, app_url):
    page = session.page
    open_app(session, app_url)
    choose_radio(page, "Neighbourhoods (LSOAs)")
    frame = map_frame(page, min_paths=401)
    assert frame.locator("path.leaflet-interactive").count() > 400  # the demo pack has 546 LSOAs
    code, text = hover_area(page, frame)
    # Name, code, the mapped value (IMD score by default) and the other two of score/rank/decile.
    # e.g. "St. Aldhelm's 002C E01900452 / Index of Multiple Deprivation score: 24.398 / Rank: 8,180 / Decile: 3"
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].endswith(" " + code) and code.startswith("E01"), text
    assert "score:" in lines[1].lower(), text
    assert lines[2].startswith("Rank:") and lines[3].startswith("Decile:"), text
    screenshot(page, ARTIFACTS / "app_lsoas.png")
    session.assert_clean()


def test_search_fits_map_to_area(session, app_url):
    frame = open_app(session, app_url)
    before = frame.evaluate("window.atlasLayer._map.getZoom()")
    box = frame.locator("input.atlas-search-input")
    box.fill("Wexley Fold")
    box.press("Enter")
    wait_for(lambda: _eval(frame, "window.atlasFound") == "E08000905", 10, "window.atlasFound == E08000905")
    wait_for(lambda: _eval(frame, "window.atlasLayer._map.getZoom()") != before, 10, "the zoom to change")
    after = frame.evaluate("window.atlasLayer._map.getZoom()")
    assert after > before, (before, after)
    # The found area is highlighted (magenta outline) and its tooltip is open.
    assert frame.locator('path.leaflet-interactive[stroke="#e6007e"]').count() == 1
    wait_for(lambda: "Wexley Fold" in _eval(frame, "document.querySelector('.leaflet-tooltip')?.innerText || ''", ""),
             10, "the tooltip of Wexley Fold")
    session.assert_clean()


def test_hostile_names_and_headers_shown_literally(session, hostile_app_url, hostile_dir):
    page = session.page
    open_app(session, hostile_app_url)  # the demo first
    choose_radio(page, "Files in data folders")
    folder = hostile_dir.name
    choose_select(page, "Neighbourhood (LSOA) boundaries", f"{folder}/hostile_lsoa.geojson")
    choose_select(page, "Indicator table", f"{folder}/hostile_table.csv")
    views = sidebar(page).locator('[data-testid="stRadio"]').filter(has_text="Neighbourhoods (LSOAs)")
    if views.count() and views.filter(has_text="Districts (England)").count():
        choose_radio(page, "Neighbourhoods (LSOAs)")
    wait_idle(page)
    frame = map_frame(page, min_paths=3, max_paths=3)

    expected = {"E01000001": "{{7*7}}", "E01000002": "<img src=x onerror=window.pwned=1>",
                "E01000003": "${alert(1)}"}
    for code, name in expected.items():
        _, text = hover_area(page, frame, code)
        assert name in text, f"tooltip of {code} should show {name!r} literally: {text!r}"
        assert "<b>bad</b> {{ header }}" in text, text
        assert frame.locator(".leaflet-tooltip img, .leaflet-tooltip b:has-text('bad')").count() == 0
    assert "49" not in frame.locator(".leaflet-tooltip").last.inner_text()
    assert "<b>bad</b> {{ header }}" in frame.locator(".atlas-legend").inner_text()
    assert frame.locator(".atlas-legend b, .atlas-title b").count() == 0
    for f in page.frames:
        assert _eval(f, "typeof window.pwned", "undefined") == "undefined", f"window.pwned set in {f.url}"
    screenshot(page, ARTIFACTS / "app_hostile.png")
    session.assert_clean()


def test_upload_your_own_files(session, app_url, hostile_dir):
    """The upload path: a boundary file and a table through Streamlit's file uploaders, joined and mapped."""
    page = session.page
    open_app(session, app_url)
    choose_radio(page, "Upload your own")
    inputs = sidebar(page).locator('[data-testid="stFileUploaderDropzoneInput"]')
    wait_for(lambda: inputs.count() >= 2, 20, "two file uploaders")
    inputs.nth(0).set_input_files(str(hostile_dir / "hostile_lsoa.geojson"))
    wait_idle(page)
    inputs.nth(1).set_input_files(str(hostile_dir / "hostile_table.csv"))
    wait_idle(page)
    frame = map_frame(page, min_paths=3, max_paths=3)
    _, text = hover_area(page, frame, "E01000001")
    assert "{{7*7}}" in text, text
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "3 of 3" in body, body
    session.assert_clean()


def test_panning_and_zooming_do_not_rerun_the_app(session, app_url):
    """st_folium(returned_objects=[]): moving the map sends nothing back to the server."""
    page = session.page
    sent: list[int] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(len(payload))))
    frame = open_app(session, app_url)
    wait_for(lambda: _eval(frame, "!!window.atlasLayer"), 10, "the map layer")
    before = len(sent)
    zoom = frame.evaluate("window.atlasLayer._map.getZoom()")
    box = frame.frame_element().bounding_box()
    cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(cx, cy)
    page.mouse.down()
    page.mouse.move(cx + 120, cy + 60, steps=8)
    page.mouse.up()
    frame.evaluate("window.atlasLayer._map.setZoom(window.atlasLayer._map.getZoom() + 1, {animate: false})")
    wait_for(lambda: _eval(frame, "window.atlasLayer._map.getZoom()") == zoom + 1, 10, "the zoom to change")
    page.wait_for_timeout(1500)  # give any rerun request time to be sent
    assert len(sent) == before, f"the browser sent {len(sent) - before} message(s) to the server while panning"
    assert _eval(page, "document.querySelector('[data-test-script-state]').getAttribute('data-test-script-state')") \
        != "running"
    session.assert_clean()


@pytest.fixture(scope="module")
def empty_packs_app(tmp_path_factory):
    packs = tmp_path_factory.mktemp("packs")
    with running_app({"ATLAS_PACKS_DIR": str(packs)}, log_path=ARTIFACTS / "streamlit_packs.log") as url:
        yield url, packs


def test_get_real_data_button_builds_a_pack_from_a_mirror(session, empty_packs_app):
    """The one button: download (from a loopback mirror of the official hosts), verify, build, then open."""
    from tests.iod2025_fixture import serve_iod2019, shared_data_available
    from tests.mirror import Mirror

    if not shared_data_available():
        pytest.skip("real open data not present (set ATLAS_SHARED_DATA)")
    url, packs = empty_packs_app
    page = session.page
    open_app(session, url)
    with Mirror() as mirror:
        serve_iod2019(mirror)
        sidebar(page).get_by_text("Get real England data").click()
        sidebar(page).get_by_role("textbox", name="Mirror (optional)").fill(mirror.url)
        sidebar(page).get_by_role("textbox", name="Mirror (optional)").press("Enter")
        wait_idle(page)
        sidebar(page).get_by_role("button", name="Download and build").click()
        wait_for(lambda: sidebar(page).get_by_text("Built English Indices of Deprivation 2019").count() > 0, 240,
                 "the pack to be built")
    assert (packs / "iod2019" / "pack.json").is_file()
    choose_radio(page, "English Indices of Deprivation 2019")
    frame = map_frame(page, min_paths=317, max_paths=317, timeout=120)
    assert frame.locator(".atlas-legend").count() == 1
    screenshot(page, ARTIFACTS / "app_iod2019_districts.png")
    session.assert_clean()


@pytest.fixture(scope="module")
def iod2019_app(tmp_path_factory):
    from geo.load.packs import fetch_release
    from tests.iod2025_fixture import serve_iod2019, shared_data_available
    from tests.mirror import Mirror

    if not shared_data_available():
        pytest.skip("real open data not present (set ATLAS_SHARED_DATA)")
    packs = tmp_path_factory.mktemp("packs2019")
    with Mirror() as mirror:
        serve_iod2019(mirror)
        fetch_release("iod2019", packs, mirror=mirror.url)
    with running_app({"ATLAS_PACKS_DIR": str(packs)}, log_path=ARTIFACTS / "streamlit_iod2019.log") as url:
        yield url


def test_eligibility_map_from_a_shared_link(session, iod2019_app):
    """A link carrying a rule opens the eligibility map with that rule; statuses against the NRF 88 are drawn."""
    from geo.derive.eligibility import parse_rule
    from geo.views.eligibility import encode_rule

    rule = parse_rule("name = 'Top 60 by average score'\n[[condition]]\nkind = 'top_n'\n"
                      "measures = ['average_score']\nn = 60")
    page = session.page
    open_app(session, f"{iod2019_app}/?view=districts&rule={encode_rule(rule)}")  # the newest real pack opens
    choose_radio(page, "English Indices of Deprivation 2019")
    map_frame(page, min_paths=317, max_paths=317, timeout=120)
    choose_radio(page, "Fund eligibility")
    frame = map_frame(page, min_paths=317, max_paths=317, timeout=120)
    wait_for(lambda: "Top 60 by average score" in _eval(frame, "document.querySelector('.atlas-title')?.innerText", ""),
             30, "the map titled with the linked rule")
    legend = frame.locator(".atlas-legend").inner_text()
    assert "stays eligible" in legend and "newly eligible" in legend and "no longer eligible" in legend, legend
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Eligible districts: 60 of 317" in body, body
    _, text = hover_area(page, frame, "E08000012")  # Liverpool
    assert "Eligibility: yes" in text and "stays eligible" in text and "Why:" in text, text
    assert "rule=" in page.url
    screenshot(page, ARTIFACTS / "app_eligibility.png")
    session.assert_clean()


def test_target_progress_map_chart_and_headlines(session, app_url):
    """The demo floor-target series: statuses on the map, the trend chart drawn offline, generated headlines."""
    page = session.page
    open_app(session, app_url)
    choose_radio(page, "Target progress")
    frame = map_frame(page, min_paths=12, max_paths=12)
    wait_for(lambda: "employment gap" in _eval(frame, "document.querySelector('.atlas-title')?.innerText", ""), 30,
             "the progress map")
    legend = frame.locator(".atlas-legend").inner_text()
    assert "achieved" in legend.lower() and "not in the target group" in legend.lower(), legend
    chart = page.locator('[data-testid="stVegaLiteChart"]')
    wait_for(lambda: chart.count() > 0 and chart.first.locator("canvas, svg").count() > 0, 30, "the trend chart")
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Wexley Fold: Employment rate" in body and "gap to the rest of England narrowed" in body, body
    _, text = hover_area(page, frame)  # any area not covered by the legend or the title
    assert "Status:" in text and "Gap to the rest:" in text, text
    screenshot(page, ARTIFACTS / "app_progress.png")
    session.assert_clean()


@pytest.fixture(scope="module")
def shared_folders_app():
    from tests.cases import SHARED

    if not (SHARED / "indicators" / "imd_lad21_2004_2019.csv").is_file():
        pytest.skip("real open data not present (set ATLAS_SHARED_DATA)")
    dirs = f"{SHARED / 'indicators'}:{SHARED / 'boundaries'}"
    with running_app({"ATLAS_DATA_DIRS": dirs}, log_path=ARTIFACTS / "streamlit_shared.log") as url:
        yield url


def test_nrf_target_on_the_imd_history(session, shared_folders_app):
    """The NRF 88 against the rest on the real IMD history 2004–2019: 309 districts, statuses, headline."""
    page = session.page
    open_app(session, shared_folders_app)
    choose_radio(page, "Target progress")
    map_frame(page, min_paths=12, max_paths=12)
    choose_select(page, "Series", "indicators/imd_lad21_2004_2019.csv")
    frame = map_frame(page, min_paths=309, max_paths=309, timeout=120)
    legend = frame.locator(".atlas-legend").inner_text()
    assert "achieved" in legend.lower() and "not in the target group" in legend.lower(), legend
    body = page.locator('[data-testid="stMain"]').inner_text()
    assert "Hartlepool: 36.2% of its neighbourhoods were in England's most deprived 10% in 2019" in body, body
    screenshot(page, ARTIFACTS / "app_progress_nrf.png")
    session.assert_clean()
