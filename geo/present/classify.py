"""Direction-aware classification of values into map classes, with mapclassify behind one front door.

Class 0 is always the *least* deprived and the last class the *most* deprived, whatever the
measure's direction (a high score is deprived; rank 1 and decile 1 are the most deprived), so
the darkest colour always means the most deprived.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geo.memo import Memo
from geo.settings import setting

NO_DATA = -1

# Colour-blind-safe sequential palettes, light (least deprived) to dark (most deprived).
PALETTES: dict[str, list[str]] = {
    "viridis": ["#fde725", "#b5de2b", "#6ece58", "#35b779", "#1f9e89", "#26828e", "#31688e", "#3e4989",
                "#482878", "#440154"],
    "cividis": ["#fee838", "#e1cf58", "#c3b66f", "#a69d75", "#8a8678", "#707173", "#575d6d", "#3d4a6d",
                "#1f386e", "#00224e"],
    "blue-purple": ["#f7fcfd", "#e0ecf4", "#bfd3e6", "#9ebcda", "#8c96c6", "#8c6bb1", "#88419d", "#810f7c",
                    "#5e0a5a", "#4d004b"],
    "greys": ["#f7f7f7", "#e0e0e0", "#c6c6c6", "#aaaaaa", "#8f8f8f", "#737373", "#595959", "#404040",
              "#262626", "#0d0d0d"],
}
NO_DATA_COLOUR = "#ffffff"


@dataclass
class Classification:
    """Class of each value (NO_DATA where missing), each class's range and count, and colours."""

    classes: np.ndarray
    labels: list[str]
    lower: list[float]
    upper: list[float]
    counts: list[int]
    colours: list[str]
    scheme: str
    no_data_count: int

    @property
    def k(self) -> int:
        return len(self.labels)

    def colour_of(self, cls: int) -> str:
        return NO_DATA_COLOUR if cls == NO_DATA else self.colours[cls]


def palette_colours(name: str, k: int) -> list[str]:
    """k colours sampled evenly from a palette, light to dark."""
    base = PALETTES[name]
    if k == len(base):
        return list(base)
    positions = np.linspace(0, len(base) - 1, k)
    rgb = np.array([[int(h[i:i + 2], 16) for i in (1, 3, 5)] for h in base], dtype=float)
    out = []
    for p in positions:
        lo, hi = int(np.floor(p)), int(np.ceil(p))
        mix = rgb[lo] + (rgb[hi] - rgb[lo]) * (p - lo)
        out.append("#" + "".join(f"{int(round(c)):02x}" for c in mix))
    return out


def _fmt(x: float, kind: str = "score", decimals: int | None = None) -> str:
    """One legend number in the atlas' number style (geo.present.numbers); a break as the user wrote it."""
    from geo.present import numbers

    if not np.isfinite(x):
        return "–"
    if decimals is None and kind == "score":
        # a user's break: as few decimals as it has (10 → "10", 2.5 → "2.5"), at most the published precision
        decimals = next((d for d in range(numbers.SCORE_DECIMALS) if round(x, d) == x), numbers.SCORE_DECIMALS)
    return numbers.fmt(x, kind, decimals=decimals)


def _range_labels(lower: list[float], upper: list[float], kind: str) -> list[str]:
    """Each class's range at one precision for all classes (geo.present.numbers.range_labels)."""
    from geo.present import numbers

    per_head = kind == "money_per_head"
    return numbers.range_labels(lower, upper, "money" if per_head else kind, per_head=per_head)


@dataclass(frozen=True)
class ClassifyRequest:
    """What a scheme is asked to classify: the finite values (as they are and oriented so higher is worse) and options."""

    data: np.ndarray            # the present (finite) values, as given
    oriented: np.ndarray        # data, negated when lower is worse, so a higher value is always more deprived
    k: int                      # classes asked for, capped at the number of distinct values
    higher_is_worse: bool
    breaks: list[float] | None
    seed: int
    kind: str = "score"         # the mapped value's kind (geo.present.numbers), for the legend


