"""The screens that are the spec (#17): what `make screenshots` photographs and the browser tests measure.

Each shot is a link into the app on the IoD2019 pack — the national LSOA map, one district's LSOAs, a
comparison of two districts and a presenter step — opened at a projector's 1920×1080 and a council laptop's
1366×768. `measure(page)` reads the layout figures the issue sets targets for: the map's share of the
viewport's width, whether the whole map (its legend included) is above the fold, and the smallest font of
visible text on the page and inside the map.
"""

from __future__ import annotations

from dataclasses import dataclass

from geo.state.story import Step, Story

SIZES = ((1920, 1080), (1366, 768))
# The areas of each data: a district to open, and two to compare.
AREAS = {"iod2019": ("E06000001", "Hartlepool", "E08000012"), "demo": ("E08000905", "Wexley Fold", "E07000901")}


def presenter_story(data: str = "iod2019") -> Story:
    district, name, _ = AREAS[data]
    return Story(f"Deprivation in {name}", [
        Step("England's neighbourhoods by IMD score", "Darker = more deprived.",
             {"data": data, "view": "lsoas", "measure": "imd"}),
        Step(f"{name}'s neighbourhoods", f"Where {name}'s most deprived neighbourhoods are.",
             {"data": data, "view": "lsoas", "measure": "imd", "districts": district}),
    ])


@dataclass(frozen=True)
class Shot:
    name: str
    query: str
    maps: int = 1  # map frames drawn when it is ready
    single: bool = True  # one map filling the page (not the small maps of a comparison)


def shots(data: str = "iod2019") -> list[Shot]:
    from ui.present import story_token

    district, _, other = AREAS[data]
    return [
        Shot("national_lsoas", f"data={data}&view=lsoas&measure=imd"),
        Shot("district_lsoas", f"data={data}&view=lsoas&measure=imd&districts={district}"),
        Shot("comparison", f"data={data}&view=districts&measure=imd&compare=1&areas={district},{other}", 2, False),
        Shot("presenter_step", f"story={story_token(presenter_story(data))}&present=1&step=2"),
    ]


# A map is drawn: the SVG layer at rest with paths, or the canvas layer painted.
DRAWN = """(() => { const l = window.atlasLayer;
    if (!(window.atlasReady === true && l && l._map && !l._map._animatingZoom)) { return 0; }
    if (l.count && window.atlasPainted > 0) { return l.count(); }
    return document.querySelectorAll('path.leaflet-interactive').length; })()"""

# The main map's frame in the page, its box and the viewport.
FRAME_BOXES = """() => [...document.querySelectorAll('iframe')].map(f => {
    const r = f.getBoundingClientRect();
    return {x: r.left, y: r.top, w: r.width, h: r.height, title: f.title || ''}; })
    .filter(b => b.w > 100 && b.h > 100)"""

# The smallest computed font size of visible text in a document (elements with their own text nodes).
SMALLEST_FONT = """() => { let min = Infinity, what = '';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode, el = node.parentElement;
        if (!el || !node.textContent.trim()) { continue; }
        const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
        if (r.width === 0 || r.height === 0 || cs.visibility === 'hidden' || cs.display === 'none') { continue; }
        if (r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth) { continue; }
        if (el.closest('[aria-hidden="true"], .sr-only, script, style, noscript')) { continue; }
        const px = parseFloat(cs.fontSize);
        if (px < min) { min = px; what = node.textContent.trim().slice(0, 60); }
    }
    return [min === Infinity ? null : min, what]; }"""

# The legend's box inside the map frame (frame coordinates).
LEGEND_BOX = """() => { const l = document.querySelector('.atlas-legend');
    if (!l) { return null; } const r = l.getBoundingClientRect();
    return {x: r.left, y: r.top, w: r.width, h: r.height}; }"""


def map_boxes(page) -> list[dict]:
    return page.evaluate(FRAME_BOXES)


def measure(page, map_frame) -> dict:
    """Layout figures of the page as shown: the biggest map frame's share of the viewport's width and height,
    its bottom edge (and the legend's) against the viewport's height, and the smallest fonts."""
    vw, vh = page.viewport_size["width"], page.viewport_size["height"]
    frame_el = map_frame.frame_element()
    box = frame_el.bounding_box()
    legend = map_frame.evaluate(LEGEND_BOX)
    legend_bottom = None if legend is None else box["y"] + legend["y"] + legend["h"]
    page_font = page.evaluate(SMALLEST_FONT)
    map_font = map_frame.evaluate(SMALLEST_FONT)
    return {
        "viewport": f"{vw}x{vh}", "map_w": round(box["width"]), "map_h": round(box["height"]),
        "map_x": round(box["x"]), "map_y": round(box["y"]),
        "width_share": box["width"] / vw, "height_share": box["height"] / vh,
        "map_bottom": round(box["y"] + box["height"]),
        "legend_bottom": None if legend_bottom is None else round(legend_bottom),
        "above_fold": box["y"] + box["height"] <= vh + 0.5,
        "page_font": page_font[0], "page_font_text": page_font[1],
        "map_font": map_font[0], "map_font_text": map_font[1],
    }


def drawn_frames(page) -> list:
    """The frames holding a drawn map, biggest first."""
    found = []
    for frame in page.frames:
        try:
            if frame.evaluate(DRAWN):
                box = frame.frame_element().bounding_box()
                found.append((box["width"] * box["height"] if box else 0, frame))
        except Exception:  # noqa: BLE001 — a frame navigating away or detached
            continue
    return [f for _, f in sorted(found, key=lambda t: -t[0])]
