"""End to end (#17): "Compare areas" on the districts view, through the real app, at a council laptop's 1366 px.

Opened from a link (compare=1&areas=…) on the demo and, when the shared open data is present, on the IoD2019
pack: each compared district is drawn as its own LSOAs (one SVG path per LSOA, not one blob), the small maps
carry no legend, title or search box, the page draws one legend for all of them, 3–4 areas sit two to a row,
and the difference table writes ranks as positions ("10th of 317"), never with three decimals.
"""

from __future__ import annotations

import json
import re

import pytest

from tests import test_browser as tb
from tests.test_browser import ARTIFACTS, _eval, running_app, screenshot, wait_for, wait_idle

browser, session = tb.browser, tb.session

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}
ERRORS = '[data-testid="stException"], [data-testid="stAlertContentError"]'
# A small map at rest: its SVG paths (one per LSOA) and the chrome inside it.
SMALL_MAP = """(() => { const l = window.atlasLayer;
    if (!(window.atlasReady === true && l && l._map && !l._map._animatingZoom)) { return null; }
    return {paths: document.querySelectorAll('path.leaflet-interactive').length,
            legend: document.querySelectorAll('.atlas-legend').length,
            title: document.querySelectorAll('.atlas-title').length,
            search: document.querySelectorAll('.atlas-search').length}; })()"""
THREE_DECIMAL_NUMBER = re.compile(r"\d,\d{3}\.\d{3}")
MEASURED: dict = {}


@pytest.fixture(scope="module")
def compare_app(tmp_path_factory):
    """The app with the demo, and the IoD2019 pack (built through the loopback mirror) when the data is here."""
    from tests.iod2025_fixture import shared_data_available

    env, has_pack = {}, shared_data_available()
    if has_pack:
        from geo.load.packs import fetch_release
        from tests.iod2025_fixture import serve_iod2019
        from tests.mirror import Mirror

        packs = tmp_path_factory.mktemp("packs_compare")
        with Mirror() as mirror:
            serve_iod2019(mirror)
            fetch_release("iod2019", packs, mirror=mirror.url)
        env["ATLAS_PACKS_DIR"] = str(packs)
    with running_app(env, log_path=ARTIFACTS / "streamlit_compare.log") as url:
        yield url, has_pack


def _demo_lsoa_counts(codes: list[str]) -> list[int]:
    """How many LSOAs the demo puts in each district (read from the demo pack, not from the page)."""
    from geo.present.render import ViewRequest, resolve_inputs, view_data

    data = view_data(resolve_inputs(ViewRequest()))
    col = data.joined[data.ind.district_column].astype(str).str.upper()
    return [int((col == c).sum()) for c in codes]


def _small_maps(page, n: int, what: str) -> list[tuple[object, dict]]:
    """The n small maps once all are drawn: (frame, what is inside it), in page order."""
    def drawn():
        found = [(f, _eval(f, SMALL_MAP, None)) for f in page.frames]
        found = [(f, s) for f, s in found if s and s["paths"] > 0]
        return found if len(found) >= n else None
    maps = wait_for(drawn, 120, f"{n} small maps on {what}")
    wait_idle(page)
    def place(item) -> tuple[int, int]:
        box = item[0].frame_element().bounding_box()
        return round(box["y"]), round(box["x"])
    maps = sorted(maps, key=place)  # frames come in load order: sort them as they sit on the page
    assert page.locator(ERRORS).count() == 0, f"{what}: error shown: {page.locator(ERRORS).all_inner_texts()}"
    return maps


def _open(page, base: str, data: str, areas: list[str]) -> None:
    page.goto(f"{base}/?data={data}&view=districts&compare=1&areas={','.join(areas)}", wait_until="domcontentloaded")
    wait_idle(page, timeout=120)


def _check_page(page, maps, expected_paths: list[int], what: str) -> str:
    """Each map is its districts' LSOAs, bare; one legend on the page; the table has no 3-decimal ranks."""
    inside = [s for _, s in maps]
    assert [s["paths"] for s in inside] == expected_paths, (what, inside)
    assert all(s["legend"] == 0 and s["title"] == 0 and s["search"] == 0 for s in inside), (what, inside)
    legends = page.locator(".atlas-compare-legend")
    assert legends.count() == 1, what
    legend = legends.inner_text()
    assert "Decile 1 (most deprived 10%)" in legend and "national decile" in legend, legend
    tables = page.locator('[data-testid="stTable"]')
    wait_for(lambda: tables.count() >= 2, 60, f"the difference table on {what}")
    text = tables.first.inner_text()
    assert "of " in text and not THREE_DECIMAL_NUMBER.search(text), text
    assert not re.search(r"\b0\.\d{3}\b", text) and "Gap" not in text, text
    MEASURED[what] = {"paths": [s["paths"] for s in inside], "legend": legend[:160],
                      "table_sample": [ln for ln in text.splitlines() if "England's median" in ln][:3]}
    return text


def _boxes(page, maps) -> list[dict]:
    """Each small map's box on the page (its iframe)."""
    out = []
    for frame, _ in maps:
        box = frame.frame_element().bounding_box()
        out.append({k: round(v) for k, v in box.items()})
    return sorted(out, key=lambda b: (b["y"], b["x"]))


def test_compare_districts_draws_their_lsoas_on_bare_small_maps_with_one_legend(session, compare_app):
    base, has_pack = compare_app
    page = session.page
    page.set_viewport_size(LAPTOP)
    # The demo: three districts, two to a row.
    codes = ["E07000901", "E07000902", "E07000903"]
    _open(page, base, "demo", codes)
    maps = _small_maps(page, 3, "demo")
    assert len(maps) == 3
    expected = _demo_lsoa_counts(codes)
    assert all(n > 1 for n in expected), expected  # districts of several LSOAs: not one blob each
    _check_page(page, maps, expected, "demo")
    boxes = _boxes(page, maps)
    main = page.locator('[data-testid="stMain"]').bounding_box()
    assert boxes[0]["y"] == boxes[1]["y"] < boxes[2]["y"], boxes  # two to a row
    assert all(b["width"] >= 0.4 * main["width"] and b["height"] >= 350 for b in boxes), (boxes, main)
    MEASURED["demo"]["boxes_at_1366"] = boxes
    screenshot(page, ARTIFACTS / "compare_demo_1366.png")
    if has_pack:
        _open(page, base, "iod2019", ["E06000001", "E08000012"])  # Hartlepool, Liverpool
        maps = _small_maps(page, 2, "iod2019")
        text = _check_page(page, maps, [58, 298], "iod2019")
        assert "10th of 317" in text and "36.2%" in text, text  # Hartlepool's average score rank, its share
        assert "ranks more deprived than England's median district" in text, text
        boxes = _boxes(page, maps)
        assert boxes[0]["y"] == boxes[1]["y"], boxes
        MEASURED["iod2019"]["boxes_at_1366"] = boxes
        screenshot(page, ARTIFACTS / "compare_iod2019_1366.png")
        spine = page.locator(".atlas-spine").first
        spine.scroll_into_view_if_needed()
        spine.screenshot(path=str(ARTIFACTS / "compare_iod2019_spine.png"))
        page.locator('[data-testid="stTable"]').first.screenshot(path=str(ARTIFACTS / "compare_iod2019_table.png"))
    session.assert_clean()
    print(json.dumps(MEASURED, indent=1))
