"""In a real browser (offline Chromium): a comparison opened from a permalink, and a story stepped through with the
keyboard in presenter mode, on the real IoD2019 pack (built from a loopback mirror of the official files).

Reuses tests/test_browser.py's app runner, offline browser session and helpers.
"""
from __future__ import annotations

import pytest

from geo.state.story import Step, Story
from tests.test_browser import (  # noqa: F401 — fixtures are used by name
    ARTIFACTS,
    LOCAL_PREFIXES,
    MAP_TIMEOUT,
    page_error,
    throttle,
    ROOT,
    SETTLED,
    Session,
    _eval,
    app_url,
    browser,
    iod2019_app,
    pytestmark,
    screenshot,
    sidebar,
    wait_for,
    wait_idle,
)
from ui.present import story_token

HARTLEPOOL, LIVERPOOL, MIDDLESBROUGH = "E06000001", "E08000012", "E06000002"


PROJECTOR, LAPTOP = {"width": 1920, "height": 1080}, {"width": 1366, "height": 768}
MIN_TEXT_PX = 20  # issue #17: no text under 20 px in presenter mode at 1920×1080


def offline_session(browser, viewport: dict):  # noqa: F811
    """Like test_browser's session at `viewport`, every non-loopback request blocked; returns (session, context)."""
    context = browser.new_context(viewport=viewport)
    s = Session(context.new_page())

    def route(r):
        if r.request.url.startswith(LOCAL_PREFIXES):
            r.continue_()
        else:
            s.external.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    s.page.on("console", lambda m: s.console.append((m.type, m.text)))
    s.page.on("pageerror", lambda e: s.page_errors.append(page_error(e)))
    throttle(s.page)
    s.page.on("dialog", lambda d: (s.dialogs.append(d.message), d.dismiss()))
    s.page.set_default_timeout(30_000)
    return s, context


@pytest.fixture
def hd_session(browser):  # noqa: F811
    """At 1920×1080 (a projector)."""
    s, context = offline_session(browser, PROJECTOR)
    yield s
    context.close()


@pytest.fixture(params=[PROJECTOR, LAPTOP], ids=["1920x1080", "1366x768"])
def sized_session(browser, request):  # noqa: F811
    """At a projector's 1920×1080 and a council laptop's 1366×768."""
    s, context = offline_session(browser, request.param)
    yield s
    context.close()


# Every visible text node of the page (outside frames: the map's own text is the map chrome's test), smallest first:
# [computed font size in px, the text, where]. Text behind a closed details toggle is not rendered, so not counted.
SMALLEST_TEXT = """() => {
  const out = [], walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.textContent.trim(), el = n.parentElement;
    if (!text || !el || el.closest('script, style, noscript, template')) { continue; }
    if (!el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) { continue; }
    const range = document.createRange();
    range.selectNodeContents(n);
    const box = range.getBoundingClientRect();
    if (box.width < 1 || box.height < 1) { continue; }
    if (box.right <= 0 || box.bottom + window.scrollY <= 0) { continue; }  // parked off the page (a skip link)
    // SVG text is drawn at its font size times the drawing's scale (a viewBox scaled to its column).
    const scale = el instanceof SVGGraphicsElement && el.getScreenCTM() ? Math.hypot(el.getScreenCTM().a,
                                                                                      el.getScreenCTM().b) : 1;
    const where = el.closest('[data-testid]');
    out.push([Math.round(parseFloat(getComputedStyle(el).fontSize) * scale * 10) / 10, text.slice(0, 60),
              el.tagName.toLowerCase() + (where ? ' in ' + where.getAttribute('data-testid') : '')]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}"""

# Whatever would make the presenter scroll: the page itself, or any box on it, taller than its view.
SCROLLING = """() => {
  const out = [], root = document.scrollingElement;
  if (root.scrollHeight > window.innerHeight + 1) { out.push(['page', root.scrollHeight, window.innerHeight]); }
  document.querySelectorAll('body *').forEach(el => {
    const y = getComputedStyle(el).overflowY;
    if ((y === 'auto' || y === 'scroll') && el.clientHeight > 0 && el.scrollHeight > el.clientHeight + 1) {
      out.push([el.getAttribute('data-testid') || el.className || el.tagName, el.scrollHeight, el.clientHeight]);
    }
  });
  return out;
}"""

