"""Fund eligibility: rules as data, evaluated on a release's LSOAs, and a pot split by a stated formula.

A rule is a small TOML document:

    name = "NRF-style (IoD)"
    combine = "any"                 # "any" (OR) or "all" (AND) of the conditions
    [[condition]]
    kind = "top_n"                  # in the N most deprived districts on any of these measures
    domain = "imd"                  # the IoD measure the district summaries are computed from
    measures = ["average_score", "average_rank", "extent", "local_concentration"]
    n = 50

Condition kinds: `top_n` (n, measures), `share_in_most_deprived` (percent, at_least: share of the
district's LSOAs in the most deprived `percent`% nationally), `score_at_least` (at_least: the
population-weighted average score), `count_in_most_deprived` (percent, at_least: number of LSOAs).
Each takes an optional `domain` (default the rule's, else "imd").
"""

from __future__ import annotations

import re

import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from geo.catalogue import summaries, summaries_for
from geo.errors import AtlasError
from geo.derive.summaries import district_figures

PRESETS = Path(__file__).resolve().parent.parent / "reference" / "rules"


@dataclass(frozen=True)
class Condition:
    kind: str
    domain: str = "imd"
    measures: tuple[str, ...] = ()
    n: int = 0
    percent: float = 10.0
    at_least: float = 0.0

    def describe(self, labels: dict[str, str]) -> str:
        """The condition in words."""
        return rule_kind(self.kind).describe(self, labels.get(self.domain, self.domain))


@dataclass(frozen=True)
class Rule:
    name: str
    conditions: tuple[Condition, ...]
    combine: str = "any"
    description: str = ""
    source: str = ""

    def describe(self, labels: dict[str, str]) -> str:
        joiner = " OR " if self.combine == "any" else " AND "
        return joiner.join(c.describe(labels) for c in self.conditions)

    def to_toml(self) -> str:
        """The rule as a small TOML file (what `parse_rule` reads)."""
        lines = [f"name = {_toml_str(self.name)}", f"combine = {_toml_str(self.combine)}"]
        if self.description:
            lines.append(f"description = {_toml_str(self.description)}")
        if self.source:
            lines.append(f"source = {_toml_str(self.source)}")
        for c in self.conditions:
            lines += ["", "[[condition]]", f"kind = {_toml_str(c.kind)}", f"domain = {_toml_str(c.domain)}"]
            lines += [_TOML_FIELDS[f](c) for f in rule_kind(c.kind).fields]
        return "\n".join(lines) + "\n"


_SUMMARY_LABELS = {s["id"]: s["label"] for s in summaries()}


def _lower_first(text: str) -> str:
    """'Share of LSOAs …' → 'share of LSOAs …' (acronyms kept)."""
    return text[:1].lower() + text[1:]


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ") + '"'


# ------------------------------------------------------------------ condition kinds (a registry)

@dataclass(frozen=True)
class _Figures:
    """What a kind evaluates on: one domain's district figures (reindexed to the result), its LSOAs, its label."""

    districts: pd.DataFrame
    lsoas: pd.DataFrame
    n_national: int
    label: str


@dataclass(frozen=True)
class Threshold:
    """The one number a what-if control changes for a condition: which field, its label, range and step."""

    field: str        # "n" or "at_least"
    label: str
    low: float
    high: float
    step: float
    integer: bool
    slider: bool      # a slider (bounded range) rather than a number box
    key: str          # short widget-key prefix the app has always used for this kind ("n", "s", "a", "c")


@dataclass(frozen=True)
class RuleKind:
    """One condition kind: the fields it writes, how it reads in words, its checks, evaluation and what-if control."""

    id: str
    fields: tuple[str, ...]                                                   # to_toml, after kind and domain
    describe: Callable[[Condition, str], str]                                 # (condition, domain label) → words
    check: Callable[[Condition, int], None]                                   # AtlasError naming condition i
    evaluate: Callable[[Condition, _Figures], tuple[np.ndarray, list[tuple[int, str]]]]  # met, (row, reason)
    threshold: Callable[[Condition, int], Threshold]                          # (condition, districts) → control
    doc: str


