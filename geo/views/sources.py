"""Other inputs the views can use, found the same way by the app and the command line: other IoD releases
(packs, or tables whose headers are an IoD release's) for change, with their publication years."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from geo.views.base import Source

YEAR = re.compile(r"(?<!\d)(?:19|20)\d\d(?!\d)")


def year_in(text: object) -> int | None:
    """The first four-digit year (19xx/20xx) in a text, else None."""
    found = YEAR.search(str(text or ""))
    return int(found.group(0)) if found else None


def csv_headers(path: Path) -> list[str] | None:
    """The header row of a CSV (plain or .gz), read cheaply; None when it is not one (a workbook needs a full read)."""
    name = path.name.lower()
    try:
        if name.endswith(".gz"):
            handle = gzip.open(path, "rt", encoding="utf-8-sig", errors="replace", newline="")
        elif name.endswith((".csv", ".txt")):
            handle = open(path, encoding="utf-8-sig", errors="replace", newline="")
        else:
            return None
        with handle:
            return next(csv.reader([handle.readline(65536)]), None)
    except (OSError, EOFError, csv.Error):
        return None


def release_of(headers: list[str]) -> tuple[str, int | None, bool] | None:
    """(release in words, publication year or None, has ranks) when the headers are an IoD LSOA release's, else None.
    Remembered by the headers: every run lists the data folders' tables."""
    return _release_of(tuple(str(h) for h in headers))


@lru_cache(maxsize=512)
def _release_of(header_row: tuple[str, ...]) -> tuple[str, int | None, bool] | None:
    from geo.catalogue import recognise_columns, recognise_release

    headers = list(header_row)

    layout = recognise_release(headers)
    if layout is not None:
        name = layout.release
    else:
        found = recognise_columns(headers)
        if not any(c.kind == "rank" for c in found.values()) or not any(
                str(h).strip().lower().startswith(("lsoa", "lower layer")) for h in headers):
            return None
        name = "an IoD release"
    ranked = layout is None or bool(layout.ranks)  # File 6 (populations only) is not a release to compare with
    return name, year_in(name), ranked


def pack_release(pack, load_table: Callable[[], object], load_districts: Callable[[], object]) -> Source:
    """Another release's pack, for district change: its table and district boundaries loaded on first use."""
    return Source(f"District change against {pack.label}", load_table, "pack",
                  meta={"pack": pack, "year": year_in(pack.manifest.get("published")), "districts": load_districts})


def table_release(path: Path, load: Callable[[], object], headers: list[str] | None) -> Source | None:
    """Another release's LSOA table, for LSOA change, when its headers are a ranked IoD release's; else None."""
    release = release_of(headers) if headers else None
    if release is None or not release[2]:
        return None
    name, year, _ = release
    return Source(f"LSOA change against {path.parent.name}/{path.name}", load, "table",
                  meta={"name": path.name, "year": year if year is not None else year_in(path.name), "release": name})


IOD_SOURCE = "English Indices of Deprivation, Ministry of Housing, Communities and Local Government (MHCLG)"
_LSOA_YEAR = {"2004": "2001", "2007": "2001", "2010": "2001", "2015": "2011", "2019": "2011", "2025": "2021"}


def release_words(release: object) -> str:
    """A release as a subtitle names it: "IoD2019 File 7" → "IoD2019 · LSOA 2011" (never a file name)."""
    text = str(release or "").strip()
    year = re.search(r"(?:IoD|IMD)\s*((?:19|20)\d\d)", text, re.IGNORECASE)
    lsoa = re.search(r"LSOA\s*((?:19|20)\d\d)", text, re.IGNORECASE)
    if year is None:
        return text or "another release"
    lsoa_year = lsoa.group(1) if lsoa else _LSOA_YEAR.get(year.group(1))
    return f"IoD{year.group(1)}" + (f" · LSOA {lsoa_year}" if lsoa_year else "")


def provenance(data) -> dict:
    """Where a view's numbers come from, for a download's about.txt: source, release (in words) and the year of
    publication (the Crown copyright year), from the pack's manifest or the table's headers."""
    release, year = "", None
    if getattr(data, "pack", None) is not None:
        release = str(data.pack.label)
        year = year_in(data.pack.manifest.get("published"))
    elif getattr(data, "ind", None) is not None:
        found = release_of([str(c) for c in data.ind.frame.columns])
        if found is not None:
            release, year = found[0], found[1]
    words = release_words(release) if release else "the loaded table"
    if getattr(data, "illustrative", False):
        words = f"{release or 'demo pack'} (illustrative, made-up numbers)"
    return {"source": IOD_SOURCE, "release": words, "year": year}
