"""A saved session: the user's uploaded files and the settings that define the view, in one zip.

    session.json          {"format": FORMAT, "version": 1, "view": {param: text}, "files": {role: name}}
    files/lsoa            the uploaded boundary file's bytes (role names are ours, never the user's paths)
    files/table           the uploaded indicator table
    files/district        the optional district boundaries

`view` holds the same parameters as the page address (ui/permalink.py), so restoring a session
goes through the same checks as opening a link: anything not on offer gives a notice, never an
error. Reading a session back applies the upload checks: a size cap, the zip checks of
`geo.load.io.check_zip` (member count, unpacked size, compression ratio, encryption) before anything
is unpacked, and the restored files are later read by the same sniffing readers as any upload.
Unknown settings and members are ignored with a notice.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath, PureWindowsPath

from geo.errors import AtlasError, FileTooLarge, UnsupportedFile
from geo.load.io import check_zip
from geo.settings import setting
from geo.state.story import VIEW_PARAMS  # the page-address parameters a view is made of: one list for stories and sessions

FORMAT = "neighbourhood-renewal-atlas-session"
VERSION = 1
ROLES = ("lsoa", "table", "district")
MAX_SETTINGS_BYTES = 200_000
MAX_NAME = 200


@dataclass
class Session:
    """A session read back: files by role as (bytes, name), the view's parameters, and what was ignored."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    view: dict[str, str] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)


def _limit() -> int:
    return int(setting("max_session_mb")) * 1024 * 1024


def _safe_name(name: object, role: str) -> str:
    """The base name of an uploaded file (no folders, no control characters, bounded length)."""
    text = str(name or "")
    text = PureWindowsPath(PurePosixPath(text).name).name
    text = "".join(ch for ch in text if ch.isprintable()).strip()
    return text[:MAX_NAME] or f"{role} file"


def pack_session(files: dict[str, tuple[bytes, str] | None], view: dict[str, object]) -> bytes:
    """The session as zip bytes. `files` maps roles to (bytes, name); `view` the page-address parameters."""
    kept = {role: f for role, f in files.items() if f is not None and role in ROLES}
    settings = {"format": FORMAT, "version": VERSION,
                "view": {k: str(v) for k, v in view.items() if k in VIEW_PARAMS and v is not None},
                "files": {role: _safe_name(name, role) for role, (_, name) in kept.items()}}
    size = sum(len(data) for data, _ in kept.values())
    if size > _limit():
        raise FileTooLarge(f"This session's files total {size / 1e6:.0f} MB; a saved session is limited to "
                           f"{_limit() / 1e6:.0f} MB.", "Save smaller files, or raise max_session_mb in geo/settings.py.")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        zf.writestr("session.json", json.dumps(settings, indent=2, ensure_ascii=False))
        for role, (data, _) in kept.items():  # stored as they are: no compression ratio to mistrust
            zf.writestr(f"files/{role}", data, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()


def unpack_session(data: bytes, display: str = "session file") -> Session:
    """Read a saved session back, refusing anything damaged, oversized or not a session (AtlasError)."""
    if len(data) > _limit():
        raise FileTooLarge(f"'{display}' is {len(data) / 1e6:.0f} MB; a saved session is limited to "
                           f"{_limit() / 1e6:.0f} MB.", "Choose a session file saved by the atlas.")
    if not data.startswith(b"PK\x03\x04"):
        raise UnsupportedFile(f"'{display}' is not a saved session (not a zip file).",
                              "Choose the .zip the atlas saved with 'Save this session'.")
    try:
        return _unpack(data, display)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as exc:
        raise UnsupportedFile(f"'{display}' is damaged: {exc}.", "Save the session again.") from exc


def _read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    with zf.open(info) as fh:
        out = fh.read(cap + 1)  # never more than the cap, whatever the header claims
    if len(out) > cap:
        raise FileTooLarge(f"'{info.filename}' unpacks to more than {cap / 1e6:.0f} MB.", "Save the session again.")
    return out


def _unpack(data: bytes, display: str) -> Session:
    advice = ("A saved session holds session.json and up to three files.", "Save smaller files in the session.",
              "Save the session again with the atlas.")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {i.filename: i for i in check_zip(zf, display, max_members=len(ROLES) + 1, advice=advice)}
        if "session.json" not in members:
            raise UnsupportedFile(f"'{display}' is not a saved session (no session.json).",
                                  "Choose the .zip the atlas saved with 'Save this session'.")
        try:
            settings = json.loads(_read_member(zf, members["session.json"], MAX_SETTINGS_BYTES).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise UnsupportedFile(f"The settings in '{display}' are damaged ({exc}).", "Save the session again.") from exc
        if not isinstance(settings, dict) or settings.get("format") != FORMAT:
            raise UnsupportedFile(f"'{display}' is not a saved session of the atlas.",
                                  "Choose the .zip the atlas saved with 'Save this session'.")
        session = Session()
        if not isinstance(settings.get("version"), int) or settings["version"] > VERSION:
            session.notices.append(f"This session was saved by a newer version of the atlas (format "
                                   f"{settings.get('version')!r}); settings this version does not know are ignored.")
        for key in sorted(set(settings) - {"format", "version", "view", "files"}):
            session.notices.append(f"Ignored an unknown setting: {key}.")
        view = settings.get("view") if isinstance(settings.get("view"), dict) else {}
        for key, value in view.items():
            if key in VIEW_PARAMS and isinstance(value, (str, int, float)) and not isinstance(value, bool):
                session.view[key] = str(value)
            else:
                session.notices.append(f"Ignored an unknown setting: {key}.")
        names = settings.get("files") if isinstance(settings.get("files"), dict) else {}
        for name in members:
            role = name.removeprefix("files/")
            if name == "session.json":
                continue
            if not name.startswith("files/") or role not in ROLES:
                session.notices.append(f"Ignored an unexpected file in the session: {name}.")
                continue
            content = _read_member(zf, members[name], int(setting("max_file_mb")) * 1024 * 1024)
            if content:
                session.files[role] = (content, _safe_name(names.get(role), role))
        if ("lsoa" in session.files) != ("table" in session.files):
            raise UnsupportedFile(f"'{display}' holds only one of the boundary file and the table.",
                                  "Save the session again once both are uploaded.")
        return session


__all__ = ["AtlasError", "FORMAT", "Session", "VIEW_PARAMS", "pack_session", "unpack_session"]