_TOML_FIELDS: dict[str, Callable[[Condition], str]] = {
    "measures": lambda c: f"measures = [{', '.join(_toml_str(m) for m in c.measures)}]",
    "n": lambda c: f"n = {c.n}",
    "percent": lambda c: f"percent = {c.percent:g}",
    "at_least": lambda c: f"at_least = {c.at_least:g}",
}


def _check_percent(c: Condition, i: int) -> None:
    if not 0 < c.percent <= 100:
        raise AtlasError(f"Condition {i}: percent = {c.percent:g} is impossible.", "Use a percent in (0, 100].")


def _check_top_n(c: Condition, i: int) -> None:
    summary_ids = set(_SUMMARY_LABELS)
    unknown = [m for m in c.measures if m not in summary_ids]
    if not c.measures or unknown:
        raise AtlasError(f"Condition {i}: unknown district measure(s) {unknown or '(none given)'}.",
                         f"Use any of: {', '.join(sorted(summary_ids))}.")
    published = {e["id"] for e in summaries_for(c.domain)}
    unpublished = [m for m in c.measures if m not in published]
    if unpublished:
        raise AtlasError(f"Condition {i}: {', '.join(unpublished)} is not a district measure of {c.domain!r}.",
                         f"For {c.domain!r} use any of: {', '.join(sorted(published))} "
                         "(the scale is published for income and employment only).")
    if c.n < 1:
        raise AtlasError(f"Condition {i}: n = {c.n} selects nobody.", "Use n of 1 or more.")


def _check_share(c: Condition, i: int) -> None:
    _check_percent(c, i)
    if not 0 <= c.at_least <= 1:
        raise AtlasError(f"Condition {i}: a share of {c.at_least:g} is impossible.",
                         "Give the share as a fraction between 0 and 1 (0.2 = 20%).")


def _check_count(c: Condition, i: int) -> None:
    _check_percent(c, i)
    if c.at_least < 0:
        raise AtlasError(f"Condition {i}: a negative count is impossible.", "Use 0 or more.")


def _met(values: pd.Series, at_least: float) -> np.ndarray:
    return (values >= at_least).fillna(False).to_numpy(dtype=bool)


def _evaluate_top_n(c: Condition, f: _Figures) -> tuple[np.ndarray, list[tuple[int, str]]]:
    fig, total = f.districts, len(f.districts)
    met = np.zeros(total, dtype=bool)
    why = []
    for measure in c.measures:
        ranks = fig[f"{measure}_rank"].astype("Float64")
        hit = (ranks <= c.n).fillna(False).to_numpy(dtype=bool)
        for j in np.flatnonzero(hit):
            value = fig[measure].iloc[j]
            shown = f"{value:,.0f} people" if measure == "scale" else f"value {value:.3f}"
            why.append((j, f"{f.label} {_lower_first(_SUMMARY_LABELS[measure])}: {int(ranks.iloc[j])} of {total} "
                           f"({shown}; top {c.n})"))
        met |= hit
    return met, why


def _evaluate_score(c: Condition, f: _Figures) -> tuple[np.ndarray, list[tuple[int, str]]]:
    values = f.districts["average_score"]
    met = _met(values, c.at_least)
    return met, [(j, f"{f.label} average score {values.iloc[j]:.3f} ≥ {c.at_least:g}") for j in np.flatnonzero(met)]


def _percentiles(c: Condition, f: _Figures) -> pd.DataFrame:
    return _percentile_counts(f.lsoas, c.percent, f.n_national).reindex(f.districts.index)


def _evaluate_share(c: Condition, f: _Figures) -> tuple[np.ndarray, list[tuple[int, str]]]:
    values = _percentiles(c, f)["share"]
    met = _met(values, c.at_least)
    return met, [(j, f"{values.iloc[j]:.1%} of LSOAs in the most deprived {c.percent:g}% ({f.label}) "
                     f"≥ {c.at_least:.0%}") for j in np.flatnonzero(met)]


def _evaluate_count(c: Condition, f: _Figures) -> tuple[np.ndarray, list[tuple[int, str]]]:
    values = _percentiles(c, f)["count"]
    met = _met(values, c.at_least)
    return met, [(j, f"{int(values.iloc[j])} LSOAs in the most deprived {c.percent:g}% ({f.label}) "
                     f"≥ {c.at_least:g}") for j in np.flatnonzero(met)]


