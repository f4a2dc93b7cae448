"""Side by side: 2–4 areas against each other and against England, as a table, a spine chart and small maps.

Everything here is computed on the *whole* layer a map type draws (all districts, or all LSOAs of
England), so ranks, deciles and England's range are national:

- national rank: 1 = most deprived (for a measure where a low value is deprived, such as an
  average rank, the lowest value is rank 1), ties share the best rank (as MHCLG ranks ties);
- national decile: ceil(rank × 10 / n), so decile 1 is the most deprived tenth of the areas;
- England value: the median of the measure over all the areas with a value (stated as such: it is
  the middle district or LSOA, not a population-weighted national figure);
- gap to England: the area's value minus the England value, in the measure's own units.

The small maps keep the same scale: each fits its own area, at the zoom at which the largest of the
compared areas fits its map (computed in the browser from the map's real size, the same for all).
A compared district is drawn as its own LSOAs coloured by their *national* decile of the measure
(`SmallMaps`), with one legend for all the small maps drawn by the page (`shared_legend_html`); the
small maps themselves are bare (no legend, title or search box over the areas).

Numbers are written by kind (geo.present.numbers): a rank as "10th of 317", a share as "36.2%", a
score at its published precision, and the gap to England in words ("7,324 ranks more deprived than
England's median district").
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

from geo.present.classify import Classification
from geo.catalogue import summaries
from geo.errors import AtlasError
from geo.present.mapping import MapSpec, _script_json
from geo.present.numbers import fmt, gap_words, kind_of, position

MIN_AREAS, MAX_AREAS = 2, 4
# Okabe–Ito colours (colour-blind safe), each with its own marker shape and letter: never colour alone.
AREA_COLOURS = ("#E69F00", "#0072B2", "#009E73", "#CC79A7")
AREA_SHAPES = ("circle", "square", "triangle", "diamond")
AREA_LETTERS = ("A", "B", "C", "D")
ENGLAND_METHOD = "median"
# The number kind (geo.present.numbers) of each MHCLG district summary: average ranks and local concentration
# are ranks, the proportion and the extent are shares of 0–1, scale counts people.
SUMMARY_KINDS = {"average_score": "score", "average_rank": "rank", "proportion_most_deprived_10pct": "share",
                 "extent": "share", "local_concentration": "rank", "scale": "count"}
_SINGULAR = {"districts": "district", "LSOAs": "LSOA", "areas": "area"}


@dataclass(frozen=True)
class Measure:
    """One column to compare, and which way is deprived."""

    column: str
    label: str
    higher_is_worse: bool = True
    kind: str = ""  # a geo.present.numbers kind; "" = the district summary's, else read from the column's name

    def number_kind(self) -> str:
        return self.kind or SUMMARY_KINDS.get(self.column) or kind_of(self.column, self.label)


@dataclass
class Comparison:
    """The difference table (one row per area and measure) and England's range of each measure."""

    table: pd.DataFrame
    ranges: pd.DataFrame
    areas: list[tuple[str, str]]  # (code, name) in the order asked
    n_areas: int  # areas with a value of the first measure, nationally
    unit: str  # "districts", "LSOAs", "areas"
    words: tuple[str, str] = ("less deprived", "more deprived")  # the better and the worse side of England

    def england_note(self) -> str:
        return (f"England value = the median of all {self.n_areas:,} {self.unit} (the middle one, not a "
                "population-weighted national figure); rank 1 and decile 1 = most deprived.")

    def reference(self) -> str:
        """What England's value is, in the words of a gap: "England's median district"."""
        return f"England's median {_SINGULAR.get(self.unit, self.unit.rstrip('s') or 'area')}"


