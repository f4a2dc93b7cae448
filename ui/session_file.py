"""Sidebar 'Save or restore this session': the uploaded files and the view, to a file and back.

Saving writes geo.state.session_file's zip (uploaded files + the page-address parameters of the view).
Restoring reads it back with the same checks as any upload, keeps the files in the session (they
are used while no new files are uploaded), puts the view's parameters in the address, and lets
ui/permalink seed the widgets on the next run exactly as when a shared link is opened, so
anything no longer on offer gives a notice rather than an error.
"""

from __future__ import annotations

import streamlit as st

from geo.errors import AtlasError
from geo.state.session_file import VIEW_PARAMS, pack_session, unpack_session
from geo.settings import setting
from ui import permalink
from ui.common import lazy_expander, md, show_error

RESTORED = "_restored_files"
_NOTICES = "_session_notices"
_ERROR = "_session_error"


def restored_inputs() -> dict | None:
    """The files of a restored session in the form choose_inputs returns, or None."""
    files = st.session_state.get(RESTORED)
    if not files:
        return None
    st.sidebar.caption("Using the files of the restored session: " + ", ".join(md(name) for _, name in files.values()))
    return {"demo": False, "lsoa": files["lsoa"], "table": files["table"], "district": files.get("district"),
            "restored": True}


def _restore() -> None:
    upload = st.session_state.get("session_upload")
    if upload is None:
        return
    try:
        session = unpack_session(upload.getvalue(), upload.name)
    except AtlasError as exc:
        st.session_state[_ERROR] = exc
        return
    if session.files:
        st.session_state[RESTORED] = session.files
    permalink.set_params(**{name: None for name in VIEW_PARAMS})
    permalink.set_params(**session.view)
    permalink.restart()
    names = ", ".join(name for _, name in session.files.values())
    st.session_state[_NOTICES] = ([f"Restored the session{f' with {names}' if names else ''}."] + session.notices)


def session_panel(inputs: dict | None) -> None:
    """The expander: a download of this session (when there is a view to save) and an uploader to restore one."""
    for notice in st.session_state.pop(_NOTICES, []):  # outside the expander, which a rerun may close
        st.sidebar.info(md(notice))
    if _ERROR in st.session_state:
        with st.sidebar:
            show_error(st.session_state.pop(_ERROR))
    box, opened = lazy_expander("Save or restore this session", "panel_session", where=st.sidebar)
    with box:
        if not opened:
            return
        if inputs is not None:
            uploaded = inputs.get("restored") or st.session_state.get("_data_id") == "upload"
            files = {role: inputs.get(role) for role in ("lsoa", "table", "district")} if uploaded else {}
            view = {k: v for k, v in permalink.address().items() if k in VIEW_PARAMS}
            size = sum(len(f[0]) for f in files.values() if f)
            if size > int(setting("max_session_mb")) * 1024 * 1024:
                st.caption(f"These files ({size / 1e6:.0f} MB) are too large to save in a session "
                           f"(limit {setting('max_session_mb')} MB).")
                files = {}
            st.download_button("Save this session (.zip)", lambda: pack_session(files, view), "atlas_session.zip",
                               "application/zip", on_click="ignore", key="session_save",
                               help="Your uploaded files and the view, in one file to restore later.")
        st.file_uploader("Restore a saved session", type=["zip"], key="session_upload", on_change=_restore)
        if st.session_state.get(RESTORED) and st.button("Forget the restored files", key="session_forget"):
            st.session_state.pop(RESTORED, None)
            st.rerun()
