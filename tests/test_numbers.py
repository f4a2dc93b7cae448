"""geo.present.numbers: one style for numbers, each kind as the atlas writes it everywhere."""

import math

import pandas as pd
import pytest

from geo.present import numbers as n


@pytest.mark.parametrize("value, kind, kw, expected", [
    (10263.021, "rank", {}, "10,263"),
    (-7324.089, "rank", {"signed": True}, "\u22127,324"),
    (12, "rank", {"signed": True}, "+12"),
    (0.362, "share", {}, "36.2%"),
    (61.04, "percent", {}, "61.0%"),
    (0.0, "share", {"signed": True}, "0.0%"),
    (35.0371, "score", {}, "35.037"),
    (-0.0001, "score", {}, "0.000"),
    (900_000_000, "money", {}, "£900m"),
    (12_340_000, "money", {}, "£12.3m"),
    (12_345, "money", {}, "£12,345"),
    (27.5, "money", {"per_head": True}, "£27.50"),
    (2, "points", {}, "2.0 points"),
    (1, "points", {}, "1.0 point"),
    (4, "decile", {}, "4"),
    (1234, "count", {}, "1,234"),
    (None, "score", {}, "no data"),
    (float("nan"), "share", {}, "no data"),
    (pd.NA, "rank", {}, "no data"),
    ("Hartlepool", "text", {}, "Hartlepool"),
])
def test_each_kind_is_written_in_its_style(value, kind, kw, expected):
    assert n.fmt(value, kind, **kw) == expected


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown number kind"):
        n.fmt(1, "percentage")


@pytest.mark.parametrize("k, text", [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"),
                                     (13, "13th"), (21, "21st"), (112, "112th"), (10263, "10,263rd")])
def test_ordinals(k, text):
    assert n.ordinal(k) == text


def test_position_and_gap_in_words():
    assert n.position(10, 317) == "10th of 317"
    assert n.position(1, 296, what="districts") == "1st of 296 districts"
    assert n.gap_words(7324.089, "rank", "England's median district") == \
        "7,324 ranks more deprived than England's median district"
    assert n.gap_words(-0.02, "share", "England") == "2.0 percentage points less deprived than England"
    assert n.gap_words(0.4, "rank", "x") == "the same as x"
    assert n.gap_words(1, "rank", "x") == "1 rank more deprived than x"


def test_headers_read_as_words():
    assert n.header("district_code") == "District code"
    assert n.header("imd_rank") == "IMD rank"
    assert n.header("lsoa_count") == "LSOAs"
    assert n.header("Income — score") == "Income — score"
    assert n.header("note") == "Note"
    # a user's header that is not a snake_case name is kept exactly (underscores, spaces, markup and all)
    for text in ('<img src=x onerror="window.__pwned=1"> {{7*7}}', "Crime_Rate 2019", "LSOA11CD"):
        assert n.header(text) == text


def test_legend_ranges_share_one_precision_and_stay_distinct():
    labels = n.range_labels([8.501, 9.9, 14.8], [9.899, 14.79, 14.8])
    decimals = {len(part.split(".")[1]) for lab in labels for part in lab.split(" – ")}
    assert len(decimals) == 1, labels
    assert labels[-1] == "14.80"
    # two classes that would read the same at the spread's precision get more decimals
    labels = n.range_labels([0.101, 0.104], [0.103, 0.109])
    assert len(set(labels)) == 2
    assert n.range_labels([1, 500.5], [500, 32844], "rank") == ["1 – 500", "500 – 32,844"]
    assert n.range_labels([math.nan], [math.nan]) == ["(empty class)"]


def test_kind_of_reads_column_words():
    assert n.kind_of("imd_rank") == "rank"
    assert n.kind_of("Income — decile") == "decile"
    assert n.kind_of("share_most_deprived_10") == "share"
    assert n.kind_of("Employment rate, 16–64 (%)") == "percent"  # already in percent: not a fraction
    assert n.gap_words(4.75, "percent", "England") == "4.8 percentage points more deprived than England"
    assert n.kind_of("allocation_gbp") == "money"
    assert n.kind_of("pop_total") == "count"
    assert n.kind_of("Income — score") == "score"