@dataclass(frozen=True)
class Bins:
    """A scheme's answer: the class of each present value (0 = least deprived) and, for fixed breaks, the legend."""

    yb: np.ndarray
    k: int
    labels: list[str] | None = None  # None: labels from each class's value range


@dataclass(frozen=True)
class Scheme:
    """One classification scheme: its id, label, whether it takes k, and the function that bins the values.

    `SCHEMES[id][0]` (label) and `SCHEMES[id][1]` (takes k) still index like the (label, needs_k) pairs of old.
    National deciles have no bin function: they use the published deciles as they are.
    """

    id: str
    label: str
    needs_k: bool
    bin: Callable[[ClassifyRequest], Bins] | None = None

    def __getitem__(self, index: int) -> str | bool:
        return (self.label, self.needs_k)[index]


# Quantiles and equal intervals are mapclassify's, written out here (tests/test_classify.py checks them against
# mapclassify, bins and classes alike): importing mapclassify costs 1.5–3 s (scipy.stats, matplotlib, sklearn), the
# larger part of a `python -m geo map` run. The other schemes still import it where they are used.
def _score_at_percentile(ordered: np.ndarray, per: float) -> float:
    """scipy.stats.scoreatpercentile(y, per) with its default 'fraction' interpolation, on y already sorted."""
    idx = per / 100.0 * (ordered.shape[0] - 1)
    i = int(idx)
    if i == idx:
        return np.add.reduce(ordered[i:i + 1] * np.array(1)) / 1.0
    weights = np.array([(i + 1 - idx), (idx - i)], float)
    return np.add.reduce(ordered[i:i + 2] * weights) / weights.sum()


def quantile_bins(y: np.ndarray, k: int) -> np.ndarray:
    """mapclassify.classifiers.quantile: the upper bounds of k quantile classes (fewer where values tie)."""
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    ordered = np.sort(np.asarray(y))
    return np.unique(np.array([_score_at_percentile(ordered, pct) for pct in p]))


def equal_interval_bins(y: np.ndarray, k: int) -> np.ndarray:
    """mapclassify.EqualInterval's bins (ValueError when every value is the same, as there)."""
    y = np.asarray(y).flatten()
    max_y, min_y = y.max(), y.min()
    if min_y == max_y:
        raise ValueError(f"Not enough unique values in array to form {k} classes. All values in `y` are equal.")
    width = (max_y - min_y) * 1.0 / k
    cuts = np.arange(min_y + width, max_y + width, width)
    if len(cuts) > k:  # overshooting
        cuts = cuts[0:k]
    cuts[-1] = max_y
    return cuts.copy()


def bin_ids(x: np.ndarray, bins: np.ndarray) -> np.ndarray:
    """mapclassify.classifiers.bin1d's bin ids: the class whose (lower, upper] holds each value (0 above the last)."""
    x = np.asarray(x).flatten()
    left = [-float("inf"), *bins[0:-1]]
    ids = np.zeros(x.shape, dtype="int")
    for k, (lower, upper) in enumerate(zip(left, bins)):
        ids += (x > lower) * (x <= upper) * k
    return ids


def _quantiles(req: ClassifyRequest) -> Bins:
    bins = quantile_bins(req.oriented, req.k)  # ties: fewer classes than asked, which the legend shows
    return Bins(bin_ids(req.oriented, bins), len(bins))


def _equal_interval(req: ClassifyRequest) -> Bins:
    bins = equal_interval_bins(req.oriented, req.k)
    return Bins(bin_ids(req.oriented, bins), len(bins))


def load_classifiers() -> None:
    """Import mapclassify now (scipy.stats, sklearn and matplotlib with it: about 1.2 s) rather than at the first
    k-means, Fisher-Jenks or own-breaks map. Imports only: no classification, so the global NumPy seed the
    schemes set is never touched from another thread."""
    import mapclassify  # noqa: F401


# The two seeded schemes seed NumPy's one global generator (mapclassify takes no generator of its own) and then
# draw from it; two sessions classifying at once in a server's threads would draw from each other's sequence
# (4 threads on 3,000 values: 23 of 24 k-means results differed from the same call made alone). One at a time.
_SEEDED = threading.Lock()


