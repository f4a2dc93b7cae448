"""The registry of map views: each view a pure unit (parameters as data, `available`, `build`) looked up by id.

    from geo.views import get_view, resolve_values
    view = get_view("districts")
    values, notices = resolve_values(view, data, {"measure": "income"})
    result = view.build(data, values)          # a ViewResult: nothing drawn, nothing written

Adding a view is a module in this package with a `View` subclass and one line in `_VIEWS` below.
The app draws any view's parameters generically (ui/params.py); the command line renders any view
(`python -m geo render`); stories, saved sessions and the page address carry the parameters by name.
"""

from __future__ import annotations

from geo.errors import AtlasError
from geo.views.base import (
    PARAM_KINDS,
    CompareSetup,
    Param,
    ParamError,
    Source,
    View,
    ViewData,
    ViewResult,
    resolve_values,
)
from geo.views.change import ChangeView
from geo.views.classes import classify_result
from geo.views.districts import DistrictsView
from geo.views.eligibility import EligibilityView
from geo.views.lsoas import LsoasView
from geo.views.profile import ProfileView
from geo.views.progress import ProgressView

_VIEWS: tuple[View, ...] = (DistrictsView(), LsoasView(), ChangeView(), EligibilityView(), ProgressView(),
                              ProfileView())
VIEWS: dict[str, View] = {v.id: v for v in _VIEWS}
# Parameters every view shares, handled around the view rather than by it.
COMMON_PARAMS = ("data", "view", "compare", "areas")
# Every parameter any view has: what a link, a story step or a saved session may carry.
LINK_PARAMS = COMMON_PARAMS + ("measure", "summary", "show", "districts", "scheme", "k", "palette", "breaks", "column",
                               "higher_is_worse", "against", "rule", "allocate", "pot", "alloc_percent", "alloc_score",
                               "floor", "ceiling", "colour_by", "series", "target", "group", "group_codes",
                               "group_deciles", "region", "period", "progress_map", "area")


def get_view(view_id: str) -> View:
    """The view registered under `view_id`; an unknown id raises, listing the valid ones."""
    if view_id not in VIEWS:
        raise AtlasError(f"Unknown view '{view_id}'.", f"Views: {', '.join(VIEWS)}.")
    return VIEWS[view_id]


def available_views(data: ViewData) -> list[View]:
    """The views this data can show, in registry order; a real pack opens on every LSOA in England."""
    views = [v for v in _VIEWS if v.available(data) is None]
    if data.pack is not None and not data.illustrative:
        views.sort(key=lambda v: v.id != "lsoas")
    return views


def legend_sentences(result: ViewResult, classification) -> list[str]:
    """The legend in words: national deciles say so; "Hartlepool's 58" where one district is shown."""
    from geo.present.legend_text import sentence_legend

    if result.area_word:
        return sentence_legend(classification, area_word=result.area_word, place=result.place or result.national_place)
    return sentence_legend(classification)


__all__ = ["COMMON_PARAMS", "LINK_PARAMS", "PARAM_KINDS", "VIEWS", "CompareSetup", "Param", "ParamError", "Source",
           "View", "ViewData", "ViewResult", "available_views", "classify_result", "get_view", "legend_sentences",
           "resolve_values"]
