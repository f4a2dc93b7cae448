"""What every view is made of: its parameters as data, the data it is built from, and the value it builds.

A view declares its parameters once (`Param`: name, kind, default, choices, validation, help); the
app draws widgets from them, the page address, stories and saved sessions carry them by name, and
the command line reads them from a link or a TOML view file. `build(data, values)` is pure: it
returns a `ViewResult` (the map layer and spec, tables, sentences, headlines, notes) and draws nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from geo.errors import AtlasError

PARAM_KINDS = ("choice", "choices", "int", "float", "bool", "text")


@dataclass(frozen=True)
class Param:
    """One parameter of a view: the single source for its widget, its place in the address and its checks.

    `choices` and `default` may be callables of (data, values-so-far), for options that depend on the
    data (the measures a table has) or on an earlier parameter (the periods of the chosen series).
    """

    name: str                                  # in the address, stories, sessions and view files
    label: str                                 # the widget's label
    kind: str                                  # one of PARAM_KINDS
    default: Any = None
    choices: Any = ()                          # sequence, or callable(data, values) -> sequence
    labels: Any = None                         # choice -> display text: dict, or callable(data, values) -> dict
    help: str = ""
    key: Any = None                            # the widget key: str, or callable(data, values) (default: the name)
    widget: str = ""                           # "radio", "slider", "select_slider", "toggle", "number" … ("" = by kind)
    lo: float | None = None                    # bounds for int/float
    hi: float | None = None
    step: float | None = None
    in_link: bool = True                       # written to the page address
    when: Callable[[Any, dict], bool] | None = None  # shown only when this holds (e.g. k: for schemes that use it)
    widget_args: Any = None                    # extra widget settings, e.g. {"horizontal": True}
    check: Callable[[Any], str | None] | None = None  # a problem with a value, in words (None: fine)
    what: str = ""                             # the parameter in messages ("classification"; default: the name)
    unknown: str = ""                          # message for values not on offer, with {value} (e.g. districts)

    def __post_init__(self) -> None:
        if self.kind not in PARAM_KINDS:
            raise ValueError(f"Param {self.name!r}: unknown kind {self.kind!r}; kinds: {', '.join(PARAM_KINDS)}")

    def widget_key(self, data: Any = None, values: dict | None = None) -> str:
        if callable(self.key):
            return str(self.key(data, values or {}))
        return self.key or self.name

    def options(self, data: Any, values: dict) -> list:
        """The choices on offer for this data (and the parameters before it)."""
        found = self.choices(data, values) if callable(self.choices) else self.choices
        return list(found)

    def display(self, data: Any, values: dict) -> dict:
        """choice → display text."""
        if self.labels is None:
            return {}
        return dict(self.labels(data, values) if callable(self.labels) else self.labels)

    def default_for(self, data: Any, values: dict) -> Any:
        value = self.default(data, values) if callable(self.default) else self.default
        if value is None and self.kind == "choice":
            options = self.options(data, values)
            return options[0] if options else None
        if value is None and self.kind == "choices":
            return []
        return value

    def problem(self, value: Any) -> str | None:
        """What is wrong with a value, in words, or None."""
        return self.check(value) if self.check is not None else None

    def applies(self, data: Any, values: dict) -> bool:
        return self.when is None or bool(self.when(data, values))

    def parse(self, raw: Any, data: Any, values: dict) -> Any:
        """A value from a link, story or view file (text, or TOML's own types), checked; ParamError if not valid."""
        if self.kind == "choice":
            options = self.options(data, values)
            text = str(raw)
            by_label = {v: k for k, v in self.display(data, values).items()}
            value = text if text in map(str, options) else by_label.get(text, text)
            matches = [o for o in options if str(o) == str(value)]
            if not matches:
                raise ParamError(self, raw, [str(o) for o in options])
            return matches[0]
        if self.kind == "choices":
            items = raw if isinstance(raw, (list, tuple)) else [v for v in str(raw).split(",") if v.strip()]
            options = self.options(data, values)
            wanted = [str(v).strip().upper() if self.name in ("districts", "areas") else str(v).strip() for v in items]
            if options:
                known = {str(o): o for o in options}
                bad = [v for v in wanted if v not in known]
                if bad:
                    raise ParamError(self, ", ".join(bad), list(known), partial=[known[v] for v in wanted if v in known])
                return [known[v] for v in wanted]
            return wanted
        if self.kind == "bool":
            text = str(raw).strip().lower()
            if text in ("1", "true", "yes", "on"):
                return True
            if text in ("0", "false", "no", "off", ""):
                return False
            raise ParamError(self, raw, ["1", "0"])
        if self.kind in ("int", "float"):
            try:
                number = int(str(raw)) if self.kind == "int" else float(str(raw))
            except ValueError:
                raise ParamError(self, raw, [f"a {'whole ' if self.kind == 'int' else ''}number"]) from None
            if (self.lo is not None and number < self.lo) or (self.hi is not None and number > self.hi):
                raise ParamError(self, raw, [f"{self.lo:g} to {self.hi:g}"], out_of_range=True)
            return number
        if self.problem(str(raw)):
            raise ParamError(self, raw, [], message=self.problem(str(raw)))
        return str(raw)

    def to_link(self, value: Any) -> str | None:
        """The value as text for the page address (None: leave it out)."""
        if value is None or value == [] or value == "":
            return None
        if self.kind == "bool":
            return "1" if value else None
        if isinstance(value, (list, tuple)):
            return ",".join(map(str, value))
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)