def _codes(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip().str.upper()


def check_areas(layer: pd.DataFrame, code_column: str, codes: list[str]) -> tuple[list[str], list[str]]:
    """The asked codes that are in the layer (in order, without repeats) and those that are not."""
    have = set(_codes(layer[code_column]).dropna())
    found, missing = [], []
    for code in codes:
        c = str(code).strip().upper()
        if c in have and c not in found:
            found.append(c)
        elif c not in have:
            missing.append(str(code))
    return found, missing


def national_rank(values: pd.Series, higher_is_worse: bool) -> pd.Series:
    """Rank 1 = most deprived; ties share the best rank; missing values have no rank."""
    vals = pd.to_numeric(values, errors="coerce").astype(float)
    return vals.rank(ascending=not higher_is_worse, method="min")


def national_decile(rank: pd.Series, n: int) -> pd.Series:
    """Decile 1 = the most deprived tenth of n areas: ceil(rank × 10 / n)."""
    return np.ceil(rank.astype(float) * 10 / n)


def compare_areas(layer: pd.DataFrame, code_column: str, name_column: str | None, codes: list[str],
                  measures: list[Measure], unit: str = "areas",
                  words: tuple[str, str] = ("less deprived", "more deprived")) -> Comparison:
    """Value, national rank, decile and gap to England of each measure for each area (2–4 of them)."""
    found, missing = check_areas(layer, code_column, codes)
    if missing:
        raise AtlasError(f"Not on this map: {', '.join(missing)}.", "Choose areas from the list.")
    if not MIN_AREAS <= len(found) <= MAX_AREAS:
        raise AtlasError(f"Compare {MIN_AREAS} to {MAX_AREAS} areas ({len(found)} chosen).",
                         "Pick between two and four areas in 'Areas to compare'.")
    frame = pd.DataFrame({"code": _codes(layer[code_column]).to_numpy()})
    frame["name"] = (layer[name_column].astype("string").to_numpy() if name_column else frame["code"])
    frame = frame.reset_index(drop=True)
    rows, ranges = [], []
    n_first = 0
    for m in measures:
        vals = pd.to_numeric(pd.Series(layer[m.column].to_numpy()), errors="coerce").astype(float)
        present = vals.notna()
        n = int(present.sum())
        if n == 0:
            continue
        n_first = n_first or n
        rank = national_rank(vals, m.higher_is_worse)
        decile = national_decile(rank, n)
        england = float(vals[present].median())
        q = vals[present].quantile([0.0, 0.25, 0.75, 1.0]).to_numpy()
        ranges.append({"measure": m.label, "column": m.column, "higher_is_worse": m.higher_is_worse, "n": n,
                       "kind": m.number_kind(),
                       "min": q[0], "q25": q[1], "england": england, "q75": q[2], "max": q[3]})
        for code in found:
            i = int(np.flatnonzero(frame["code"].to_numpy() == code)[0])
            v = vals.iloc[i]
            gap = v - england if pd.notna(v) else float("nan")
            worse = None if pd.isna(v) or gap == 0 else (gap > 0) == m.higher_is_worse
            rows.append({"code": code, "name": str(frame["name"].iloc[i]), "measure": m.label, "column": m.column,
                         "kind": m.number_kind(), "higher_is_worse": m.higher_is_worse, "value": v,
                         "rank": rank.iloc[i], "of": n, "decile": decile.iloc[i], "england": england,
                         "gap": gap, "against_england": "no data" if pd.isna(v) else "same as England"
                         if worse is None else words[1] if worse else words[0]})
    if not ranges:
        raise AtlasError("None of the measures to compare has values on this map.",
                         "Choose a map with per-area values (a deprivation measure or a series).")
    table = pd.DataFrame(rows)
    for col in ("rank", "of", "decile"):
        table[col] = table[col].astype("Int64")
    names = dict(zip(table["code"], table["name"]))
    return Comparison(table, pd.DataFrame(ranges), [(c, names[c]) for c in found], n_first, unit, words)


def _kinds(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (a comparison's table or ranges) with its number kinds, for comparisons assembled elsewhere
    (the profile's) without them: the district summary's kind, else read from the column's name."""
    if "kind" in frame.columns:
        return frame
    kinds = [SUMMARY_KINDS.get(c) or kind_of(c, m) for c, m in zip(frame["column"], frame["measure"])]
    return frame.assign(kind=kinds)


def gap_text(comparison: Comparison, gap: float, kind: str, higher_is_worse: bool) -> str:
    """The gap to England in words: "7,324 ranks more deprived than England's median district"."""
    less, more = comparison.words
    worse = gap if higher_is_worse else -gap  # gap_words: positive = the worse side
    unit = "points" if kind == "score" else "ranks" if kind == "rank" else ""
    return gap_words(worse, kind, comparison.reference(), more=more, less=less, unit=unit)


def display_table(comparison: Comparison) -> pd.DataFrame:
    """The difference table as people read it: one row per measure and area, each number written by its kind."""
    t = _kinds(comparison.table)
    if "higher_is_worse" not in t.columns:
        worse = dict(zip(comparison.ranges["column"], comparison.ranges["higher_is_worse"]))
        t = t.assign(higher_is_worse=t["column"].map(worse).fillna(True).astype(bool))
    letters = {code: AREA_LETTERS[i] for i, (code, _) in enumerate(comparison.areas)}
    return pd.DataFrame({
        "Measure": t["measure"],
        "Area": [f"{letters[c]} · {n} ({c})" for c, n in zip(t["code"], t["name"])],
        "Value": [fmt(v, k) for v, k in zip(t["value"], t["kind"])],
        "National rank": [position(r, n) if pd.notna(r) else "–" for r, n in zip(t["rank"], t["of"])],
        "National decile": [str(int(d)) if pd.notna(d) else "–" for d in t["decile"]],
        "England": [fmt(v, k) for v, k in zip(t["england"], t["kind"])],
        "Against England": [gap_text(comparison, g, k, w) if pd.notna(g) else "no data"
                            for g, k, w in zip(t["gap"], t["kind"], t["higher_is_worse"])],
    })


def spine_table(comparison: Comparison) -> pd.DataFrame:
    """The spine chart as text: England's range of each measure and where each area sits in it."""
    rows = []
    for r in _kinds(comparison.ranges).itertuples():
        less, more = comparison.words
        f = lambda v, k=r.kind: fmt(v, k)  # noqa: E731
        row = {"Measure": r.measure, f"{less.capitalize()} end": f(r.max if not r.higher_is_worse else r.min),
               "25th–75th percentile": f"{f(r.q25)} – {f(r.q75)}",
               "England (median)": f(r.england),
               f"{more.capitalize()} end": f(r.min if not r.higher_is_worse else r.max)}
        at = comparison.table[comparison.table["column"] == r.column].set_index("code")
        for i, (code, name) in enumerate(comparison.areas):
            row[f"{AREA_LETTERS[i]} · {name}"] = f(at.loc[code, "value"]) if code in at.index else "–"
        rows.append(row)
    return pd.DataFrame(rows)


def _marker(shape: str, x: float, y: float, r: float, colour: str) -> str:
    style = f'fill="{colour}" stroke="#000" stroke-width="1.5"'
    if shape == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r:.1f}" {style}/>'
    if shape == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}" {style}/>'
    if shape == "triangle":
        pts = f"{x:.1f},{y - r * 1.2:.1f} {x + r * 1.1:.1f},{y + r * 0.8:.1f} {x - r * 1.1:.1f},{y + r * 0.8:.1f}"
        return f'<polygon points="{pts}" {style}/>'
    pts = f"{x:.1f},{y - r * 1.25:.1f} {x + r * 1.1:.1f},{y:.1f} {x:.1f},{y + r * 1.25:.1f} {x - r * 1.1:.1f},{y:.1f}"
    return f'<polygon points="{pts}" {style}/>'


MARKER_R = 7.0
# A marker's half-width and half-height at most (the diamond: 1.1 r wide, 1.25 r tall each side), plus a gap.
_MARKER_HALF_W, _MARKER_HALF_H, _MARKER_GAP = 1.1 * MARKER_R, 1.25 * MARKER_R, 2.0


def dodge_lanes(xs: list[float], min_dx: float) -> list[int]:
    """A lane (0, 1, 2 …) per marker so that markers closer than `min_dx` pixels apart never share a lane:
    left to right, each marker takes the first lane whose last marker is far enough to its left."""
    lanes: list[int] = [0] * len(xs)
    last: list[float] = []  # the x of the rightmost marker in each lane
    for i in sorted(range(len(xs)), key=lambda j: (xs[j], j)):
        for lane, x in enumerate(last):
            if xs[i] - x >= min_dx:
                lanes[i], last[lane] = lane, xs[i]
                break
        else:
            lanes[i] = len(last)
            last.append(xs[i])
    return lanes


def _lane_offset(lane: int) -> int:
    """Lane 0 on the bar, then one below, one above, two below …: a marker with none near it stays on the bar."""
    return (lane + 1) // 2 * (1 if lane % 2 else -1)


def spine_svg(comparison: Comparison, width: int = 760) -> str:
    """A server-rendered spine chart: per measure, England's range (least → most deprived, left to right),
    the 25th–75th percentile band, England's value and a marker per area. Markers that would overlap are
    stacked in lanes below and above the bar (each keeps its exact position along it); the row grows to
    hold them. Text is escaped; no scripts."""
    esc = lambda s: html.escape(str(s), quote=True)  # noqa: E731
    longest = max((len(str(m)) for m in comparison.ranges["measure"]), default=10)
    label_w, pad, top = int(min(width * 0.45, 24 + 7.6 * longest)), 16, 54
    track_x0, track_x1 = label_w + pad, width - pad
    lane_h = 2 * _MARKER_HALF_H + _MARKER_GAP
    min_dx = 2 * _MARKER_HALF_W + _MARKER_GAP
    ranges = _kinds(comparison.ranges)
    rows = []  # (range row, [(area index, code, name, value, x)], lanes, row height)
    for r in ranges.itertuples():
        lo, hi = (r.max, r.min) if not r.higher_is_worse else (r.min, r.max)  # left = least deprived
        span = (hi - lo) or 1.0

        def px(v: float, lo: float = lo, span: float = span) -> float:
            return track_x0 + (track_x1 - track_x0) * min(max((v - lo) / span, 0.0), 1.0)

        at = comparison.table[comparison.table["column"] == r.column].set_index("code")
        marks = []
        for i, (code, name) in enumerate(comparison.areas):
            v = at.loc[code, "value"] if code in at.index else float("nan")
            if pd.notna(v):
                marks.append((i, code, name, float(v), px(float(v))))
        lanes = dodge_lanes([m[4] for m in marks], min_dx)
        reach = max((abs(_lane_offset(n)) for n in lanes), default=0) * lane_h + _MARKER_HALF_H
        rows.append((r, px, marks, lanes, max(46.0, 2 * reach + 12)))
    height = top + sum(row[-1] for row in rows) + 16
    # width 100%: the chart scales to its column (the viewBox keeps the proportions).
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height:.0f}" '
             f'style="max-width:{width * 1.6:.0f}px;height:auto" '
             'role="img" aria-labelledby="spine-title spine-desc" font-family="system-ui,sans-serif" font-size="14">',
             '<title id="spine-title">Spine chart: each area against England\'s range</title>',
             '<desc id="spine-desc">' + esc("; ".join(
                 f"{r.measure}: England {fmt(r.england, r.kind)}, middle half {fmt(r.q25, r.kind)} to "
                 f"{fmt(r.q75, r.kind)}" for r in ranges.itertuples())) + ". The table beside it has "
             "every value.</desc>",
             f'<rect width="{width}" height="{height:.0f}" fill="#fff"/>']
    x = 8
    for i, (_, name) in enumerate(comparison.areas):  # key
        parts.append(_marker(AREA_SHAPES[i], x + 7, 16, 6, AREA_COLOURS[i]))
        text = f"{AREA_LETTERS[i]} {name[:40]}"
        parts.append(f'<text x="{x + 18}" y="21" fill="#111">{esc(text)}</text>')
        x += 30 + 8 * len(text)
    parts.append(f'<text x="{track_x0}" y="44" fill="#333" font-size="12">← {esc(comparison.words[0])}</text>')
    parts.append(f'<text x="{track_x1}" y="44" fill="#333" font-size="12" text-anchor="end">'
                 f'{esc(comparison.words[1])} →</text>')
    y0 = top
    for r, px, marks, lanes, row_h in rows:
        y = y0 + row_h / 2
        y0 += row_h
        parts.append(f'<text x="{label_w}" y="{y + 5:.1f}" text-anchor="end" fill="#111">{esc(r.measure)}</text>')
        parts.append(f'<rect x="{track_x0}" y="{y - 9:.1f}" width="{track_x1 - track_x0}" height="18" fill="#e3e3e3"/>')
        a, b = sorted((px(r.q25), px(r.q75)))
        parts.append(f'<rect x="{a:.1f}" y="{y - 9:.1f}" width="{b - a:.1f}" height="18" fill="#9e9e9e"/>')
        e = px(r.england)
        half = max(15.0, max((abs(_lane_offset(n)) for n in lanes), default=0) * lane_h + _MARKER_HALF_H)
        parts.append(f'<line x1="{e:.1f}" x2="{e:.1f}" y1="{y - half:.1f}" y2="{y + half:.1f}" stroke="#000" '
                     'stroke-width="3"/>')
        for (i, code, name, v, mx), lane in zip(marks, lanes):
            my = y + _lane_offset(lane) * lane_h
            parts.append(f'<g class="spine-area" data-code="{esc(code)}" data-lane="{lane}"><title>{esc(name)}: '
                         f'{esc(fmt(v, r.kind))}</title>{_marker(AREA_SHAPES[i], mx, my, MARKER_R, AREA_COLOURS[i])}</g>')
    parts.append("</svg>")
    return "".join(parts)


