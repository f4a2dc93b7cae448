"""One indicator schema for every catalogue file: documented entries, one direction convention, loud errors."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from pathlib import Path

import pytest

from geo.catalogue import (
    DATA_FILES,
    FIELDS,
    INDICATOR_SECTIONS,
    CatalogueError,
    read_catalogue,
    series_indicators,
)
from geo.errors import AtlasError
from geo.derive.progress import TARGETS, IndicatorMeta, indicator_meta, parse_target, presets

ROOT = Path(__file__).resolve().parents[1]
OLD_DIRECTIONS = ("higher_is_better", "lower_is_better", "direction")


def _entries():
    for path in DATA_FILES:
        cat = read_catalogue(path)
        for section in INDICATOR_SECTIONS:
            for entry in cat[section]:
                yield pytest.param(path, section, entry, id=f"{path.name}:{entry['id']}")


def test_the_three_files_live_in_indicators_and_nothing_reads_the_old_path():
    assert {p.name for p in DATA_FILES} == {"catalogue.toml", "series.toml", "demo_floor_targets.toml"}
    assert all(p.parent == ROOT / "indicators" and p.is_file() for p in DATA_FILES)
    assert not (ROOT / "geo" / "reference" / "series.toml").exists()
    for path in [*ROOT.glob("*.py"), *(ROOT / "geo").rglob("*.py"), *(ROOT / "ui").rglob("*.py")]:
        assert "reference/series.toml" not in path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize(("path", "section", "entry"), list(_entries()))
def test_every_catalogue_entry_is_documented(path, section, entry):
    assert entry["id"] and entry["label"], entry
    assert len(entry["description"]) > 20 and entry["source"], f"{path.name}: {entry['id']} has no description/source"
    assert entry["licence"] and entry["vintage"], f"{path.name}: {entry['id']} has no licence/vintage"
    assert isinstance(entry["higher_is_worse"], bool) and entry["kinds"]


def test_every_field_of_the_schema_is_documented():
    assert len({f.key for f in FIELDS}) == len(FIELDS)
    assert all(f.doc.endswith(".") and f.sections for f in FIELDS)


def _keys(value, found):
    if isinstance(value, dict):
        for k, v in value.items():
            found.add(k)
            _keys(v, found)
    elif isinstance(value, list):
        for v in value:
            _keys(v, found)
    return found


@pytest.mark.parametrize("path", [*DATA_FILES, *sorted(TARGETS.glob("*.toml"))], ids=lambda p: p.name)
def test_higher_is_worse_is_the_only_direction_convention_in_the_data_files(path):
    keys = _keys(tomllib.loads(path.read_text(encoding="utf-8")), set())
    assert not keys & set(OLD_DIRECTIONS), f"{path.name} uses {keys & set(OLD_DIRECTIONS)}"
    if path.parent == TARGETS:
        assert "higher_is_worse" in keys


@pytest.mark.parametrize(("text", "message"), [
    ("[[indicator]]\nid = 'x'\nlabel = 'X'\nhigher_is_worse = true\ncolour = 'red'", "unknown key(s) colour"),
    ("[[indicator]]\nid = 'x'\nlabel = 'X'", "missing required key(s) higher_is_worse"),
    ("[[indicator]]\nid = 'x'\nlabel = 'X'\nhigher_is_better = true", "unknown key(s) higher_is_better"),
    ("[[indicator]]\nid = 'x'\nlabel = 'X'\nhigher_is_worse = 'yes'", "is not a bool"),
    ("[[indicator]]\nid = 'x'\nlabel = 'X'\nhigher_is_worse = true\npool_by = 'people'", "pool_by 'people'"),
    ("[[indicator]]\nid = 'x'\nlabel = 'X'\nhigher_is_worse = true\npool_vintage = {2004 = 'lsoa99'}", "'lsoa99'"),
    ("[[indicator]]\nid = 'x'\nlabel = 'X'\nhigher_is_worse = true\nkinds = ['score', 'mean']", "'mean'"),
    ("[[measure]]\nid = 'x'\nlabel = 'X'\nhigher_is_worse = true\nheader = 'X'", "missing required key(s) snake"),
    ("[[indicators]]\nid = 'x'", "unknown table(s) indicators"),
    ("[defaults]\npublisher = 'me'", "[defaults] has unknown key(s) publisher"),
])
def test_schema_errors_name_the_file_and_the_entry(tmp_path, text, message):
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogueError) as err:
        read_catalogue(path)
    assert isinstance(err.value, AtlasError) and message in err.value.message and "mine.toml" in err.value.message
    if "[[" in text and "[[indicators]]" not in text:
        assert "'x' (entry 1)" in err.value.message


def test_users_metadata_files_with_the_old_direction_are_converted(tmp_path):
    path = tmp_path / "series.toml"
    path.write_text("[[indicator]]\nid = 'jobs'\nlabel = 'Jobs'\nunit = '%'\nhigher_is_better = true\n"
                    "[[indicator]]\nid = 'crimes'\nlabel = 'Crimes'\nhigher_is_better = false\n", encoding="utf-8")
    assert indicator_meta("jobs", (path,)).higher_is_worse is False
    assert indicator_meta("crimes", (path,)).higher_is_worse is True
    assert indicator_meta("crimes", (path,)).higher_is_better is False  # the derived old name still reads
    assert [e["id"] for e in series_indicators((path,))][-2:] == ["jobs", "crimes"]
    path.write_text("[[indicator]]\nid = 'jobs'\nlabel = 'J'\nhigher_is_better = true\nhigher_is_worse = true\n",
                    encoding="utf-8")
    with pytest.raises(CatalogueError, match="contradicts"):
        indicator_meta("jobs", (path,))


def test_series_and_demo_metadata_read_through_the_one_loader():
    meta = indicator_meta("imd_proportion_top10pc")
    assert meta.higher_is_worse and not meta.higher_is_better and meta.scale == 100 and meta.pool_by == "lsoa_count"
    assert indicator_meta("imd_rank_of_score").higher_is_worse is False
    demo = ROOT / "indicators" / "demo_floor_targets.toml"
    assert indicator_meta("employment_rate", (demo,)).higher_is_better
    assert indicator_meta("crime_rate", (demo,)).higher_is_worse
    assert indicator_meta("unknown") == IndicatorMeta("unknown", "unknown")


TARGET = "name = 't'\nindicator = 'employment_rate'\ngroup = 'nrf88'\nbaseline = '2001'\nby = '2010'\namount = 1.0\n"


@pytest.mark.parametrize(("direction", "worse"), [
    ("higher_is_worse = true", True), ("higher_is_worse = false", False),
    ("higher_is_better = true", False), ("higher_is_better = false", True),  # targets users saved before
    ("", False),  # neither: the old default, higher is better
    ("higher_is_better = false\nhigher_is_worse = true", True),
])
def test_targets_read_both_conventions(direction, worse):
    t = parse_target(TARGET + direction)
    assert t.higher_is_worse is worse and t.higher_is_better is (not worse)
    again = parse_target(t.to_toml())
    assert replace(again, value=0) == replace(t, value=0) and "higher_is_better" not in t.to_toml()


@pytest.mark.parametrize("direction", ["higher_is_better = true\nhigher_is_worse = true", "higher_is_worse = 'no'"])
def test_contradictory_or_non_boolean_target_directions_are_refused(direction):
    with pytest.raises(AtlasError):
        parse_target(TARGET + direction)


def test_preset_targets_keep_their_direction():
    worse = {t.indicator: t.higher_is_worse for t in presets().values()}
    assert worse == {"imd_proportion_top10pc": True, "employment_rate": False, "crime_rate": True}