# Grids drawn on a canvas (st.dataframe): their text is not in the page, so it cannot be sized; a step's key table
# is an st.table, and a dataframe belongs behind the details toggle.
VISIBLE_GRIDS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"]')]
  .filter(e => e.checkVisibility() && e.getBoundingClientRect().height > 0).length"""


CONTENT_HEIGHT = """(() => { const c = document.querySelector('[data-testid="stMainBlockContainer"]');
  return c ? Math.round(c.getBoundingClientRect().height) : -1; })()"""


def scrolling(page) -> list:
    """What scrolls once the step's layout has settled (its height unchanged for a second, the fit included):
    empty when the step fits. Measured once, after settling, so a half-drawn step cannot pass."""
    last, same = None, 0
    for _ in range(80):
        height = _eval(page, CONTENT_HEIGHT, -1)
        same = same + 1 if height == last and height > 0 else 0
        last = height
        if same >= 4:
            break
        page.wait_for_timeout(250)
    return _eval(page, SCROLLING, None)


def map_frames(page, count: int, min_paths: int = 1, timeout: float = MAP_TIMEOUT):
    """Exactly `count` settled map frames (each with at least min_paths polygons), in page order."""
    def find():
        frames = [f for f in page.frames if _eval(f, SETTLED, False)
                  and _eval(f, "document.querySelectorAll('path.leaflet-interactive').length", 0) >= min_paths]
        return frames if len(frames) == count else None
    return wait_for(find, timeout, f"{count} settled map frames")


def small_map_names(page) -> list[str]:
    """The names above a comparison's small maps ("A · Hartlepool"), in page order."""
    texts = page.locator('[data-testid="stMain"] strong').all_inner_texts()
    return [t for t in texts if len(t) > 4 and t[1:4] == " · " and t[0] in "ABCD"]


def title_of(frame) -> str:
    return _eval(frame, "document.querySelector('.atlas-title')?.innerText || ''", "")


def test_two_district_comparison_from_a_permalink(hd_session, iod2019_app):  # noqa: F811
    page = hd_session.page
    url = f"{iod2019_app}/?data=iod2019&view=districts&measure=imd&compare=1&areas={HARTLEPOOL},{LIVERPOOL}"
    page.goto(url, wait_until="domcontentloaded")
    wait_idle(page)
    frames = map_frames(page, 2, timeout=120)
    frames = sorted(frames, key=lambda f: f.frame_element().bounding_box()["x"])  # A on the left, B on the right
    names = small_map_names(page)
    assert names[:2] == ["A · Hartlepool", "B · Liverpool"], names  # named above their maps (bare maps: no title)
    # Views kept in step: one common zoom, each map centred on its own area.
    zooms = [f.evaluate("window.atlasLayer._map.getZoom()") for f in frames]
    assert zooms[0] == zooms[1] and zooms[0] == frames[0].evaluate("window.atlasCommonZoom"), zooms
    centres = [f.evaluate("(() => { const c = window.atlasLayer._map.getCenter(); return [c.lat, c.lng]; })()")
               for f in frames]
    assert centres[0][0] > 54.5 and centres[1][0] < 53.6, centres  # Hartlepool north of Liverpool
    # Zoom one map in and pan it: the other follows, about its own area.
    frames[0].evaluate("window.atlasLayer._map.setZoom(window.atlasLayer._map.getZoom() + 1, {animate: false})")
    frames[0].evaluate("window.atlasLayer._map.panBy([40, -30], {animate: false})")
    wait_for(lambda: frames[1].evaluate("window.atlasLayer._map.getZoom()") == zooms[0] + 1, 10, "the other map to zoom")
    moved = frames[1].evaluate("""(() => { const m = window.atlasLayer._map, z = m.getZoom();
        const d = m.project(m.getCenter(), z).subtract(m.project(L.latLngBounds(window.atlasLayer.getBounds()).getCenter(), z));
        return [Math.round(d.x), Math.round(d.y)]; })()""")
    assert abs(moved[0] - 40) <= 2 and abs(moved[1] + 30) <= 2, moved
    main = page.locator('[data-testid="stMain"]')
    table = main.locator('[data-testid="stTable"]').first.inner_text()
    for text in ("A · Hartlepool (E06000001)", "B · Liverpool (E08000012)", "10th of 317", "3rd of 317", "35.037",
                 "42.412", "more deprived"):
        assert text in table, text
    assert main.locator(".atlas-spine svg g.spine-area").count() == 2 * 5  # 2 areas × 5 summaries
    assert "median of all 317 districts" in main.inner_text()
    # The link still says the same view.
    assert "compare=1" in page.url and f"areas={HARTLEPOOL}%2C{LIVERPOOL}" in page.url or \
        f"areas={HARTLEPOOL},{LIVERPOOL}" in page.url, page.url
    screenshot(page, ARTIFACTS / "compare_two_districts.png")
    # The picker works from the keyboard: type a name, Enter adds it; the link follows.
    picker = main.get_by_role("combobox", name="Areas to compare (2–4 districts)")
    picker.focus()
    page.keyboard.type("Middlesbro")
    page.keyboard.press("Enter")
    wait_idle(page)
    frames = map_frames(page, 3, timeout=120)
    assert small_map_names(page)[2] == "C · Middlesbrough"
    wait_for(lambda: MIDDLESBROUGH in page.url, 10, "the link to carry the third area")
    hd_session.assert_clean()


