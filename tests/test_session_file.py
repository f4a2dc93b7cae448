"""Saved sessions: pack/unpack (table-driven hostile archives) and the app restoring one (AppTest)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from streamlit.testing.v1 import AppTest

from geo.errors import FileTooLarge, UnsupportedFile
from geo.state.session_file import FORMAT, pack_session, unpack_session
from tests.cases import REPO, geojson_bytes, squares

LSOA = geojson_bytes(squares(3))
TABLE = b"code,value,other\nE01000001,1,9\nE01000002,2,8\nE01000003,3,7\n"


def _zip(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _settings(**extra) -> bytes:
    return json.dumps({"format": FORMAT, "version": 1, "view": {"data": "upload"},
                       "files": {"lsoa": "a.geojson", "table": "t.csv"}, **extra}).encode()


def test_round_trip_keeps_bytes_names_and_view():
    data = pack_session({"lsoa": (LSOA, "my areas.geojson"), "table": (TABLE, "../../etc/t.csv"), "district": None},
                        {"data": "upload", "view": "lsoas", "column": "other", "k": 4, "not_a_view_param": "x"})
    session = unpack_session(data)
    assert session.files == {"lsoa": (LSOA, "my areas.geojson"), "table": (TABLE, "t.csv")}  # folders dropped
    assert session.view == {"data": "upload", "view": "lsoas", "column": "other", "k": "4"}
    assert session.notices == []


def test_a_view_only_session_has_no_files():
    session = unpack_session(pack_session({}, {"data": "demo", "view": "districts", "measure": "income"}))
    assert session.files == {} and session.view["measure"] == "income"


def test_unknown_settings_and_members_are_ignored_with_a_notice():
    data = _zip({"session.json": json.dumps({"format": FORMAT, "version": 1, "theme": "dark",
                             "view": {"data": "upload", "colour_of_sky": "blue", "k": ["not", "text"]},
                             "files": {"lsoa": "a.geojson", "table": "t.csv"}}).encode(),
                 "files/lsoa": LSOA, "files/table": TABLE, "notes.txt": b"hello"})
    session = unpack_session(data)
    assert session.view == {"data": "upload"} and set(session.files) == {"lsoa", "table"}
    assert session.notices == ["Ignored an unknown setting: theme.", "Ignored an unknown setting: colour_of_sky.",
                               "Ignored an unknown setting: k.", "Ignored an unexpected file in the session: notes.txt."]


def _encrypted_flag(data: bytes) -> bytes:
    buf = bytearray(data)  # set the 'encrypted' bit in every local and central header
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (i := buf.find(sig, start)) >= 0:
            buf[i + offset] |= 0x1
            start = i + 4
    return bytes(buf)


BAD = [  # (name, bytes, error class, words in the message)
    ("not a zip", b"code,value\n", UnsupportedFile, "not a saved session"),
    ("empty", b"", UnsupportedFile, "not a saved session"),
    ("truncated", pack_session({"lsoa": (LSOA, "a.geojson"), "table": (TABLE, "t.csv")}, {})[:300], UnsupportedFile,
     "damaged"),
    ("no settings", _zip({"files/lsoa": LSOA, "files/table": TABLE}), UnsupportedFile, "no session.json"),
    ("someone else's zip", _zip({"session.json": b'{"format": "other"}'}), UnsupportedFile, "not a saved session"),
    ("settings not json", _zip({"session.json": b"\xff\xfe{"}), UnsupportedFile, "damaged"),
    ("settings a list", _zip({"session.json": b"[1]"}), UnsupportedFile, "not a saved session"),
    ("half the data", _zip({"session.json": _settings(), "files/lsoa": LSOA}), UnsupportedFile, "only one of"),
    ("too many members", _zip({"session.json": _settings(), **{f"files/x{i}": b"x" for i in range(10)}}),
     FileTooLarge, "holds 11 files"),
    ("zip bomb", _zip({"session.json": _settings(), "files/table": b"0" * 20_000_000}), FileTooLarge, "zip bomb"),
    ("encrypted", _encrypted_flag(_zip({"session.json": _settings(), "files/lsoa": LSOA, "files/table": TABLE})),
     UnsupportedFile, "encrypted"),
    ("path traversal", _zip({"session.json": _settings(), "../../files/lsoa": LSOA, "files/table": TABLE}),
     UnsupportedFile, "only one of"),
]


@pytest.mark.parametrize(("name", "data", "error", "words"), BAD, ids=[b[0] for b in BAD])
def test_hostile_or_damaged_session_files_are_refused(name, data, error, words):
    with pytest.raises(error) as err:
        unpack_session(data, "s.zip")
    assert words in err.value.message and err.value.hint, err.value


def test_size_cap_on_saving_and_reading(monkeypatch):
    monkeypatch.setitem(__import__("geo.settings", fromlist=["DEFAULTS"]).DEFAULTS, "max_session_mb", 1)
    big = b"x" * (2 * 1024 * 1024)
    with pytest.raises(FileTooLarge, match="limited to 1 MB"):
        pack_session({"lsoa": (big, "a.geojson"), "table": (TABLE, "t.csv")}, {})
    with pytest.raises(FileTooLarge, match="limited to 1 MB"):
        unpack_session(b"PK\x03\x04" + big)


# ------------------------------------------------------------------ the app restores a session (AppTest)

def test_app_maps_a_restored_session_and_seeds_its_view(monkeypatch, tmp_path):
    """The state a restore leaves (files kept in the session, the view in the address) gives the same map."""
    monkeypatch.setenv("ATLAS_PACKS_DIR", str(tmp_path))
    session = unpack_session(pack_session({"lsoa": (LSOA, "areas.geojson"), "table": (TABLE, "t.csv")},
                                          {"data": "upload", "view": "lsoas", "column": "other", "k": "4",
                                           "palette": "cividis"}))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.session_state["_restored_files"] = session.files
    for name, value in session.view.items():
        at.query_params[name] = value
    at.run()
    assert not at.exception and not at.error
    assert at.sidebar.radio(key="source").value == "Upload your own"
    assert at.sidebar.selectbox(key="column").value == "other"
    assert at.sidebar.slider(key="k").value == 4 and at.sidebar.selectbox(key="palette").value == "cividis"
    assert any("3 of 3" in m.value for m in at.markdown)
    assert any("areas.geojson" in c.value.replace("\\", "") for c in at.sidebar.caption)
    assert at.query_params["column"] in ("other", ["other"])  # and the address carries the column again
