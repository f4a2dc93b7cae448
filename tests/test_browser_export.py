"""End to end: the app's slide and offline-HTML downloads, clicked in headless Chromium.

The downloaded slide must be a 1920×1080 PNG; the downloaded HTML must paint the map in a fresh
browser context in which every network request (loopback included) is aborted — as on a laptop at
a conference with no Wi-Fi and no app server running.
"""
from __future__ import annotations

import io

import pytest
from PIL import Image

from tests import test_browser
from tests.test_browser import (
    ARTIFACTS,
    CHROMIUM,
    SETTLED,
    VIEWPORT,
    _eval,
    choose_radio,
    map_frame,
    open_app,
    reveal,
    sidebar,
    wait_for,
    wait_idle,
)

# The browser tests' fixtures (found by name): one app server and one Chromium for this module.
app_url, browser, session = test_browser.app_url, test_browser.browser, test_browser.session

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(not __import__("pathlib").Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}")]


def download(page, label: str, path):
    """Click the download button labelled `label`; returns the downloaded bytes (also saved to `path`).

    The click waits for the script run to end (a deferred download's file id belongs to the run that drew the
    button). An error under the button (Streamlit's stDownloadButtonError) fails at once, with its words. A click
    that brought neither a file nor an error within 45 s is tried once more, and says so in the log."""
    button = page.locator('[data-testid="stDownloadButton"] button').filter(has_text=label)
    reveal(button)  # the Downloads panel draws its buttons once opened (ui.common.lazy_expander)
    wait_for(lambda: button.count() == 1, 30, f"the {label!r} button")
    wait_idle(page)
    errors = page.locator('[data-testid="stDownloadButtonError"]')
    got: list = []

    def on_download(d) -> None:
        got.append(d)
    page.on("download", on_download)
    try:
        for attempt in (1, 2):
            button.click()
            try:
                wait_for(lambda: got or errors.count(), 45 if attempt == 1 else 120, f"the {label!r} download")
            except pytest.fail.Exception:
                if attempt == 2:
                    raise
                print(f"download {label!r}: neither a file nor an error 45 s after the click; clicking again",
                      flush=True)
                continue
            break
    finally:
        page.remove_listener("download", on_download)
    assert got, f"the {label!r} download failed: {errors.all_inner_texts()}"
    got[0].save_as(path)
    assert got[0].suggested_filename.startswith("atlas_"), got[0].suggested_filename
    return path.read_bytes()


def test_slide_png_download_is_a_1920x1080_image(session, app_url, tmp_path):
    page = session.page
    open_app(session, app_url)
    choose_radio(page, "Neighbourhoods (LSOAs)")
    map_frame(page, min_paths=401)
    reveal(page.get_by_text("The legend in words"), "Legend as a table")
    body = page.locator('[data-testid="stMain"]').inner_text()
    # The legend in words is under the map too (national deciles of the demo's 546 LSOAs).
    assert "The legend in words" in body and "Most deprived 10% of LSOAs nationally:" in body, body
    png = download(page, "Download slide (PNG)", tmp_path / "slide.png")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1920, 1080)
    # The map is on it: the darkest and the lightest viridis class colours are painted.
    colours = {c for _, c in image.convert("RGB").getcolors(1920 * 1080)}
    assert (0x44, 0x01, 0x54) in colours and (0xfd, 0xe7, 0x25) in colours
    (ARTIFACTS / "slide_from_app.png").write_bytes(png)
    svg = download(page, "Download slide (SVG)", tmp_path / "slide.svg")
    assert svg.lstrip().startswith(b"<?xml") and b"<svg" in svg
    session.assert_clean()


def test_offline_html_download_paints_with_all_networking_blocked(session, app_url, browser, tmp_path):
    page = session.page
    open_app(session, app_url)  # the districts of the demo pack
    html = download(page, "Download interactive map (HTML, works offline)", tmp_path / "atlas_map.html")
    assert len(html) > 100_000 and b"<script src=" not in html  # Leaflet is inlined
    session.assert_clean()

    context = browser.new_context(viewport=VIEWPORT, offline=True)
    page_url = (tmp_path / "atlas_map.html").as_uri()
    tried: list[str] = []

    def block(route):
        if route.request.url == page_url:  # the downloaded file itself, opened from disk
            route.continue_()
        else:  # everything else: loopback (no app server), CDNs, tiles, fonts
            tried.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    offline = context.new_page()
    errors: list[str] = []
    offline.on("pageerror", lambda e: errors.append(str(e)))
    offline.on("requestfailed", lambda r: tried.append(r.url))
    try:
        offline.goto(page_url, wait_until="load")
        wait_for(lambda: _eval(offline, SETTLED, False), 30, "the offline map script to run")
        assert offline.locator("path.leaflet-interactive").count() == 12
        legend = offline.locator(".atlas-legend")
        legend.wait_for(state="visible")
        assert "No data" in legend.inner_text() and "most deprived" in legend.inner_text()
        # Polygons are really painted: each has a fill colour of the classification and a drawn outline.
        fills = offline.evaluate("""() => Array.from(document.querySelectorAll('path.leaflet-interactive'))
            .map(p => [p.getAttribute('fill'), p.getBBox().width * p.getBBox().height])""")
        assert all(f and f.startswith("#") and area > 0 for f, area in fills), fills
        assert len({f for f, _ in fills}) >= 3
        offline.screenshot(path=str(ARTIFACTS / "offline_html.png"))
    finally:
        context.close()
    assert tried == [], f"the offline page tried to reach the network: {tried}"
    assert errors == [], errors


def test_value_labels_toggle_writes_values_on_the_map(session, app_url):
    page = session.page
    open_app(session, app_url)
    sidebar(page).get_by_text("Not by colour alone").click()
    wait_idle(page)
    frame = map_frame(page, min_paths=12, max_paths=12)
    labels = frame.locator(".atlas-label span")
    wait_for(lambda: labels.count() == 12, 30, "12 value labels")
    texts = labels.all_inner_texts()
    assert all(t.strip() and t.strip()[0].isdigit() for t in texts), texts
    session.assert_clean()
