"""The view registry: views looked up by id, parameters as data, pure builds, and one view's spec as a golden file."""

from __future__ import annotations

import json
from dataclasses import asdict, replace
from functools import lru_cache

import pandas as pd
import pytest

from geo.errors import AtlasError
from geo.present.render import ViewRequest, resolve_inputs, view_data
from geo.views import LINK_PARAMS, PARAM_KINDS, VIEWS, ParamError, ViewData, available_views, classify_result, \
    get_view, resolve_values
from geo.views.base import Param
from tests.cases import REPO

GOLDEN = REPO / "tests" / "golden" / "demo_districts_view.json"


@lru_cache(maxsize=1)
def _demo() -> ViewData:
    return view_data(resolve_inputs(ViewRequest()))


def demo_data() -> ViewData:
    """The embedded demo pack as the views see it (read once)."""
    return _demo()


def plain_data() -> ViewData:
    """The demo boundaries with a plain table of one numeric column (no IoD measures)."""
    demo = _demo()
    joined = demo.joined[[demo.report.boundary_code, "LSOA11NM", demo.joined.geometry.name]].copy()
    joined["value"] = range(len(joined))
    return ViewData(None, joined, demo.report, "LSOA11NM")


def test_views_are_looked_up_by_id_and_unknown_ids_list_the_valid_ones():
    assert list(VIEWS) == ["districts", "lsoas", "change", "eligibility", "progress", "profile"]
    assert get_view("eligibility").label == "Fund eligibility"
    with pytest.raises(AtlasError) as err:
        get_view("Fund eligibility")  # a label is not an id
    assert "Views: districts, lsoas, change, eligibility, progress, profile" in err.value.hint


def test_every_parameter_is_data_with_a_known_kind_and_a_place_in_links():
    for data in (demo_data(), plain_data()):
        for view in VIEWS.values():
            names = [p.name for p in view.params(data)]
            assert len(names) == len(set(names)), view.id
            for p in view.params(data):
                assert p.kind in PARAM_KINDS and p.label, (view.id, p.name)
                assert p.name in LINK_PARAMS, (view.id, p.name)
    with pytest.raises(ValueError, match="unknown kind 'colour'"):
        Param("x", "X", "colour")


def test_which_views_the_demo_offers_and_why_the_others_are_not():
    data = demo_data()
    assert [v.id for v in available_views(data)] == ["districts", "lsoas", "change", "eligibility", "progress",
                                                      "profile"]
    plain = plain_data()
    assert [v.id for v in available_views(plain)] == ["lsoas"]
    assert "Indices of Deprivation" in get_view("districts").available(plain)
    assert get_view("progress").available(plain) == "no indicator series is loaded"


@pytest.mark.parametrize("view_id", list(VIEWS))
def test_every_view_builds_on_the_demo_with_its_defaults(view_id):
    data = demo_data()
    view = get_view(view_id)
    values, notices = resolve_values(view, data, {})
    assert notices == []
    result = view.build(data, values)
    if view_id == "change":  # the demo pack has no other release: said in words, beside the release's own map
        assert any("no other IoD release" in w and "ATLAS_DATA_DIRS" in w for w in result.warnings), result.warnings
        assert result.area_word == "LSOAs" and len(result.layer) == len(data.joined)
    classification = classify_result(result, values)
    assert len(classification.classes) == len(result.layer)
    assert result.spec.value_column in result.layer.columns and result.spec.title


