"""The fund eligibility view: a rule (preset, file or URL) with what-if thresholds, the NRF 88 as reference,
and an allocation of a pot. The logic is geo.eligibility and geo.nrf; this only wires widgets."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pandas as pd
import streamlit as st

from geo.codes import district_year
from geo.classify import Classification, classify_values
from geo.eligibility import (
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
from geo.export import csv_bytes
from geo.mapping import MapSpec
from geo.nrf import abolished_notes, reference_codes, verification_sentence
from geo.views import measure_frame
from ui.common import View, md, show_error
from ui.permalink import pack_text, unpack_text

STATUS = list(STATUSES)
# Light to dark; distinct in colour-blind views. Successors of districts abolished in 2009 (County Durham,
# Cornwall, Northumberland) get paler tones of their own, never the plain "no longer eligible" colour.
STATUS_COLOURS = ["#f2f2f2", "#b39ddb", "#e3dcef", "#f28e2b", "#9fb8de", "#1f4e9c"]


def encode_rule(rule: Rule) -> str:
    """A rule as a short URL-safe token for st.query_params."""
    return pack_text(rule.to_toml())


def decode_rule(text: str, domains: tuple[str, ...]) -> Rule:
    return parse_rule(unpack_text(text, "rule"), domains)


def _starting_rule(domains: tuple[str, ...]) -> Rule:
    """The rule from the URL, an uploaded file or the chosen preset (in that order)."""
    rules = presets()
    upload = st.sidebar.file_uploader("Open a rule file (.toml)", type=["toml"], key="rule_file")
    if upload is not None:
        try:
            return parse_rule(upload.getvalue().decode("utf-8", errors="replace"), domains)
        except AtlasError as exc:
            show_error(exc)
    if "rule" in st.query_params and not st.session_state.get("rule_from_url_used"):
        st.session_state["rule_from_url_used"] = True
        try:
            rule = decode_rule(st.query_params["rule"], domains)
            st.session_state["rule_from_url"] = rule
        except AtlasError as exc:
            st.warning(f"{md(exc.message)} {md(exc.hint)}")
    if "rule_from_url" in st.session_state:
        options = ["From the link", *rules]
        choice = st.sidebar.selectbox("Rule", options, key="rule_choice")
        if choice == "From the link":
            return st.session_state["rule_from_url"]
        return rules[choice]
    return rules[st.sidebar.selectbox("Rule", list(rules), key="rule_choice")]


def _what_if(rule: Rule, n_districts: int) -> Rule:
    """Sliders and inputs for each condition's thresholds; returns the rule as set."""
    st.sidebar.caption("What if — thresholds")
    combine = st.sidebar.radio("Combine conditions", ["any", "all"], index=["any", "all"].index(rule.combine),
                               horizontal=True, key=f"combine_{rule.name}",
                               format_func={"any": "any (OR)", "all": "all (AND)"}.get)
    conditions = []
    for i, c in enumerate(rule.conditions):
        key = f"{rule.name}_{i}"
        if c.kind == "top_n":
            n = st.sidebar.slider(f"{i + 1}. Most deprived N districts", 1, max(n_districts, c.n), c.n, key=f"n_{key}")
            conditions.append(replace(c, n=n))
        elif c.kind == "share_in_most_deprived":
            share = st.sidebar.slider(f"{i + 1}. Share of LSOAs in most deprived {c.percent:g}% at least", 0.0, 1.0,
                                      float(c.at_least), 0.01, key=f"s_{key}")
            conditions.append(replace(c, at_least=share))
        elif c.kind == "score_at_least":
            score = st.sidebar.number_input(f"{i + 1}. Average score at least", 0.0, 100.0, float(c.at_least), 0.5,
                                            key=f"a_{key}")
            conditions.append(replace(c, at_least=score))
        else:
            count = st.sidebar.number_input(f"{i + 1}. LSOAs in most deprived {c.percent:g}% at least", 0, 10_000,
                                            int(c.at_least), 1, key=f"c_{key}")
            conditions.append(replace(c, at_least=float(count)))
    name = st.sidebar.text_input("Rule name (for saving and sharing)", rule.name, key=f"name_{rule.name}").strip()
    edited = replace(rule, combine=combine, conditions=tuple(conditions))
    if edited != rule and name == rule.name:
        name += " (what-if)"  # a changed rule never passes under the preset's name
    return replace(edited, name=name or "Unnamed rule")


