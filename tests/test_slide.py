"""Slides (geo.present.slide), the legend in words (geo.present.legend_text) and WCAG 2.2 AA contrast of the map and slides."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from defusedxml.ElementTree import fromstring
from PIL import Image

from geo.present.classify import classify_values
from geo.load.io import read_boundaries, read_table
from geo.link.join import join_indicators
from geo.present.legend_text import possessive, sentence_legend
from geo.load.assets import atlas_text
from geo.present.mapping import MapSpec, build_choropleth, map_html
from geo.present.classify import PALETTES, palette_colours
from geo.present.slide import CLASS_CONTRAST, MIN_TEXT_PX, THEMES, class_colours, contrast_ratio, render_slide
from geo.link.layers import prepare_table
from tests import cases

HOSTILE_TITLE = "$x^2$ and {{7*7}} <b>bold</b> \\alpha"
ATTRIBUTION = ("Contains OS data © Crown copyright and database right; Contains public sector information "
               "licensed under the Open Government Licence v3.0")


@pytest.fixture(scope="module")
def demo():
    """The demo pack's 546 LSOAs with IMD scores classified by national decile (as the app does)."""
    gdf = read_boundaries(cases.REPO / "boundaries" / "demo_lsoa.geojson")
    ind = prepare_table(read_table(cases.REPO / "indicators" / "demo_iod_file7.csv"))
    joined, report = join_indicators(gdf, ind.frame, indicator_code=ind.code_column)
    score, decile = ind.column_for("imd", "score").name, ind.column_for("imd", "decile").name
    cls = classify_values(joined[score], "national_deciles", deciles=joined[decile])
    spec = MapSpec(score, "IMD score", "LSOA11NM", report.boundary_code, title=HOSTILE_TITLE,
                   subtitle="$5 a head {% raw %}", caveat="Illustrative ${demo}")
    return joined, spec, cls


def slide(demo, **kw):
    joined, spec, cls = demo
    kw.setdefault("attribution", ATTRIBUTION)
    return render_slide(joined, spec, cls, callout="Callout $\\frac{1}{2}$ {{ x }}", source="IoD $2019$",
                        release="IoD2019", **kw)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def _pixel_counts(png: bytes) -> dict[tuple[int, int, int], int]:
    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).reshape(-1, 3)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    return {tuple(int(v) for v in c): int(n) for c, n in zip(colours, counts)}


def test_png_is_1920_by_1080_and_paints_every_class_colour(demo):
    png = slide(demo)
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1920, 1080)
    counts = _pixel_counts(png)
    _, _, cls = demo
    for colour, n in zip(cls.colours, cls.counts):
        # Each class with areas is drawn in exactly the web map's colour (many pixels: map and legend swatch).
        assert counts.get(_rgb(colour), 0) > (400 if n else 0), (colour, n, counts.get(_rgb(colour), 0))


def test_hatching_marks_classes_without_changing_their_colours(demo):
    plain_png, hatched_png = slide(demo), slide(demo, marks="hatch")
    plain, hatched = _pixel_counts(plain_png), _pixel_counts(hatched_png)
    darkest = _rgb(demo[2].colours[-1])
    # Hatch lines (white on the darkest class) cover part of its area, but its colour is still there.
    assert 0 < hatched[darkest] < plain[darkest] * 0.9
    assert hatched.get((255, 255, 255), 0) > plain.get((255, 255, 255), 0)


def test_labels_mark_each_area_with_its_class_number():
    gdf = cases.squares(4, size=0.05)
    gdf["v"] = [1.0, 2.0, 3.0, 4.0]
    cls = classify_values(gdf["v"], "quantiles", 4)
    spec = MapSpec("v", "v", "name", "code", title="Four squares")
    svg = render_slide(gdf, spec, cls, fmt="svg", marks="labels").decode()
    texts = [t.strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]
    # Four legend counts of 1, and the class numbers 1 (darkest) to 4 written on the four squares.
    assert sorted(t for t in texts if t in {"1", "2", "3", "4"}) == ["1"] * 5 + ["2", "3", "4"]
    assert "1. 4 (most deprived)" in texts and "4. 1 (least deprived)" in texts  # one value: one number


