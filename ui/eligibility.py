"""The eligibility view's own UI: the rule control (preset, file or link, with what-if thresholds) and its panel.

The view itself (evaluation, reference, allocation, map) is geo.views.eligibility.
"""

from __future__ import annotations

from dataclasses import replace

import streamlit as st

from geo.derive.eligibility import Rule, parse_rule, presets, retitled, threshold_of, with_threshold
from geo.errors import AtlasError
from geo.present import numbers
from geo.present.export import csv_zip_bytes
from geo.views.eligibility import TABLE_KINDS, domain_frames, encode_rule, rule_from
from ui import permalink
from ui.common import md, show_error
from ui.params import custom


@custom("eligibility", "rule", encode=encode_rule)
def rule_control(data, values: dict) -> Rule:
    """The rule from an uploaded file, the link or the chosen preset, then its what-if thresholds."""
    domains = tuple(domain_frames(data))
    rule = _starting_rule(domains)
    return _what_if(rule, len(data.districts))


def _starting_rule(domains: tuple[str, ...]) -> Rule:
    rules = presets()
    upload = st.sidebar.file_uploader("Open a rule file (.toml)", type=["toml"], key="rule_file")
    if upload is not None:
        try:
            return parse_rule(upload.getvalue().decode("utf-8", errors="replace"), domains)
        except AtlasError as exc:
            show_error(exc)
    linked = permalink.linked("rule")
    if linked is not None and not st.session_state.get("rule_from_url_used"):
        st.session_state["rule_from_url_used"] = True
        if linked in rules:
            st.session_state["rule_choice"] = linked
        else:
            try:
                st.session_state["rule_from_url"] = rule_from(linked, domains)
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
        t = threshold_of(c, n_districts)  # AtlasError listing the kinds if c.kind is unknown
        num = int if t.integer else float
        widget = st.sidebar.slider if t.slider else st.sidebar.number_input
        value = widget(f"{i + 1}. {t.label}", num(t.low), num(t.high), num(getattr(c, t.field)), num(t.step),
                       key=f"{t.key}_{key}")
        conditions.append(with_threshold(c, value))
    name = st.sidebar.text_input("Rule name (for saving and sharing)", rule.name, key=f"name_{rule.name}").strip()
    edited = replace(rule, combine=combine, conditions=tuple(conditions))
    if edited != rule and name == rule.name:
        # A changed rule never passes under the preset's name, and its name follows its N ("60 most deprived").
        name = retitled(name, rule, edited) + " (what-if)"
    return replace(edited, name=name or "Unnamed rule")


def panel(result) -> None:
    """Who qualifies: counts, recovery against the NRF 2001 list, allocation and its reconciliation, the table."""
    x = result.extra
    if "rule" not in x:  # the view could not be built as asked: the map beside says why
        return
    rule, table, labels, vintage = x["rule"], x["table"], x["labels"], x["vintage"]
    eligible = table[table["eligible"]]
    st.subheader("Who qualifies")
    st.markdown(f"**{md(rule.name)}** — {md(rule.describe(labels))}.")
    covered = eligible["population"].sum() / table["population"].sum() if table["population"].sum() else 0
    of = f"districts of {vintage}" if vintage else "districts"
    st.markdown(f"- Eligible districts: **{numbers.count(len(eligible))} of {numbers.count(len(table))}** ({of})\n"
                f"- Population covered: **{numbers.count(eligible['population'].sum())}** "
                f"({numbers.share(covered)})")
    if rule.source:
        st.caption(f"Source of the rule: {md(rule.source)}")
    if x["with_reference"]:
        counts = table["status"].value_counts()
        rec = x["recovery"]
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
        st.caption(md(x["verification"]))
    elif x["reference_note"]:
        st.caption(f"No comparison with the NRF 88: {md(x['reference_note'])}")
    st.caption(f"Re-evaluated in {numbers.count(x['elapsed_ms'])} ms.")
    about = x.get("provenance") or {"source": "the loaded table", "release": "the loaded release", "year": None}
    if x["split"]:
        st.markdown(f"**Allocation:** {md(x['formula'].describe())} Total: "
                    f"**{numbers.money(round(table['allocation'].sum(), 2))}**.")
        if x.get("unfunded"):
            st.caption(md(x["unfunded"]))
    reconciliation = x["reconciliation"]
    if reconciliation is not None:
        with st.expander(f"Reconciliation with the actual NRF allocations ({reconciliation.compared} districts)"):
            st.markdown(md(reconciliation.sentence()))
            st.caption("Shares of their pots: the atlas allocates the pot over the districts holding the NRF 88; the "
                       "actual shares are the allocations read from Hansard over that year's NRF pot (£200m, £300m, "
                       "£400m in 2001–02 to 2003–04).")
            st.dataframe(numbers.display_table(reconciliation.table, {"ratio": "share"}), hide_index=True, height=260)
            st.download_button("Download the reconciliation (CSV and about.txt, zip)",
                               lambda: csv_zip_bytes(reconciliation.table, name="nrf_reconciliation",
                                                     title="NRF allocations: actual against the atlas' formula",
                                                     **about), "nrf_reconciliation.zip", "application/zip",
                               key="recon_csv")
    columns = ["district_code", "name", "eligible", "reasons"] + \
        (["status", "reference", "reference_note"] if x["with_reference"] else []) + \
        (["allocation", "allocation_per_head"] if x["split"] else []) + ["population", "lsoa_count"]
    shown = table[columns].sort_values(["eligible", "district_code"], ascending=[False, True])
    st.dataframe(numbers.display_table(shown, TABLE_KINDS, per_head=("allocation_per_head",)), hide_index=True,
                 height=320)
    st.download_button("Download eligibility (CSV and about.txt, zip)",
                       lambda: csv_zip_bytes(shown, name="eligibility", title=f"Fund eligibility: {rule.name}",
                                             notes=(f"Rule: {rule.describe(labels)}.",), **about),
                       "eligibility.zip", "application/zip", key="elig_csv")
    st.download_button("Save this rule (.toml)", rule.to_toml().encode(), "rule.toml", "application/toml",
                       key="rule_toml")
    st.caption("The page address now carries this rule: copy it to share the view.")
