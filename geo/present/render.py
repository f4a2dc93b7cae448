"""`python -m geo render`: any view of the app — districts, neighbourhoods, change, eligibility, progress — as a
slide (PNG, SVG, PDF), an offline map (HTML) or its table (CSV), from a permalink or a small TOML view file.

A view is what the app keeps in its address: the view's parameters as the registry declares them
(`geo.views`), plus, for slides, title, subtitle, callout, theme, marks and date. It comes as the
app's URL or as a TOML file with the same keys (lists or comma-separated strings). The data comes
from the link's pack, from files named on the command line, or the demo pack; a change view can
compare with another pack or table (`--other`), a progress view reads series (`--series`). The view
is built by the same registry entry the app uses, so the output shows what the app would.
"""

from __future__ import annotations

import datetime as dt
import tomllib
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from geo.catalogue import load_catalogue
from geo.present.classify import Classification
from geo.errors import AtlasError
from geo.views import COMMON_PARAMS, LINK_PARAMS, Source, ViewData, ViewResult, available_views, classify_result, \
    get_view, legend_sentences, resolve_values

SLIDE_KEYS = ("title", "subtitle", "callout", "theme", "marks", "date")
KEYS = LINK_PARAMS + SLIDE_KEYS
MAX_VIEW_BYTES = 100_000
OUTPUTS = ("png", "svg", "pdf", "html", "csv")


@dataclass
class ViewRequest:
    """A parsed view: the view's parameters still as the user gave them (checked later against the data)."""

    params: dict[str, object] = field(default_factory=dict)
    title: str | None = None
    subtitle: str | None = None
    callout: str = ""
    theme: str = "light"
    marks: str = "none"
    date: dt.date | None = None

    @property
    def data(self) -> str | None:
        value = self.params.get("data")
        return None if value is None else str(value)

    @property
    def view(self) -> str | None:
        value = self.params.get("view")
        return None if value is None else str(value)


def _request(values: dict[str, object], where: str) -> ViewRequest:
    req = ViewRequest()
    for key, value in values.items():
        if key == "date":
            try:
                req.date = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
            except ValueError:
                raise AtlasError(f"date = '{value}' in {where} is not a date.", "Write it as 2026-11-28.") from None
        elif key in SLIDE_KEYS:
            if not isinstance(value, (str, int, float)):
                raise AtlasError(f"'{key}' in {where} must be text.", f'e.g. {key} = "…"')
            setattr(req, key, str(value))
        else:
            if isinstance(value, list):
                if not all(isinstance(v, (str, int, float)) for v in value):
                    raise AtlasError(f"'{key}' in {where} must be text or a list of text.",
                                     f"e.g. {key} = [\"E06000001\"]")
                value = [str(v) for v in value]
            elif not isinstance(value, (str, int, float, bool)):
                raise AtlasError(f"'{key}' in {where} must be text.", f'e.g. {key} = "…"')
            req.params[key] = ("1" if value else "0") if isinstance(value, bool) else value
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
    values = {k: v for k, v in pairs if k in KEYS}  # other parameters (a story, presenter mode) are the app's own
    if not values:
        raise AtlasError("The link has none of the atlas's view parameters.",
                         f"A view link carries some of: {', '.join(LINK_PARAMS[:12])} …")
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
    pack: object = None
    others: list[str] = field(default_factory=list)   # --other: pack ids, pack folders or LSOA tables
    series: list[Path] = field(default_factory=list)  # --series: indicator series
    series_boundaries: list[Path] = field(default_factory=list)  # boundary layers the series are drawn on
    packs_root: Path | None = None


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
    from geo.load.packs import list_packs

    if lsoa or table:
        if not (lsoa and table):
            raise AtlasError("Give both --lsoa (boundaries) and --table (indicators), or neither.",
                             "Without them the view's pack (or the demo pack) is used.")
        source, release, attribution = credits(None, Path(table).name)
        return Inputs(Path(lsoa), Path(table), Path(districts) if districts else None, False, source, release,
                      attribution, packs_root=packs_root)
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
                  pack.path("lookup") if "lookup" in pack.manifest else None, pack=pack, packs_root=packs_root)