def _svg_texts(svg: bytes) -> list[tuple[str, float]]:
    """(text, font size in px of the 1920-wide slide) of every <text> in the SVG."""
    root = fromstring(svg)
    width = float(root.get("width").rstrip("pt"))
    out = []
    for el in root.iter("{http://www.w3.org/2000/svg}text"):
        size = float(re.search(r"font-size:\s*([\d.]+)px|font:\s*(?:\w+\s+)*([\d.]+)px", el.get("style", "")).group(
            1) or re.search(r"([\d.]+)px", el.get("style", "")).group(1))
        out.append(("".join(el.itertext()), size * 1920 / width))
    return out


def test_svg_is_valid_vector_with_user_strings_verbatim_and_projector_sized_type(demo):
    svg = slide(demo, fmt="svg")
    root = fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    x0, y0, w, h = (float(v) for v in root.get("viewBox").split())
    assert abs(w / h - 16 / 9) < 1e-3
    texts = _svg_texts(svg)
    joined = "\n".join(t for t, _ in texts)
    # Mathtext is off: dollars, braces and backslashes are printed as written, nothing is run or parsed.
    for literal in ("$x^2$ and {{7*7}} <b>bold</b> \\alpha", "$5 a head {% raw %}", "Callout $\\frac{1}{2}$ {{ x }}",
                    "Source: IoD $2019$", "Illustrative ${demo}"):
        assert literal in joined, (literal, joined)
    assert "Contains OS data © Crown copyright and database right;" in joined
    assert re.search(r"Date: \d{1,2} \w+ \d{4}", joined)
    assert "Most deprived 10% of LSOAs nationally:" in joined or "Darkest class" in joined
    sizes = {t: s for t, s in texts}
    assert sizes["$x^2$ and {{7*7}} <b>bold</b> \\alpha"] >= 40
    assert min(sizes.values()) >= 22 - 0.01, sorted(texts, key=lambda t: t[1])[:3]
    assert len(svg) < 2_000_000


@pytest.mark.parametrize("theme", list(THEMES))
@pytest.mark.parametrize("areas", [4, 120])
def test_every_text_on_a_slide_is_at_least_20_px_at_1920_wide(theme, areas):
    """Title, subtitle, legend (ten classes and No data), the legend in words, callout, source, release,
    attribution, caveat, date and the class numbers written on up to 300 areas: none under 20 px."""
    gdf = cases.squares(areas, size=0.01)
    gdf["v"] = [float(i) if i % 7 else None for i in range(areas)]
    cls = classify_values(gdf["v"], "quantiles", 10 if areas > 10 else 3)
    spec = MapSpec("v", "A value", "name", "code", title="A long title " * 8, subtitle="A subtitle " * 12,
                   caveat="A caveat " * 30)
    svg = render_slide(gdf, spec, cls, fmt="svg", theme=theme, marks="labels", callout="A callout " * 40,
                       source="A source " * 10, release="IoD2019", attribution=ATTRIBUTION)
    texts = _svg_texts(svg)
    assert len(texts) > 20 + (areas if areas > 10 else 0) * 0.8  # legend rows, footer lines and area numbers drawn
    small = sorted((s, t) for t, s in texts if s < MIN_TEXT_PX - 0.01)
    assert small == [], small[:5]
    assert MIN_TEXT_PX >= 20


@pytest.mark.parametrize("palette", list(PALETTES))
@pytest.mark.parametrize("theme", list(THEMES))
def test_every_class_stands_out_from_a_dark_background(palette, theme):
    """WCAG 1.4.11 (non-text contrast, 3:1): on a dark theme every class of every palette, for 3 to 10 classes, is
    distinguishable from the background; the ramp keeps its order (the darkest colour is the most deprived class)
    and its classes stay distinct. On a light theme the slide paints the web map's own colours."""
    th = THEMES[theme]
    for k in range(3, 11):
        web = palette_colours(palette, k)
        drawn = class_colours(web, theme)
        assert len(drawn) == k
        if not th.dark:
            assert drawn == web
            continue
        ratios = [contrast_ratio(c, th.background) for c in drawn]
        assert min(ratios) >= CLASS_CONTRAST, (palette, theme, k, drawn, [round(r, 2) for r in ratios])
        # Still light to dark: each class darker than the one before, so 'Darker = more deprived' holds.
        assert all(a > b for a, b in zip(ratios, ratios[1:])), (palette, k, ratios)
        assert drawn[0] == web[0]  # the lightest class is the web map's