def three_step_story() -> Story:
    return Story("Deprivation in the Tees Valley and Liverpool (IoD2019)", [
        Step("England's districts by average IMD score", "Darker = more deprived; rank 1 = most deprived of 317.",
             {"data": "iod2019", "view": "districts", "measure": "imd", "summary": "average_score"}),
        Step("Hartlepool's neighbourhoods", "36% of Hartlepool's LSOAs are in England's most deprived 10% "
             "<img src=x onerror=window.pwned=1> {{7*7}}",
             {"data": "iod2019", "view": "lsoas", "measure": "imd", "districts": HARTLEPOOL}),
        Step("Hartlepool, Liverpool and Middlesbrough side by side",
             "All three rank in the most deprived tenth of districts on average score.",
             {"data": "iod2019", "view": "districts", "measure": "imd", "compare": "1",
              "areas": f"{HARTLEPOOL},{LIVERPOOL},{MIDDLESBROUGH}"}),
    ])


def demo_story() -> Story:
    return Story("Deprivation in the demo districts", [
        Step("The twelve districts", "Wexley Fold is the most deprived on average score.",
             {"data": "demo", "view": "districts"}),
        Step("Wexley Fold's neighbourhoods", "", {"data": "demo", "view": "lsoas", "districts": "E08000905"}),
        Step("Wexley Fold and Ashbridge side by side", "",
             {"data": "demo", "view": "districts", "compare": "1", "areas": "E08000905,E08000901"}),
    ])


