"""Other inputs the views can use, found the same way by the app and the command line: other IoD releases
(packs, or tables whose headers are an IoD release's) for change, with their publication years."""

from __future__ import annotations

import csv
import gzip
import re
from collections.abc import Callable
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
    """(release in words, publication year or None, has ranks) when the headers are an IoD LSOA release's, else None."""
    from geo.catalogue import recognise_columns, recognise_release

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
