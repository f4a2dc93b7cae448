"""A 16:9 slide of a map, drawn on the server with matplotlib: PNG (1920×1080), SVG or PDF.

The slide carries the title and subtitle, the choropleth in the web map's class colours (drawn in
British National Grid, EPSG:27700, simplified to about a pixel), the legend with each class's
range and count and a 'No data' swatch, the legend in words, a callout, and a footer with the
source, release, licence attribution and date. Type is sized for a projector: at 1920 px wide the
title is 48 px and no text is smaller than 20 px (MIN_TEXT_PX), class numbers on the areas included.

On a dark theme the class colours start above the background: the web map's ramp is kept in its
order (darker = more deprived) but cut where its darker end would fall below 3:1 contrast against
the background (WCAG 1.4.11, non-text contrast), and the k classes are spread over what is left
(`class_colours`). On the light theme the slide paints exactly the web map's colours.

Every string is drawn as plain text: matplotlib's mathtext (`$x^2$`) and TeX are switched off for
each text, so a place called `$x^2$` or `{{7*7}}` is printed as written. Fonts are matplotlib's
bundled DejaVu Sans, and nothing is fetched from the internet. Pure library: no streamlit.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import textwrap
import threading
from dataclasses import dataclass

import geopandas as gpd
import matplotlib
import numpy as np
import shapely
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.path import Path as MplPath

from geo.present.classify import NO_DATA, PALETTES, Classification
from geo.errors import AtlasError
from geo.present.legend_text import sentence_legend
from geo.present.mapping import MapSpec

matplotlib.use("Agg")  # no display: render straight to bytes

WIDTH_PX, HEIGHT_PX, DPI = 1920, 1080, 100
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
MARKS = ("none", "hatch", "labels")
MAX_LABELLED_AREAS = 300
PT = 72 / DPI  # points per pixel at this resolution
TITLE_PX, SUBTITLE_PX, BODY_PX, FOOTER_PX = 48, 30, 24, 22
MIN_TEXT_PX = 20  # nothing on a slide is drawn smaller (at 1920×1080), so it reads from the back of a hall
CLASS_CONTRAST = 3.0  # every class colour against a dark background (WCAG 1.4.11 non-text contrast)


@dataclass(frozen=True)
class Theme:
    """Colours of a slide theme (text colours meet WCAG 2.2 AA, 4.5:1, on `background`; tests check)."""

    background: str
    text: str
    muted: str
    rule: str
    edge: str
    no_data: str
    no_data_hatch: str
    callout_bar: str

    @property
    def dark(self) -> bool:
        """A dark background: the class ramp must start above it (`class_colours`)."""
        return relative_luminance(self.background) < 0.18


THEMES: dict[str, Theme] = {
    "light": Theme(background="#ffffff", text="#111111", muted="#3d3d3d", rule="#8a8a8a", edge="#ffffff",
                   no_data="#ffffff", no_data_hatch="#6b6b6b", callout_bar="#1f4e79"),
    # For projectors: white on black, the strongest contrast a washed-out projector keeps; polygon
    # edges light so the darkest class stays distinct from the background.
    "projector": Theme(background="#000000", text="#ffffff", muted="#e0e0e0", rule="#bdbdbd", edge="#9e9e9e",
                       no_data="#000000", no_data_hatch="#bdbdbd", callout_bar="#ffd400"),
}

# Hatches from the darkest class down: distinct at a glance, denser for the more deprived classes.
HATCHES = ["xxx", "///", "\\\\\\", "+++", "...", "---", "|||", "oo", "**", ""]

# rc_context changes matplotlib's global settings: one slide at a time (the app renders downloads on threads).
_RENDER_LOCK = threading.Lock()
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain(text: object, limit: int = 400) -> str:
    """A user string made safe to draw: control characters removed, whitespace tidied, length capped."""
    out = _CONTROL.sub("", "" if text is None else str(text)).replace("\r", "")
    out = re.sub(r"[ \t]+", " ", out).strip()
    return out if len(out) <= limit else out[: limit - 1].rstrip() + "…"


def _wrap(text: str, width: int, max_lines: int) -> list[str]:
    lines: list[str] = []
    for para in text.split("\n"):
        lines += textwrap.wrap(para, width, break_long_words=True) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(0, width - 1)].rstrip() + "…"
    return lines


def relative_luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of '#rrggbb' (or '#rgb')."""
    h = colour.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    channels = [int(h[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio between two colours (1 to 21)."""
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _ink_on(fill: str) -> str:
    """Black or white, whichever contrasts more with `fill` (for hatches and labels on a class colour)."""
    return "#000000" if contrast_ratio(fill, "#000000") >= contrast_ratio(fill, "#ffffff") else "#ffffff"


def _hex(rgb: np.ndarray) -> str:
    return "#" + "".join(f"{int(round(float(c))):02x}" for c in rgb)


def _ramp(colours: list[str]) -> list[str]:
    """The ramp the classes were sampled from (light to dark): a whole palette of geo.present.classify when the
    colours are one of its samples, else the colours themselves."""
    for base in PALETTES.values():
        if palette_colours_of(base, len(colours)) == [c.lower() for c in colours]:
            return base
    return [c.lower() for c in colours]


def palette_colours_of(base: list[str], k: int) -> list[str]:
    """k colours sampled evenly along `base` (light to dark), as geo.present.classify.palette_colours does."""
    return list(base) if k == len(base) else [_hex(_along(base, t)) for t in np.linspace(0, 1, k)]


def _along(base: list[str], t: float) -> np.ndarray:
    """The colour at t (0 = the lightest end, 1 = the darkest) of a piecewise-linear ramp through `base`."""
    rgb = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in base], dtype=float)
    p = t * (len(base) - 1)
    lo, hi = int(np.floor(p)), int(np.ceil(p))
    return rgb[lo] + (rgb[hi] - rgb[lo]) * (p - lo)


def class_colours(colours: list[str], theme: str) -> list[str]:
    """The class colours a slide paints on `theme` (light to dark, as Classification.colours).

    Light theme: the web map's own colours. Dark theme: the same ramp, in the same order, cut before its darker end
    falls under CLASS_CONTRAST against the background, with the classes spread evenly over the rest; a ramp that
    already clears the background is kept as it is.
    """
    th = THEMES[theme]
    if not th.dark or len(colours) < 1 or all(contrast_ratio(c, th.background) >= CLASS_CONTRAST for c in colours):
        return list(colours)
    base = _ramp(colours)

    def clears(t: float) -> bool:
        return contrast_ratio(_hex(_along(base, t)), th.background) >= CLASS_CONTRAST + 0.05

    end = 0.0
    for t in np.linspace(0, 1, 401):  # from the light end until the first colour too close to the background
        if not clears(t):
            break
        end = t
    if len(colours) == 1:
        return [_hex(_along(base, end))]
    return [_hex(_along(base, t)) for t in np.linspace(0, end, len(colours))]


def _paths(geoms: np.ndarray) -> list[MplPath | None]:
    """Matplotlib paths of (multi)polygons, holes kept (exteriors CCW, holes CW, so they stay empty)."""
    out: list[MplPath | None] = []
    oriented = shapely.orient_polygons(geoms)
    for geom in oriented:
        if geom is None or geom.is_empty:
            out.append(None)
            continue
        parts = [g for g in getattr(geom, "geoms", [geom]) if g.geom_type == "Polygon" and not g.is_empty]
        verts, codes = [], []
        for poly in parts:
            for ring in (poly.exterior, *poly.interiors):
                xy = np.asarray(ring.coords)[:, :2]
                if len(xy) < 4:
                    continue
                verts.append(xy)
                codes.append(np.r_[MplPath.MOVETO, np.full(len(xy) - 2, MplPath.LINETO), MplPath.CLOSEPOLY])
        out.append(MplPath(np.concatenate(verts), np.concatenate(codes).astype(np.uint8)) if verts else None)
    return out


def _projected(gdf: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """Geometry in EPSG:27700, simplified to about a pixel of the slide's map."""
    geoms = gdf.geometry
    if geoms.crs is None:
        geoms = geoms.set_crs(4326)
    geoms = geoms.to_crs(27700)
    if len(geoms):
        minx, miny, maxx, maxy = geoms.total_bounds
        tolerance = max(maxx - minx, maxy - miny) / 2500
        if tolerance > 0:
            geoms = geoms.simplify(tolerance, preserve_topology=True)
    return geoms


def default_sentences(classification: Classification) -> list[str]:
    return sentence_legend(classification)


def render_slide(
    gdf: gpd.GeoDataFrame,
    spec: MapSpec,
    classification: Classification,
    *,
    callout: str = "",
    source: str = "",
    release: str = "",
    attribution: str = "",
    date: dt.date | None = None,
    fmt: str = "png",
    theme: str = "light",
    marks: str = "none",
    sentences: list[str] | None = None,
) -> bytes:
    """The slide as PNG (1920×1080), SVG or PDF bytes.

    `marks` makes the map readable without colour: 'hatch' gives each class its own pattern,
    'labels' writes each area's class number (1 = darkest) on it (up to 300 areas). `sentences`
    is the legend in words (geo.present.legend_text.sentence_legend); its first and its No data sentence are shown.
    """
    fmt = fmt.lower().lstrip(".")
    if fmt not in FORMATS:
        raise AtlasError(f"Slides can be PNG, SVG or PDF, not '{fmt}'.", "Use a file name ending .png, .svg or .pdf.")
    if theme not in THEMES:
        raise AtlasError(f"Unknown slide theme '{theme}'.", f"Choose one of: {', '.join(THEMES)}.")
    if marks not in MARKS:
        raise AtlasError(f"Unknown marks '{marks}'.", f"Choose one of: {', '.join(MARKS)}.")
    if len(classification.classes) != len(gdf):
        raise ValueError("The classification does not match the layer (different number of rows).")
    th = THEMES[theme]
    colours = class_colours(classification.colours, theme)
    date = date or dt.datetime.now(dt.timezone.utc).date()
    sentences = default_sentences(classification) if sentences is None else sentences
    rc = {"font.family": "DejaVu Sans", "text.usetex": False, "text.parse_math": False, "svg.fonttype": "none",
          "svg.hashsalt": "atlas-slide", "pdf.fonttype": 42, "hatch.linewidth": 1.2, "path.simplify": True}
    with _RENDER_LOCK, matplotlib.rc_context(rc):
        fig = Figure(figsize=(WIDTH_PX / DPI, HEIGHT_PX / DPI), dpi=DPI, facecolor=th.background)

        def text(x: float, y: float, s: str, px: float, **kw) -> None:
            """Text at pixel (x, y) from the top left, `px` pixels high, never parsed as maths."""
            kw.setdefault("color", th.text)
            kw.setdefault("va", "top")
            fig.text(x / WIDTH_PX, 1 - y / HEIGHT_PX, s, fontsize=px * PT, parse_math=False, usetex=False, **kw)

        # Title and subtitle.
        y = 34
        for line in _wrap(plain(spec.title or spec.value_label, 200), 62, 2):
            text(56, y, line, TITLE_PX, weight="bold")
            y += TITLE_PX * 1.2
        subtitle = plain(spec.subtitle, 300)
        for line in _wrap(subtitle, 100, 2) if subtitle else []:
            text(56, y + 4, line, SUBTITLE_PX, color=th.muted)
            y += SUBTITLE_PX * 1.25
        top = max(y + 20, 150)

        # The map.
        map_box = (40, top, 1080, 905 - top)  # x, y from the top, width, height in px
        ax = fig.add_axes([map_box[0] / WIDTH_PX, 1 - (map_box[1] + map_box[3]) / HEIGHT_PX,
                           map_box[2] / WIDTH_PX, map_box[3] / HEIGHT_PX])
        ax.set_axis_off()
        ax.set_facecolor(th.background)
        _draw_map(ax, gdf, classification, colours, th, marks)

        # Legend: a heading, then one row per class (darkest first) and No data.
        x0, width = 1160, 720
        y = top
        text(x0, y, _wrap(plain(spec.value_label, 160), 44, 1)[0], BODY_PX, weight="bold")
        y += BODY_PX * 1.35
        text(x0, y, "Darker = " + plain(spec.darker_means, 80), BODY_PX, color=th.muted)
        text(x0 + width, y, "areas", BODY_PX, color=th.muted, ha="right")
        y += BODY_PX * 1.5
        rows = [(cls, plain(classification.labels[cls], 120), classification.counts[cls])
                for cls in range(classification.k - 1, -1, -1)]
        rows.append((NO_DATA, "No data", classification.no_data_count))
        row_h = BODY_PX * (1.5 if len(rows) <= 8 else 1.3)
        for cls, label, count in rows:
            fill = th.no_data if cls == NO_DATA else colours[cls]
            hatch = "////" if cls == NO_DATA else (HATCHES[classification.k - 1 - cls] if marks == "hatch" else None)
            ink = th.no_data_hatch if cls == NO_DATA else _ink_on(fill)
            swatch = Rectangle(((x0) / WIDTH_PX, 1 - (y + BODY_PX * 1.1) / HEIGHT_PX), 52 / WIDTH_PX,
                               BODY_PX * 1.05 / HEIGHT_PX, transform=fig.transFigure, facecolor=fill,
                               edgecolor=th.rule, linewidth=1, hatch=hatch, hatchcolor=ink)
            fig.add_artist(swatch)
            number = "" if cls == NO_DATA else f"{classification.k - cls}. " if marks == "labels" else ""
            text(x0 + 66, y, _wrap(number + label, 46, 1)[0], BODY_PX)
            text(x0 + width, y, f"{count:,}", BODY_PX, ha="right", color=th.muted)
            y += row_h
        y += 14

        # The legend in words, then the callout.
        room = 900 - y
        # The headline sentence (the darkest class, e.g. the most deprived 10% nationally), and No data if any.
        words = [s for s in (plain(s, 200) for s in sentences[:1] + [s for s in sentences[1:] if s.startswith("No data")])
                 if s]
        for sentence in words:
            lines = _wrap(sentence, 52, 3)
            if room < len(lines) * BODY_PX * 1.3 + 10:
                break
            for line in lines:
                text(x0, y, line, BODY_PX, color=th.muted)
                y += BODY_PX * 1.3
            y += 8
            room = 900 - y
        callout_text = plain(callout, 600)
        if callout_text:
            y += 10
            max_lines = max(1, int((900 - y) // (BODY_PX * 1.35 + 2)))
            lines = _wrap(callout_text, 42, max_lines)
            fig.add_artist(Rectangle((x0 / WIDTH_PX, 1 - (y + len(lines) * BODY_PX * 1.35) / HEIGHT_PX),
                                     8 / WIDTH_PX, len(lines) * BODY_PX * 1.35 / HEIGHT_PX,
                                     transform=fig.transFigure, facecolor=th.callout_bar, edgecolor="none"))
            for line in lines:
                text(x0 + 24, y, line, BODY_PX + 2, weight="bold")
                y += BODY_PX * 1.35

        # Footer: a rule, then source · release · date, then the licence attribution.
        fig.add_artist(Rectangle((40 / WIDTH_PX, 1 - 922 / HEIGHT_PX), (WIDTH_PX - 80) / WIDTH_PX, 2 / HEIGHT_PX,
                                 transform=fig.transFigure, facecolor=th.rule, edgecolor="none"))
        text(WIDTH_PX - 56, 934, f"Date: {date:%-d %B %Y}", FOOTER_PX, color=th.muted, ha="right")
        parts = [f"Source: {plain(source, 160)}" if source else "", f"Release: {plain(release, 120)}" if release else ""]
        lines = _wrap(" · ".join(p for p in parts if p), 118, 2) if source or release else []
        lines += _wrap(plain(attribution, 400), 150, 2) if attribution else []
        caveat = plain(spec.caveat, 200)
        lines += _wrap(caveat, 140, 5 - len(lines)) if caveat and len(lines) < 5 else []
        for i, line in enumerate(lines[:5]):
            text(56, 934 + i * FOOTER_PX * 1.33, line, FOOTER_PX, color=th.muted)

        buf = io.BytesIO()
        metadata = {"png": {"Software": "Neighbourhood Renewal Atlas"}, "svg": {"Date": None},
                    "pdf": {"CreationDate": None, "Creator": "Neighbourhood Renewal Atlas"}}[fmt]
        fig.savefig(buf, format=fmt, dpi=DPI, facecolor=th.background, metadata=metadata)
    return buf.getvalue()


def _draw_map(ax, gdf: gpd.GeoDataFrame, classification: Classification, colours: list[str], th: Theme,
              marks: str) -> None:
    geoms = _projected(gdf)
    paths = _paths(geoms.values)
    classes = np.asarray(classification.classes)
    drawn = [i for i, p in enumerate(paths) if p is not None]
    if not drawn:
        ax.text(0.5, 0.5, "No areas to draw", ha="center", va="center", transform=ax.transAxes,
                fontsize=BODY_PX * PT, color=th.text, parse_math=False)
        return
    edge_width = 0.8 if len(drawn) < 400 else 0.35 if len(drawn) < 3000 else 0.12
    for cls in [NO_DATA, *range(classification.k)]:
        members = [paths[i] for i in drawn if classes[i] == cls]
        if not members:
            continue
        if cls == NO_DATA:
            face, hatch, ink, edge = th.no_data, "////", th.no_data_hatch, th.no_data_hatch
        else:
            face = colours[cls]
            hatch = HATCHES[classification.k - 1 - cls] if marks == "hatch" else None
            ink, edge = _ink_on(face), th.edge
        coll = PathCollection(members, facecolors=face, edgecolors=edge, linewidths=edge_width, hatch=hatch,
                              hatchcolors=ink)
        ax.add_collection(coll)
    minx, miny, maxx, maxy = geoms.total_bounds
    pad = max(maxx - minx, maxy - miny) * 0.02 or 100.0
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    box_w, box_h = ax.get_position().width * WIDTH_PX, ax.get_position().height * HEIGHT_PX
    scale = max((maxx - minx) / box_w, (maxy - miny) / box_h)  # metres per pixel, the whole area in view
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    ax.set_xlim(cx - scale * box_w / 2, cx + scale * box_w / 2)
    ax.set_ylim(cy - scale * box_h / 2, cy + scale * box_h / 2)
    ax.set_aspect("equal", adjustable="box")
    if marks == "labels" and len(drawn) <= MAX_LABELLED_AREAS:
        points = shapely.point_on_surface(geoms.values)
        size = BODY_PX if len(drawn) <= 60 else MIN_TEXT_PX
        for i in drawn:
            cls = int(classes[i])
            if cls == NO_DATA:
                continue
            face = colours[cls]
            ax.text(points[i].x, points[i].y, str(classification.k - cls), ha="center", va="center",
                    fontsize=size * PT, color=_ink_on(face), weight="bold", parse_math=False)
