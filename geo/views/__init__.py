"""The registry of map views: each view a pure unit (parameters as data, `available`, `build`) looked up by id.

    from geo.views import get_view, resolve_values
    view = get_view("districts")
    values, notices = resolve_values(view, data, {"measure": "income"})
    result = view.build(data, values)          # a ViewResult: nothing drawn, nothing written

Adding a view is a module in this package with a `View` subclass and one line in `_ENTRIES` below.
The app draws any view's parameters generically (ui/params.py); the command line renders any view
(`python -m geo render`); stories, saved sessions and the page address carry the parameters by name.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

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
from geo.views.classes import classify_result

# id → "module:class", in the order the app offers them. A view's module is imported when it is first
# looked up, so the command line loads only the view it draws.
_ENTRIES = {
    "districts": "geo.views.districts:DistrictsView",
    "lsoas": "geo.views.lsoas:LsoasView",
    "change": "geo.views.change:ChangeView",
    "eligibility": "geo.views.eligibility:EligibilityView",
    "progress": "geo.views.progress:ProgressView",
    "profile": "geo.views.profile:ProfileView",
}


class _Registry(Mapping):
    """The registered views by id, each instantiated on first use."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries, self._made = entries, {}

    def __getitem__(self, view_id: str) -> View:
        if view_id not in self._made:
            module, name = self._entries[view_id].split(":")
            view = getattr(importlib.import_module(module), name)()
            assert view.id == view_id, (view.id, view_id)
            self._made[view_id] = view
        return self._made[view_id]

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


VIEWS: Mapping[str, View] = _Registry(_ENTRIES)
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
    views = [v for v in VIEWS.values() if v.available(data) is None]
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
