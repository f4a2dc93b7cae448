"""Parameters several views share: the IoD measure and the districts to show."""

from __future__ import annotations

from geo.errors import AtlasError
from geo.views.base import Param, ViewData


def measure_param() -> Param:
    """The IMD or one of its domains, as the table has them."""
    return Param("measure", "Measure", "choice", choices=lambda d, v: list(d.measure_labels()),
                 labels=lambda d, v: d.measure_labels(), help="The Index of Multiple Deprivation or one of its domains.")


def district_names(data: ViewData) -> dict[str, str]:
    """District code → name, from the joined layer (the table's district columns); worked out once per ViewData."""
    if "district_names" not in data.memo:
        data.memo["district_names"] = _district_names(data)
    return data.memo["district_names"]


def _district_names(data: ViewData) -> dict[str, str]:
    ind, layer = data.ind, data.joined
    if ind is None or not ind.district_column or layer is None or ind.district_column not in layer.columns:
        return {}
    cols = [ind.district_column] + ([ind.district_name_column] if ind.district_name_column in layer.columns else [])
    names = layer[cols].dropna().drop_duplicates(ind.district_column)
    codes = names[ind.district_column].astype("string").str.strip()
    shown = names[cols[-1]] if len(cols) > 1 else codes
    lookup = dict(zip(codes, shown))
    return {c: str(lookup[c]) for c in sorted(lookup, key=lambda c: str(lookup[c]))}


def with_districts(spec, data: ViewData, layer) -> None:
    """Name the layer's district code and name columns on an LSOA map's spec, so search finds whole districts."""
    ind = data.ind
    if ind is None or not ind.district_column or ind.district_column not in layer.columns:
        return
    spec.district_column = ind.district_column
    if ind.district_name_column and ind.district_name_column in layer.columns:
        spec.district_name_column = ind.district_name_column


def districts_param() -> Param:
    """'Districts to show': the LSOAs of the chosen districts (all of them when none is chosen)."""
    return Param("districts", "Districts to show (empty = all)", "choices", default=[],
                 choices=lambda d, v: list(district_names(d)),
                 labels=lambda d, v: {c: f"{n} ({c})" for c, n in district_names(d).items()},
                 when=lambda d, v: bool(d.ind is not None and d.ind.district_column), help="District codes, e.g. E06000001.",
                 unknown="No LSOAs of district {value} in this data.")


def release_map(data: ViewData, measure: str | None = None, districts: list[str] | None = None, level: str = ""):
    """The current release's own map (LSOAs, or its districts when `level` is "districts" and it has them).

    What a view shows instead of an empty page when its own map cannot be drawn: the caller adds a warning
    (or a problem) saying why and what to load. Raises only when the data has no map at all.
    """
    from geo.views import get_view, resolve_values

    given = {"measure": measure} if measure and measure in data.measure_labels() else {}
    if districts:
        given["districts"] = districts
    order = ("districts", "lsoas") if level == "districts" else ("lsoas", "districts")
    last: Exception | None = None
    for view_id in order:
        view = get_view(view_id)
        if view.available(data) is not None:
            continue
        try:
            values, _ = resolve_values(view, data, given)
            result = view.build(data, values)
        except Exception as exc:  # noqa: BLE001 — try the other level before giving up
            last = exc
            continue
        from geo.views.classes import classify_result

        result.classification = classify_result(result, values)  # the release's own classes, not the caller's
        result.extra["fallback_values"] = values
        return result
    if last is not None:
        raise last
    raise AtlasError("This data has no map to show.", "Load neighbourhood boundaries joined to a table.")
