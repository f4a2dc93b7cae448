"""The 88 Neighbourhood Renewal Fund (NRF) authorities of 2001, placed in any release's district code set.

The fact table `reference/nrf_2001.csv` maps each 2001 name to its district of December 2019 (the
IoD2019 district set); districts abolished in 2009 map to the unitary authority that took them in.
Each row keeps the allocations read from Hansard (£m; blank = not read), its source and how well
it is verified. Later code changes (the 2023 mergers, the 2024 recodes) are followed through
`geo.link.vintages`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geo.link.codes import successor_codes
from geo.errors import AtlasError
from geo.link.vintages import successor_map

TABLE = Path(__file__).resolve().parent.parent / "reference" / "nrf_2001.csv"
SOURCE = ("National Strategy for Neighbourhood Renewal (Social Exclusion Unit/DTLR, 2001) and Hansard written answers "
          "on NRF allocations (sources per row); codes from the ONS LAD December 2019 names and codes")
ALLOCATIONS = {"2001-02": "alloc_2001_02_gbp_m", "2002-03": "alloc_2002_03_gbp_m", "2003-04": "alloc_2003_04_gbp_m"}
# The NRF pot of each year, £: £900m over 2001–04 in the 2:3:4 ratio every authority's figures stand in.
POTS = {"2001-02": 200_000_000.0, "2002-03": 300_000_000.0, "2003-04": 400_000_000.0}
VERIFICATION = ("primary table", "primary text", "secondary", "unverified")


@lru_cache(maxsize=1)
def _read() -> pd.DataFrame:
    """The committed fact table with `today_code` added (read once)."""
    df = pd.read_csv(TABLE, dtype=str, keep_default_na=False)
    df["abolished_2009"] = df["abolished_2009"].str.lower().map({"true": True, "false": False}).astype(bool)
    for column in ALLOCATIONS.values():
        df[column] = pd.to_numeric(df[column].replace("", None), errors="raise").astype(float)
    latest = successor_map()
    df["today_code"] = df["lad19_code"].map(lambda c: latest.get(c, c))
    return df


def nrf_2001() -> pd.DataFrame:
    """The 88 NRF authorities of 2001: names, 2019 codes, abolition, allocations (£m), verification, source, today_code."""
    return _read().copy()


def verification_counts() -> dict[str, int]:
    """How many of the 88 rows are verified how ("primary table", "primary text", "secondary", "unverified")."""
    counts = _read()["verification"].value_counts()
    return {v: int(counts.get(v, 0)) for v in VERIFICATION}


def verification_sentence() -> str:
    """The verification of the list in words, for the app and the command line."""
    c = verification_counts()
    return (f"Of the 88 NRF authorities of 2001, {c['primary table']} were read from a primary table of allocations "
            f"(Hansard), {c['primary text']} from primary text without figures, {c['secondary']} from secondary "
            f"sources only and {c['unverified']} are unverified (carried over from an earlier list); "
            "the source of each is in the reference table.")


def abolished_notes(district_codes: Iterable[str]) -> dict[str, str]:
    """District code → what happened to the NRF authorities of 2001 that it took in when they were abolished.

    "merged into County Durham (2009): Derwentside, Easington, Sedgefield, Wear Valley" — so that a
    map or table never reads as if Easington itself lost its status.
    """
    present = _clean(district_codes)
    direct = {old: new for old, (new, _, _) in successor_codes().items()}
    out: dict[str, list[str]] = {}
    names: dict[str, str] = {}
    for row in _read().itertuples():
        if not row.abolished_2009:
            continue
        code = _place(row.lad19_code, present, direct)
        if code is not None:
            out.setdefault(code, []).append(row.nrf_name)
            names[code] = row.lad19_name
    return {code: f"{', '.join(v)} (NRF 2001) merged into {names[code]} (2009)" for code, v in sorted(out.items())}


def _place(code: str, present: set[str], direct: dict[str, str]) -> str | None:
    """The code of `present` that `code`'s area lies in, following later code changes; None if none."""
    seen = {code}
    while code not in present:
        if code not in direct or direct[code] in seen:
            return None
        code = direct[code]
        seen.add(code)
    return code


def _clean(district_codes: Iterable[str]) -> set[str]:
    """The code set as upper-case, trimmed strings, blanks dropped."""
    if isinstance(district_codes, str):
        raise AtlasError("Give a collection of district codes, not a single string.")
    return {str(c).strip().upper() for c in district_codes if str(c).strip()}


def reference_codes(district_codes: Iterable[str]) -> dict[str, list[str]]:
    """Each district of the given code set that holds NRF 2001 authorities → their 2001 names (each placed once)."""
    present = _clean(district_codes)
    direct = {old: new for old, (new, _, _) in successor_codes().items()}
    out: dict[str, list[str]] = {}
    lost: list[str] = []
    for row in _read().itertuples():
        code = _place(row.lad19_code, present, direct)
        if code is None:
            lost.append(f"{row.nrf_name} ({row.lad19_code})")
        else:
            out.setdefault(code, []).append(row.nrf_name)
    if lost:
        shown = ", ".join(lost[:10]) + (f" and {len(lost) - 10} more" if len(lost) > 10 else "")
        raise AtlasError(
            f"{len(lost)} of the {len(_read())} NRF 2001 authorities cannot be placed in this district code set: {shown}.",
            "Use a full English district code set of December 2019 or later (e.g. the IoD2019 or IoD2025 districts).",
        )
    return {code: out[code] for code in sorted(out)}


def reference_summary(district_codes: Iterable[str]) -> dict:
    """How many NRF 2001 authorities there are, how many districts of the given set they fall in, and which."""
    placed = reference_codes(district_codes)
    return {
        "authorities_2001": int(len(_read())),
        "districts": len(placed),
        "district_codes": list(placed),
        "shared": {code: names for code, names in placed.items() if len(names) > 1},
        "source": SOURCE,
    }