def _natural_breaks(req: ClassifyRequest) -> Bins:
    import mapclassify  # imported where used: it pulls in scipy.stats, matplotlib and sklearn (~2 s)

    with _SEEDED:
        np.random.seed(req.seed)  # k-means starts are random; seeded so the map is repeatable
        c = mapclassify.NaturalBreaks(req.oriented, k=req.k, initial=10)
    return Bins(c.yb, len(c.bins))


def _fisher_jenks_sampled(req: ClassifyRequest) -> Bins:
    import mapclassify  # imported where used: it pulls in scipy.stats, matplotlib and sklearn (~2 s)

    # Exact Fisher-Jenks is O(n²k): seconds at national scale. A seeded sample keeps it < 0.5 s.
    pct = min(1.0, int(setting("fisher_jenks_sample")) / req.oriented.size)
    with _SEEDED, warnings.catch_warnings():
        np.random.seed(req.seed)
        warnings.filterwarnings("ignore", message="Numba not installed")
        c = mapclassify.FisherJenksSampled(req.oriented, k=req.k, pct=pct, truncate=False)
    return Bins(c.yb, len(c.bins))


def _user_defined(req: ClassifyRequest) -> Bins:
    import mapclassify  # imported where used: it pulls in scipy.stats, matplotlib and sklearn (~2 s)

    if not req.breaks:
        raise ValueError("Your own breaks need at least one value.")
    data = req.data
    bins = sorted(set(float(b) for b in req.breaks))
    cut = np.asarray(bins + ([float(data.max())] if data.max() > bins[-1] else []))
    classifier = mapclassify.UserDefined(data, bins=list(cut))
    yb, edges = classifier.yb, [float(b) for b in classifier.bins]
    k = len(edges)
    # The breaks themselves label the legend, so it reads the same for any data.
    kind = req.kind if req.kind in ("rank", "count", "decile", "share", "percent") else "score"
    labels = [f"up to {_fmt(edges[0], kind)}"] + [f"{_fmt(a, kind)} – {_fmt(b, kind)}" for a, b in zip(edges, edges[1:])]
    if not req.higher_is_worse:
        yb, labels = k - 1 - yb, labels[::-1]
    return Bins(yb, k, labels)


# The registry, in the order the selectors offer it (cf. mapclassify's `_classifiers`).
_REGISTRY: tuple[Scheme, ...] = (
    Scheme("national_deciles", "National deciles (as published)", False),
    Scheme("quantiles", "Quantiles", True, _quantiles),
    Scheme("equal_interval", "Equal interval", True, _equal_interval),
    Scheme("natural_breaks", "Natural breaks (k-means)", True, _natural_breaks),
    Scheme("fisher_jenks_sampled", "Fisher-Jenks (sampled)", True, _fisher_jenks_sampled),
    Scheme("user_defined", "Your own breaks", False, _user_defined),
)
SCHEMES: dict[str, Scheme] = {s.id: s for s in _REGISTRY}


def get_scheme(scheme: str) -> Scheme:
    """The registered scheme of an id; ValueError listing the valid ids if unknown."""
    try:
        return SCHEMES[scheme]
    except KeyError:
        raise ValueError(f"Unknown classification '{scheme}'. Choose one of: {', '.join(SCHEMES)}.") from None