def _classification(table: pd.DataFrame, with_reference: bool) -> Classification:
    labels = STATUS if with_reference else ["not eligible", "eligible"]
    colours = STATUS_COLOURS if with_reference else [STATUS_COLOURS[0], STATUS_COLOURS[3]]
    status = table["status"] if with_reference else np.where(table["eligible"], "eligible", "not eligible")
    classes = np.array([labels.index(s) if s in labels else -1 for s in status])
    counts = [int((classes == k).sum()) for k in range(len(labels))]
    nan = [float("nan")] * len(labels)
    return Classification(classes, list(labels), nan, nan, counts, list(colours), "categories",
                          int((classes == -1).sum()))


def eligibility_view(ind, districts_gdf, district_code_col: str, district_name_col: str | None,
                     measure_labels: dict[str, str]) -> View | None:
    """Evaluate a rule on this release's LSOAs and map eligibility (and, on request, an allocation)."""
    domains = tuple(measure_labels)
    frames = {d: measure_frame(ind, d) for d in domains}
    frames = {d: f for d, f in frames.items() if not f[["score", "rank", "population"]].isna().all().any()}
    if not frames or ind.district_column is None:
        st.info("Eligibility needs LSOA scores, ranks, populations and district codes (IoD File 7).")
        return None
    try:
        rule = _what_if(_starting_rule(tuple(frames)), len(districts_gdf))
    except AtlasError as exc:
        show_error(exc)
        return None
    names = {}
    if ind.district_name_column:
        names = dict(zip(ind.frame[ind.district_column].astype("string").str.strip(), ind.frame[ind.district_name_column]))
    start = time.perf_counter()
    try:
        result = evaluate_rule(rule, frames, ind.n_national(), names, measure_labels)
    except AtlasError as exc:
        show_error(exc)
        return None
    table = result.table
    reference_note = ""
    try:
        reference = reference_codes(table["district_code"].tolist())
    except AtlasError as exc:
        reference = None
        reference_note = ("the 88 authorities of 2001 are real districts and this release's are not English district "
                          "codes of 2019 or later" if "88 of the 88" in exc.message else exc.message)
    if reference is not None:
        table = compare_with_reference(table, reference, abolished_notes(table["district_code"].tolist()))
    elapsed = (time.perf_counter() - start) * 1000
    st.session_state["eligible_codes"] = result.eligible_codes  # a target group can be this result
    st.query_params["rule"] = encode_rule(rule)

    with st.sidebar.expander("Split a pot"):
        split = st.toggle("Allocate", value=False, key="allocate")
        pot = st.number_input("Pot (£)", 0.0, 1e11, 900_000_000.0, 1_000_000.0, key="pot", format="%.0f")
        percent = st.slider("Count LSOAs in the most deprived (%)", 1, 50, 10, key="alloc_percent")
        by_score = st.toggle("Weight by IMD score (not the NRF method)", value=False, key="alloc_score",
                             help="The NRF of 2001 gave a standard amount per head of population in the most deprived "
                                  "10% of areas nationally; weighting by score is an alternative.")
        floor = st.number_input("Floor per district (£)", 0.0, 1e10, 0.0, 100_000.0, key="floor", format="%.0f")
        ceiling = st.number_input("Ceiling per district (£, 0 = none)", 0.0, 1e11, 0.0, 1_000_000.0, key="ceiling",
                                  format="%.0f")
    formula = Formula(pot, float(percent), by_score, floor, ceiling)
    if split:
        try:
            table = allocate(table, frames.get("imd", next(iter(frames.values()))), formula, ind.n_national())
        except AtlasError as exc:
            show_error(exc)
            split = False

    boundaries = districts_gdf.copy()
    boundaries["_join"] = boundaries[district_code_col].astype("string").str.strip().str.upper()
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
    spec = MapSpec("eligible_text", "Eligibility", district_name_col, district_code_col, tooltip_columns=tuple(tips),
                   title=rule.name, subtitle=f"{int(table['eligible'].sum())} of {len(table)} districts eligible",
                   caveat="Ranks are relative to the release; a district's eligibility can change between releases "
                          "without any absolute change in deprivation.", darker_means="eligible")

    vintage = district_year(table["district_code"])
    reconciliation = None
    if split and reference is not None:
        try:
            reconciliation = reconcile_allocations(frames.get("imd", next(iter(frames.values()))), formula,
                                                   ind.n_national(), reference, names, _release_label(ind))
        except AtlasError as exc:
            show_error(exc)

    def panel() -> None:
        _panel(rule, table, reference is not None, reference_note, split, formula, elapsed, measure_labels, vintage,
               reconciliation)

    if not table["eligible"].any():
        st.warning(f"No district meets “{md(rule.name)}” in this release: loosen a threshold, switch 'Combine "
                   "conditions' to any (OR), or choose another rule.")
    if split and st.sidebar.radio("Colour the map by", ["eligibility", "£ per head"], horizontal=True,
                                  key="colour_by") == "£ per head":
        layer["allocation_per_head"] = layer["allocation_per_head"].where(layer["eligible"])
        spec = replace(spec, value_column="allocation_per_head", value_label="Allocation, £ per head",
                       darker_means="more £ per head", extremes=("least per head", "most per head"))
        classes = classify_values(layer["allocation_per_head"].where(layer["allocation_per_head"] > 0), "quantiles", 5,
                                  extremes=spec.extremes)
        return View(layer, spec, True, classification=classes, panel=panel)
    return View(layer, spec, True, classification=_classification(layer, reference is not None), panel=panel)


