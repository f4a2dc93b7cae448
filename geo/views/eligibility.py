"""Fund eligibility: a rule evaluated on the release's districts, the NRF 2001 list as reference, a pot split."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from geo.present.classify import Classification, classify_values
from geo.link.codes import district_year
from geo.derive.eligibility import (
    STATUSES,
    Formula,
    Rule,
    allocate,
    compare_with_reference,
    evaluate_rule,
    parse_rule,
    presets,
    reconcile_allocations,
    recovery,
)
from geo.errors import AtlasError
from geo.link.layers import measure_frame
from geo.present.mapping import MapSpec
from geo.present.numbers import money
from geo.derive.nrf import abolished_notes, reference_codes, verification_sentence
from geo.state.tokens import pack_text, unpack_text
from geo.present.compare import summary_measures, with_summaries
from geo.views.base import CompareSetup, Param, View, ViewData, ViewResult, district_lsoas
from geo.views.common import measure_param, release_map
from geo.views.sources import provenance

# Light to dark; distinct in colour-blind views. Successors of districts abolished in 2009 (County Durham,
# Cornwall, Northumberland) get paler tones of their own, never the plain "no longer eligible" colour.
STATUS_COLOURS = ["#f2f2f2", "#b39ddb", "#e3dcef", "#f28e2b", "#9fb8de", "#1f4e9c"]
POT = {"group": "Split a pot"}
MONEY = {**POT, "format": "%.0f", "money": True}  # a number box in pounds, its amount written as money beside it
# The kinds of the eligibility table's numbers (geo.present.numbers), for the table shown and its headers.
TABLE_KINDS = {"allocation": "money", "allocation_per_head": "money", "population": "count", "lsoa_count": "count"}
CAVEAT = ("Ranks are relative to the release; a district's eligibility can change between releases without any "
          "absolute change in deprivation.")


def encode_rule(rule: Rule) -> str:
    """A rule as a short URL-safe token (what the `rule` parameter carries when it is not a preset's name)."""
    return pack_text(rule.to_toml())


def rule_from(value: str, domains: tuple[str, ...] = ()) -> Rule:
    """The rule a `rule` parameter names: a preset's name, a rule file's path (command line) or a link's token."""
    rules = presets()
    if value in rules:
        return rules[value]
    if value.lower().endswith(".toml") and Path(value).is_file():
        return parse_rule(Path(value).read_text(encoding="utf-8"), domains)
    return parse_rule(unpack_text(value, "rule"), domains)


def domain_frames(data: ViewData) -> dict[str, pd.DataFrame]:
    """Each measure's LSOA frame with scores, ranks and populations (what rules are evaluated on); once per ViewData."""
    if "domain_frames" not in data.memo:
        frames = {d: measure_frame(data.ind, d) for d in data.measure_labels()}
        data.memo["domain_frames"] = {d: f for d, f in frames.items()
                                      if not f[["score", "rank", "population"]].isna().all().any()}
    return data.memo["domain_frames"]


def release_label(data: ViewData) -> str:
    from geo.catalogue import recognise_release

    layout = recognise_release([str(c) for c in data.ind.frame.columns])
    return layout.release if layout else "this release"


class EligibilityView(View):
    id = "eligibility"
    label = "Fund eligibility"
    description = "Which districts a rule makes eligible, against the NRF 2001 list, with an allocation of a pot."

    def available(self, data: ViewData) -> str | None:
        if not data.iod:
            return "the table has no Indices of Deprivation columns"
        if data.districts is None or not data.ind.district_column:
            return "district boundaries and a district code column are needed"
        ind = data.ind
        if ind.population_column is None or not any(ind.column_for(m, "score") and ind.column_for(m, "rank")
                                                     for m in data.measure_labels()):
            return "eligibility needs LSOA scores, ranks, populations and district codes (IoD File 7)"
        return None

    def params(self, data: ViewData) -> tuple[Param, ...]:
        return (
            measure_param(),
            Param("rule", "Rule", "text", default=lambda d, v: next(iter(presets())),
                  help="A preset's name, a rule file (.toml) or a rule token from a link."),
            Param("allocate", "Allocate", "bool", default=False, help="Split a pot between the eligible districts.",
                  widget_args=POT),
            Param("pot", "Pot (£)", "float", default=900_000_000.0, lo=0, hi=1e11, step=1_000_000.0,
                  widget_args=MONEY, when=lambda d, v: v["allocate"]),
            Param("alloc_percent", "Count LSOAs in the most deprived (%)", "int", default=10, lo=1, hi=50,
                  widget="slider", widget_args=POT, when=lambda d, v: v["allocate"]),
            Param("alloc_score", "Weight by IMD score (not the NRF method)", "bool", default=False,
                  help="The NRF of 2001 gave a standard amount per head of population in the most deprived 10% of "
                       "areas nationally; weighting by score is an alternative.", widget_args=POT,
                  when=lambda d, v: v["allocate"]),
            Param("floor", "Floor per district (£)", "float", default=0.0, lo=0, hi=1e10, step=100_000.0,
                  widget_args=MONEY, when=lambda d, v: v["allocate"]),
            Param("ceiling", "Ceiling per district (£, 0 = none)", "float", default=0.0, lo=0, hi=1e11,
                  step=1_000_000.0, widget_args=MONEY, when=lambda d, v: v["allocate"]),
            Param("colour_by", "Colour the map by", "choice", default="eligibility", choices=("eligibility", "£ per head"),
                  widget="radio", widget_args={"horizontal": True}, when=lambda d, v: v["allocate"]),
        )

    def build(self, data: ViewData, values: dict) -> ViewResult:
        try:
            return self._build(data, values)
        except AtlasError as exc:  # a rule that cannot be read or applied: said beside the release's districts
            result = release_map(data, values.get("measure"), level="districts")
            result.problems.append(exc)
            return result

    def _build(self, data: ViewData, values: dict) -> ViewResult:
        frames = domain_frames(data)
        labels = data.measure_labels()
        rule = values["rule"] if isinstance(values["rule"], Rule) else rule_from(values["rule"], tuple(frames))
        ind = data.ind
        names = {}
        if ind.district_name_column:
            names = dict(zip(ind.frame[ind.district_column].astype("string").str.strip(),
                             ind.frame[ind.district_name_column]))
        start = time.perf_counter()
        result = evaluate_rule(rule, frames, ind.n_national(), names, labels)
        table = result.table
        reference_note = ""
        try:
            reference = reference_codes(table["district_code"].tolist())
        except AtlasError as exc:
            reference = None
            reference_note = ("the 88 authorities of 2001 are real districts and this release's are not English "
                              "district codes of 2019 or later" if "88 of the 88" in exc.message else exc.message)
        if reference is not None:
            table = compare_with_reference(table, reference, abolished_notes(table["district_code"].tolist()))
        elapsed = (time.perf_counter() - start) * 1000
        split = bool(values.get("allocate"))
        formula = Formula(values.get("pot", 900_000_000.0), float(values.get("alloc_percent", 10)),
                          bool(values.get("alloc_score", False)), values.get("floor", 0.0), values.get("ceiling", 0.0))
        notes: list[str] = []
        warnings: list[str] = []
        problems: list[AtlasError] = []
        imd = frames.get("imd", next(iter(frames.values())))
        if split:
            try:
                table = allocate(table, imd, formula, ind.n_national())
            except AtlasError as exc:
                problems.append(exc)
                split = False
        reconciliation = None
        if split and reference is not None:
            reconciliation = reconcile_allocations(imd, formula, ind.n_national(), reference, names, release_label(data))

        districts = data.districts
        code_col = _code_column(districts)
        boundaries = districts.copy()
        boundaries["_join"] = boundaries[code_col].astype("string").str.strip().str.upper()
        layer = boundaries.merge(table, left_on="_join", right_on="district_code", how="left")
        layer["eligible"] = layer["eligible"].fillna(False).astype(bool)
        if reference is not None:
            layer["status"] = layer["status"].fillna("not eligible")
        tips = [("Why", "reasons")]
        layer["eligible_text"] = np.where(layer["eligible"], "yes", "no")
        if reference is not None:
            tips.insert(0, ("Against NRF 2001", "status"))
            tips.append(("NRF 2001 authorities", "reference"))
            tips.append(("Abolished 2009", "reference_note"))
        if split:
            tips += [("Allocation (£)", "allocation"), ("£ per head", "allocation_per_head")]
        spec = MapSpec("eligible_text", "Eligibility", _name_column(districts), code_col, tooltip_columns=tuple(tips),
                       title=rule.name, subtitle=f"{int(table['eligible'].sum()):,} of {len(table):,} districts eligible"
                       + (f" · {money(formula.pot)} split" if split else ""),
                       caveat=CAVEAT, darker_means="eligible")
        if not table["eligible"].any():
            warnings.append(f"No district meets “{rule.name}” in this release: loosen a threshold, switch 'Combine "
                         "conditions' to any (OR), or choose another rule.")
        rec = recovery(table) if reference is not None else None
        vintage = district_year(table["district_code"])
        headlines = [rec.sentence(vintage)] if rec is not None else []
        extra = {"rule": rule, "table": table, "with_reference": reference is not None, "reference_note": reference_note,
                 "split": split, "formula": formula, "elapsed_ms": elapsed, "labels": labels, "vintage": vintage,
                 "reconciliation": reconciliation, "recovery": rec, "eligible_codes": result.eligible_codes,
                 "verification": verification_sentence() if reference is not None else "",
                 "provenance": provenance(data)}
        tables = {"eligibility": table}
        if reconciliation is not None:
            tables["reconciliation"] = reconciliation.table
        common = dict(tables=tables, headlines=headlines, notes=notes, warnings=warnings, problems=problems, caveats=[CAVEAT],
                      area_word="districts",
                      extra=extra)
        if split:
            unfunded = table[table["eligible"] & (table["allocation"] <= 0)]
            if len(unfunded):
                names_shown = ", ".join(map(str, unfunded["name"].head(8))) + (" …" if len(unfunded) > 8 else "")
                extra["unfunded"] = (
                    f"{len(unfunded):,} eligible district{'s get' if len(unfunded) != 1 else ' gets'} £0 under this "
                    f"formula ({names_shown}): none of {'their' if len(unfunded) != 1 else 'its'} LSOAs is in the "
                    f"most deprived {formula.percent:g}% nationally, which is what the pot is split by. A floor per "
                    f"district gives {'them' if len(unfunded) != 1 else 'it'} a share.")
                notes.append(extra["unfunded"])
        if split and values.get("colour_by") == "£ per head":
            # Every eligible district has its £ per head, £0.00 included (eligible, but none of its LSOAs in the
            # most deprived percent): only districts that are not eligible are "no data" on this map.
            layer["allocation_per_head"] = layer["allocation_per_head"].fillna(0.0).where(layer["eligible"])
            spec.value_column, spec.value_label = "allocation_per_head", "Allocation, £ per head"
            spec.darker_means, spec.extremes = "more £ per head", ("least per head", "most per head")
            classes = classify_values(layer["allocation_per_head"], "quantiles", 5, extremes=spec.extremes,
                                      kind="money_per_head")
            return ViewResult(layer, spec, True, classification=classes, kind="money_per_head", **common)
        return ViewResult(layer, spec, True, classification=status_classes(layer, reference is not None), **common)


    def comparison(self, data: ViewData, values: dict, result: ViewResult, classification) -> CompareSetup:
        """The map shows categories: compare the district summaries of the chosen measure behind the rule."""
        label = data.measure_labels()[values["measure"]]
        national = with_summaries(result.layer, result.spec.code_column, data.district_summaries(values["measure"]))
        note = ("The eligibility map shows categories (eligible or not), not per-area values: the difference table "
                f"and spine chart compare the district summaries of {label} behind the rule.")
        return CompareSetup(national, classification, summary_measures(national), "districts", note=note,
                            heading=f"district summaries of {label}",
                            small_maps=district_lsoas(data, values["measure"], values.get("palette", "viridis")))


def status_classes(table: pd.DataFrame, with_reference: bool) -> Classification:
    """Categories: status against the NRF 2001 list, or eligible / not eligible."""
    labels = list(STATUSES) if with_reference else ["not eligible", "eligible"]
    colours = STATUS_COLOURS if with_reference else [STATUS_COLOURS[0], STATUS_COLOURS[-1]]
    status = table["status"] if with_reference else np.where(table["eligible"], "eligible", "not eligible")
    classes = np.array([labels.index(s) if s in labels else -1 for s in status])
    counts = [int((classes == k).sum()) for k in range(len(labels))]
    nan = [float("nan")] * len(labels)
    return Classification(classes, list(labels), nan, nan, counts, list(colours), "categories",
                          int((classes == -1).sum()))


def _code_column(districts) -> str:
    from geo.link.join import guess_code_column

    return guess_code_column(districts)


def _name_column(districts) -> str | None:
    from geo.link.layers import guess_name_column

    return guess_name_column(districts)