# ------------------------------------------------------------------ small maps at one scale

class KeepScale(MacroElement):
    """After the layer has fitted its own bounds: centre on this area at the zoom that fits the largest area."""

    # One call into geo/present/js/atlas-map.js (every map loads it); Jinja fills in the map and the bounds.
    _template = Template("{% macro script(this, kwargs) %}AtlasMap.keepScale({{ this._parent.get_name() }}, "
                         "{{ this.view }});{% endmacro %}")

    def __init__(self, own: tuple[float, float, float, float], largest: tuple[float, float, float, float]) -> None:
        super().__init__()
        self._name = "KeepScale"
        corners = lambda b: [[b[1], b[0]], [b[3], b[2]]]  # noqa: E731
        self.view = _script_json({"own": corners(own), "largest": corners(largest)})


def area_extents(parts: list[gpd.GeoDataFrame]) -> tuple[list[tuple], tuple]:
    """Each part's lon/lat bounds, and the bounds (centred at 0) of the largest extent among them."""
    own, best, best_size = [], None, -1.0
    for gdf in parts:
        g = gdf.to_crs(4326) if gdf.crs is not None and gdf.crs.to_epsg() != 4326 else gdf
        b = tuple(float(v) for v in g.total_bounds)
        own.append(b)
        # Size in Web Mercator units (what Leaflet's zoom works in): the larger of width and height.
        merc = lambda lat: math.log(math.tan(math.pi / 4 + math.radians(max(min(lat, 85), -85)) / 2))  # noqa: E731
        size = max(math.radians(b[2] - b[0]), merc(b[3]) - merc(b[1]))
        if size > best_size:
            best, best_size = b, size
    return own, best