_RULE_KINDS: tuple[RuleKind, ...] = (
    RuleKind("top_n", ("measures", "n"),
             lambda c, dom: (f"among the {c.n} most deprived districts on {dom} "
                             + " or ".join(_lower_first(_SUMMARY_LABELS.get(m, m)) for m in c.measures)),
             _check_top_n, _evaluate_top_n,
             lambda c, n: Threshold("n", "Most deprived N districts", 1, max(n, c.n), 1, True, True, "n"),
             "In the n most deprived districts on any of `measures` (district summaries of `domain`)."),
    RuleKind("share_in_most_deprived", ("percent", "at_least"),
             lambda c, dom: (f"at least {c.at_least:.0%} of its LSOAs in the most deprived {c.percent:g}% "
                             f"nationally ({dom})"),
             _check_share, _evaluate_share,
             lambda c, n: Threshold("at_least", f"Share of LSOAs in most deprived {c.percent:g}% at least",
                                    0.0, 1.0, 0.01, False, True, "s"),
             "At least `at_least` (a fraction) of the district's LSOAs in the most deprived `percent`% nationally."),
    RuleKind("score_at_least", ("at_least",),
             lambda c, dom: f"{dom} population-weighted average score at least {c.at_least:g}",
             lambda c, i: None, _evaluate_score,
             lambda c, n: Threshold("at_least", "Average score at least", 0.0, 100.0, 0.5, False, False, "a"),
             "A population-weighted average score of at least `at_least`."),
    RuleKind("count_in_most_deprived", ("percent", "at_least"),
             lambda c, dom: f"at least {c.at_least:g} LSOAs in the most deprived {c.percent:g}% nationally ({dom})",
             _check_count, _evaluate_count,
             lambda c, n: Threshold("at_least", f"LSOAs in most deprived {c.percent:g}% at least", 0, 10_000, 1,
                                    True, False, "c"),
             "At least `at_least` LSOAs in the most deprived `percent`% nationally."),
)
RULE_KINDS: dict[str, RuleKind] = {k.id: k for k in _RULE_KINDS}
KINDS = tuple(RULE_KINDS)


def rule_kind(kind: object, where: str = "") -> RuleKind:
    """The registered condition kind of an id; AtlasError listing the known kinds if unknown."""
    try:
        return RULE_KINDS[kind]  # type: ignore[index]
    except (KeyError, TypeError):
        raise AtlasError(f"{where}unknown kind {kind!r}.", f"Kinds: {', '.join(KINDS)}.") from None


def threshold_of(condition: Condition, n_districts: int) -> Threshold:
    """The what-if control of a condition (which field a slider or number box sets, with its label and range)."""
    return rule_kind(condition.kind).threshold(condition, n_districts)


def retitled(name: str, before: Rule, after: Rule) -> str:
    """A rule's name that follows its what-if thresholds: "… 50 most deprived …" reads "… 60 most deprived …"
    when every top-n condition that was 50 is now 60 (a name that does not say its N is kept as it is)."""
    moved: dict[int, set[int]] = {}
    for old, new in zip(before.conditions, after.conditions):
        if old.kind == "top_n" and new.kind == "top_n":
            moved.setdefault(int(old.n), set()).add(int(new.n))
    for old_n, new_ns in moved.items():
        if len(new_ns) == 1 and (new_n := next(iter(new_ns))) != old_n:
            name = re.sub(rf"(?<![\d,.]){old_n}(?=\s+most deprived)", str(new_n), name)
    return name


def with_threshold(condition: Condition, value: float) -> Condition:
    """The condition with its what-if threshold set to `value` (n as a whole number, at_least as a float)."""
    t = threshold_of(condition, 0)
    return replace(condition, **{t.field: int(value) if t.field == "n" else float(value)})