def test_projector_slide_paints_the_recoloured_classes(demo):
    """The projector slide's map and legend use the ramp cut above black, not the web map's darkest purple."""
    _, _, cls = demo
    counts = _pixel_counts(slide(demo, theme="projector"))
    drawn = class_colours(cls.colours, "projector")
    assert drawn != cls.colours and counts.get(_rgb(cls.colours[-1]), 0) == 0
    for colour, n in zip(drawn, cls.counts):
        assert counts.get(_rgb(colour), 0) > (400 if n else 0), (colour, n)
    svg = slide(demo, theme="projector", fmt="svg").decode()
    assert "Darker = " in svg


def test_pdf_is_a_one_page_16_by_9_pdf(demo):
    pdf = slide(demo, fmt="pdf", theme="projector")
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert box and abs(float(box.group(1)) / float(box.group(2)) - 16 / 9) < 1e-3
    assert pdf.count(b"/Type /Page\n") + pdf.count(b"/Type /Page ") + pdf.count(b"/Type /Page>") >= 1


def test_projector_theme_is_white_on_black(demo):
    counts = _pixel_counts(slide(demo, theme="projector"))
    assert counts.get((0, 0, 0), 0) > 1920 * 1080 * 0.4
    assert counts.get((255, 255, 255), 0) > 1000


def test_bad_format_theme_or_marks_is_a_clear_error(demo):
    from geo.errors import AtlasError

    for kw in ({"fmt": "gif"}, {"theme": "neon"}, {"marks": "dots"}):
        with pytest.raises(AtlasError):
            slide(demo, **kw)


def test_empty_layer_draws_a_slide_saying_so():
    gdf = cases.squares(2)
    gdf["v"] = [None, None]
    cls = classify_values(gdf["v"], "quantiles", 3)
    png = render_slide(gdf, MapSpec("v", "v", "name", "code"), cls)
    assert Image.open(io.BytesIO(png)).size == (1920, 1080)


# ------------------------------------------------------------------ the legend in words

def test_sentence_legend_for_national_deciles_in_one_district(demo):
    joined, _, _ = demo
    rows = joined[joined["LAD19CD"] == "E08000905"]
    ind = prepare_table(read_table(cases.REPO / "indicators" / "demo_iod_file7.csv"))
    decile = ind.column_for("imd", "decile").name
    cls = classify_values(rows[decile], "national_deciles", deciles=rows[decile])
    sentences = sentence_legend(cls, area_word="LSOAs", place="Wexley Fold")
    top = int((rows[decile] == 1).sum())
    assert sentences[0] == f"Most deprived 10% of LSOAs nationally: {top} of Wexley Fold's {len(rows)}"
    assert sentences[1].startswith("Decile 2 (10–20% most deprived nationally): ")
    assert sentences[9].startswith("Least deprived 10% of LSOAs nationally: ")
    assert len(sentences) == 10  # no 'No data' sentence when every area has data


def test_sentence_legend_generic_classes_and_no_data():
    gdf = cases.squares(5)
    cls = classify_values(gdf.assign(v=[1.0, 2.0, 3.0, 4.0, None])["v"], "quantiles", 2)
    sentences = sentence_legend(cls, area_word="districts")
    assert sentences == [f"Darkest class, {cls.labels[1]}: 2 of the 5 districts shown",
                         f"Lightest class, {cls.labels[0]}: 2 of the 5 districts shown",
                         "No data: 1 of the 5 districts shown"]


@pytest.mark.parametrize("place,expected", [("Hartlepool", "Hartlepool's"), ("Wexley Fold", "Wexley Fold's"),
                                            ("St. Aldhelm's", "St. Aldhelm's"), ("Rows", "Rows'")])
def test_possessive(place, expected):
    assert possessive(place) == expected


# ------------------------------------------------------------------ WCAG 2.2 AA contrast (4.5:1 for text)

def _rules(css: str) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", css):
        props = dict(p.split(":", 1) for p in body.replace("\n", "").split(";") if ":" in p)
        for sel in selector.split(","):
            out.setdefault(sel.strip(), {}).update({k.strip(): v.strip() for k, v in props.items()})
    return out


def _over(colour: str, under: str) -> str:
    """An rgba(...) or #hex colour composited over an opaque `under` colour, as #rrggbb."""
    m = re.fullmatch(r"rgba\((\d+),\s*(\d+),\s*(\d+),\s*([\d.]+)\)", colour)
    if not m:
        return colour
    r, g, b, a = (float(v) for v in m.groups())
    base = _rgb(under)
    return "#" + "".join(f"{round(c * a + u * (1 - a)):02x}" for c, u in zip((r, g, b), base))