def _release_label(ind) -> str:
    """'IoD2019 File 7' … from the table's own headers, or a plain phrase."""
    from geo.catalogue import recognise_release

    layout = recognise_release([str(c) for c in ind.frame.columns])
    return layout.release if layout else "this release"


def _panel(rule: Rule, table: pd.DataFrame, with_reference: bool, reference_note: str, split: bool,
           formula: Formula, elapsed_ms: float, labels: dict[str, str], vintage: str = "",
           reconciliation=None) -> None:
    eligible = table[table["eligible"]]
    st.subheader("Who qualifies")
    st.markdown(f"**{md(rule.name)}** — {md(rule.describe(labels))}.")
    covered = eligible["population"].sum() / table["population"].sum() if table["population"].sum() else 0
    of = f"districts of {vintage}" if vintage else "districts"
    st.markdown(f"- Eligible districts: **{len(eligible):,} of {len(table):,}** ({of})\n"
                f"- Population covered: **{eligible['population'].sum():,.0f}** ({covered:.1%})")
    if rule.source:
        st.caption(f"Source of the rule: {md(rule.source)}")
    if with_reference:
        counts = table["status"].value_counts()
        rec = recovery(table)
        st.markdown(f"- Against the 88 NRF authorities of 2001, which fall in {rec.districts} {of}: the rule recovers "
                    f"**{rec.districts_recovered} of {rec.districts}** {of} "
                    f"(**{rec.authorities_recovered} of {rec.authorities}** authorities of 2001)\n"
                    f"- {of.capitalize()}: stays eligible **{counts.get('stays eligible', 0)}**, "
                    f"newly eligible **{counts.get('newly eligible', 0)}**, no longer eligible "
                    f"**{counts.get('no longer eligible', 0)}**; successors of NRF districts abolished in 2009: "
                    f"eligible **{counts.get('successor eligible', 0)}**, not eligible "
                    f"**{counts.get('successor not eligible', 0)}**")
        for note in table.loc[table["reference_note"] != "", "reference_note"]:
            st.caption(md(note) + ".")
        with st.expander(f"Missed ({len(rec.missed)}) and added ({len(rec.added)})"):
            st.markdown(f"**Missed** (NRF 2001, not eligible under this rule): {md(', '.join(rec.missed) or 'none')}")
            st.markdown(f"**Added** (eligible, not NRF 2001): {md(', '.join(rec.added) or 'none')}")
        st.caption(md(verification_sentence()))
    elif reference_note:
        st.caption(f"No comparison with the NRF 88: {md(reference_note)}")
    st.caption(f"Re-evaluated in {elapsed_ms:.0f} ms.")
    if split:
        st.markdown(f"**Allocation:** {md(formula.describe())} Total: **£{table['allocation'].sum():,.2f}**.")
    if reconciliation is not None:
        with st.expander(f"Reconciliation with the actual NRF allocations ({reconciliation.compared} districts)"):
            st.markdown(md(reconciliation.sentence()))
            st.caption("Shares of their pots: the atlas allocates the pot over the districts holding the NRF 88; the "
                       "actual shares are the allocations read from Hansard over that year's NRF pot (£200m, £300m, "
                       "£400m in 2001–02 to 2003–04).")
            st.dataframe(reconciliation.table, hide_index=True, height=260)
            st.download_button("Download the reconciliation (CSV)", lambda: csv_bytes(reconciliation.table),
                               "nrf_reconciliation.csv", "text/csv", key="recon_csv")
    columns = ["district_code", "name", "eligible", "reasons"] + \
        (["status", "reference", "reference_note"] if with_reference else []) + \
        (["allocation", "allocation_per_head"] if split else []) + ["population", "lsoa_count"]
    shown = table[columns].sort_values(["eligible", "district_code"], ascending=[False, True])
    st.dataframe(shown, hide_index=True, height=320)
    st.download_button("Download eligibility (CSV)", lambda: csv_bytes(shown), "eligibility.csv",
                       "text/csv", key="elig_csv")
    st.download_button("Save this rule (.toml)", rule.to_toml().encode(), "rule.toml", "application/toml",
                       key="rule_toml")
    st.caption("The page address now carries this rule: copy it to share the view.")
