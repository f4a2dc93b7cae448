"""Direction-aware classification of values into map classes, with mapclassify behind one front door.

Class 0 is always the *least* deprived and the last class the *most* deprived, whatever the
measure's direction (a high score is deprived; rank 1 and decile 1 are the most deprived), so
the darkest colour always means the most deprived.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import mapclassify
import numpy as np
import pandas as pd

from geo.settings import setting

NO_DATA = -1

# Scheme name → (label, takes k). "national_deciles" uses published national deciles as they are.
SCHEMES: dict[str, tuple[str, bool]] = {
    "national_deciles": ("National deciles (as published)", False),
    "quantiles": ("Quantiles", True),
    "equal_interval": ("Equal interval", True),
    "natural_breaks": ("Natural breaks (k-means)", True),
    "fisher_jenks_sampled": ("Fisher-Jenks (sampled)", True),
    "user_defined": ("Your own breaks", False),
}

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


def _fmt(x: float) -> str:
    if not np.isfinite(x):
        return "–"
    if float(x).is_integer():
        return f"{int(x):,}"
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:,.1f}"
    return f"{x:,.3f}".rstrip("0").rstrip(".")


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
) -> Classification:
    """Classify values so that the last class is the most deprived.

    national_deciles needs `deciles` (1 = most deprived 10% nationally); user_defined needs
    `breaks` (upper bounds, ascending). Missing values get NO_DATA.
    """
    if scheme not in SCHEMES:
        raise ValueError(f"Unknown classification '{scheme}'. Choose one of: {', '.join(SCHEMES)}.")
    vals = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    present = np.isfinite(vals)
    classes = np.full(len(vals), NO_DATA, dtype=int)
    if scheme == "national_deciles":
        if deciles is None:
            raise ValueError("National deciles need the measure's published decile column.")
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
            labels = [f"{lab} · {_fmt(lo)} – {_fmt(hi)}" if np.isfinite(lo) else lab
                      for lab, lo, hi in zip(labels, lower, upper)]
        return Classification(classes, labels, lower, upper, counts, palette_colours(palette, 10), scheme,
                              int((classes == NO_DATA).sum()))
    data = vals[present]
    if data.size == 0:
        return Classification(classes, [], [], [], [], [], scheme, len(vals))
    distinct = np.unique(data)
    k = int(max(1, min(k, distinct.size)))
    oriented = data if higher_is_worse else -data
    if scheme == "user_defined":
        if not breaks:
            raise ValueError("Your own breaks need at least one value.")
        bins = sorted(set(float(b) for b in breaks))
        cut = np.asarray(bins + ([float(data.max())] if data.max() > bins[-1] else []))
        classifier = mapclassify.UserDefined(data, bins=list(cut))
        yb, upper_bins = classifier.yb, classifier.bins
        k = len(upper_bins)
        if not higher_is_worse:
            yb = k - 1 - yb
    else:
        if scheme == "quantiles":
            with warnings.catch_warnings():  # ties: fewer classes than asked, which the legend shows
                warnings.filterwarnings("ignore", message="Not enough unique values")
                classifier = mapclassify.Quantiles(oriented, k=k)
        elif scheme == "equal_interval":
            classifier = mapclassify.EqualInterval(oriented, k=k)
        elif scheme == "natural_breaks":
            np.random.seed(seed)  # k-means starts are random; seeded so the map is repeatable
            classifier = mapclassify.NaturalBreaks(oriented, k=k, initial=10)
        else:
            # Exact Fisher-Jenks is O(n²k): seconds at national scale. A seeded sample keeps it < 0.5 s.
            pct = min(1.0, int(setting("fisher_jenks_sample")) / oriented.size)
            np.random.seed(seed)
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message="Numba not installed")
                classifier = mapclassify.FisherJenksSampled(oriented, k=k, pct=pct, truncate=False)
        yb = classifier.yb
        k = len(classifier.bins)
    classes[present] = yb
    lower, upper, counts = [], [], []
    for c in range(k):
        in_c = data[yb == c]
        lower.append(float(in_c.min()) if in_c.size else float("nan"))
        upper.append(float(in_c.max()) if in_c.size else float("nan"))
        counts.append(int(in_c.size))
    labels = []
    if scheme == "user_defined":  # the breaks themselves, so the legend reads the same for any data
        edges = [float(b) for b in upper_bins]
        labels = [f"up to {_fmt(edges[0])}"] + [f"{_fmt(a)} – {_fmt(b)}" for a, b in zip(edges, edges[1:])]
        if not higher_is_worse:
            labels = labels[::-1]
    else:
        for c in range(k):
            lo, hi = lower[c], upper[c]
            labels.append(f"{_fmt(lo)} – {_fmt(hi)}" if np.isfinite(lo) else "(empty class)")
    if k:
        labels[-1] += f" ({extremes[1]})"
        labels[0] += f" ({extremes[0]})" if k > 1 else ""
    return Classification(classes, labels, lower, upper, counts, palette_colours(palette, k), scheme,
                          int((~present).sum()))