# The box each text rule of the map's CSS is drawn on (selectors of the boxes themselves have a background).
TEXT_ON = {
    ".atlas-legend": ".atlas-legend", ".atlas-legend-sub": ".atlas-legend", ".atlas-legend-head": ".atlas-legend",
    ".atlas-count": ".atlas-legend", ".atlas-caveat": ".atlas-legend", ".atlas-search-msg": ".atlas-search",
    ".atlas-title": ".atlas-title", ".atlas-title small": ".atlas-title",
    ".leaflet-container .leaflet-control-attribution": ".leaflet-container .leaflet-control-attribution",
    ".leaflet-container .leaflet-control-attribution a": ".leaflet-container .leaflet-control-attribution",
    ".atlas-label span": ".atlas-label span",
}


def test_map_css_text_meets_wcag_aa_over_any_map_colour():
    rules = _rules(re.sub(r"/\*.*?\*/", "", atlas_text("atlas-map.css"), flags=re.S))
    with_colour = {sel for sel, props in rules.items() if "color" in props}
    assert with_colour <= set(TEXT_ON), f"classify the new text rules: {with_colour - set(TEXT_ON)}"
    for sel, box in TEXT_ON.items():
        text = rules[sel].get("color") or rules[box]["color"]
        background = rules[box]["background"]
        # Translucent boxes sit on the map: the worst case is over black (the darkest a class can be).
        worst = min(contrast_ratio(text, _over(background, under)) for under in ("#000000", "#ffffff", "#440154"))
        assert worst >= 4.5, (sel, text, background, round(worst, 2))


def test_slide_themes_meet_wcag_aa():
    assert THEMES["projector"].dark and not THEMES["light"].dark
    for name, theme in THEMES.items():
        for role in ("text", "muted"):
            ratio = contrast_ratio(getattr(theme, role), theme.background)
            assert ratio >= 4.5, (name, role, round(ratio, 2))
        # The No data hatch and the callout bar are graphics: 3:1 (WCAG 1.4.11 non-text contrast).
        assert contrast_ratio(theme.no_data_hatch, theme.no_data) >= 3, name
        assert contrast_ratio(theme.callout_bar, theme.background) >= 3, name


def test_contrast_ratio_matches_wcag_reference_values():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)


# ------------------------------------------------------------------ value labels on the web map

def test_value_labels_on_the_web_map_only_when_asked_and_up_to_300_areas():
    gdf = cases.squares(4, names=["{{7*7}}", "a", "b", "c"])
    gdf["v"] = [1.0, 2.5, 3.0, None]
    cls = classify_values(gdf["v"], "quantiles", 3)
    spec = MapSpec("v", "v", "name", "code")
    page = map_html(build_choropleth(gdf, spec, cls))
    assert '"labels":[]' in page
    spec.value_labels = True
    page = map_html(build_choropleth(gdf, spec, cls))
    labels = json.loads(re.search(r'"labels":(\[.*?\]\])', page).group(1))
    assert [round(at[0], 2) for at in labels] == [53.8] * 4 and [at[2] for at in labels] == ["1", "2.500", "3", "no data"]
    # The same labels whatever the renderer: the canvas layer gets them from the same place.
    canvas = build_choropleth(gdf, spec, cls, canvas=True).get_root().render()
    assert json.loads(re.search(r'"labels":(\[.*?\]\])', canvas).group(1)) == labels
    many = cases.squares(301, size=0.001)
    many["v"] = np.arange(301.0)
    page = map_html(build_choropleth(many, MapSpec("v", "v", "name", "code", value_labels=True),
                                     classify_values(many["v"], "quantiles", 5)))
    assert '"labels":[]' in page


def test_concurrent_renders_give_the_same_slide(demo):
    """The app renders downloads on threads: slides drawn at the same time match one drawn alone."""
    from concurrent.futures import ThreadPoolExecutor

    alone = slide(demo, fmt="svg")
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda kw: slide(demo, **kw), [{"fmt": "svg"}, {"fmt": "png"}, {"fmt": "svg"},
                                                               {"fmt": "pdf"}]))
    assert results[0] == alone and results[2] == alone
    assert b"$x^2$ and {{7*7}}" in results[0]