def _others(inputs: Inputs, current) -> dict[str, Source]:
    """Releases a change view can compare with: every other real pack, and what --other names (as the app finds them,
    with their publication years, so the default is the same nearest release)."""
    from geo.link.layers import prepare_table
    from geo.load.io import read_boundaries, read_table
    from geo.load.packs import list_packs, read_manifest
    from geo.views.sources import csv_headers, pack_release, table_release

    packs = {p.id: p for p in list_packs(inputs.packs_root)}
    out: dict[str, Source] = {}

    def pack_source(pack) -> Source:
        return pack_release(pack, lambda: prepare_table(read_table(pack.path("table"))),
                            lambda: read_boundaries(pack.path("districts")))

    if current is not None and not current.illustrative:
        for pack in packs.values():
            if pack.id != current.id and not pack.illustrative:
                out[f"pack:{pack.id}"] = pack_source(pack)
    for other in inputs.others:
        path = Path(other)
        if other in packs:
            out[f"pack:{other}"] = pack_source(packs[other])
        elif path.is_dir():
            pack = read_manifest(path)
            out[f"pack:{pack.id}"] = pack_source(pack)
        elif path.is_file():
            load = lambda p=path: prepare_table(read_table(p))  # noqa: E731
            out[f"file:{path.parent.name}/{path.name}"] = table_release(path, load, csv_headers(path)) or Source(
                f"LSOA change against {path.parent.name}/{path.name}", load, "table", meta={"name": path.name})
        else:
            raise AtlasError(f"--other '{other}' is neither a pack nor a file.",
                             f"Give a pack id ({', '.join(packs) or 'none built'}), a pack folder or an LSOA table.")
    return out


def _series(inputs: Inputs) -> dict[str, Source]:
    """Indicator series: those named with --series, else the demo pack's illustrative one."""
    from geo.load.io import read_table
    from geo.derive.progress import read_series

    paths = list(inputs.series)
    demo = Path(__file__).resolve().parent.parent.parent / "indicators" / "demo_floor_targets.csv"
    if not paths and inputs.illustrative and demo.is_file():
        paths = [demo]
    out = {}
    for path in paths:
        if not path.is_file():
            raise AtlasError(f"No series file at '{path}'.", "Give an indicator series (CSV or XLSX) with --series.")
        out[f"{path.parent.name}/{path.name}"] = Source(
            f"{path.parent.name}/{path.name}", lambda p=path: read_series(read_table(p)), "series", path == demo,
            meta={"name": path.name, "meta_files": (path.with_suffix(".toml"),)})
    return out


def view_data(inputs: Inputs, join: bool = True, notes: list[dict] | None = None) -> ViewData:
    """Read the inputs into the views' data. `join=False` skips the LSOA boundaries (district views only).

    What the reads and the join did is added to `notes` ({"kind", "message"}), when given."""
    from geo.load.io import ReadNotes, read_boundaries, read_table
    from geo.link.join import guess_code_column
    from geo.link.layers import prepare_join, prepare_table
    from geo.link.vintages import load_lsoa_lookup

    t_notes, d_notes, b_notes = ReadNotes(), ReadNotes(), ReadNotes()
    frame = read_table(inputs.table, notes=t_notes)
    districts = read_boundaries(inputs.districts, notes=d_notes) if inputs.districts else None
    collected = t_notes.to_list() + d_notes.to_list()
    if join:
        lookup = load_lsoa_lookup(read_table(inputs.lookup)) if inputs.lookup else None
        ind, joined, report, name_col = prepare_join(read_boundaries(inputs.lsoa, notes=b_notes), frame, lookup)
        collected += b_notes.to_list() + report.notes
    else:
        ind, joined, report, name_col = prepare_table(frame), None, None, None
    layers = {}
    if joined is not None:
        layers["neighbourhood boundaries"] = Source("neighbourhood boundaries", lambda: (joined, report.boundary_code))
    if districts is not None:
        layers["district boundaries"] = Source("district boundaries", lambda: (districts, guess_code_column(districts)))
    for path in inputs.series_boundaries:
        def load(p=path):
            gdf = read_boundaries(p)
            return gdf, guess_code_column(gdf)
        layers[path.name] = Source(path.name, load)
    if notes is not None:
        notes += [n for n in collected if n not in notes]
    if districts is not None and not (ind.district_column and ind.available_measures()):
        districts = None
    return ViewData(ind, joined, report, name_col, districts, inputs.pack, inputs.illustrative,
                    others=_others(inputs, inputs.pack) if ind.available_measures() else {},
                    series=_series(inputs), boundary_layers=layers)


# ------------------------------------------------------------------ the view

@dataclass
class Built:
    """A view built: the result, its classification, the legend in words, and the parameters it was built with."""

    result: ViewResult
    classification: Classification
    sentences: list[str]
    view: str
    values: dict

    @property
    def shown(self) -> ViewResult:  # the layer and spec, as earlier callers called them
        return self.result