def subset_classification(classification: Classification, mask: np.ndarray) -> Classification:
    """The same classes, labels (breaks) and colours for a subset of the rows; counts are the subset's."""
    classes = classification.classes[mask]
    counts = [int((classes == k).sum()) for k in range(classification.k)]
    return Classification(classes, list(classification.labels), list(classification.lower),
                          list(classification.upper), counts, list(classification.colours), classification.scheme,
                          int((classes < 0).sum()))


def area_rows(layer: pd.DataFrame, code_column: str, code: str, area_column: str | None = None) -> np.ndarray:
    """Mask of the rows of one compared area: its own row, or (area_column) the rows inside it."""
    col = layer[area_column] if area_column else layer[code_column]
    return (_codes(col) == str(code).strip().upper()).fillna(False).to_numpy()


@dataclass
class SmallMaps:
    """What a compared district's small map shows: its own LSOAs, coloured by their national decile of a measure."""

    layer: gpd.GeoDataFrame          # every LSOA the classes were computed on (England's, for national deciles)
    spec: MapSpec                    # the LSOA layer's value, name and code columns
    classification: Classification   # national deciles over `layer` (decile 1 = most deprived 10%)
    area_column: str                 # each LSOA's district code
    legend_title: str = ""           # "LSOAs by national decile of Index of Multiple Deprivation"


