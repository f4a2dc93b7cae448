"""The join report panel: what matched, what did not (both ways), clean-ups, conversions and duplicates."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from geo.present.export import csv_zip_bytes
from geo.link.join import unmatched_table
from ui.common import md


def _zipped(frame: pd.DataFrame, name: str, title: str, report) -> bytes:
    """A diagnostic table of the join as a zip with its about.txt: what was joined to what."""
    return csv_zip_bytes(frame, name=name, title=title,
                         source=f"the join of the table ({report.indicator_vintage or report.indicator_code}) to the "
                                f"boundaries ({report.vintage or report.boundary_code})",
                         release=report.level or "", notes=(report.accounting(),))


def show_report(report, read_messages: list[str], title: str = "How well it joins", key: str = "j") -> None:
    st.subheader(title)
    st.markdown(
        f"- Areas with data: **{report.matched:,} of {report.boundary_rows:,}** ({report.share_matched:.1%})\n"
        f"- Areas without data: **{len(report.boundaries_without_data):,}**\n"
        f"- Data rows without an area: **{len(report.data_without_boundary):,}** of {report.indicator_rows:,}\n"
        f"- Duplicate codes: **{len(report.duplicates):,}**\n"
        f"- Every table row: **{md(report.accounting())}**")
    st.caption(f"Geography: **{md(report.level)}** · Boundaries: **{md(report.vintage)}** · "
               f"Table: **{md(report.indicator_vintage)}** · codes from {md(report.boundary_code)} ↔ "
               f"{md(report.indicator_code)}")
    shown = set()
    for msg in read_messages + report.messages:  # the notes the command line prints on stderr, once each
        if msg not in shown:
            shown.add(msg)
            st.info(md(msg))
    if report.normalisations:
        with st.expander(f"Code clean-ups ({len(report.normalisations)})"):
            for n in report.normalisations:
                st.markdown("• " + md(n))
    if report.conversion:
        with st.expander("Conversion to the boundaries' codes"):
            for line in report.conversion.get("methods", []):
                st.markdown("• " + md(line))
            missed = [(reason, code) for reason, codes in report.conversion.get("not_converted", {}).items()
                      for code in codes]
            if missed:
                frame = pd.DataFrame(missed, columns=["reason", "code"])
                st.dataframe(frame, hide_index=True, height=180)
                st.download_button("Download codes not converted (CSV + about.txt, zip)",
                                   _zipped(frame, "not_converted", "Codes not converted to the boundaries' codes",
                                           report), "not_converted.zip", "application/zip", key=f"{key}_notconv")
    dups = [d for d in report.duplicates]
    if dups:
        with st.expander(f"Duplicate codes ({len(dups)})"):
            st.dataframe(pd.DataFrame(dups), hide_index=True)
    unmatched = unmatched_table(report)
    if not unmatched.empty:
        with st.expander(f"Unmatched codes ({len(unmatched):,})"):
            st.dataframe(unmatched, hide_index=True, height=200)
        st.download_button("Download unmatched codes (CSV + about.txt, zip)",
                           _zipped(unmatched, "unmatched_codes", "Codes that did not match, both ways", report),
                           "unmatched_codes.zip", "application/zip", key=f"{key}_unmatched")
    st.download_button("Download join report (JSON)", json.dumps(report.to_dict(), indent=2).encode(),
                       "join_report.json", "application/json", key=f"{key}_report")
