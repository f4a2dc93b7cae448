"""State survives, in the real browser: a page refresh keeps the view (the address carries it), and a saved
session file brings back the uploaded data and the view in a fresh page."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cases import geojson_bytes, squares
from tests.test_browser import (  # noqa: F401 — fixtures used by name
    ARTIFACTS,
    CHROMIUM,
    _eval,
    app_url,
    browser,
    choose_radio,
    map_frame,
    reveal,
    session,
    sidebar,
    wait_for,
    wait_idle,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"Chromium not found at {CHROMIUM}"),
]

TITLE = "document.querySelector('.atlas-title')?.textContent || ''"


def _options(page, label: str) -> list[str]:
    box = sidebar(page).get_by_role("combobox", name=label, exact=True)
    box.click()
    options = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return options


def select(page, label: str, option: str) -> None:
    """choose_select, retrying the click that opens the list (it can land while the list is still closing)."""
    box = sidebar(page).get_by_role("combobox", name=label, exact=True)
    for _ in range(3):
        box.click()
        try:
            page.get_by_role("option", name=option, exact=True).wait_for(timeout=5000)
            break
        except Exception:  # noqa: BLE001 — the list did not open: close whatever is open and try again
            page.keyboard.press("Escape")
    page.get_by_role("option", name=option, exact=True).click()
    wait_for(lambda: box.input_value() == option, 10, f"selectbox {label!r} to show {option!r}")
    wait_idle(page)


def _value(page, label: str) -> str:
    return sidebar(page).get_by_role("combobox", name=label, exact=True).input_value()


def _checked(page, group: str) -> str:
    radio = sidebar(page).locator('[data-testid="stRadio"]').filter(has_text=group)
    return radio.locator("label:has(input:checked)").inner_text().strip()


def test_refresh_keeps_the_view(session, app_url):  # noqa: F811
    page = session.page
    page.goto(app_url, wait_until="domcontentloaded")
    wait_idle(page)
    map_frame(page)
    choose_radio(page, "Neighbourhoods (LSOAs)")
    measure = _options(page, "Measure")[1]  # not the default
    select(page, "Measure", measure)
    choose_radio(page, "Rank")
    select(page, "Colours (colour-blind safe)", "cividis")
    frame = map_frame(page, min_paths=401)
    wait_for(lambda: "rank" in _eval(frame, TITLE, "").lower(), 30, "the rank map")
    title = _eval(frame, TITLE)
    wait_for(lambda: "view=lsoas" in page.url and "show=rank" in page.url and "palette=cividis" in page.url, 10,
             f"the address to carry the view ({page.url})")
    url = page.url

    page.reload(wait_until="domcontentloaded")
    wait_idle(page)
    frame = map_frame(page, min_paths=401)
    wait_for(lambda: _eval(frame, TITLE) == title, 30, f"the same map title after the refresh ({title!r})")
    assert _checked(page, "Map") == "Neighbourhoods (LSOAs)"
    assert _value(page, "Measure") == measure and _checked(page, "Show") == "Rank"
    assert _value(page, "Colours (colour-blind safe)") == "cividis"
    assert page.url == url
    session.assert_clean()


@pytest.fixture(scope="module")
def own_files(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("own")
    (folder / "my_areas.geojson").write_bytes(geojson_bytes(squares(4, names=["North", "East", "South", "West"])))
    (folder / "my_rates.csv").write_text("code,unemployment rate,crime rate\nE01000001,3.5,40\nE01000002,7.25,55\n"
                                         "E01000003,1.5,61\nE01000004,9.0,12\n")
    return folder


def _session_uploader(page):
    panel = sidebar(page).locator('[data-testid="stExpander"]').filter(has_text="Save or restore this session")
    if not panel.locator('[data-testid="stFileUploaderDropzoneInput"]').is_visible():
        panel.get_by_text("Save or restore this session").click()
    return panel


def test_save_a_session_and_restore_it_in_a_fresh_page(session, app_url, own_files, tmp_path):  # noqa: F811
    page = session.page
    page.goto(app_url, wait_until="domcontentloaded")
    wait_idle(page)
    map_frame(page)
    choose_radio(page, "Upload your own")
    inputs = sidebar(page).locator('[data-testid="stFileUploaderDropzoneInput"]')
    wait_for(lambda: inputs.count() >= 3, 20, "the file uploaders")
    inputs.nth(0).set_input_files(str(own_files / "my_areas.geojson"))
    wait_idle(page)
    inputs.nth(1).set_input_files(str(own_files / "my_rates.csv"))
    wait_idle(page)
    map_frame(page, min_paths=4, max_paths=4)
    select(page, "Column to map", "crime rate")
    select(page, "Colours (colour-blind safe)", "greys")
    frame = map_frame(page, min_paths=4, max_paths=4)
    wait_for(lambda: "crime rate" in _eval(frame, TITLE, ""), 30, "the crime rate map")
    legend = frame.locator(".atlas-legend").inner_text()
    colours = frame.evaluate("Array.from(document.querySelectorAll('path.leaflet-interactive'))"
                             ".map(p => p.getAttribute('fill')).sort()")

    panel = _session_uploader(page)
    with page.expect_download() as info:
        panel.get_by_role("button", name="Save this session (.zip)").click()
    saved = tmp_path / "atlas_session.zip"
    info.value.save_as(saved)
    wait_idle(page)

    # A fresh page: a new Streamlit session with no uploads and the default address.
    page.goto(app_url, wait_until="domcontentloaded")
    wait_idle(page)
    wait_for(lambda: "Illustrative" in page.locator('[data-testid="stMain"]').inner_text(), 30, "the demo")
    panel = _session_uploader(page)
    panel.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(saved))
    wait_idle(page)
    frame = map_frame(page, min_paths=4, max_paths=4)
    wait_for(lambda: "crime rate" in _eval(frame, TITLE, ""), 30, "the restored crime rate map")
    assert frame.locator(".atlas-legend").inner_text() == legend
    assert frame.evaluate("Array.from(document.querySelectorAll('path.leaflet-interactive'))"
                          ".map(p => p.getAttribute('fill')).sort()") == colours
    assert _checked(page, "Data") == "Upload your own"
    assert _value(page, "Column to map") == "crime rate"
    assert _value(page, "Colours (colour-blind safe)") == "greys"
    side = sidebar(page).inner_text()
    assert "Restored the session with my_areas.geojson, my_rates.csv" in side, side
    assert "Using the files of the restored session" in side
    assert "column=crime" in page.url
    # The restored file is the saved one, byte for byte (checked through the GeoJSON download).
    reveal(page.get_by_role("button", name="Download mapped areas (GeoJSON)"))
    with page.expect_download() as info:
        page.get_by_role("button", name="Download mapped areas (GeoJSON)").click()
    names = sorted(f["properties"]["name"] for f in json.loads(Path(info.value.path()).read_bytes())["features"])
    assert names == ["East", "North", "South", "West"]
    session.assert_clean()


def test_a_bad_session_file_gives_a_message_and_changes_nothing(session, app_url, tmp_path):  # noqa: F811
    import io
    import zipfile

    page = session.page
    page.goto(app_url, wait_until="domcontentloaded")
    wait_idle(page)
    frame = map_frame(page)
    title = _eval(frame, TITLE)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("session.json", b'{"format": "neighbourhood-renewal-atlas-session", "version": 1}')
        zf.writestr("files/table", b"0" * 30_000_000)
    (tmp_path / "not_a_session.zip").write_bytes(bomb.getvalue())
    _session_uploader(page).locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(tmp_path / "not_a_session.zip"))
    wait_for(lambda: "looks like a zip bomb" in sidebar(page).inner_text(), 30, "the message about the bad file")
    wait_idle(page)
    assert "Save the session again" in sidebar(page).inner_text()
    frame = map_frame(page)
    assert _eval(frame, TITLE) == title and _checked(page, "Data").startswith("Illustrative demo pack")
    session.assert_clean()
