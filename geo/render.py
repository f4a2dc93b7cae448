"""`python -m geo render`: the app's map as a slide, from a permalink or a small view file.

A view is what the app keeps in its address (see ui/permalink.py): data (pack id), view
(districts or lsoas), measure, show (score/rank/decile), summary, districts, scheme, k, palette,
plus, for slides, title, subtitle, callout, theme, marks and breaks. It comes either as the
app's URL or as a TOML file with the same keys (districts as a list or a comma-separated string).
The layer and classification are built by the same geo functions the app calls, with the app's
defaults, so the slide shows what the app would.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from geo.catalogue import load_catalogue, summaries
from geo.classify import PALETTES, SCHEMES, Classification, classify_values
from geo.errors import AtlasError
from geo.legend_text import sentence_legend
from geo.layers import (
    MapLayer,
    district_map_layer,
    district_summaries,
    lsoa_measure_layer,
    lsoas_in_districts,
    mark_illustrative,
    prepare_join,
    prepare_table,
)

RENDERABLE_VIEWS = ("districts", "lsoas")
APP_ONLY_VIEWS = ("change", "eligibility", "progress")
KEYS = ("data", "view", "measure", "show", "summary", "districts", "scheme", "k", "palette", "breaks", "title",
        "subtitle", "callout", "theme", "marks", "date")
MAX_VIEW_BYTES = 100_000


@dataclass
class ViewRequest:
    """A parsed view: every value still as the user gave it, checked later against the data."""

    data: str | None = None
    view: str | None = None
    measure: str | None = None
    show: str | None = None
    summary: str | None = None
    districts: list[str] = field(default_factory=list)
    scheme: str | None = None
    k: int | None = None
    palette: str | None = None
    breaks: list[float] | None = None
    title: str | None = None
    subtitle: str | None = None
    callout: str = ""
    theme: str = "light"
    marks: str = "none"
    date: dt.date | None = None


def _listed(value: object, what: str) -> list[str]:
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise AtlasError(f"'{what}' must be text or a list of text.", f"e.g. {what} = [\"E06000001\"]")


def _request(values: dict[str, object], where: str) -> ViewRequest:
    req = ViewRequest()
    for key, value in values.items():
        if key == "districts":
            req.districts = [d.upper() for d in _listed(value, key)]
        elif key == "k":
            try:
                req.k = int(str(value))
            except ValueError:
                raise AtlasError(f"k = '{value}' in {where} is not a whole number.", "Give 3 to 10 classes.") from None
            if not 3 <= req.k <= 10:
                raise AtlasError(f"k = {req.k} in {where} is out of range.", "Give 3 to 10 classes.")
        elif key == "breaks":
            try:
                req.breaks = [float(b) for b in _listed(value if not isinstance(value, list) else
                                                        [str(v) for v in value], key)]
            except ValueError:
                raise AtlasError(f"The breaks in {where} are not all numbers.", "e.g. breaks = [10, 20, 30]") from None
        elif key == "date":
            try:
                req.date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            except ValueError:
                raise AtlasError(f"date = '{value}' in {where} is not a date.", "Write it as 2026-11-28.") from None
        else:
            if not isinstance(value, (str, int, float)):
                raise AtlasError(f"'{key}' in {where} must be text.", f'e.g. {key} = "…"')
            setattr(req, key, str(value))
    return req


def parse_view(view: str) -> ViewRequest:
    """A view from a TOML file path or from the app's URL (or just its '?…' query)."""
    text = view.strip()
    if text.lower().endswith(".toml") and "?" not in text:
        path = Path(text)
        if not path.is_file():
            raise AtlasError(f"No view file at '{text}'.", "Give a TOML view file or the app's link (in quotes).")
        if path.stat().st_size > MAX_VIEW_BYTES:
            raise AtlasError(f"The view file '{path.name}' is over {MAX_VIEW_BYTES // 1000} kB.",
                             "A view file holds a dozen keys; check you gave the right file.")
        try:
            values = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise AtlasError(f"The view file '{path.name}' is not valid TOML: {exc}.",
                             "Write one key per line, e.g. view = \"districts\".") from None
        unknown = sorted(set(values) - set(KEYS))
        if unknown:
            raise AtlasError(f"The view file '{path.name}' has unknown keys: {', '.join(unknown)}.",
                             f"Known keys: {', '.join(KEYS)}.")
        return _request(values, f"'{path.name}'")
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("", "http", "https") or (not parts.query and not text.startswith("?")):
        raise AtlasError(f"'{text[:120]}' is neither a view file (.toml) nor an atlas link.",
                         "Copy the app's address after choosing the view (it ends in ?data=…&view=…), or "
                         "write a TOML view file.")
    try:
        pairs = urllib.parse.parse_qsl(parts.query or text.lstrip("?"), keep_blank_values=False, strict_parsing=True,
                                       max_num_fields=100)
    except ValueError as exc:
        raise AtlasError(f"The link's parameters cannot be read ({exc}).", "Copy the whole address again.") from None
    values = {k: v for k, v in pairs if k in KEYS}  # other parameters belong to other views of the app
    if not values:
        raise AtlasError("The link has none of the atlas's view parameters.",
                         f"A view link carries some of: {', '.join(KEYS[:9])}.")
    return _request(values, "the link")


