"""One style for numbers: ranks, shares, scores, money, counts and changes, written the same way in tables,
legends, tooltips, headlines, slides and CSV headers.

Every value has a *kind*; `fmt(value, kind)` writes it. The kinds and their style:

- ``rank``   — whole numbers with thousands separators ("10,263"); an average rank is rounded ("10,263",
  never "10,263.021"). Rank 1 is the most deprived.
- ``share``  — a fraction (0–1) written as a percentage to one decimal ("36.2%").
- ``percent`` — a value already in percent (a column headed "(%)"), one decimal ("61.0%").
- ``score``  — at the IoD's published precision, three decimals ("35.037"); ``decimals=`` for others.
- ``money``  — pounds: millions as "£12.3m", below a million "£12,345", per head (``per_head=True``) "£27.50".
- ``count``  — whole numbers with thousands separators ("1,234").
- ``decile`` — "1" … "10".
- ``points`` — a change of score, one decimal with its unit ("2.0 points").

Missing values are written "no data". Negative numbers use the minus sign (−), not a hyphen, and `signed=True`
writes "+" before a positive change. `ordinal` and `position` give "10th" and "10th of 317"; `header` turns a
column name such as ``district_code`` into "District code"; `range_labels` gives a legend's class ranges one
precision, enough to tell neighbouring classes apart (whole numbers stay whole).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

MINUS = "\u2212"
NO_DATA = "no data"
KINDS = ("rank", "share", "percent", "score", "money", "count", "decile", "points", "text")
SCORE_DECIMALS = 3  # the IoD's scores are published to three decimals

# Column names whose words are not obvious from the name (the rest: underscores to spaces, first letter capital).
_HEADERS = {
    "lad_code": "District code", "lad_name": "District", "lsoa_code": "LSOA code", "lsoa_name": "LSOA",
    "district_code": "District code", "district_name": "District", "district": "District", "code": "Code",
    "name": "Name", "imd_rank": "IMD rank", "imd_score": "IMD score", "imd_decile": "IMD decile",
    "nrf_2001": "NRF 2001", "per_head": "£ per head", "allocation_per_head": "£ per head", "allocation": "Allocation (£)",
    "allocation_gbp": "Allocation (£)", "allocation_m": "Allocation (£m)", "share_most_deprived_10": "Share in most deprived 10%",
    "pop_total": "Population", "pop_working_age": "Working-age population", "lsoas": "LSOAs",
    "n_lsoas": "LSOAs", "lsoa_count": "LSOAs",
}
_ACRONYMS = {"imd": "IMD", "lsoa": "LSOA", "lsoas": "LSOAs", "lad": "LAD", "nrf": "NRF", "iod": "IoD", "gss": "GSS",
             "lsp": "LSP", "ons": "ONS", "mhclg": "MHCLG", "id": "ID", "gbp": "£", "pct": "%"}


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        import pandas as pd  # only to recognise pd.NA / NaT; pandas is always present where numbers are
        if value is pd.NA or value is pd.NaT:
            return True
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, str):
        return False
    try:
        return not math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return float(value)
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _sign(text: str, x: float, signed: bool) -> str:
    if text.startswith("-"):
        text = text[1:]
        return (MINUS + text) if text.strip("0.,%£m") else text  # "−0.0" is just "0.0"
    return ("+" + text) if signed and x > 0 and text.strip("0.,%£m") else text


def _grouped(x: float, decimals: int) -> str:
    return f"{x:,.{decimals}f}"


def money(value: object, *, per_head: bool = False, signed: bool = False) -> str:
    """£ amounts: "£12.3m" from a million, "£12,345" below, "£27.50" per head."""
    if _missing(value):
        return NO_DATA
    x = float(value)
    if per_head:
        body = f"{abs(x):,.2f}"
    elif abs(x) >= 1e6:
        m = abs(x) / 1e6
        body = f"{m:,.0f}m" if abs(m - round(m)) < 0.05 else f"{m:,.1f}m"
    else:
        body = f"{abs(x):,.0f}"
    text = ("-" if x < 0 else "") + "£" + body
    return _sign(text, x, signed)


def fmt(value: object, kind: str = "score", *, decimals: int | None = None, signed: bool = False,
        per_head: bool = False) -> str:
    """A value written in the style of its kind (see the module's docstring); text is returned as it is."""
    if kind not in KINDS:
        raise ValueError(f"Unknown number kind {kind!r}; one of {', '.join(KINDS)}.")
    if _missing(value):
        return NO_DATA
    if kind == "text":
        return str(value)
    x = _number(value)
    if x is None:
        return str(value)
    if kind == "money":
        return money(x, per_head=per_head, signed=signed)
    if kind in ("rank", "count", "decile"):
        text = _grouped(round(x), 0) if decimals is None else _grouped(x, decimals)
    elif kind in ("share", "percent"):
        text = _grouped(x * (100 if kind == "share" else 1), 1 if decimals is None else decimals) + "%"
    elif kind == "points":
        text = _grouped(x, 1 if decimals is None else decimals)
        return _sign(text, x, signed) + (" point" if text.lstrip("-") in ("1.0", "1") else " points")
    else:  # score
        text = _grouped(x, SCORE_DECIMALS if decimals is None else decimals)
    return _sign(text, x, signed)


def rank(value: object, **kw) -> str:
    return fmt(value, "rank", **kw)


def share(value: object, **kw) -> str:
    return fmt(value, "share", **kw)


def score(value: object, **kw) -> str:
    return fmt(value, "score", **kw)


def count(value: object, **kw) -> str:
    return fmt(value, "count", **kw)


def points(value: object, **kw) -> str:
    return fmt(value, "points", **kw)


def ordinal(n: object) -> str:
    """1 → "1st", 2 → "2nd", 11 → "11th", 10263 → "10,263rd"."""
    if _missing(n):
        return NO_DATA
    k = int(round(float(n)))
    suffix = "th" if 10 <= k % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(k % 10, "th")
    return f"{k:,}{suffix}"


def position(rank_value: object, of: int, *, what: str = "") -> str:
    """A rank out of a whole: "10th of 317" (``what`` is appended: "10th of 317 districts")."""
    if _missing(rank_value):
        return NO_DATA
    return f"{ordinal(rank_value)} of {int(of):,}" + (f" {what}" if what else "")


def kind_of(name: str, unit: str = "") -> str:
    """The kind of a column from its name (and the catalogue's unit, when known): a best reading, used where
    no kind is declared. Ranks, deciles, shares, money and counts are told by their words; the rest are scores."""
    text = f"{name} {unit}".lower()
    words = set(re.split(r"[^a-z0-9£%]+", text))
    if "decile" in words:
        return "decile"
    if "rank" in words or "ranks" in words:
        return "rank"
    if {"pct", "percent", "%"} & words or "(%)" in text:
        return "percent"
    if {"share", "proportion", "prop"} & words or "share" in text:
        return "share"
    if {"£", "gbp", "allocation", "money", "pot", "amount"} & words or "£" in text:
        return "money"
    if {"count", "lsoas", "population", "pop", "areas", "n", "people"} & words or text.startswith("pop_"):
        return "count"
    if "rate" in words:
        return "share" if "share" in text else "score"
    return "score"


def header(column: object) -> str:
    """A column name as a table header: "district_code" → "District code", "imd_rank" → "IMD rank";
    names that already read as words ("Income — score") are kept."""
    text = str(column)
    if text in _HEADERS:
        return _HEADERS[text]
    if not re.fullmatch(r"[a-z][a-z0-9_]*", text):  # only snake_case names are rewritten: other text is a user's
        return text
    words = [w for w in re.split(r"[_\s]+", text.strip()) if w]
    out = [_ACRONYMS.get(w.lower(), w) for w in words]
    if out and out[0] == out[0].lower():
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def range_decimals(lower: Sequence[float], upper: Sequence[float], kind: str = "score") -> int:
    """One number of decimals for all of a legend's ranges, from the spread of the values (0 from a spread of 100,
    1 from 10, 2 from 1, else 3), more only where two classes would otherwise read the same; never more than the
    published precision. Ranks, counts, deciles and money are whole."""
    if kind in ("rank", "count", "decile", "money"):
        return 0
    scale = 100 if kind == "share" else 1
    if kind == "percent":
        kind = "share"
    bounds = [float(v) * scale for v in list(lower) + list(upper) if not _missing(v)]
    span = max(bounds) - min(bounds) if bounds else 0
    top = 1 if kind == "share" else SCORE_DECIMALS
    d = min(top, 0 if span >= 100 else 1 if span >= 10 else 2 if span >= 1 else 3)
    if bounds and kind == "score" and all(float(b).is_integer() for b in bounds):
        d = 0  # whole numbers (counts, ranks mapped as plain columns) need no decimals unless classes would merge
    while d < top:
        labels = [(round(lo * scale, d), round(hi * scale, d)) for lo, hi in zip(lower, upper)
                  if not (_missing(lo) or _missing(hi))]
        if len(set(labels)) == len(labels):
            break
        d += 1
    return d


def range_labels(lower: Sequence[float], upper: Sequence[float], kind: str = "score", *,
                 per_head: bool = False) -> list[str]:
    """Legend ranges "8.5 – 9.9" at one precision for all classes (see `range_decimals`); one value when a
    class holds one ("14.8"); "(empty class)" when it holds none. ``per_head`` writes money as "£27.50"."""
    d = range_decimals(lower, upper, kind)
    out = []
    for lo, hi in zip(lower, upper):
        if _missing(lo) or _missing(hi):
            out.append("(empty class)")
            continue
        a, b = fmt(lo, kind, decimals=d, per_head=per_head), fmt(hi, kind, decimals=d, per_head=per_head)
        out.append(a if a == b else f"{a} – {b}")
    return out


def gap_words(difference: object, kind: str, reference: str, *, more: str = "more deprived",
              less: str = "less deprived", unit: str = "") -> str:
    """A gap in words: "7,324 ranks more deprived than England's median district". `difference` is oriented so
    that a positive value is *more* deprived than the reference; ``unit`` names what is counted ("ranks",
    "points"; default by kind)."""
    if _missing(difference):
        return NO_DATA
    x = float(difference)
    if kind in ("share", "percent"):
        amount = f"{abs(x) * (100 if kind == 'share' else 1):,.1f} percentage points"
    elif kind == "money":
        amount = money(abs(x))
    elif kind in ("rank", "count"):
        n = abs(round(x))
        word = unit or ("rank" if kind == "rank" else "")
        amount = f"{n:,}" + (f" {word}{'' if n == 1 or not word.endswith('k') else 's'}" if word else "")
    else:
        amount = f"{abs(x):,.{SCORE_DECIMALS}f}" + (f" {unit}" if unit else "")
    if (kind == "rank" and round(x) == 0) or x == 0:
        return f"the same as {reference}"
    return f"{amount} {more if x > 0 else less} than {reference}"


def _text(value: object) -> str:
    if _missing(value):
        return NO_DATA
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "yes" if value else "no"
    return str(value)


def unique_headers(columns: Sequence[object]) -> list[str]:
    """`header` of each column, made unique where two read the same ("Allocation (£)", "Allocation (£) (2)"):
    the readable headers of a download, stable for the same columns."""
    out: list[str] = []
    seen: set[str] = set()
    for column in columns:
        text = header(column)
        candidate, i = text, 2
        while candidate in seen:
            candidate, i = f"{text} ({i})", i + 1
        seen.add(candidate)
        out.append(candidate)
    return out


def display_table(df, kinds: dict[str, str] | None = None, *, per_head: Sequence[str] = (),
                  decimals: dict[str, int] | None = None):
    """A table as people read it: every number written by its kind (given, else `kind_of` the column), text and
    booleans as they are, headers in words (`unique_headers`). Returns a new frame of text; the input is unchanged."""
    import pandas as pd

    kinds, decimals = dict(kinds or {}), dict(decimals or {})
    out = pd.DataFrame(index=df.index)
    for col in df.columns:
        series = df[col]
        kind = kinds.get(col)
        numeric = pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
        if kind is None and not numeric:
            kind = "text"
        kind = kind or kind_of(str(col))
        if kind == "text":
            out[col] = [_text(v) for v in series]
        else:
            out[col] = [fmt(v, kind, decimals=decimals.get(col), per_head=col in per_head) for v in series]
    out.columns = unique_headers(list(df.columns))
    return out
