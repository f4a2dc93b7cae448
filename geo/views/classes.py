"""The classification parameters every numeric view shares, and the classification of a built view."""

from __future__ import annotations

from geo.present.classify import PALETTES, SCHEMES, Classification, classify_values
from geo.errors import AtlasError
from geo.views.base import Param


BREAKS_PROBLEM = "Breaks must be numbers separated by commas, e.g. 10, 20, 30."


def parse_breaks(text: object) -> list[float] | None:
    """User breaks from '10, 20; 30' or a list; None when they are not all numbers (or none are given)."""
    items = text if isinstance(text, (list, tuple)) else str(text).replace(";", ",").split(",")
    try:
        found = [float(b) for b in items if str(b).strip()]
    except ValueError:
        return None
    return found or None


def _breaks_problem(text: object) -> str | None:
    return None if parse_breaks(text) else BREAKS_PROBLEM


def class_params(allow_deciles) -> tuple[Param, ...]:
    """scheme, k, breaks and palette. `allow_deciles(data, values)` says whether national deciles are on offer."""
    def schemes(data, values) -> list[str]:
        return [s for s in SCHEMES if allow_deciles(data, values) or s != "national_deciles"]

    def default(data, values) -> str:
        return "national_deciles" if allow_deciles(data, values) else "quantiles"

    return (
        Param("scheme", "Classification", "choice", default=default, choices=schemes,
              labels={s: SCHEMES[s][0] for s in SCHEMES}, key=lambda d, v: f"scheme_{default(d, v)}", what="classification",
              help="How values are cut into classes; national deciles are the published ones."),
        Param("k", "Classes", "int", default=5, lo=3, hi=10, widget="slider",
              when=lambda d, v: SCHEMES[v["scheme"]][1], help="Number of classes."),
        Param("breaks", "Upper bounds of classes, comma-separated", "text", default="10, 20, 30, 40",
              when=lambda d, v: v["scheme"] == "user_defined", check=_breaks_problem),
        Param("palette", "Colours (colour-blind safe)", "choice", default="viridis", choices=tuple(PALETTES)),
    )


# District summaries (indicators/catalogue.toml [[summary]]) and the columns views map, by kind of number.
SUMMARY_KINDS = {"average_score": "score", "average_rank": "rank", "proportion_most_deprived_10pct": "share",
                 "extent": "share", "local_concentration": "rank", "scale": "count"}


def value_kind(result) -> str:
    """The kind of the value a view maps (geo.present.numbers.KINDS, or "money_per_head"): as the view says,
    else a district summary's, else read from the column's name and label."""
    from geo.present import numbers

    if result.kind:
        return result.kind
    column = str(result.spec.value_column)
    if column in SUMMARY_KINDS:
        return SUMMARY_KINDS[column]
    if column.endswith(("_rank", "_rank_change", "rank_change")):
        return "rank"
    return numbers.kind_of(column, str(result.spec.value_label))


def classify_result(result, values: dict) -> Classification:
    """The view's own classes (categorical maps), else the chosen scheme on its mapped value.

    Breaks that are not numbers fall back to quantiles, with a note on the result (the map stays).
    """
    if result.classification is not None:
        return result.classification
    scheme = values.get("scheme", "quantiles")
    breaks = parse_breaks(values.get("breaks", "")) if scheme == "user_defined" else None
    if scheme == "user_defined" and not breaks:
        result.notes.append(f"{BREAKS_PROBLEM} Showing quantiles meanwhile.")
        scheme, values = "quantiles", {**values, "k": 5}
    try:
        return classify_values(result.layer[result.spec.value_column], scheme, values.get("k") or 5, result.higher_is_worse,
                               deciles=result.deciles, breaks=breaks, palette=values.get("palette", "viridis"),
                               extremes=result.spec.extremes, kind=value_kind(result))
    except ValueError as exc:
        raise AtlasError(str(exc), "Choose another classification.") from None