def build_view(req: ViewRequest, inputs: Inputs, notes: list[dict] | None = None) -> Built:
    """Read the data and build the view as the app does: the same registry entry, defaults and checks."""
    from geo.link.layers import mark_illustrative

    wanted = req.view
    needs_join = wanted not in (None, "districts", "eligibility")
    data = view_data(inputs, join=needs_join or inputs.districts is None, notes=notes)
    if wanted is None:
        offered = available_views(data)
        if not offered:
            raise AtlasError("This data can show no view.", "Give an IoD table with its LSOA boundaries.")
        if offered[0].id not in ("districts", "eligibility") and data.joined is None:
            data = view_data(inputs, notes=notes)
            offered = available_views(data)
        view = offered[0]
    else:
        view = get_view(wanted)
    reason = view.available(data)
    if reason:
        raise AtlasError(f"The {view.id} view cannot be drawn from this data: {reason}.",
                         "Name the files it needs (--lsoa, --table, --districts, --other, --series).")
    if not data.ind.available_measures() and view.id != "progress":
        raise AtlasError(f"'{inputs.table.name}' has no Indices of Deprivation columns to map.",
                         "Render draws IoD measures (File 7 or files 1/2 headers, or their snake_case names).")
    given = {k: v for k, v in req.params.items() if k not in COMMON_PARAMS}
    values, _ = resolve_values(view, data, given, strict=True)
    result = view.build(data, values)
    if notes is not None:  # what the view could not do (the map it drew instead): said on stderr as in the app
        notes += [{"kind": "warning", "message": w} for w in result.warnings]
        notes += [{"kind": "problem", "message": f"{p.message} {p.hint}".strip()} for p in result.problems]
    illustrative = inputs.illustrative if result.illustrative is None else result.illustrative
    if illustrative:
        mark_illustrative(result.spec)
    if req.title:
        result.spec.title = req.title
    if req.subtitle is not None:
        result.spec.subtitle = req.subtitle
    classification = classify_result(result, values)
    return Built(result, classification, legend_sentences(result, classification), view.id, values)


def prepare_offline(layer, spec):
    """What an offline page of `layer` carries, prepared once per layer in the geometry cache (`geometry_cache`).

    The command line's `map` and `render --out *.html` write one self-contained page; its canvas geometry is
    found again by content in the cache (the app's static/geometry when run from a checkout), so only the first
    map of a layer spends the seconds of preparing it. A cache that cannot be written is skipped (in memory)."""
    from geo.present.coverage import prepare_geometry
    from geo.present.mapping import PreparedMap, escape_text, uses_canvas
    from geo.settings import geometry_cache

    if not uses_canvas(layer):
        return None
    store = geometry_cache()
    try:
        geometry = prepare_geometry(layer, spec.code_column, spec.name_column, store, escape=escape_text)
    except OSError:
        geometry = prepare_geometry(layer, spec.code_column, spec.name_column, None, escape=escape_text)
    return PreparedMap(geometry)  # no values file: the page carries its values


def render_view(req: ViewRequest, inputs: Inputs, fmt: str, notes: list[dict] | None = None) -> bytes:
    """The view as slide bytes (png, svg or pdf), an offline map (html) or its main table (csv).

    What the reads, the join and the size budget did is added to `notes` ({"kind", "message"}), when given."""
    built = build_view(req, inputs, notes)
    result = built.result
    if fmt == "html":
        from geo.present.budget import check_map_bytes, fit_to_budget
        from geo.present.mapping import build_choropleth, map_html

        layer, size_notes = fit_to_budget(result.layer, what=f"the {built.view} map")
        if notes is not None:
            notes += [n.to_dict() for n in size_notes]
        prepared = prepare_offline(layer, result.spec)  # the page carries its geometry, found in the cache
        page = map_html(build_choropleth(layer, result.spec, built.classification, attribution=inputs.attribution,
                                         prepared=prepared)).encode("utf-8")
        check_map_bytes(page, len(layer), what=f"the {built.view} map")
        return page
    if fmt == "csv":
        from geo.present.export import csv_bytes

        table = next(iter(result.tables.values()), None)
        if table is None:
            table = result.layer.drop(columns=[result.layer.geometry.name])
        return csv_bytes(table)
    from geo.present.slide import render_slide

    return render_slide(result.layer, result.spec, built.classification, callout=req.callout, source=inputs.source,
                        release=inputs.release, attribution=inputs.attribution, date=req.date, fmt=fmt, theme=req.theme,
                        marks=req.marks, sentences=built.sentences)
