"""District summaries against golden files (tests/golden/, see its README): every value, every rank.

The golden files are what `python -m geo summarise` writes (floats to 6 d.p.); here the same CLI is
run again on the same table and every cell compared: codes, names and ranks exactly, the other
numbers within one unit of the sixth decimal place (the precision the CLI writes).
"""

from __future__ import annotations

import io
import math

import pandas as pd
import pytest

from geo.catalogue import measures
from geo.load.io import read_table
from geo.link.layers import district_summaries, prepare_table
from tests.golden import make_golden as golden

ABS_TOL = 1e-6 * 1.01  # one unit of the sixth decimal (the CLI's float_format="%.6f")
EXACT = ("district_code", "district_name", "lsoa_count")


def _read(text_or_path) -> pd.DataFrame:
    source = io.StringIO(text_or_path) if isinstance(text_or_path, str) else text_or_path
    return pd.read_csv(source, dtype={"district_code": str, "district_name": str}, keep_default_na=False,
                       na_values=[""])


def differences(computed: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    """Every cell where `computed` differs from `expected` (the golden), as readable lines."""
    out = []
    if list(computed.columns) != list(expected.columns):
        gone, new = set(expected.columns) - set(computed.columns), set(computed.columns) - set(expected.columns)
        return [f"columns differ: missing {sorted(gone)}, unexpected {sorted(new)}, or reordered"]
    if list(computed["district_code"]) != list(expected["district_code"]):
        return [f"districts differ: {list(computed['district_code'])} != {list(expected['district_code'])}"]
    for column in expected.columns:
        exact = column in EXACT or column.endswith("_rank") and not column.endswith("average_rank")
        for code, got, want in zip(expected["district_code"], computed[column], expected[column]):
            if pd.isna(want) or pd.isna(got):
                same = pd.isna(want) and pd.isna(got)
            elif exact:
                same = got == want
            else:
                same = math.isclose(float(got), float(want), rel_tol=0, abs_tol=ABS_TOL)
            if not same:
                out.append(f"{code} {column}: computed {got!r}, golden {want!r}")
    return out


def test_golden_files_say_what_they_are():
    readme = (golden.GOLDEN / "README.md").read_text(encoding="utf-8")
    for name in (golden.DEMO_GOLDEN.name, golden.REAL_GOLDEN.name, "python tests/golden/make_golden.py"):
        assert name in readme
    assert len(_read(golden.REAL_GOLDEN)) == 10 and set(_read(golden.REAL_GOLDEN)["district_code"]) == set(golden.TEN)


def test_demo_district_summaries_match_golden():
    expected = _read(golden.DEMO_GOLDEN)
    computed = _read(golden.summarise(golden.DEMO_TABLE))
    assert len(expected) == 12 and expected["district_code"].is_unique
    assert len(expected.columns) == 88  # codes, name, LSOAs, population, and every measure with its rank
    problems = differences(computed, expected)
    assert not problems, "demo district summaries differ from tests/golden/demo_district_summaries.csv:\n" + \
        "\n".join(problems[:40])


def test_demo_summaries_the_app_shows_match_golden():
    """The app's per-measure summaries (geo.link.layers) are the CLI's: same golden values, measure by measure."""
    expected = _read(golden.DEMO_GOLDEN).set_index("district_code")
    ind = prepare_table(read_table(golden.DEMO_TABLE))
    problems, compared = [], 0
    for m in measures():
        prefix = "" if m["id"] == "imd" else f"{m['id']}_"
        shown = district_summaries(ind, m["id"]).set_index("district_code")
        assert set(shown.index) == set(expected.index)
        for column in shown.columns:
            if f"{prefix}{column}" not in expected.columns or column == "district_name":
                continue
            golden_values = expected.loc[shown.index, f"{prefix}{column}"]
            if column.endswith("_rank") and not column.endswith("average_rank"):
                bad = shown[column].astype(int) != golden_values.astype(int)
            else:
                bad = (shown[column].astype(float) - golden_values.astype(float)).abs() > ABS_TOL
            problems += [f"{code} {prefix}{column}: app {shown.at[code, column]!r}, golden {golden_values[code]!r}"
                         for code in shown.index[bad.to_numpy()]]
            compared += 1
    assert compared >= 8 * 10, compared  # every measure's score, rank, proportion, extent, concentration and ranks
    assert not problems, "\n".join(problems[:40])


@pytest.mark.skipif(not golden.ALL_SCORES.is_file(),
                    reason=f"IoD2019 all-scores table not at {golden.ALL_SCORES} (set ATLAS_SHARED_DATA)")
def test_ten_real_district_summaries_match_golden():
    expected = _read(golden.REAL_GOLDEN)
    computed = _read(golden.summarise(golden.ALL_SCORES, set(golden.TEN)))
    assert dict(zip(expected["district_code"], expected["district_name"])) == golden.TEN
    problems = differences(computed, expected)
    assert not problems, "IoD2019 district summaries differ from tests/golden/district_summaries_10.csv:\n" + \
        "\n".join(problems[:40])