def parse_rule(text: str, known_domains: tuple[str, ...] = ()) -> Rule:
    """Read and check a rule; every problem is an AtlasError saying what is wrong and what to do."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AtlasError(f"The rule is not valid TOML: {exc}.", "Compare it with a preset rule file.") from exc
    combine = doc.get("combine", "any")
    if combine not in ("any", "all"):
        raise AtlasError(f"combine = {combine!r} is not understood.", "Use \"any\" (OR) or \"all\" (AND).")
    raw = doc.get("condition") or []
    if not isinstance(raw, list) or not raw:
        raise AtlasError("The rule has no [[condition]].", "Add at least one condition (see the presets).")
    default_domain = str(doc.get("domain", "imd"))
    conditions = []
    for i, c in enumerate(raw, 1):
        kind = c.get("kind")
        spec = rule_kind(kind, f"Condition {i}: ")
        domain = str(c.get("domain", default_domain))
        if known_domains and domain not in known_domains:
            raise AtlasError(f"Condition {i}: the measure {domain!r} is not in this release.",
                             f"Measures available: {', '.join(known_domains)}.")
        try:
            cond = Condition(kind, domain, tuple(c.get("measures", ())), int(c.get("n", 0)),
                             float(c.get("percent", 10)), float(c.get("at_least", 0)))
        except (TypeError, ValueError) as exc:
            raise AtlasError(f"Condition {i}: a number is not a number ({exc}).", "Check n, percent and at_least.") \
                from exc
        spec.check(cond, i)
        conditions.append(cond)
    return Rule(str(doc.get("name", "Unnamed rule")), tuple(conditions), combine, str(doc.get("description", "")),
                str(doc.get("source", "")))


def presets() -> dict[str, Rule]:
    """The preset rules shipped in geo/reference/rules/*.toml, by name."""
    out = {}
    for path in sorted(PRESETS.glob("*.toml")):
        rule = parse_rule(path.read_text(encoding="utf-8"))
        out[rule.name] = rule
    return out


# ------------------------------------------------------------------ evaluation

@dataclass
class Eligibility:
    """Per district: each condition's outcome and reasons, eligibility, and the figures behind them."""

    table: pd.DataFrame
    rule: Rule
    domains: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def eligible_codes(self) -> list[str]:
        return sorted(self.table.loc[self.table["eligible"], "district_code"])


def _percentile_counts(lsoas: pd.DataFrame, percent: float, n_national: int) -> pd.DataFrame:
    inside = pd.to_numeric(lsoas["rank"], errors="coerce") <= n_national * percent / 100.0
    g = inside.groupby(lsoas["district"].astype("string").str.strip())
    return pd.DataFrame({"count": g.sum(), "share": g.mean()})


def evaluate_rule(rule: Rule, lsoas_by_domain: dict[str, pd.DataFrame], n_national: int,
                  names: dict[str, str] | None = None, labels: dict[str, str] | None = None) -> Eligibility:
    """Which districts a rule selects, and why, from each domain's LSOA frame (district, score, rank, population)."""
    labels = labels or {}
    missing = sorted({c.domain for c in rule.conditions} - set(lsoas_by_domain))
    if missing:
        raise AtlasError(f"The rule uses {', '.join(missing)}, which this release does not have.",
                         f"Measures available: {', '.join(lsoas_by_domain)}.")
    figures = {d: district_figures(lsoas_by_domain[d], n_national) for d in {c.domain for c in rule.conditions}}
    codes = sorted(set().union(*(f.index for f in figures.values())))
    result = pd.DataFrame({"district_code": codes})
    names = names or {}
    result["name"] = [str(names.get(code, code)) for code in codes]
    reasons: list[list[str]] = [[] for _ in codes]
    met_columns = []
    for i, cond in enumerate(rule.conditions, 1):
        fig = figures[cond.domain].reindex(codes)
        dom = labels.get(cond.domain, cond.domain)
        met, why = rule_kind(cond.kind).evaluate(cond, _Figures(fig, lsoas_by_domain[cond.domain], n_national, dom))
        for j, text in why:
            reasons[j].append(text)
        result[f"condition_{i}"] = met
        met_columns.append(f"condition_{i}")
    combined = result[met_columns].any(axis=1) if rule.combine == "any" else result[met_columns].all(axis=1)
    result["eligible"] = combined.astype(bool)
    result["reasons"] = ["; ".join(r) if e else "" for r, e in zip(reasons, result["eligible"])]
    first = next(iter(figures.values())).reindex(codes)
    result["population"] = first["population"].to_numpy()
    result["lsoa_count"] = first["lsoa_count"].to_numpy()
    return Eligibility(result, rule, figures)


STATUSES = ("not eligible", "no longer eligible", "successor not eligible", "newly eligible", "successor eligible",
            "stays eligible")


def compare_with_reference(result: pd.DataFrame, reference: dict[str, list[str]],
                           merged: dict[str, str] | None = None) -> pd.DataFrame:
    """Add `reference` (NRF 2001 names the district stands for), `status` against it and `reference_note`.

    `merged` (from `geo.derive.nrf.abolished_notes`) names the districts that stand only for NRF authorities
    abolished in 2009: their status is "successor eligible" / "successor not eligible", with the note
    saying what happened ("Easington … merged into County Durham (2009)"), never a plain "no longer eligible".
    """
    out = result.copy()
    merged = merged or {}
    out["reference"] = out["district_code"].map(lambda c: ", ".join(reference.get(c, [])))
    in_ref = out["district_code"].isin(list(reference))
    successor = out["district_code"].isin(list(merged))
    out["status"] = np.select(
        [out["eligible"] & successor, ~out["eligible"] & successor,
         out["eligible"] & in_ref, out["eligible"] & ~in_ref, ~out["eligible"] & in_ref],
        ["successor eligible", "successor not eligible", "stays eligible", "newly eligible", "no longer eligible"],
        "not eligible")
    notes = out["district_code"].map(lambda c: merged.get(c, ""))
    out["reference_note"] = np.where(
        notes != "", notes + np.where(out["eligible"], "; the successor is eligible under this rule",
                                      "; the successor is not eligible under this rule"), "")
    return out


@dataclass(frozen=True)
class Recovery:
    """How much of the NRF 2001 list a rule recovers on one release: authorities of 2001 and districts of the release."""

    authorities: int              # 88
    authorities_recovered: int
    districts: int                # the release's districts the 88 fall in (84 of 2019)
    districts_recovered: int
    eligible: int                 # districts eligible under the rule
    missed: list[str]             # NRF districts not eligible, "Name (2001 names)"
    added: list[str]              # eligible districts that were not NRF 2001

    def sentence(self, vintage: str = "") -> str:
        """The recovery in words, counts labelled by what they count."""
        of = f"districts of {vintage}" if vintage else "districts"
        return (f"{self.eligible} {of} eligible. The rule recovers {self.districts_recovered} of the "
                f"{self.districts} {of} that hold the 88 NRF authorities of 2001 "
                f"({self.authorities_recovered} of the {self.authorities} authorities); "
                f"missed {len(self.missed)}, added {len(self.added)}.")


def recovery(compared: pd.DataFrame) -> Recovery:
    """Recovery counts and lists from a `compare_with_reference` table."""
    ref = compared[compared["reference"] != ""]
    hit = ref[ref["eligible"]]
    n_auth = int(ref["reference"].str.split(", ").str.len().sum())
    n_hit = int(hit["reference"].str.split(", ").str.len().sum()) if len(hit) else 0

    def named(rows: pd.DataFrame, with_reference: bool) -> list[str]:
        out = []
        for r in rows.sort_values("name").itertuples():
            label = str(r.name)
            if with_reference and r.reference and r.reference != label:
                label += f" ({r.reference})"
            out.append(label)
        return out

    return Recovery(n_auth, n_hit, len(ref), len(hit), int(compared["eligible"].sum()),
                    named(ref[~ref["eligible"]], True), named(compared[compared["eligible"] & (compared["reference"] == "")],
                                                              False))


# ------------------------------------------------------------------ allocation

@dataclass(frozen=True)
class Formula:
    """Split a pot by the population living in the most deprived LSOAs nationally: the NRF method by default.

    The NRF of 2001 gave "a standard amount per head of population living in the 10 per cent most
    deprived wards nationally" (HC Deb 26 Nov 2001 cc610-1W); here LSOAs stand for the wards of 1998.
    Weighting that population by IMD score is an alternative, not the NRF's method.
    """

    pot: float = 900_000_000.0
    percent: float = 10.0          # LSOAs in the most deprived `percent`% nationally count
    weight_by_score: bool = False  # each such LSOA's population × its score (not the NRF method)
    floor: float = 0.0             # minimum £ per eligible district
    ceiling: float = 0.0           # maximum £ per eligible district (0 = none)

    @property
    def is_nrf_method(self) -> bool:
        return not self.weight_by_score and self.percent == 10.0

    def describe(self) -> str:
        from geo.present.numbers import money

        if self.weight_by_score:
            words = (f"{money(self.pot)} split across eligible districts in proportion to the population × IMD score "
                     f"of their LSOAs in the most deprived {self.percent:g}% nationally (not the NRF method)")
        else:
            words = (f"{money(self.pot)} split across eligible districts as a standard amount per head of population "
                     f"living in the most deprived {self.percent:g}% of LSOAs nationally"
                     + (" (the NRF method of 2001, which counted the most deprived 10% of wards)"
                        if self.is_nrf_method else ""))
        if self.floor:
            words += f"; every eligible district gets at least {money(self.floor)}"
        if self.ceiling:
            words += f"; none gets more than {money(self.ceiling)}"
        return words + "; amounts rounded to the penny so that they add up exactly to the pot."


def allocate(result: pd.DataFrame, lsoas: pd.DataFrame, formula: Formula, n_national: int) -> pd.DataFrame:
    """Add `allocation` (£, to the penny) and `allocation_per_head` for eligible districts; totals equal the pot."""
    out = result.copy()
    eligible = out.loc[out["eligible"], "district_code"].tolist()
    if not eligible:
        raise AtlasError("No district is eligible under this rule, so there is nothing to allocate.",
                         "Loosen a threshold or change the rule.")
    rank = pd.to_numeric(lsoas["rank"], errors="coerce")
    inside = rank <= n_national * formula.percent / 100.0
    weight = pd.to_numeric(lsoas["population"], errors="coerce") * (
        pd.to_numeric(lsoas["score"], errors="coerce") if formula.weight_by_score else 1.0)
    basis = weight.where(inside, 0.0).groupby(lsoas["district"].astype("string").str.strip()).sum()
    basis = basis.reindex(eligible).fillna(0.0)
    if basis.sum() <= 0:
        basis = pd.Series(1.0, index=eligible)  # none has such LSOAs: equal shares, said in the formula's words
    pence = _split_pence(int(round(formula.pot * 100)), basis.to_numpy(float), formula, len(eligible))
    amounts = pd.Series(pence / 100.0, index=eligible)
    out["allocation"] = out["district_code"].map(amounts).fillna(0.0)
    out["allocation_per_head"] = np.where(out["allocation"] > 0, out["allocation"] / out["population"], 0.0)
    return out


def _split_pence(total: int, basis: np.ndarray, formula: Formula, k: int) -> np.ndarray:
    """Integer pence proportional to basis, within floor/ceiling (water-filling), largest remainders last."""
    floor = int(round(formula.floor * 100))
    ceiling = int(round(formula.ceiling * 100)) if formula.ceiling else None
    if floor * k > total:
        raise AtlasError(f"A floor of £{formula.floor:,.0f} for {k} districts is more than the pot.",
                         "Lower the floor or raise the pot.")
    if ceiling is not None and ceiling * k < total:
        raise AtlasError(f"A ceiling of £{formula.ceiling:,.0f} for {k} districts cannot spend the pot.",
                         "Raise the ceiling or lower the pot.")
    amounts = np.zeros(k, dtype=object)
    fixed = np.zeros(k, dtype=bool)
    for _ in range(k + 1):
        free = ~fixed
        remaining = total - sum(int(a) for a in amounts[fixed])
        share = basis[free] / basis[free].sum() if basis[free].sum() > 0 else np.full(free.sum(), 1 / free.sum())
        ideal = share * remaining
        low = ideal < floor
        high = ideal > ceiling if ceiling is not None else np.zeros_like(low)
        if not low.any() and not high.any():
            exact = [Decimal(str(x)) for x in ideal]
            whole = [int(x.to_integral_value(ROUND_FLOOR)) for x in exact]
            leftover = remaining - sum(whole)
            order = np.argsort([-(x - w) for x, w in zip(exact, whole)], kind="stable")
            for j in order[:leftover]:
                whole[j] += 1
            amounts[np.flatnonzero(free)] = whole
            return np.array([int(a) for a in amounts], dtype=np.int64)
        idx = np.flatnonzero(free)
        amounts[idx[low]] = floor
        if ceiling is not None:
            amounts[idx[high]] = ceiling
        fixed[idx[low | high]] = True
    raise AtlasError("The floor and ceiling cannot both be met.", "Widen the range between them.")



# ------------------------------------------------------------------ reconciliation with the NRF allocations

@dataclass
class Reconciliation:
    """The formula's allocation to the NRF 2001 districts beside the actual NRF allocations, both as shares of their pots."""

    table: pd.DataFrame   # per compared district: name, authorities, year used, actual £m and share, atlas £ and share
    pearson: float
    spearman: float
    release: str

    @property
    def compared(self) -> int:
        return len(self.table)

    def sentence(self) -> str:
        """The comparison in words, with the largest differences."""
        if self.table.empty:
            return "No NRF district has a known allocation to compare with."
        t = self.table.sort_values("ratio")
        low = ", ".join(f"{r.name} {r.ratio:.0%}" for r in t.head(3).itertuples())
        high = ", ".join(f"{r.name} {r.ratio:.0%}" for r in t.tail(3).iloc[::-1].itertuples())
        return (f"Against the actual NRF allocations of {self.compared} districts whose figures are known, this "
                f"formula's shares correlate {self.pearson:.2f} (Pearson) and {self.spearman:.2f} by rank (Spearman). "
                f"Furthest below their actual share: {low}; furthest above: {high} (atlas share as % of actual). "
                f"The 2001 data were the wards of 1998 and the Indices of Deprivation 2000; this is {self.release} "
                "on LSOAs, so the two cannot agree exactly.")


def reconcile_allocations(lsoas: pd.DataFrame, formula: Formula, n_national: int, reference: dict[str, list[str]],
                          names: dict[str, str], release: str) -> Reconciliation:
    """Allocate the pot by `formula` to the districts holding the NRF 88 and compare with the allocations read from Hansard.

    A district is compared only when every NRF authority in it has a figure (County Durham needs all
    four of its 2001 districts). An authority's share of its year's pot (£200m, £300m, £400m in
    2001–02, 2002–03, 2003–04: the 2:3:4 of £900m) is the same whichever year was read, so the latest
    year read is used.
    """
    from scipy.stats import pearsonr, spearmanr

    from geo.derive.nrf import ALLOCATIONS, POTS, nrf_2001

    frame = pd.DataFrame({"district_code": sorted(reference)})
    frame["name"] = frame["district_code"].map(lambda c: str(names.get(c, c)))
    frame["eligible"] = True
    frame["population"] = 0.0
    ours = allocate(frame, lsoas, formula, n_national).set_index("district_code")["allocation"]
    authorities = nrf_2001().set_index("nrf_name")
    rows = []
    for code, members in reference.items():
        shares, years = [], []
        for name in members:
            known = [(year, authorities.loc[name, col]) for year, col in ALLOCATIONS.items()
                     if pd.notna(authorities.loc[name, col])]
            if not known:
                break
            year, amount = known[-1]
            shares.append(amount * 1e6 / POTS[year])
            years.append(year)
        else:
            actual_share = float(sum(shares))
            atlas_share = float(ours.get(code, 0.0)) / formula.pot
            rows.append({"district_code": code, "name": str(names.get(code, code)), "nrf_authorities": ", ".join(members),
                         "year_read": ", ".join(sorted(set(years))), "actual_share": actual_share,
                         "atlas_allocation": float(ours.get(code, 0.0)), "atlas_share": atlas_share,
                         "ratio": atlas_share / actual_share if actual_share else float("nan")})
    table = pd.DataFrame(rows, columns=["district_code", "name", "nrf_authorities", "year_read", "actual_share",
                                        "atlas_allocation", "atlas_share", "ratio"])
    table = table.sort_values("name").reset_index(drop=True)
    if len(table) >= 3:
        pearson = float(pearsonr(table["atlas_share"], table["actual_share"]).statistic)
        spearman = float(spearmanr(table["atlas_share"], table["actual_share"]).statistic)
    else:
        pearson = spearman = float("nan")
    return Reconciliation(table, pearson, spearman, release)