def test_links_are_checked_strictly_for_the_command_line_and_kindly_for_the_app():
    data, view = demo_data(), get_view("lsoas")
    values, notices = resolve_values(view, data, {"measure": "crime", "show": "rank", "districts": "e08000902"})
    assert values["measure"] == "crime" and values["show"] == "rank" and values["districts"] == ["E08000902"]
    assert values["scheme"] == "national_deciles" and "k" not in values and notices == []  # deciles need no k
    values, notices = resolve_values(view, data, {"measure": "happiness", "scheme": "quantiles", "k": "99"})
    assert values["measure"] == "imd" and values["k"] == 5 and notices == ["measure = happiness", "k = 99"]
    with pytest.raises(ParamError, match="Unknown measure 'happiness'") as err:
        resolve_values(view, data, {"measure": "happiness"}, strict=True)
    assert "imd" in err.value.hint and "income" in err.value.hint
    with pytest.raises(AtlasError, match="has no parameter summary"):
        resolve_values(view, data, {"summary": "extent"}, strict=True)
    # A parameter that depends on an earlier one: the summaries on offer follow the measure.
    districts = get_view("districts")
    imd, _ = resolve_values(districts, data, {"measure": "imd"})
    with pytest.raises(ParamError, match="Unknown district summary 'scale'"):
        resolve_values(districts, data, {"measure": "imd", "summary": "scale"}, strict=True)
    income, _ = resolve_values(districts, data, {"measure": "income", "summary": "scale"}, strict=True)
    assert income["summary"] == "scale" and imd["summary"] == "average_score"


def test_building_draws_nothing_and_returns_a_value():
    data = demo_data()
    view = get_view("eligibility")
    values, _ = resolve_values(view, data, {"allocate": "1"})
    result = view.build(data, values)
    assert result.classification is not None and set(result.tables) == {"eligibility"}
    assert round(result.tables["eligibility"]["allocation"].sum(), 2) == 900_000_000.00
    assert result.extra["formula"].is_nrf_method
    again = view.build(data, values)
    pd.testing.assert_frame_equal(result.tables["eligibility"], again.tables["eligibility"])


def _spec_golden() -> dict:
    data = demo_data()
    view = get_view("districts")
    values, _ = resolve_values(view, data, {"measure": "income", "summary": "extent", "scheme": "quantiles", "k": "4"})
    result = view.build(data, values)
    classification = classify_result(result, values)
    spec = asdict(result.spec)
    spec["tooltip_columns"] = [list(t) for t in spec["tooltip_columns"]]
    spec["extremes"] = list(spec["extremes"])
    spec["legend_words"] = list(spec["legend_words"])
    return {"values": values, "spec": spec, "labels": classification.labels, "counts": classification.counts,
            "colours": classification.colours, "classes": [int(c) for c in classification.classes],
            "codes": result.layer[result.spec.code_column].astype(str).tolist()}


def test_one_views_map_spec_matches_its_golden_file():
    """The districts view of the demo (income extent, 4 quantiles): spec, classes and colours as committed.
    Regenerate with `python tests/test_views.py` and explain the diff in the commit."""
    assert _spec_golden() == json.loads(GOLDEN.read_text(encoding="utf-8"))


