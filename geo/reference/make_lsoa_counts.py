"""Write lsoa_counts_lad21.csv: how many LSOAs of 2001 and of 2011 lie in each English district of 2021.

Usage: python geo/reference/make_lsoa_counts.py LOOKUP_LSOA11_LTLA21.csv LOOKUP_LSOA01_LSOA11.csv [OUT.csv]

LOOKUP_LSOA11_LTLA21.csv places each 2011 LSOA in a 2021 district (columns `lsoa11_code`,
`ltla21_code`); LOOKUP_LSOA01_LSOA11.csv is the ONS LSOA 2001 → 2011 lookup (`lsoa01_code`,
`change_code`, `lsoa11_code`; change_code U unchanged, S split, M merged, X irregular). Welsh
rows (W…) are left out. Each 2001 LSOA is placed in the 2021 district of its 2011 LSOA(s): a
split 2001 LSOA (S) has several 2011 pieces and a merged one (M) shares its 2011 LSOA with
others; either way it is counted once, in the one district its pieces lie in. The script stops
if any 2001 LSOA (S, M or X) has pieces in two districts, or if the totals are not England's
32,482 LSOAs of 2001 and 32,844 of 2011. The output is committed; nothing in `geo/` runs this
script (geo.derive.progress reads the CSV).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

ENGLAND_LSOA01 = 32_482
ENGLAND_LSOA11 = 32_844
ENGLAND_LAD21 = 309
COLUMNS = ("ltla21_code", "lsoa01_count", "lsoa11_count")


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return [{k.strip(): (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def counts(lsoa11_ltla21: Path, lsoa01_lsoa11: Path) -> list[tuple[str, int, int]]:
    """(district 2021 code, LSOA 2001 count, LSOA 2011 count) for every English district, sorted by code."""
    district_of: dict[str, str] = {}
    for row in _rows(lsoa11_ltla21):
        if row["lsoa11_code"].startswith("E"):
            if district_of.setdefault(row["lsoa11_code"], row["ltla21_code"]) != row["ltla21_code"]:
                sys.exit(f"LSOA 2011 {row['lsoa11_code']} is in two districts")
    places: dict[str, set[str]] = {}
    for row in _rows(lsoa01_lsoa11):
        if not row["lsoa01_code"].startswith("E"):
            continue
        if row["lsoa11_code"] not in district_of:
            sys.exit(f"LSOA 2011 {row['lsoa11_code']} (from 2001 {row['lsoa01_code']}) has no 2021 district")
        places.setdefault(row["lsoa01_code"], set()).add(district_of[row["lsoa11_code"]])
    across = sorted(code for code, where in places.items() if len(where) > 1)
    if across:
        sys.exit(f"{len(across)} LSOAs of 2001 lie in more than one 2021 district (e.g. {', '.join(across[:5])})")
    n01: dict[str, int] = {}
    for where in places.values():
        (code,) = where
        n01[code] = n01.get(code, 0) + 1
    n11: dict[str, int] = {}
    for code in district_of.values():
        n11[code] = n11.get(code, 0) + 1
    if sum(n01.values()) != ENGLAND_LSOA01 or sum(n11.values()) != ENGLAND_LSOA11:
        sys.exit(f"Totals {sum(n01.values()):,} (2001) and {sum(n11.values()):,} (2011) are not England's "
                 f"{ENGLAND_LSOA01:,} and {ENGLAND_LSOA11:,}")
    if set(n01) != set(n11) or len(n11) != ENGLAND_LAD21:
        sys.exit(f"The 2001 and 2011 LSOAs fall in {len(n01)} and {len(n11)} districts, not {ENGLAND_LAD21}")
    return [(code, n01[code], n11[code]) for code in sorted(n11)]


def main(argv: list[str]) -> None:
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    out = Path(argv[2]) if len(argv) == 3 else Path(__file__).with_name("lsoa_counts_lad21.csv")
    table = counts(Path(argv[0]), Path(argv[1]))
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(table)
    print(f"Wrote {out}: {len(table)} districts, {sum(r[1] for r in table):,} LSOAs of 2001, "
          f"{sum(r[2] for r in table):,} of 2011")


if __name__ == "__main__":
    main(sys.argv[1:])
