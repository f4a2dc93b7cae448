"""The area profile's own panel: headlines, the spine chart of every domain, summaries, priority neighbourhoods,
the local gap, NRF and target status. The view itself is geo.views.profile (numbers: geo.derive.profile)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.present import numbers
from geo.present.export import csv_zip_bytes
from ui.common import md


def panel(result) -> None:
    x = result.extra
    if "profile" not in x:  # the view could not be built as asked: the map beside says why
        return
    p = x["profile"]
    with st.container(key="atlas_profile"):
        st.subheader(f"Area profile: {p.name}")
        st.markdown("\n".join(f"- {md(h)}" for h in result.headlines))
        st.markdown("**Every domain against England's districts**")
        if x["spine_svg"]:
            # Raw SVG (every text escaped by spine_svg, no scripts), as the comparison draws it.
            st.markdown(f'<div class="atlas-spine">{x["spine_svg"]}</div>', unsafe_allow_html=True)
        st.caption(md(x["spine_note"]))
        with st.expander("District summaries and national ranks (1 = most deprived)"):
            s = x["summaries"]
            if not s.empty:
                st.dataframe(pd.DataFrame({"District": s["district"], "Measure": s["measure"], "Summary": s["summary"],
                                           "Value": [numbers.fmt(v, _summary_kind(k)) for v, k in zip(s["value"], s["summary_id"]
                                                                                      if "summary_id" in s else
                                                                                      [""] * len(s))],
                                           "National rank": [numbers.position(r, n) if pd.notna(r) else
                                                             numbers.NO_DATA
                                                             for r, n in zip(s["national_rank"], s["of"])]}),
                             hide_index=True)
        with st.expander(f"Priority neighbourhoods ({len(x['priority'])}: England's most deprived 20% on the IMD)",
                         expanded=True):
            pr = x["priority"]
            st.dataframe(pd.DataFrame({"LSOA": pr["name"] + " (" + pr["code"] + ")", "Band": pr["priority"],
                                       "IMD rank": [numbers.rank(r) for r in pr["imd_rank"]],
                                       "Worst domains": pr["worst_domains"]}), hide_index=True)
        with st.expander("Local gap: priority neighbourhoods against the rest", expanded=True):
            g = x["gaps"]
            st.dataframe(pd.DataFrame({"Domain": g["label"],
                                       "Priority (mean score)": [numbers.score(v) for v in g["priority_mean_score"]],
                                       "Rest (mean score)": [numbers.score(v) for v in g["rest_mean_score"]],
                                       "Gap": [numbers.score(v, signed=True) for v in g["gap"]],
                                       "Gap (England SDs)": [numbers.score(v, decimals=2, signed=True)
                                                             for v in g["gap_in_england_sd"]]}), hide_index=True)
            st.caption(md(x["gap_note"]))
        table = next(iter(result.tables.values()))
        about = x.get("provenance") or {"source": "the loaded table", "release": "the loaded release", "year": None}
        st.download_button("Download the profile (CSV and about.txt, zip)",
                           lambda: csv_zip_bytes(table, name=f"profile_{'_'.join(p.codes)}",
                                                 title=f"Area profile: {p.name}", **about),
                           f"profile_{'_'.join(p.codes)}.zip", "application/zip", on_click="ignore")


def _summary_kind(summary_id: object) -> str:
    """The kind of a district summary's value (geo.views.classes.SUMMARY_KINDS), scores by default."""
    from geo.views.classes import SUMMARY_KINDS

    return SUMMARY_KINDS.get(str(summary_id), "score")
