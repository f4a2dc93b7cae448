"""Change between releases: district summaries of two packs on the newer districts, or LSOA rank change."""

from __future__ import annotations

import re

import geopandas as gpd

from geo.derive.change import CAVEAT, decile_transitions, district_change, lsoa_change
from geo.errors import AtlasError
from geo.link.join import join_indicators
from geo.link.layers import lsoas_in_districts, measure_frame
from geo.present.classify import classify_change
from geo.present.mapping import MapSpec
from geo.views.base import Param, View, ViewData, ViewResult
from geo.views.common import districts_param, measure_param, release_map, with_districts
from geo.views.lsoas import filter_words, place_name, place_title
from geo.views.sources import release_words

RANK_MOVES = ("moved most towards less deprived", "moved most towards rank 1")
# Rank change is drawn on a diverging ramp centred on no change (neutral grey): the legend names both sides.
DIVERGING_MEANS = ("further moved: orange towards rank 1 (more deprived), purple towards less deprived; "
                   "grey = no change")


def change_classes(layer, column: str, k: int):
    """Diverging classes of a rank change (> 0: moved towards rank 1, more deprived), centred on no change."""
    return classify_change(layer[column], k, kind="rank", unit="ranks", more="more deprived (rank 1)",
                           less="less deprived")
NO_OTHER = ("To see change, build a second real pack (Get real England data) or put an earlier release's "
            "LSOA table in a data folder (ATLAS_DATA_DIRS).")
NO_OTHER_SHOWN = "There is no other IoD release to compare with: this is the current release's map. " + NO_OTHER


def _year(text) -> int | None:
    match = re.search(r"(?<!\d)(19|20)\d\d(?!\d)", str(text or ""))
    return int(match.group(0)) if match else None


def current_year(data: ViewData) -> int | None:
    """The publication year of the loaded release (a pack's manifest), else a year in the table's file name."""
    if data.pack is not None:
        return _year(data.pack.manifest.get("published"))
    from geo.catalogue import recognise_release

    layout = recognise_release(list(map(str, data.ind.frame.columns))) if data.ind is not None else None
    return _year(layout.release) if layout is not None else None


def nearest_other(data: ViewData, values: dict) -> str | None:
    """The other release nearest in publication year (known years first; then the order offered)."""
    if not data.others:
        return None
    mine = current_year(data)
    def distance(item):
        year = item[1].meta.get("year")
        if year is None or mine is None:
            return (1, 0)
        return (0, abs(year - mine))
    return min(data.others.items(), key=distance)[0]


class ChangeView(View):
    id = "change"
    label = "Change between releases"
    description = "How a measure moved between two releases: districts (two packs) or LSOAs (another release's table)."

    def available(self, data: ViewData) -> str | None:
        return None if data.iod else "the table has no Indices of Deprivation columns"

    def params(self, data: ViewData) -> tuple[Param, ...]:
        return (measure_param(),
                Param("against", "Compare with", "choice", choices=lambda d, v: list(d.others), key="compare_with",
                      default=nearest_other,
                      labels=lambda d, v: {k: s.label for k, s in d.others.items()},
                      help="Another release: a pack (district change) or an LSOA table (LSOA rank change)."),
                districts_param(),
                Param("k", "Classes (an odd number: each side of no change)", "int", default=5, lo=3, hi=9,
                      widget="slider", help="Rank change is drawn on diverging classes centred on no change."))

    def build(self, data: ViewData, values: dict) -> ViewResult:
        if not data.others or values.get("against") is None:
            result = release_map(data, values.get("measure"), values.get("districts"))
            result.warnings.append(NO_OTHER_SHOWN)
            return result
        source = data.others[values["against"]]
        label = data.measure_labels()[values["measure"]]
        try:
            if source.kind == "pack":
                return _district_change(data, source, values["measure"], label, values.get("k") or 5)
            return _lsoa_change(data, source, values, label)
        except AtlasError as exc:  # the other release cannot be used: say so beside the current release's map
            result = release_map(data, values.get("measure"), values.get("districts"))
            result.problems.append(exc)
            return result


