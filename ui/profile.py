"""The area profile's own panel: headlines, the spine chart of every domain, summaries, priority neighbourhoods,
the local gap, NRF and target status. The view itself is geo.views.profile (numbers: geo.derive.profile)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from geo.present.export import csv_bytes
from geo.present.mapping import format_value
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
                                           "Value": [format_value(v) for v in s["value"]],
                                           "National rank": [f"{r:,} of {n:,}" if pd.notna(r) else "–"
                                                             for r, n in zip(s["national_rank"], s["of"])]}),
                             hide_index=True)
        with st.expander(f"Priority neighbourhoods ({len(x['priority'])}: England's most deprived 20% on the IMD)",
                         expanded=True):
            pr = x["priority"]
            st.dataframe(pd.DataFrame({"LSOA": pr["name"] + " (" + pr["code"] + ")", "Band": pr["priority"],
                                       "IMD rank": [f"{int(r):,}" for r in pr["imd_rank"]],
                                       "Worst domains": pr["worst_domains"]}), hide_index=True)
        with st.expander("Local gap: priority neighbourhoods against the rest", expanded=True):
            g = x["gaps"]
            st.dataframe(pd.DataFrame({"Domain": g["label"],
                                       "Priority (mean score)": [format_value(v) for v in g["priority_mean_score"]],
                                       "Rest (mean score)": [format_value(v) for v in g["rest_mean_score"]],
                                       "Gap": [format_value(v) for v in g["gap"]],
                                       "Gap (England SDs)": [f"{v:.2f}" if pd.notna(v) else "–"
                                                             for v in g["gap_in_england_sd"]]}), hide_index=True)
            st.caption(md(x["gap_note"]))
        table = next(iter(result.tables.values()))
        st.download_button("Download the profile (CSV)", lambda: csv_bytes(table), f"profile_{'_'.join(p.codes)}.csv",
                           "text/csv", on_click="ignore")