def district_lsoa_layers(small: SmallMaps, codes: list[str]) -> list[tuple[gpd.GeoDataFrame, Classification]]:
    """Each district's own LSOAs and their national decile classes (the same labels and colours for all).
    A district with no LSOAs in the layer gets an empty part."""
    out = []
    for code in codes:
        mask = area_rows(small.layer, small.spec.code_column, code, small.area_column)
        out.append((small.layer[mask], subset_classification(small.classification, mask)))
    return out


def shared_legend_html(classification: Classification, title: str, counts: list[int] | None = None,
                       unit: str = "areas", show_counts: bool = True) -> str:
    """One legend for every small map, drawn by the page: a swatch per class, the most deprived class first,
    with how many of the compared areas' `unit` fall in it (in its words only, with `show_counts=False`: a
    presenter's step, where it must fit one screen). Every text is escaped."""
    esc = lambda s: html.escape(str(s), quote=True)  # noqa: E731
    counts = list(counts) if counts is not None else list(classification.counts)
    items = []
    for k in reversed(range(len(classification.labels))):  # the last class is the most deprived: list it first
        n = counts[k] if k < len(counts) else 0
        items.append(f'<span class="atlas-compare-key" style="display:inline-flex;align-items:center;gap:.35em;'
                     f'margin:0 1.1em .25em 0;white-space:nowrap"><span style="display:inline-block;width:1.3em;'
                     f'height:1em;background:{esc(classification.colours[k])};border:1px solid #333"></span>'
                     f'{esc(classification.labels[k])}'
                     + (f' <span style="color:#555">({n:,} {esc(unit)})</span>' if show_counts else "") + "</span>")
    words = "; ".join(f"{classification.labels[k]}: {counts[k] if k < len(counts) else 0} {unit}"
                      for k in reversed(range(len(classification.labels))))
    return (f'<div class="atlas-compare-legend" role="img" aria-label="{esc(title)}: {esc(words)}" '
            'style="display:flex;flex-wrap:wrap;align-items:center;font-size:0.95rem;line-height:1.5;'
            'margin:0.25rem 0 0.5rem">'
            f'<strong style="margin-right:1em">{esc(title)}</strong>{"".join(items)}</div>')


def summary_measures(frame: pd.DataFrame) -> list[Measure]:
    """The MHCLG district summaries present in `frame`, each with its direction."""
    return [Measure(s["id"], s["label"], s["direction"] == "higher_is_worse") for s in summaries()
            if s["id"] in frame.columns]


def with_summaries(layer, code_column: str, table: pd.DataFrame):
    """A district layer with the district summaries added (by code), for maps that show categories."""
    out = layer.drop(columns=[c for c in table.columns if c in layer.columns and c != code_column])
    out = out.assign(_cmp_code=out[code_column].astype("string").str.strip().str.upper())
    add = table.assign(_cmp_code=table["district_code"].astype("string").str.strip().str.upper())
    add = add.drop(columns=[c for c in ("district_code", "district_name") if c in add.columns])
    merged = out.merge(add, on="_cmp_code", how="left")
    return merged.set_geometry(layer.geometry.name).set_crs(layer.crs, allow_override=True)