def _lsoa_change(data: ViewData, source, values: dict, label: str) -> ViewResult:
    other = source.load()
    mine, theirs = measure_frame(data.ind, values["measure"]), measure_frame(other, values["measure"])
    if theirs["rank"].isna().all():
        raise AtlasError(f"'{source.label}' has no {label} rank column.", "Choose a table of another IoD release.")
    change = lsoa_change(theirs, mine)
    joined = data.joined
    layer = joined[[c for c in joined.columns if not str(c).startswith("_") or c == "_code"]]
    layer = layer.merge(change, left_on="_code", right_on="code", how="left")
    layer = gpd.GeoDataFrame(layer, geometry=joined.geometry.name, crs=joined.crs)
    chosen = values.get("districts") or []
    if chosen:
        layer = lsoas_in_districts(layer, data.ind, chosen)
    other_name = source.meta.get("name", source.label)
    other_release = release_words(source.meta.get("release") or other_name)
    place = place_name(data, chosen)
    spec = MapSpec("rank_change", f"{label}: change in rank", data.name_column, "_code",
                   tooltip_columns=(("Rank then", "rank_old"), ("Rank now", "rank_new"), ("Decile then", "decile_old"),
                                    ("Decile now", "decile_new"), ("Score change", "score_change")),
                   title=place_title(f"{label} — change in national rank", filter_words(data, chosen)),
                   subtitle=f"against {other_release}",
                   caveat=CAVEAT, darker_means=DIVERGING_MEANS, extremes=RANK_MOVES,
                   place=filter_words(data, chosen) or "")
    with_districts(spec, data, layer)
    notes = [f"{len(change):,} LSOAs in both releases; {len(mine) - len(change):,} only in this one, "
             f"{len(theirs) - len(change):,} only in {other_release}."]
    return ViewResult(layer, spec, True, classification=change_classes(layer, "rank_change", values.get("k") or 5),
                      tables={"change": change}, notes=notes, caveats=[CAVEAT], place=place, area_word="LSOAs",
                      kind="rank", extra={"transitions": decile_transitions(change)})


def _district_change(data: ViewData, source, measure: str, label: str, k: int = 5) -> ViewResult:
    current, other = data.pack, source.meta["pack"]
    older, newer = sorted([current, other], key=lambda p: p.manifest["published"])
    frames = {}
    for pack in (older, newer):
        table = data.ind if pack.id == current.id else source.load()
        frame = measure_frame(table, measure)
        if frame[["score", "rank", "population"]].isna().all().any():
            raise AtlasError(f"{pack.label} lacks {label} scores, ranks or populations.", "Rebuild the pack.")
        frames[pack.id] = frame
    change = district_change(frames[older.id], frames[newer.id], older.manifest["national_lsoas"],
                             newer.manifest["national_lsoas"])
    boundaries = data.districts if newer.id == current.id else source.meta["districts"]()
    spec_code = newer.manifest["layers"]["districts"]["code"]
    joined, report = join_indicators(boundaries, change, spec_code, "district_code")
    spec = MapSpec("average_score_rank_change", f"{label}: change in rank of average score",
                   newer.manifest["layers"]["districts"]["name"], spec_code,
                   tooltip_columns=((f"Rank {older.manifest['short']}", "average_score_rank_old"),
                                    (f"Rank {newer.manifest['short']}", "average_score_rank_new"),
                                    ("Average score change", "average_score_change"),
                                    ("Extent change", "extent_change")),
                   title=f"{label}: {older.manifest['short']} → {newer.manifest['short']}",
                   subtitle=f"on {newer.manifest['district_vintage']} districts", caveat=CAVEAT,
                   darker_means=DIVERGING_MEANS, extremes=RANK_MOVES)
    return ViewResult(joined, spec, True, classification=change_classes(joined, "average_score_rank_change", k),
                      report=report, tables={"change": change}, caveats=[CAVEAT], area_word="districts", kind="rank")