class ParamError(AtlasError):
    """A parameter value that is not on offer: says which, and what is."""

    def __init__(self, param: Param, value: Any, valid: list[str], partial: Any = None, message: str = "",
                 out_of_range: bool = False) -> None:
        shown = ", ".join(valid[:12]) + (f" … ({len(valid)} in all)" if len(valid) > 12 else "")
        if message:
            text = f"{param.name} = {value} is not valid: {message}"
        elif out_of_range:
            text = f"{param.name} = {value} is out of range."
        elif param.unknown:
            text = param.unknown.format(value=value)
        else:
            text = f"Unknown {param.what or param.name} '{value}'."
        super().__init__(text, f"Choose one of: {shown}." if valid else "Check the value.")
        self.param, self.value, self.partial = param, value, partial


@dataclass
class Source:
    """Another input a view can use, loaded only when chosen (and then once): a release to compare with, a series."""

    label: str
    loader: Callable[[], Any]
    kind: str = ""               # "pack", "table", "series" …
    illustrative: bool = False
    meta: dict = field(default_factory=dict)
    _loaded: list = field(default_factory=list, repr=False, compare=False)

    def load(self) -> Any:
        """The input, read on first use and kept for the life of this Source (one script run in the app)."""
        if not self._loaded:
            self._loaded.append(self.loader())
        return self._loaded[0]


@dataclass
class ViewData:
    """Everything views are built from, assembled by the app (cached loaders) or the command line (files)."""

    ind: Any                                  # geo.link.layers.IndicatorTable of the chosen table
    joined: gpd.GeoDataFrame | None           # the table joined to the neighbourhood boundaries
    report: Any = None                        # its JoinReport
    name_column: str | None = None
    districts: gpd.GeoDataFrame | None = None  # district boundaries, when the data has them
    pack: Any = None                          # the data pack, when the data is one
    illustrative: bool = False
    others: dict[str, Source] = field(default_factory=dict)        # id → another release (change)
    series: dict[str, Source] = field(default_factory=dict)        # id → an indicator series (progress)
    boundary_layers: dict[str, Source] = field(default_factory=dict)  # name → (gdf, code column), for series
    eligible_codes: list[str] | None = None   # the last eligibility result (a target group)
    summaries: Callable[[str], pd.DataFrame] | None = None  # measure → district summaries (cached by the app)
    memo: dict = field(default_factory=dict, repr=False, compare=False)  # figures derived once per ViewData

    @property
    def iod(self) -> bool:
        return self.ind is not None and bool(self.ind.available_measures())

    def measure_labels(self) -> dict[str, str]:
        return {m["id"]: m["label"] for m in self.ind.available_measures()} if self.iod else {}

    def district_summaries(self, measure: str) -> pd.DataFrame:
        if self.summaries is not None:
            return self.summaries(measure)
        from geo.link.layers import district_summaries

        return district_summaries(self.ind, measure)


@dataclass
class ViewResult:
    """What a view built: the map and everything said around it. Nothing is drawn or written."""

    layer: gpd.GeoDataFrame
    spec: Any                                  # geo.present.mapping.MapSpec
    higher_is_worse: bool = True
    deciles: pd.Series | None = None           # national deciles, when the classes can be the published ones
    classification: Any = None                 # a categorical map brings its own classes
    report: Any = None                         # its own join report (district summaries to boundaries)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # name → table (CSV from the app and CLI)
    headlines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # what the view did or could not do, in words
    warnings: list[str] = field(default_factory=list)  # what the user should act on (an empty result …)
    problems: list[AtlasError] = field(default_factory=list)  # parts that could not be done; the map stays
    caveats: list[str] = field(default_factory=list)
    place: str | None = None                   # the one district shown, for "Hartlepool's 58"
    area_word: str = ""                        # "districts", "LSOAs", … for the legend in words
    national_place: str | None = None          # "England" when the classes are national
    illustrative: bool | None = None           # None: as the data
    extra: dict = field(default_factory=dict)  # per-view detail for its panel
    kind: str = ""                             # the mapped value's kind (geo.present.numbers); "" = from its column