# ------------------------------------------------------------------ the data

@dataclass
class Inputs:
    """The files of one data source, read, with the words its slides carry."""

    lsoa: Path
    table: Path
    districts: Path | None
    illustrative: bool
    source: str
    release: str
    attribution: str
    lookup: Path | None = None


def credits(pack=None, table_name: str = "") -> tuple[str, str, str]:
    """(source, release, attribution) for a slide footer: from the pack's manifest, else the catalogue."""
    defaults = load_catalogue()["defaults"]
    if pack is None:
        return defaults["source"], table_name, defaults["attribution"]
    m = pack.manifest
    if pack.illustrative:
        return m["label"], m.get("short", pack.id), m["attribution"]
    release = m["label"] + (f" (published {m['published']})" if m.get("published") else "")
    vintages = " · ".join(v for v in (m.get("lsoa_vintage"), m.get("district_vintage")) if v)
    return f"{defaults['source']}; boundaries: ONS" + (f" ({vintages})" if vintages else ""), release, m["attribution"]


def resolve_inputs(req: ViewRequest, lsoa: str | None = None, table: str | None = None, districts: str | None = None,
                   packs_root: Path | None = None) -> Inputs:
    """The data a view is drawn from: files named on the command line, else the view's pack, else the demo."""
    from geo.packs import list_packs

    if lsoa or table:
        if not (lsoa and table):
            raise AtlasError("Give both --lsoa (boundaries) and --table (indicators), or neither.",
                             "Without them the view's pack (or the demo pack) is used.")
        source, release, attribution = credits(None, Path(table).name)
        return Inputs(Path(lsoa), Path(table), Path(districts) if districts else None, False, source, release,
                      attribution)
    packs = {p.id: p for p in list_packs(packs_root)}
    wanted = req.data or "demo"
    if wanted in ("folders", "upload"):
        raise AtlasError(f"The link's data came from {'an upload' if wanted == 'upload' else 'files in data folders'}, "
                         "which the command line cannot see.", "Name the files with --lsoa, --table and --districts.")
    if wanted not in packs:
        raise AtlasError(f"No data pack '{wanted}'.", f"Packs here: {', '.join(packs)} (see `python -m geo data list`); "
                         "or name files with --lsoa and --table.")
    pack = packs[wanted]
    source, release, attribution = credits(pack)
    return Inputs(pack.path("lsoa"), pack.path("table"), pack.path("districts") if "districts" in pack.manifest["layers"]
                  else None, pack.illustrative, source, release, attribution,
                  pack.path("lookup") if "lookup" in pack.manifest else None)


# ------------------------------------------------------------------ the view

@dataclass
class Built:
    """A view built: the layer, its classification and the legend in words."""

    shown: MapLayer
    classification: Classification
    sentences: list[str]
    view: str


def _choose(value: str | None, options: list[str], what: str, default: str | None = None) -> str:
    if value is None:
        return default if default is not None else options[0]
    if value not in options:
        raise AtlasError(f"Unknown {what} '{value}'.", f"Choose one of: {', '.join(options)}.")
    return value


def place_name(ind, codes: list[str]) -> str | None:
    """The name of the one district shown (for 'Hartlepool's 58'), else None."""
    if len(codes) != 1 or not ind.district_column or not ind.district_name_column:
        return None
    frame = ind.frame
    match = frame[frame[ind.district_column].astype("string").str.strip().str.upper() == codes[0].upper()]
    return str(match[ind.district_name_column].iloc[0]) if len(match) else None


