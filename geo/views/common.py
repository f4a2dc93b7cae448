"""Parameters several views share: the IoD measure and the districts to show."""

from __future__ import annotations

from geo.views.base import Param, ViewData


def measure_param() -> Param:
    """The IMD or one of its domains, as the table has them."""
    return Param("measure", "Measure", "choice", choices=lambda d, v: list(d.measure_labels()),
                 labels=lambda d, v: d.measure_labels(), help="The Index of Multiple Deprivation or one of its domains.")


def district_names(data: ViewData) -> dict[str, str]:
    """District code → name, from the joined layer (the table's district columns)."""
    ind, layer = data.ind, data.joined
    if ind is None or not ind.district_column or layer is None or ind.district_column not in layer.columns:
        return {}
    cols = [ind.district_column] + ([ind.district_name_column] if ind.district_name_column in layer.columns else [])
    names = layer[cols].dropna().drop_duplicates(ind.district_column)
    codes = names[ind.district_column].astype("string").str.strip()
    shown = names[cols[-1]] if len(cols) > 1 else codes
    lookup = dict(zip(codes, shown))
    return {c: str(lookup[c]) for c in sorted(lookup, key=lambda c: str(lookup[c]))}


def districts_param() -> Param:
    """'Districts to show': the LSOAs of the chosen districts (all of them when none is chosen)."""
    return Param("districts", "Districts to show (empty = all)", "choices", default=[],
                 choices=lambda d, v: list(district_names(d)),
                 labels=lambda d, v: {c: f"{n} ({c})" for c, n in district_names(d).items()},
                 when=lambda d, v: bool(d.ind is not None and d.ind.district_column), help="District codes, e.g. E06000001.",
                 unknown="No LSOAs of district {value} in this data.")