def test_presenter_text_is_projector_sized_and_every_step_fits(sized_session, app_url):  # noqa: F811
    """Every step of a story on the demo pack, at 1920×1080 and 1366×768: the story's title and 'Step n of N' in the
    header, no visible text of the page under 20 px, no st.dataframe (canvas) showing, and nothing to scroll."""
    page = sized_session.page
    story = demo_story()
    width = page.viewport_size["width"]
    page.goto(f"{app_url}/?story={story_token(story)}&present=1", wait_until="domcontentloaded")
    problems = []
    for i, step in enumerate(story.steps):
        if i:
            page.locator(".atlas-present h1").click()
            page.keyboard.press("ArrowRight")
        wanted = f"Step {i + 1} of 3"
        wait_for(lambda: position(page) == wanted, 60, wanted)  # noqa: B023 — used at once, in this pass
        wait_idle(page)
        map_frames(page, 2 if "compare" in step.view else 1, timeout=120)
        assert heading(page) == step.title
        assert _eval(page, "document.querySelector('.atlas-story-name')?.innerText", "") == story.title
        texts = _eval(page, SMALLEST_TEXT, [])
        assert texts and any(t[1] == story.title for t in texts), texts[:5]
        print(f"{width} step {i + 1}: smallest text {texts[0]}")
        if texts[0][0] < MIN_TEXT_PX:
            problems.append((i + 1, "text under 20 px", [t for t in texts if t[0] < MIN_TEXT_PX][:6]))
        if _eval(page, VISIBLE_GRIDS, 0):
            problems.append((i + 1, "an st.dataframe (canvas text) on the step", _eval(page, VISIBLE_GRIDS, 0)))
        left = scrolling(page)
        print(f"{width} step {i + 1}: scrolling {left}")
        if left:
            problems.append((i + 1, "scrolls", left))
        screenshot(page, ARTIFACTS / f"presenter_step{i + 1}_{width}.png")
    assert problems == [], "\n".join(str(p) for p in problems)
    sized_session.assert_clean()


def position(page) -> str:
    return _eval(page, "document.querySelector('.atlas-position')?.innerText || ''", "")


def heading(page) -> str:
    return _eval(page, "document.querySelector('.atlas-present h1')?.innerText || ''", "")


def test_story_steps_with_the_keyboard_in_presenter_mode(hd_session, iod2019_app):  # noqa: F811
    page = hd_session.page
    story = three_step_story()
    page.goto(f"{iod2019_app}/?story={story_token(story)}&present=1", wait_until="domcontentloaded")
    wait_idle(page)
    wait_for(lambda: position(page) == "Step 1 of 3", 60, "position Step 1 of 3")
    frames = map_frames(page, 1, min_paths=317, timeout=120)
    assert heading(page) == story.steps[0].title
    # Presenter theme: no sidebar, no Streamlit header, large type.
    assert not page.locator('[data-testid="stSidebar"]').is_visible()
    assert page.locator(".atlas-present h1").evaluate("e => parseFloat(getComputedStyle(e).fontSize)") >= 40
    colours = page.locator(".atlas-position").evaluate(
        "e => [getComputedStyle(e).color, getComputedStyle(e).backgroundColor]")
    assert colours == ["rgb(255, 255, 255)", "rgb(0, 0, 0)"], colours  # the position reads white on black
    wait_for(lambda: _eval(page, "window.__atlasPresenterReady === true", False), 30, "the keyboard script")
    page.locator(".atlas-present h1").click()  # the page, not a control, has the focus (as after opening a link)

    page.keyboard.press("ArrowRight")
    wait_for(lambda: position(page) == "Step 2 of 3", 60, "step 2 after ArrowRight")
    wait_idle(page)
    frames = map_frames(page, 1, min_paths=58, timeout=120)
    assert frames[0].locator("path.leaflet-interactive").count() == 58  # Hartlepool's 58 LSOAs
    assert heading(page) == story.steps[1].title
    callout = page.locator(".atlas-callout").inner_text()  # a user's text is shown literally, never run
    assert "<img src=x onerror=window.pwned=1> {{7*7}}" in callout, callout
    assert _eval(page, "typeof window.pwned", "") == "undefined"

    page.keyboard.press("ArrowRight")
    wait_for(lambda: position(page) == "Step 3 of 3", 60, "step 3 after the second ArrowRight")
    wait_idle(page)
    frames = map_frames(page, 3, timeout=120)
    assert heading(page) == story.steps[2].title
    assert small_map_names(page) == ["A · Hartlepool", "B · Liverpool", "C · Middlesbrough"]
    assert story.steps[2].callout in page.locator(".atlas-callout").inner_text()
    page.keyboard.press("ArrowRight")  # the last step: stays
    page.wait_for_timeout(500)
    wait_idle(page)
    assert position(page) == "Step 3 of 3"
    screenshot(page, ARTIFACTS / "presenter_mode.png")

    page.keyboard.press("PageUp")  # a clicker's "previous"
    wait_for(lambda: position(page) == "Step 2 of 3", 60, "step 2 after PageUp")
    wait_idle(page)
    page.keyboard.press("ArrowLeft")
    wait_for(lambda: position(page) == "Step 1 of 3", 60, "step 1 after ArrowLeft")
    wait_idle(page)
    frames = map_frames(page, 1, min_paths=317, timeout=120)
    assert "step=1" in page.url and "present=1" in page.url
    # A clicker sends PageDown; it steps even when the map (a frame of its own) has the focus.
    # (the page hooks each map frame's keys within a quarter of a second of the frame appearing)
    wait_for(lambda: frames[0].evaluate("!!document.__atlasPresenterKeys"), 10, "the map frame's keys hooked")
    frames[0].locator(".leaflet-control-zoom-in").focus()
    page.keyboard.press("PageDown")
    wait_for(lambda: position(page) == "Step 2 of 3", 60, "step 2 after PageDown inside the map")
    wait_idle(page)
    map_frames(page, 1, min_paths=58, timeout=120)
    page.locator(".atlas-present h1").click()
    page.keyboard.press(" ")
    wait_for(lambda: position(page) == "Step 3 of 3", 60, "step 3 after Space")
    wait_idle(page)
    hd_session.assert_clean()