def _national_deciles(vals: np.ndarray, deciles: pd.Series | None, palette: str, kind: str = "score") -> Classification:
    """Published national deciles as classes: decile 1 (most deprived 10%) is the last, darkest class."""
    if deciles is None:
        raise ValueError("National deciles need the measure's published decile column.")
    present = np.isfinite(vals)
    classes = np.full(len(vals), NO_DATA, dtype=int)
    dec = pd.to_numeric(deciles, errors="coerce").to_numpy(dtype=float)
    ok = np.isfinite(dec) & (dec >= 1) & (dec <= 10)
    classes[ok] = (10 - dec[ok]).astype(int)  # decile 1 → class 9 (darkest)
    labels = [f"Decile {d}" + (" (most deprived 10%)" if d == 1 else " (least deprived 10%)" if d == 10 else "")
              for d in range(10, 0, -1)]
    lower, upper = [], []
    for c in range(10):
        in_c = vals[(classes == c) & present]
        lower.append(float(in_c.min()) if in_c.size else float("nan"))
        upper.append(float(in_c.max()) if in_c.size else float("nan"))
    counts = [int((classes == c).sum()) for c in range(10)]
    if not np.allclose(np.where(ok & present, vals, 0), np.where(ok & present, dec, 0)):
        # Mapping a score or rank by its decile: show the range of the mapped values in each decile.
        ranges = _range_labels(lower, upper, kind)
        labels = [f"{lab} · {r}" if np.isfinite(lo) else lab for lab, r, lo in zip(labels, ranges, lower)]
    return Classification(classes, labels, lower, upper, counts, palette_colours(palette, 10), "national_deciles",
                          int((classes == NO_DATA).sum()))


_BINNED: Memo[Bins] = Memo(32)  # what a rerun would bin again (k-means: ~1 s on 33k values)


def _binned(chosen: Scheme, req: ClassifyRequest) -> Bins:
    """chosen.bin(req), remembered by the values' bytes and every setting that shapes the answer (the schemes are
    deterministic: k-means and the Fisher-Jenks sample are seeded). A change of palette, title or tooltip reruns
    the app; on natural breaks it re-ran k-means on every national LSOA each time."""
    extra = setting("fisher_jenks_sample") if chosen.id == "fisher_jenks_sampled" else None
    key = (chosen.id, req.k, req.higher_is_worse, tuple(req.breaks or ()), req.seed, req.kind, extra,
           req.data.size, hashlib.sha1(np.ascontiguousarray(req.data).tobytes()).hexdigest())

    def make() -> Bins:
        binned = chosen.bin(req)
        binned.yb.setflags(write=False)  # shared between runs: nobody may change it
        return binned
    return _BINNED.get(key, make)


def classify_values(
    values: pd.Series,
    scheme: str = "quantiles",
    k: int = 5,
    higher_is_worse: bool = True,
    deciles: pd.Series | None = None,
    breaks: list[float] | None = None,
    palette: str = "viridis",
    seed: int = 12345,
    extremes: tuple[str, str] = ("least deprived", "most deprived"),
    kind: str = "score",
) -> Classification:
    """Classify values so that the last class is the most deprived, by a scheme looked up in SCHEMES.

    national_deciles needs `deciles` (1 = most deprived 10% nationally); user_defined needs
    `breaks` (upper bounds, ascending). Missing values get NO_DATA. `kind` is the mapped value's kind
    (geo.present.numbers.KINDS, or "money_per_head"): the legend writes every class's range at one precision.
    """
    chosen = get_scheme(scheme)
    vals = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    if chosen.bin is None:
        return _national_deciles(vals, deciles, palette, kind)
    present = np.isfinite(vals)
    classes = np.full(len(vals), NO_DATA, dtype=int)
    data = vals[present]
    if data.size == 0:
        return Classification(classes, [], [], [], [], [], scheme, len(vals))
    k = int(max(1, min(k, np.unique(data).size)))
    binned = _binned(chosen, ClassifyRequest(data, data if higher_is_worse else -data, k, higher_is_worse, breaks,
                                             seed, kind))
    yb, k = binned.yb, binned.k
    classes[present] = yb
    lower, upper, counts = [], [], []
    for c in range(k):
        in_c = data[yb == c]
        lower.append(float(in_c.min()) if in_c.size else float("nan"))
        upper.append(float(in_c.max()) if in_c.size else float("nan"))
        counts.append(int(in_c.size))
    if binned.labels is not None:
        labels = list(binned.labels)
    else:
        labels = _range_labels(lower, upper, kind)
    if k:
        labels[-1] += f" ({extremes[1]})"
        labels[0] += f" ({extremes[0]})" if k > 1 else ""
    return Classification(classes, labels, lower, upper, counts, palette_colours(palette, k), scheme,
                          int((~present).sum()))