@dataclass
class CompareSetup:
    """How a view's areas are compared side by side: on which national layer and classes, by which measures."""

    national: gpd.GeoDataFrame          # the whole layer the classes are computed on
    classification: Any
    measures: list                      # geo.present.compare.Measure
    unit: str = "areas"
    pick_from: gpd.GeoDataFrame | None = None  # the areas offered (default: the national layer)
    note: str = ""
    words: tuple[str, str] = ("less deprived", "more deprived")
    heading: str = ""
    small_maps: Any = None              # geo.present.compare.SmallMaps: districts drawn as their own LSOAs


def district_lsoas(data: ViewData, measure: str | None = None, palette: str = "viridis") -> Any:
    """The LSOAs of the data coloured by their national decile of `measure` (default: the first one), for the
    small maps of compared districts; None when the data cannot tell each LSOA's district or has no IoD measure.

    Deciles are the published ones when the table has them, else ceil(rank × 10 / n) of the measure over all the
    LSOAs of the table (national when the table is England's). Built once per ViewData, measure and palette."""
    ind, joined = data.ind, data.joined
    if joined is None or not data.iod or not ind.district_column or ind.district_column not in joined.columns:
        return None
    labels = data.measure_labels()
    measure = measure if measure in labels else next(iter(labels))
    key = ("compare_district_lsoas", measure, palette)
    if key not in data.memo:
        from geo.link.layers import lsoa_measure_layer
        from geo.present.classify import classify_values
        from geo.present.compare import SmallMaps, national_decile, national_rank
        from geo.views.common import with_districts

        kinds = [k for k in ("decile", "rank", "score") if ind.column_for(measure, k) is not None]
        if not kinds:
            return None
        shown = lsoa_measure_layer(ind, joined, data.report.boundary_code, data.name_column, measure, labels[measure],
                                   kinds[0])
        deciles = shown.deciles
        if deciles is None:  # no published deciles: from the rank or score, over every LSOA of the table
            col = ind.column_for(measure, kinds[0])
            values = pd.to_numeric(shown.layer[col.name], errors="coerce")
            higher_is_worse = col.higher_is_worse if kinds[0] == "score" else False
            deciles = pd.Series(national_decile(national_rank(values, higher_is_worse), int(values.notna().sum())),
                                index=shown.layer.index)
        classes = classify_values(deciles, "national_deciles", deciles=deciles, palette=palette)
        with_districts(shown.spec, data, shown.layer)
        data.memo[key] = SmallMaps(shown.layer, shown.spec, classes, ind.district_column,
                                   f"LSOAs by national decile of {labels[measure]}")
    return data.memo[key]


class View:
    """A map type: id, label, parameters, availability and a pure build. Subclasses fill these in."""

    id: str = ""
    label: str = ""
    description: str = ""

    def params(self, data: ViewData) -> tuple[Param, ...]:
        return ()

    def available(self, data: ViewData) -> str | None:
        """None when the view can be built from this data, else the reason it cannot."""
        return None

    def build(self, data: ViewData, values: dict) -> ViewResult:
        raise NotImplementedError

    def comparison(self, data: ViewData, values: dict, result: ViewResult, classification: Any) -> CompareSetup:
        """Compare areas on the map's own layer and value (views with summaries behind them say otherwise)."""
        from geo.present.compare import Measure

        layer, spec = result.layer, result.spec
        numeric = pd.api.types.is_numeric_dtype(layer[spec.value_column])
        measures = [Measure(spec.value_column, spec.value_label, result.higher_is_worse)] if numeric else []
        small = (district_lsoas(data, values.get("measure"), values.get("palette", "viridis"))
                 if result.area_word == "districts" else None)
        unit = result.area_word or "areas"
        return CompareSetup(layer, classification, measures, unit, words=spec.extremes, small_maps=small)


def resolve_values(view: View, data: ViewData, given: dict[str, Any], strict: bool = False) -> tuple[dict, list[str]]:
    """Every parameter of `view` from `given` (link/story/view-file values) or its default, checked in order.

    `strict` (the command line): an unknown parameter or value is an AtlasError naming the valid ones.
    Otherwise (the app): the default is used and a notice says what was ignored.
    """
    params = view.params(data)
    names = {p.name for p in params}
    notices: list[str] = []
    values: dict[str, Any] = {}
    for p in params:
        if not p.applies(data, values):
            continue
        if p.name in given and given[p.name] is not None:
            try:
                values[p.name] = p.parse(given[p.name], data, values)
                continue
            except ParamError as exc:
                if strict:
                    raise
                notices.append(f"{p.name} = {exc.value}")
                if exc.partial:
                    values[p.name] = exc.partial
                    continue
        values[p.name] = p.default_for(data, values)
    if strict:
        from geo.views import COMMON_PARAMS

        unknown = sorted(set(given) - names - set(COMMON_PARAMS))
        if unknown:
            raise AtlasError(f"The {view.id} view has no parameter {', '.join(unknown)}.",
                             f"Its parameters: {', '.join(sorted(names | set(COMMON_PARAMS)))}.")
    return values, notices
