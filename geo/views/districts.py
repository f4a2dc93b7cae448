"""Districts nationally: one MHCLG district summary of one IoD measure, on the district boundaries."""

from __future__ import annotations

from geo.catalogue import summaries_for
from geo.link.layers import district_map_layer
from geo.present.compare import summary_measures
from geo.views.base import CompareSetup, Param, View, ViewData, ViewResult, district_lsoas
from geo.views.classes import class_params
from geo.views.common import measure_param


class DistrictsView(View):
    id = "districts"
    label = "Districts (England)"
    description = "Every district nationally by one of MHCLG's district summaries (average score, extent …)."

    def available(self, data: ViewData) -> str | None:
        if not data.iod:
            return "the table has no Indices of Deprivation columns"
        if data.districts is None or not data.ind.district_column:
            return "district boundaries and a district code column are needed"
        return None

    def params(self, data: ViewData) -> tuple[Param, ...]:
        def choices(d, v) -> list[str]:
            return [s["id"] for s in summaries_for(v["measure"])]

        return (measure_param(),
                Param("summary", "District summary", "choice", choices=choices, what="district summary",
                      labels=lambda d, v: {s["id"]: s["label"] for s in summaries_for(v["measure"])},
                      help="Which of MHCLG's district summaries to map."),
                *class_params(lambda d, v: False))

    def build(self, data: ViewData, values: dict) -> ViewResult:
        label = data.measure_labels()[values["measure"]]
        table = data.district_summaries(values["measure"])
        shown = district_map_layer(table, data.districts, values["summary"], label)
        return ViewResult(shown.layer, shown.spec, shown.higher_is_worse, report=shown.report,
                          tables={"district_summaries": table}, area_word="districts",
                          national_place=None if data.illustrative else "England")

    def comparison(self, data: ViewData, values: dict, result: ViewResult, classification) -> CompareSetup:
        """Every district summary of the measure, not just the one mapped; each district drawn as its own LSOAs
        by their national decile of the measure."""
        label = data.measure_labels()[values["measure"]]
        return CompareSetup(result.layer, classification, summary_measures(result.layer), "districts",
                            heading=f"district summaries of {label}",
                            small_maps=district_lsoas(data, values["measure"], values.get("palette", "viridis")))
