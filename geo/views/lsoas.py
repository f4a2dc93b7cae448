"""Neighbourhoods: the LSOAs (all of England, or of chosen districts) by a national IoD measure or any column."""

from __future__ import annotations

from geo.errors import AtlasError
from geo.load.io import parse_numbers
from geo.link.layers import lsoa_measure_layer, lsoas_in_districts, numeric_columns
from geo.present.mapping import MapSpec
from geo.present.compare import Measure
from geo.views.base import CompareSetup, Param, View, ViewData, ViewResult
from geo.views.classes import class_params, classify_result
from geo.views.common import district_names, districts_param, measure_param, with_districts

KINDS = ("score", "rank", "decile")


def _kinds(data: ViewData, measure: str) -> list[str]:
    return [k for k in KINDS if data.ind.column_for(measure, k)]


def _columns(data: ViewData) -> list[str]:
    joined, report = data.joined, data.report
    return numeric_columns(joined.drop(columns=[joined.geometry.name]), exclude=(report.boundary_code, report.indicator_code))


def place_name(data: ViewData, codes: list[str]) -> str | None:
    """The name of the one district shown (for 'Hartlepool's 58'), else None."""
    if len(codes) != 1 or not data.ind.district_name_column:
        return None
    return district_names(data).get(codes[0].upper())


def filter_words(data: ViewData, codes: list[str]) -> str | None:
    """The districts a map is filtered to, for its title: one to three names ("Hartlepool, Middlesbrough"),
    else "5 districts"; None when none is chosen."""
    if not codes:
        return None
    names = district_names(data) if data.ind is not None else {}
    shown = [str(names.get(str(c).upper(), c)) for c in codes]
    return ", ".join(shown) if len(shown) <= 3 else f"{len(shown):,} districts"


def place_title(title: str, place: str | None) -> str:
    """A map's title naming the district it is filtered to: "Income — score · Hartlepool"."""
    return f"{title} · {place}" if place and not title.endswith(f" · {place}") else title


class LsoasView(View):
    id = "lsoas"
    label = "Neighbourhoods (LSOAs)"
    description = "The neighbourhoods (LSOAs) of England or of chosen districts, by a national measure."

    def available(self, data: ViewData) -> str | None:
        return None if data.joined is not None else "neighbourhood boundaries joined to a table are needed"

    def params(self, data: ViewData) -> tuple[Param, ...]:
        if data.iod:
            return (measure_param(), districts_param(),
                    Param("show", "Show", "choice", choices=lambda d, v: _kinds(d, v["measure"]), key="kind",
                          widget="radio", widget_args={"horizontal": True},
                          labels={k: k.title() for k in KINDS}, help="Score, national rank or national decile."),
                    *class_params(lambda d, v: d.ind.column_for(v["measure"], "decile") is not None))
        return (districts_param(),
                Param("column", "Column to map", "choice", choices=lambda d, v: _columns(d),
                      help="Any numeric column of the table."),
                Param("higher_is_worse", "Higher values are worse", "bool", default=True, in_link=False),
                *class_params(lambda d, v: False))

    def build(self, data: ViewData, values: dict) -> ViewResult:
        layer = data.joined
        chosen = values.get("districts") or []
        if chosen:
            layer = lsoas_in_districts(layer, data.ind, chosen)
        place = place_name(data, chosen)
        if data.iod:
            label = data.measure_labels()[values["measure"]]
            shown = lsoa_measure_layer(data.ind, layer, data.report.boundary_code, data.name_column, values["measure"],
                                       label, values["show"])
            with_districts(shown.spec, data, shown.layer)
            shown.spec.title = place_title(shown.spec.title, filter_words(data, chosen))
            shown.spec.place = filter_words(data, chosen) or ""
            return ViewResult(shown.layer, shown.spec, shown.higher_is_worse, shown.deciles, place=place,
                              area_word="LSOAs")
        col = values.get("column")
        if col is None:
            raise AtlasError("The table has no numeric columns to map.", "Choose a table with a column of numbers.")
        worse = bool(values.get("higher_is_worse", True))
        layer = layer.copy()
        layer[col], _ = parse_numbers(layer[col])
        spec = MapSpec(col, str(col), data.name_column, data.report.boundary_code,
                       title=place_title(str(col), filter_words(data, chosen)),
                       subtitle="Darker = " + ("higher" if worse else "lower"), darker_means="worse",
                       extremes=("best", "worst"))
        with_districts(spec, data, layer)
        return ViewResult(layer, spec, worse, place=place, area_word="LSOAs")

    def comparison(self, data: ViewData, values: dict, result: ViewResult, classification) -> CompareSetup:
        """LSOAs of the chosen districts, on classes computed over every LSOA of England, by score and rank."""
        if not data.iod:
            return super().comparison(data, values, result, classification)
        national = self.build(data, {**values, "districts": []})
        label = data.measure_labels()[values["measure"]]
        measures = [Measure(c.name, f"{label} {k}", c.higher_is_worse, k)
                    for k in ("score", "rank") if (c := data.ind.column_for(values["measure"], k)) is not None]
        return CompareSetup(national.layer, classify_result(national, values), measures, "LSOAs",
                            pick_from=result.layer)