def test_open_a_story_file_and_present_it(hd_session, app_url, tmp_path):  # noqa: F811
    """The upload path on the demo pack: a file that is not a story is refused with advice; a story with an unknown
    setting opens with a notice, and 'Present the story' starts presenter mode at step 1 of 2."""
    page = hd_session.page
    page.goto(app_url, wait_until="domcontentloaded")
    wait_idle(page)
    sidebar(page).get_by_text("Story for presenting (0 steps)").click()
    story_box = sidebar(page).locator('[data-testid="stExpander"]').filter(has_text="Story for presenting")
    upload = story_box.locator('[data-testid="stFileUploaderDropzoneInput"]')
    wait_for(lambda: upload.count() == 1, 20, "the story uploader")
    bad = tmp_path / "not_a_story.json"
    bad.write_text('{"title": "no steps here"}', encoding="utf-8")
    upload.set_input_files(str(bad))
    wait_idle(page)
    wait_for(lambda: "not an atlas story" in sidebar(page).inner_text(), 20, "the error about the file")
    story = Story("Two demo views", [
        Step("Districts", "All twelve.", {"data": "demo", "view": "districts"}),
        Step("Wexley Fold's LSOAs", "", {"data": "demo", "view": "lsoas", "districts": "E08000905"}),
    ])
    good = tmp_path / "story.json"
    good.write_text(story.to_json().replace('"view": "districts"', '"view": "districts", "colour": "red"', 1),
                    encoding="utf-8")
    upload.set_input_files(str(good))
    wait_idle(page)
    text = wait_for(lambda: (t := sidebar(page).inner_text()) and "Opened" in t and t, 30, "the story to open")
    assert "Opened “Two demo views”: 2 steps." in text and "unknown view setting 'colour'" in text, text
    sidebar(page).get_by_role("button", name="Present the story").click()
    wait_for(lambda: position(page) == "Step 1 of 2", 60, "presenter mode at step 1 of 2")
    wait_idle(page)
    assert heading(page) == "Districts" and not sidebar(page).is_visible()
    page.keyboard.press("ArrowRight")
    wait_for(lambda: position(page) == "Step 2 of 2", 60, "step 2 of 2")
    wait_idle(page)
    map_frames(page, 1, min_paths=2)
    assert "view=lsoas" in page.url and "districts=E08000905" in page.url
    page.get_by_role("button", name="Exit presenter mode").click()
    wait_idle(page)
    wait_for(lambda: sidebar(page).is_visible() and "present=" not in page.url, 30, "the sidebar back")
    hd_session.assert_clean()
