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
from geo.present.mapping import _script_json, format_value

MIN_AREAS, MAX_AREAS = 2, 4
# Okabe–Ito colours (colour-blind safe), each with its own marker shape and letter: never colour alone.
AREA_COLOURS = ("#E69F00", "#0072B2", "#009E73", "#CC79A7")
AREA_SHAPES = ("circle", "square", "triangle", "diamond")
AREA_LETTERS = ("A", "B", "C", "D")
ENGLAND_METHOD = "median"


@dataclass(frozen=True)
class Measure:
    """One column to compare, and which way is deprived."""

    column: str
    label: str
    higher_is_worse: bool = True


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
                "population-weighted national figure); rank 1 and decile 1 = most deprived; gap = value − England.")


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
                       "min": q[0], "q25": q[1], "england": england, "q75": q[2], "max": q[3]})
        for code in found:
            i = int(np.flatnonzero(frame["code"].to_numpy() == code)[0])
            v = vals.iloc[i]
            gap = v - england if pd.notna(v) else float("nan")
            worse = None if pd.isna(v) or gap == 0 else (gap > 0) == m.higher_is_worse
            rows.append({"code": code, "name": str(frame["name"].iloc[i]), "measure": m.label, "column": m.column,
                         "value": v, "rank": rank.iloc[i], "of": n, "decile": decile.iloc[i], "england": england,
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


def display_table(comparison: Comparison) -> pd.DataFrame:
    """The difference table as people read it: one row per measure and area, numbers formatted."""
    t = comparison.table
    letters = {code: AREA_LETTERS[i] for i, (code, _) in enumerate(comparison.areas)}
    return pd.DataFrame({
        "Measure": t["measure"],
        "Area": [f"{letters[c]} · {n} ({c})" for c, n in zip(t["code"], t["name"])],
        "Value": [format_value(v) for v in t["value"]],
        "National rank": [f"{r:,} of {n:,}" if pd.notna(r) else "–" for r, n in zip(t["rank"], t["of"])],
        "National decile": [str(int(d)) if pd.notna(d) else "–" for d in t["decile"]],
        "England": [format_value(v) for v in t["england"]],
        "Gap to England": [("+" if g > 0 else "") + format_value(g) if pd.notna(g) else "–" for g in t["gap"]],
        "Against England": t["against_england"],
    })


def spine_table(comparison: Comparison) -> pd.DataFrame:
    """The spine chart as text: England's range of each measure and where each area sits in it."""
    rows = []
    for r in comparison.ranges.itertuples():
        less, more = comparison.words
        row = {"Measure": r.measure, f"{less.capitalize()} end": format_value(r.max if not r.higher_is_worse else r.min),
               "25th–75th percentile": f"{format_value(r.q25)} – {format_value(r.q75)}",
               "England (median)": format_value(r.england),
               f"{more.capitalize()} end": format_value(r.min if not r.higher_is_worse else r.max)}
        at = comparison.table[comparison.table["column"] == r.column].set_index("code")
        for i, (code, name) in enumerate(comparison.areas):
            row[f"{AREA_LETTERS[i]} · {name}"] = format_value(at.loc[code, "value"]) if code in at.index else "–"
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


def spine_svg(comparison: Comparison, width: int = 760) -> str:
    """A server-rendered spine chart: per measure, England's range (least → most deprived, left to right),
    the 25th–75th percentile band, England's value and a marker per area. Text is escaped; no scripts."""
    esc = lambda s: html.escape(str(s), quote=True)  # noqa: E731
    longest = max((len(str(m)) for m in comparison.ranges["measure"]), default=10)
    label_w, pad, row_h, top = int(min(width * 0.45, 24 + 7.6 * longest)), 16, 46, 54
    track_x0, track_x1 = label_w + pad, width - pad
    height = top + row_h * len(comparison.ranges) + 16
    # width 100%: the chart scales to its column (the viewBox keeps the proportions).
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
             f'style="max-width:{width * 1.6:.0f}px;height:auto" '
             'role="img" aria-labelledby="spine-title spine-desc" font-family="system-ui,sans-serif" font-size="14">',
             '<title id="spine-title">Spine chart: each area against England\'s range</title>',
             '<desc id="spine-desc">' + esc("; ".join(
                 f"{r.measure}: England {format_value(r.england)}, middle half {format_value(r.q25)} to "
                 f"{format_value(r.q75)}" for r in comparison.ranges.itertuples())) + ". The table beside it has "
             "every value.</desc>",
             f'<rect width="{width}" height="{height}" fill="#fff"/>']
    x = 8
    for i, (_, name) in enumerate(comparison.areas):  # key
        parts.append(_marker(AREA_SHAPES[i], x + 7, 16, 6, AREA_COLOURS[i]))
        text = f"{AREA_LETTERS[i]} {name[:40]}"
        parts.append(f'<text x="{x + 18}" y="21" fill="#111">{esc(text)}</text>')
        x += 30 + 8 * len(text)
    parts.append(f'<text x="{track_x0}" y="44" fill="#333" font-size="12">← {esc(comparison.words[0])}</text>')
    parts.append(f'<text x="{track_x1}" y="44" fill="#333" font-size="12" text-anchor="end">'
                 f'{esc(comparison.words[1])} →</text>')
    for j, r in enumerate(comparison.ranges.itertuples()):
        y = top + j * row_h + row_h / 2
        lo, hi = (r.max, r.min) if not r.higher_is_worse else (r.min, r.max)  # left = least deprived
        span = (hi - lo) or 1.0

        def px(v: float, lo: float = lo, span: float = span) -> float:
            return track_x0 + (track_x1 - track_x0) * min(max((v - lo) / span, 0.0), 1.0)

        parts.append(f'<text x="{label_w}" y="{y + 5:.1f}" text-anchor="end" fill="#111">{esc(r.measure)}</text>')
        parts.append(f'<rect x="{track_x0}" y="{y - 9:.1f}" width="{track_x1 - track_x0}" height="18" fill="#e3e3e3"/>')
        a, b = sorted((px(r.q25), px(r.q75)))
        parts.append(f'<rect x="{a:.1f}" y="{y - 9:.1f}" width="{b - a:.1f}" height="18" fill="#9e9e9e"/>')
        e = px(r.england)
        parts.append(f'<line x1="{e:.1f}" x2="{e:.1f}" y1="{y - 15:.1f}" y2="{y + 15:.1f}" stroke="#000" '
                     'stroke-width="3"/>')
        at = comparison.table[comparison.table["column"] == r.column].set_index("code")
        for i, (code, name) in enumerate(comparison.areas):
            v = at.loc[code, "value"] if code in at.index else float("nan")
            if pd.notna(v):
                parts.append(f'<g class="spine-area" data-code="{esc(code)}"><title>{esc(name)}: '
                             f'{esc(format_value(v))}</title>{_marker(AREA_SHAPES[i], px(v), y, 7, AREA_COLOURS[i])}</g>')
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