def legend_sentences(view: str, classification: Classification, place: str | None, illustrative: bool) -> list[str]:
    """The legend in words for the app's districts or LSOAs view (national deciles say so)."""
    if view == "districts":
        return sentence_legend(classification, area_word="districts", place=None if illustrative else "England")
    if view in ("lsoas", "change"):
        return sentence_legend(classification, area_word="LSOAs", place=place)
    return sentence_legend(classification)


def classify_view(shown: MapLayer, req: ViewRequest) -> Classification:
    """The app's classification of a layer: its defaults, or the view's scheme, k, palette and breaks."""
    allow_deciles = shown.deciles is not None
    options = [s for s in SCHEMES if allow_deciles or s != "national_deciles"]
    scheme = _choose(req.scheme, options, "classification", "national_deciles" if allow_deciles else "quantiles")
    palette = _choose(req.palette, list(PALETTES), "palette", "viridis")
    if scheme == "user_defined" and not req.breaks:
        raise AtlasError("The user_defined classification needs breaks.", "Add e.g. breaks = [10, 20, 30, 40].")
    k = req.k or 5
    try:
        return classify_values(shown.layer[shown.spec.value_column], scheme, k, shown.higher_is_worse,
                               deciles=shown.deciles, breaks=req.breaks, palette=palette, extremes=shown.spec.extremes)
    except ValueError as exc:
        raise AtlasError(str(exc), "Choose another classification.") from None


def build_view(req: ViewRequest, inputs: Inputs) -> Built:
    """Read the data and build the view's layer and classification as the app does."""
    from geo.io import read_boundaries, read_table
    from geo.vintages import load_lsoa_lookup

    frame = read_table(inputs.table)
    districts_gdf = read_boundaries(inputs.districts) if inputs.districts else None
    head = prepare_table(frame)
    if not head.available_measures():
        raise AtlasError(f"'{inputs.table.name}' has no Indices of Deprivation columns to map.",
                         "Render draws IoD measures (File 7 or files 1/2 headers, or their snake_case names).")
    views = (["districts"] if districts_gdf is not None and head.district_column else []) + ["lsoas"]
    if req.view in APP_ONLY_VIEWS:
        raise AtlasError(f"The '{req.view}' view cannot be rendered from the command line yet.",
                         f"Render one of: {', '.join(views)}; or download that view's slide in the app.")
    view = _choose(req.view, views, "view (for this data)")
    if view == "districts":
        ind = head  # district summaries come from the table alone: no need to read 30,000 LSOA shapes
    else:
        lookup = load_lsoa_lookup(read_table(inputs.lookup)) if inputs.lookup else None
        ind, joined, report, name_col = prepare_join(read_boundaries(inputs.lsoa), frame, lookup)
    labels = {m["id"]: m["label"] for m in ind.available_measures()}
    measure = _choose(req.measure, list(labels), "measure")
    place = None
    if view == "districts":
        summary = _choose(req.summary, [s["id"] for s in summaries()], "district summary")
        shown = district_map_layer(district_summaries(ind, measure), districts_gdf, summary, labels[measure])
    else:
        layer = joined
        if req.districts:
            known = set(joined[ind.district_column].astype("string").str.strip().str.upper().dropna()) \
                if ind.district_column in joined.columns else set()
            unknown = [d for d in req.districts if d not in known]
            if unknown:
                raise AtlasError(f"No LSOAs of district {', '.join(unknown)} in this data.",
                                 "Give district codes from the table's district column, e.g. E06000001.")
            layer = lsoas_in_districts(joined, ind, req.districts)
            place = place_name(ind, req.districts)
        kinds = [k for k in ("score", "rank", "decile") if ind.column_for(measure, k)]
        kind = _choose(req.show, kinds, "show")
        shown = lsoa_measure_layer(ind, layer, report.boundary_code, name_col, measure, labels[measure], kind)
    if inputs.illustrative:
        mark_illustrative(shown.spec)
    if req.title:
        shown.spec.title = req.title
    if req.subtitle is not None:
        shown.spec.subtitle = req.subtitle
    classification = classify_view(shown, req)
    return Built(shown, classification, legend_sentences(view, classification, place, inputs.illustrative), view)


def render_view(req: ViewRequest, inputs: Inputs, fmt: str) -> bytes:
    """The view as slide bytes (png, svg or pdf)."""
    from geo.slide import render_slide

    built = build_view(req, inputs)
    return render_slide(built.shown.layer, built.shown.spec, built.classification, callout=req.callout,
                        source=inputs.source, release=inputs.release, attribution=inputs.attribution, date=req.date,
                        fmt=fmt, theme=req.theme, marks=req.marks, sentences=built.sentences)