if __name__ == "__main__":
    GOLDEN.write_text(json.dumps(_spec_golden(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {GOLDEN}")


def test_every_view_opens_with_a_map_even_without_what_it_needs():
    """#16: with no other release or no real series, change and progress keep a map and say what to load;
    a target group the series cannot have is not offered, and one that fails keeps a map beside the error."""
    from dataclasses import replace

    from geo.views.progress import NONE

    demo = demo_data()
    real = replace(demo, illustrative=False)  # as a real pack: the made-up series is never the default
    progress = get_view("progress")
    values, _ = resolve_values(progress, real, {})
    assert values["series"] == NONE and "target" not in values
    result = progress.build(real, values)
    assert result.area_word == "districts" and len(result.layer) == len(demo.districts)
    assert any("imd_lad21_2004_2019.csv" in w for w in result.warnings), result.warnings
    assert classify_result(result, values) is result.classification
    # On the demo: its own series; groups only those its district-level geography supports.
    values, _ = resolve_values(progress, demo, {})
    groups = progress.params(demo)[2].options(demo, values)
    assert "decile" not in groups and "nrf88" not in groups and "rule" not in groups, groups
    for group in groups:
        result = progress.build(demo, {**values, "group": group})
        assert result.problems == [] and len(result.layer) == 12, group
    broken = progress.build(demo, {**values, "target": "no such target"})
    assert broken.problems and len(broken.layer) == 12 and broken.classification is not None
    # Change: a release that cannot be read keeps the current release's map, the error beside it.
    from geo.views.base import Source

    def unreadable():
        raise AtlasError("Cannot read it.", "Put it back.")

    other = replace(demo, others={"file:x/old.csv": Source("LSOA change against x/old.csv", unreadable, "table",
                                                           meta={"name": "old.csv", "year": 2015})})
    change = get_view("change")
    values, _ = resolve_values(change, other, {})
    assert values["against"] == "file:x/old.csv"
    result = change.build(other, values)
    assert [p.message for p in result.problems] == ["Cannot read it."] and len(result.layer) == len(demo.joined)


def test_a_filtered_map_names_its_place_in_the_title():
    """#17: LSOAs filtered to one district are titled "… — score · Ashbridge", not only "… — score"."""
    data = demo_data()
    view = get_view("lsoas")
    values, _ = resolve_values(view, data, {"districts": ["E08000901"], "show": "score"})
    result = view.build(data, values)
    assert result.spec.title.endswith(" — score · Ashbridge") and result.place == "Ashbridge"
    values, _ = resolve_values(view, data, {"districts": ["E08000901", "E07000901"], "show": "score"})
    assert view.build(data, values).spec.title.endswith(" · Ashbridge, Brackenholme")
    values, _ = resolve_values(view, data, {"show": "score"})
    assert " · " not in view.build(data, values).spec.title


def test_each_views_value_has_a_kind_for_its_legend():
    from geo.views.classes import value_kind

    data = demo_data()
    districts = get_view("districts")
    kinds = {}
    for summary in ("average_score", "average_rank", "extent", "scale"):
        values, _ = resolve_values(districts, data, {"measure": "income", "summary": summary})
        kinds[summary] = value_kind(districts.build(data, values))
    assert kinds == {"average_score": "score", "average_rank": "rank", "extent": "share", "scale": "count"}
    values, _ = resolve_values(districts, data, {"measure": "income", "summary": "average_rank", "scheme": "quantiles"})
    result = districts.build(data, values)
    labels = classify_result(result, values).labels
    assert all("." not in label for label in labels), labels  # average ranks are whole ranks in the legend


def test_change_is_diverging_and_its_subtitle_names_the_release_not_the_file():
    """#17: rank change on diverging classes centred on no change; "against IoD2015 · LSOA 2011", not a file name."""
    from geo.views.base import Source
    from geo.views.sources import release_words

    demo = demo_data()
    other = replace(demo, others={"file:x/File_7.csv": Source("LSOA change against x/File_7.csv", lambda: demo.ind,
                                                              "table", meta={"name": "File_7.csv", "year": 2015,
                                                                             "release": "IoD2015 File 7"})})
    change = get_view("change")
    values, _ = resolve_values(change, other, {"districts": ["E08000901"]})
    result = change.build(other, values)
    assert result.problems == [] and result.spec.subtitle == "against IoD2015 · LSOA 2011"
    assert "File_7" not in result.spec.subtitle + " ".join(result.notes)
    assert result.classification.scheme == "diverging" and "No change" in result.classification.labels
    assert result.classification.counts[result.classification.labels.index("No change")] == len(result.layer)
    assert result.spec.title.endswith("· Ashbridge")
    assert release_words("IoD2025 File 7") == "IoD2025 · LSOA 2021"
    assert release_words("IoD File 7 (LSOA 2021, districts 2024)") == "IoD File 7 (LSOA 2021, districts 2024)"


def test_place_names_are_capitalised_in_possessives():
    from geo.present.legend_text import possessive

    assert possessive("england") == "England's" and possessive("St. Aldhelm's") == "St. Aldhelm's"