# A diverging ramp for change (ColorBrewer PuOr, colour-blind safe): purple = less deprived, orange = more deprived,
# from the strongest move towards less deprived to the strongest towards more deprived; no change is neutral grey.
DIVERGING_LESS = ["#542788", "#8073ac", "#b2abd2", "#d8daeb"]   # strongest … weakest move towards less deprived
DIVERGING_MORE = ["#fee0b6", "#fdb863", "#e08214", "#b35806"]   # weakest … strongest move towards more deprived
NO_CHANGE_COLOUR = "#bdbdbd"


def _side_bins(magnitude: np.ndarray, n: int) -> tuple[np.ndarray, list[float], list[float]]:
    """Quantile classes 0..n-1 of positive magnitudes (0 = smallest), with each class's range."""
    if magnitude.size == 0:
        return np.zeros(0, dtype=int), [float("nan")] * n, [float("nan")] * n
    edges = np.quantile(magnitude, np.linspace(0, 1, n + 1)[1:-1]) if n > 1 else np.array([])
    cls = np.searchsorted(edges, magnitude, side="left").astype(int)
    lower = [float(magnitude[cls == c].min()) if (cls == c).any() else float("nan") for c in range(n)]
    upper = [float(magnitude[cls == c].max()) if (cls == c).any() else float("nan") for c in range(n)]
    return cls, lower, upper


def classify_change(values: pd.Series, k: int = 5, *, kind: str = "rank", unit: str = "ranks",
                    more: str = "more deprived", less: str = "less deprived", tolerance: float = 0.0) -> Classification:
    """Diverging classes of a change centred on no change: a positive change is *more* deprived.

    `k` classes in all (odd; (k − 1) / 2 on each side, at most 4): class 0 is the strongest move towards less
    deprived, the middle class "No change" (|change| ≤ `tolerance`) is neutral grey, the last class the strongest
    move towards more deprived. Each side is cut by quantiles of its own magnitudes, and every label says which
    side it is on ("1 – 250 ranks towards more deprived"), at one precision (geo.present.numbers).
    """
    from geo.present import numbers

    side = int(min(4, max(1, (int(k) - 1) // 2)))
    vals = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    present = np.isfinite(vals)
    same = present & (np.abs(vals) <= tolerance)
    up, down = present & ~same & (vals > 0), present & ~same & (vals < 0)
    classes = np.full(len(vals), NO_DATA, dtype=int)
    classes[same] = side
    up_cls, up_lo, up_hi = _side_bins(vals[up], side)
    down_cls, down_lo, down_hi = _side_bins(-vals[down], side)
    classes[up] = side + 1 + up_cls
    classes[down] = side - 1 - down_cls
    magnitudes_lo = down_lo[::-1] + up_lo
    magnitudes_hi = down_hi[::-1] + up_hi
    ranges = numbers.range_labels(magnitudes_lo, magnitudes_hi, kind)
    word = f" {unit}" if unit else ""
    labels = [f"{r}{word} towards {less}" if r != "(empty class)" else f"(no area moved towards {less})"
              for r in ranges[:side]]
    labels.append("No change")
    labels += [f"{r}{word} towards {more}" if r != "(empty class)" else f"(no area moved towards {more})"
               for r in ranges[side:]]
    lower = [-x for x in down_hi[::-1]] + [0.0] + up_lo
    upper = [-x for x in down_lo[::-1]] + [0.0] + up_hi
    counts = [int((classes == c).sum()) for c in range(2 * side + 1)]
    colours = palette_colours_from(DIVERGING_LESS, side) + [NO_CHANGE_COLOUR] + \
        palette_colours_from(DIVERGING_MORE, side)
    return Classification(classes, labels, lower, upper, counts, colours, "diverging", int((~present).sum()))


def palette_colours_from(colours: list[str], k: int) -> list[str]:
    """k colours of a short ramp (first … last), the ends kept: the side of a diverging ramp."""
    if k >= len(colours):
        return list(colours)
    idx = np.round(np.linspace(0, len(colours) - 1, k)).astype(int)
    if k == 1:
        idx = np.array([len(colours) - 1 if colours is DIVERGING_MORE else 0])
    return [colours[i] for i in idx]
