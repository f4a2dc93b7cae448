"""Sidebar: "Find a postcode" — the LSOA and district of a postcode in the open pack, and its values."""

from __future__ import annotations

import streamlit as st

from geo.errors import AtlasError
from geo.load.packs import Pack, lookup_postcode
from ui.common import md


def find_postcode(pack: Pack | None, values=None) -> str | None:
    """Draw the box; return the LSOA code of the postcode typed (for the map's focus), else None.

    `values`, if given, is a callable LSOA code → {label: value} (the open view's values) shown under the match.
    """
    if pack is None or "postcodes" not in pack.manifest:
        return None
    with st.sidebar.expander("Find a postcode", expanded=bool(st.session_state.get("postcode"))):
        text = st.text_input("Postcode", key="postcode", placeholder="e.g. TS24 8AA",
                             help="Any common form: ts248aa, TS24 8AA, TS248AA.")
        if not text.strip():
            return None
        try:
            match = lookup_postcode(pack, text)
        except AtlasError as exc:
            st.warning(f"{md(exc.message)} {md(exc.hint)}")
            return None
        if match is None:
            st.warning(f"{md(text.strip().upper())} is not in this pack's postcode lookup (in England?).")
            return None
        st.markdown(f"**{md(match.postcode)}** is in **{md(match.lsoa_name)}** ({md(match.lsoa)}), "
                    f"**{md(match.district_name)}** ({md(match.district)}).")
        if match.terminated:
            st.caption("This postcode is terminated (no longer in use); its last LSOA is shown.")
        if values is not None:
            for label, value in (values(match.lsoa) or {}).items():
                st.caption(f"{md(label)}: {md(value)}")
        return match.lsoa


def area_values(result, code: str) -> dict[str, object]:
    """The open view's value and tooltip figures for one area of its layer (empty when it is not on the map)."""
    spec, layer = result.spec, result.layer
    rows = layer[layer[spec.code_column].astype("string").str.strip().str.upper() == code.upper()]
    if rows.empty:
        return {}
    row = rows.iloc[0]
    return {spec.value_label: row[spec.value_column],
            **{label: row[col] for label, col in spec.tooltip_columns if col in row.index}}


def focus_on(result, data, lsoa: str) -> str:
    """The code the map should zoom to: the LSOA when it is on the map, else its district (a districts map)."""
    codes = set(result.layer[result.spec.code_column].astype("string").str.strip().str.upper())
    if lsoa.upper() in codes or data.ind is None or not data.ind.district_column:
        return lsoa
    frame = data.ind.frame
    rows = frame[frame[data.ind.code_column].astype("string").str.strip().str.upper() == lsoa.upper()]
    return str(rows[data.ind.district_column].iloc[0]).strip().upper() if len(rows) else lsoa
