"""The 88 Neighbourhood Renewal Fund (NRF) authorities of 2001, placed in any release's district code set.

The fact table `reference/nrf_2001.csv` maps each 2001 name to its district of December 2019 (the
IoD2019 district set); districts abolished in 2009 map to the unitary authority that took them in.
Later code changes (the 2023 mergers, the 2024 recodes) are followed through `geo.vintages`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import pandas as pd

from geo.codes import successor_codes
from geo.errors import AtlasError
from geo.vintages import successor_map

TABLE = Path(__file__).parent / "reference" / "nrf_2001.csv"
SOURCE = ("National Strategy for Neighbourhood Renewal (Social Exclusion Unit/DTLR, 2001); "
          "codes from the ONS LAD December 2019 names and codes")


@lru_cache(maxsize=1)
def _read() -> pd.DataFrame:
    """The committed fact table with `today_code` added (read once)."""
    df = pd.read_csv(TABLE, dtype=str, keep_default_na=False)
    df["abolished_2009"] = df["abolished_2009"].str.lower().map({"true": True, "false": False}).astype(bool)
    latest = successor_map()
    df["today_code"] = df["lad19_code"].map(lambda c: latest.get(c, c))
    return df


def nrf_2001() -> pd.DataFrame:
    """The 88 NRF authorities of 2001: nrf_name, lad19_code, lad19_name, abolished_2009, note, today_code."""
    return _read().copy()


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
