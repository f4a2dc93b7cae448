"""Data packs: folders the app opens (boundary layers, an indicator table and a manifest).

A pack is complete only when its `pack.json` manifest exists: builders write everything into a
hidden working folder, verify it, write the manifest last and then move the folder into place in
one rename, so the app never sees a half-written pack. The manifest records every file's size and
SHA-256; a pack whose files are missing, truncated or changed is refused (and not listed) until it
is built again. Downloads go to a `.part` name and are renamed only when complete (and, where a
checksum is known, verified); they resume (HTTP Range; ArcGIS pages already fetched are kept) from
`<packs>/.downloads/<release>/`. A full disk or a stalled server gives a PackError saying so.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from geo.catalogue import measures, recognise_columns
from geo.link.codes import normalise_codes
from geo.errors import AtlasError
from geo.load.io import read_boundaries, read_table

MANIFEST = "pack.json"
REPO = Path(__file__).resolve().parent.parent.parent
DEMO_MANIFEST = REPO / "indicators" / MANIFEST
RELEASES = Path(__file__).resolve().parent.parent / "reference" / "releases.toml"
Progress = Callable[[str, int, "int | None"], None]


class PackError(AtlasError):
    """A pack could not be fetched, verified or opened; the hint says what to do."""


def _quiet(stage: str, done: int, total: int | None) -> None:
    pass


@lru_cache(maxsize=1)
def releases() -> dict:
    """The release catalogue (official addresses, expected counts) from geo/reference/releases.toml."""
    with open(RELEASES, "rb") as fh:
        return tomllib.load(fh)


def packs_dir() -> Path:
    """Where built packs live: $ATLAS_PACKS_DIR, else `packs/` in the project."""
    return Path(os.environ.get("ATLAS_PACKS_DIR", REPO / "packs"))


@dataclass(frozen=True)
class Pack:
    """An opened manifest and the folder its file paths are relative to."""

    folder: Path
    manifest: dict

    @property
    def id(self) -> str:
        return self.manifest["id"]

    @property
    def label(self) -> str:
        return self.manifest["label"]

    @property
    def illustrative(self) -> bool:
        return bool(self.manifest.get("illustrative"))

    def path(self, part: str) -> Path:
        """Path of a layer ('lsoa', 'districts') or of 'table' / 'lookup'."""
        entry = self.manifest["layers"].get(part) if part in self.manifest["layers"] else self.manifest.get(part)
        if not entry:
            raise PackError(f"Pack '{self.id}' has no {part}.", "Rebuild the pack.")
        return (self.folder / entry["file"]).resolve()


def read_manifest(folder: Path) -> Pack:
    """Open a pack folder; refuses incomplete or damaged packs with a message saying what to do."""
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        raise PackError(f"'{folder.name}' is not a complete pack (no {MANIFEST}).",
                        "Build it again with `python -m geo data fetch` or `data import`.")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise PackError(f"The manifest of '{folder.name}' is damaged: {exc}.", "Build the pack again.") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("layers"), dict) or "id" not in manifest:
        raise PackError(f"The manifest of '{folder.name}' is damaged: it does not describe a pack.",
                        "Build the pack again.")
    pack = Pack(folder, manifest)
    for part in [*manifest.get("layers", {}), "table", *(p for p in ("lookup", "postcodes") if p in manifest)]:
        path = pack.path(part)
        if not path.is_file():
            raise PackError(f"Pack '{pack.id}' is missing {path.name}.", "Build the pack again.")
    _verify_files(pack)
    return pack


def _verify_files(pack: Pack) -> None:
    """Every file the manifest lists has its recorded size and SHA-256 (hashes checked once per file version)."""
    for name, expected in (pack.manifest.get("files") or {}).items():
        path = (pack.folder / name).resolve()
        if pack.folder.resolve() not in path.parents:
            raise PackError(f"The manifest of pack '{pack.id}' names a file outside its folder ({name}).",
                            "Build the pack again.")
        try:
            stat = path.stat()
        except OSError:
            raise PackError(f"Pack '{pack.id}' is missing {name}.", "Build the pack again.") from None
        if stat.st_size != expected.get("bytes"):
            raise PackError(f"Pack '{pack.id}' is incomplete: {name} has {stat.st_size:,} bytes, "
                            f"{expected.get('bytes', 0):,} were written.",
                            "It was cut short or changed after it was built: build the pack again.")
        if _digest(str(path), stat.st_size, stat.st_mtime_ns) != expected.get("sha256"):
            raise PackError(f"Pack '{pack.id}' is damaged: {name} does not match the checksum recorded when it "
                            "was built.", "It was changed or corrupted on disk: build the pack again.")


@lru_cache(maxsize=64)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of one version of a file (keyed by size and modification time, so a change is hashed again)."""
    return sha256_of(Path(path))


def list_packs(root: Path | None = None, problems: list[PackError] | None = None) -> list[Pack]:
    """The embedded demo pack, then every complete pack under `root`.

    Incomplete or damaged packs are skipped; their errors are appended to `problems` if given.
    """
    found = [read_manifest(DEMO_MANIFEST.parent)]
    root = root or packs_dir()
    if root.is_dir():
        for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            try:
                found.append(read_manifest(folder))
            except PackError as exc:
                if problems is not None and (folder / MANIFEST).exists():  # a pack, not some other folder
                    problems.append(exc)
    return found


# ------------------------------------------------------------------ downloading

def mirror_url(url: str, mirror: str | None) -> str:
    """The URL on a mirror: scheme and host replaced, path and query kept."""
    if not mirror:
        return url
    base, parts = urllib.parse.urlsplit(mirror), urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((base.scheme, base.netloc, base.path.rstrip("/") + parts.path, parts.query, ""))


def _open(url: str, headers: dict[str, str], timeout: float):
    request = urllib.request.Request(url, headers={"User-Agent": "neighbourhood-renewal-atlas", **headers})
    host = urllib.parse.urlsplit(url).hostname or ""
    # A mirror on this machine is reached directly, whatever proxy the environment names.
    handlers = [urllib.request.ProxyHandler({})] if host in ("127.0.0.1", "localhost", "::1") else []
    return urllib.request.build_opener(*handlers).open(request, timeout=timeout)


def _check_scheme(url: str) -> None:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise PackError(f"Refusing to fetch '{url}': only http and https addresses are used.", "Check the mirror URL.")


def download_timeout() -> float:
    """Seconds without data before a download is abandoned: $ATLAS_DOWNLOAD_TIMEOUT, else 30."""
    try:
        return float(os.environ.get("ATLAS_DOWNLOAD_TIMEOUT", "30"))
    except ValueError:
        return 30.0


def is_disk_full(exc: BaseException) -> bool:
    """A full disk or quota (some writers, e.g. Arrow's, only say so in the text)."""
    return isinstance(exc, OSError) and (exc.errno in (errno.ENOSPC, errno.EDQUOT) or "No space left" in str(exc))


def _disk_full(exc: OSError, where: Path) -> PackError:
    return PackError(f"Not enough disk space to write {where.name} in {where.parent}.",
                     "Free some disk space (or set ATLAS_PACKS_DIR to a folder on a larger disk) and run the same "
                     "command again; nothing incomplete was kept.")


def download_file(url: str, dest: Path, progress: Progress = _quiet, what: str = "", timeout: float | None = None,
                  attempts: int = 4, manual: str = "", sha256: str = "") -> Path:
    """Download to `dest` via `dest.part` (resumed with HTTP Range); renamed only when complete and verified."""
    _check_scheme(url)
    timeout = download_timeout() if timeout is None else timeout
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    last_error: Exception | None = None
    for attempt in range(attempts):
        have = part.stat().st_size if part.exists() else 0
        try:
            with _open(url, {"Range": f"bytes={have}-"} if have else {}, timeout) as response:
                if have and response.status != 206:
                    have = 0  # the server ignored Range: start again
                length = response.headers.get("Content-Length")
                total = have + int(length) if length is not None else None
                with open(part, "ab" if have else "wb") as fh:
                    done = have
                    while chunk := response.read(1 << 16):
                        fh.write(chunk)
                        done += len(chunk)
                        progress(what or dest.name, done, total)
                if total is not None and done != total:
                    raise http.client.IncompleteRead(b"", total - done)
            if sha256 and sha256_of(part) != sha256:
                part.unlink(missing_ok=True)  # never resumed from, never renamed into place
                raise PackError(f"{what or dest.name} from {url} does not match its published checksum.",
                                "It was corrupted in transit or changed at source: run the same command again.")
            os.replace(part, dest)
            return dest
        except OSError as exc:
            if is_disk_full(exc):
                part.unlink(missing_ok=True)
                raise _disk_full(exc, dest) from exc
            if isinstance(exc, urllib.error.HTTPError):
                if exc.code == 416 and part.exists():  # asked past the end: the part file is complete or bad
                    part.unlink()
                last_error = exc
                if exc.code in (404, 403, 401, 410):
                    break
            else:
                last_error = exc
        except http.client.HTTPException as exc:
            last_error = exc
        time.sleep(min(2.0, 0.2 * (attempt + 1)))
    steps = f"\n{manual}" if manual else ""
    if isinstance(last_error, (socket.timeout, TimeoutError)) or "timed out" in str(last_error):
        error = PackError(f"The download of {what or dest.name} from {url} stalled: no data for {timeout:g} s "
                          f"({attempts} attempt{'s' if attempts != 1 else ''}).",
                          f"{server_name(url).capitalize()} or the connection is too slow right now. Run the same "
                          "command again later (it resumes where it stopped) or use a mirror." + steps)
    else:
        error = PackError(f"Could not download {what or dest.name} from {url}: {network_words(last_error, url)}.",
                          "Check the connection and run the same command again (it resumes where it stopped)."
                          + steps)
    error.not_found = isinstance(last_error, urllib.error.HTTPError) and last_error.code in (404, 410)
    raise error


def server_name(url: str) -> str:
    """The server of an address in words ("the GOV.UK file server", "the ONS ArcGIS service", a mirror …)."""
    host = urllib.parse.urlsplit(url).hostname or url
    if host.endswith("publishing.service.gov.uk") or host.endswith("www.gov.uk"):
        return "the GOV.UK file server"
    if host.endswith("arcgis.com"):
        return "the ONS ArcGIS service"
    if host in ("127.0.0.1", "localhost", "::1"):
        return f"the mirror at {urllib.parse.urlsplit(url).netloc}"
    return f"the server {host}"


def network_words(exc: BaseException | None, url: str) -> str:
    """A failed request in words: never the raw `<urlopen error …>` text."""
    server = server_name(url)
    if isinstance(exc, urllib.error.HTTPError):
        meaning = {404: "no file at this address (it may have moved)", 410: "the file was withdrawn",
                   401: "access refused", 403: "access refused"}.get(exc.code, "the request failed")
        return f"{server} answered {exc.code} {exc.reason or ''}".rstrip() + f": {meaning}"
    reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
    if isinstance(reason, socket.gaierror):
        return f"no internet connection: could not reach {server} (the name {urllib.parse.urlsplit(url).hostname} " \
               "could not be looked up)"
    if isinstance(reason, ConnectionRefusedError):
        return f"could not reach {server}: the connection was refused (is it running?)"
    if isinstance(reason, (ConnectionResetError, ConnectionAbortedError, http.client.HTTPException)):
        return f"the connection to {server} was broken off before the file was complete"
    if isinstance(reason, OSError) and reason.strerror:
        return f"could not reach {server}: {reason.strerror.lower()}"
    return f"could not reach {server} ({reason or 'no answer'})"


def _where(spec: dict) -> str:
    """The page a file is downloaded from, in words ('GOV.UK › English indices of deprivation 2019')."""
    return " › ".join(p for p in spec["manual"].split(" › ")[:-1] if p not in spec["title"]) or spec["page"]


def by_hand(release_id: str) -> str:
    """The by-hand route for a release, in numbered steps, with its pages' addresses and the command in full."""
    release = releases()[release_id]
    steps = []
    for part in ("table", "lsoa", "districts", "lookup"):
        if part in release:
            spec = release[part]
            steps.append(f"Open {_where(spec)} ({spec['page']}) and download {spec['title']}.")
    steps += ["Put the files in one folder as they were downloaded (zips and subfolders are fine).",
              f"Run: python -m geo data import --release {release_id} --from FOLDER (FOLDER is that folder), or in "
              "the app use Get real England data › Build from downloaded files."]
    return "By hand, on any computer with internet access:\n" + "\n".join(f"{i}. {s}" for i, s in enumerate(steps, 1))


def fetch_arcgis(url: str, folder: Path, progress: Progress = _quiet, what: str = "", page_size: int = 2000,
                 timeout: float | None = None, manual: str = "") -> list[dict]:
    """All features of an ArcGIS FeatureServer layer as GeoJSON features, page by page (pages kept for resume)."""
    _check_scheme(url)
    folder.mkdir(parents=True, exist_ok=True)
    features: list[dict] = []
    offset = 0
    while True:
        page = folder / f"page-{offset:07d}.json"
        if not page.exists():
            query = urllib.parse.urlencode({"where": "1=1", "outFields": "*", "f": "geojson", "outSR": 4326,
                                            "resultOffset": offset, "resultRecordCount": page_size})
            download_file(f"{url}?{query}", page, what=f"{what} (from feature {offset:,})", timeout=timeout,
                          manual=manual)
        try:
            doc = json.loads(page.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            page.unlink(missing_ok=True)
            raise PackError(f"A page of {what} was not valid GeoJSON ({exc}).", "Run the same command again.") from exc
        if "error" in doc:
            page.unlink(missing_ok=True)
            raise PackError(f"The server refused the query for {what}: {doc['error']}.",
                            "The service may have been renamed: update geo/reference/releases.toml.")
        batch = doc.get("features") or []
        features.extend(batch)
        progress(what, len(features), None)
        more = doc.get("exceededTransferLimit") or (doc.get("properties") or {}).get("exceededTransferLimit")
        if not batch or not more:
            return features
        offset += len(batch)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# ------------------------------------------------------------------ verifying and writing

def _verify_table(table: pd.DataFrame, spec: dict, label: str) -> pd.Series:
    for key in ("code", "district", "population"):
        if spec[key] not in table.columns:
            raise PackError(f"The {label} table has no column '{spec[key]}'.",
                            "It may be a different file or release: check you have File 7 of this release.")
    if not recognise_columns(list(table.columns)):
        raise PackError(f"The {label} table has no Indices of Deprivation columns.", "Check you have File 7.")
    codes, _ = normalise_codes(table[spec["code"]])
    if spec.get("rows") and len(table) != spec["rows"]:
        raise PackError(f"The {label} table has {len(table):,} rows; {spec['rows']:,} were expected.",
                        "The download may be incomplete or a different release: fetch it again.")
    if codes.duplicated().any():
        raise PackError(f"The {label} table repeats {int(codes.duplicated().sum()):,} LSOA codes.", "Fetch it again.")
    return codes


def _layer_from(features_or_gdf, spec: dict, label: str) -> gpd.GeoDataFrame:
    if isinstance(features_or_gdf, list):
        data = json.dumps({"type": "FeatureCollection", "features": features_or_gdf}).encode()
        gdf = read_boundaries(data, name=f"{label}.geojson")
    else:
        gdf = features_or_gdf
    missing = [c for c in (spec["code"], spec["name"]) if c not in gdf.columns]
    if missing:
        raise PackError(f"The {label} layer has no column {', '.join(missing)}.",
                        "The service's fields may have changed: update geo/reference/releases.toml.")
    gdf = gdf[[spec["code"], spec["name"], gdf.geometry.name]].copy()
    gdf[spec["code"]] = normalise_codes(gdf[spec["code"]])[0]
    if spec.get("england_only"):
        gdf = gdf[gdf[spec["code"]].str.startswith("E")]
    if spec.get("features") and len(gdf) != spec["features"]:
        raise PackError(f"The {label} layer has {len(gdf):,} English features; {spec['features']:,} were expected.",
                        "The download may be incomplete or from another vintage: fetch it again.")
    return gdf.sort_values(spec["code"]).reset_index(drop=True)


def _same_codes(a: set[str], b: set[str], what: str) -> None:
    if a != b:
        only_a, only_b = sorted(a - b)[:5], sorted(b - a)[:5]
        raise PackError(f"The codes of {what} do not match ({len(a - b):,} only in the first, e.g. {only_a}; "
                        f"{len(b - a):,} only in the second, e.g. {only_b}).",
                        "The files are from different releases or vintages: fetch them again.")


def prepare_pack_geometry(pack: Pack, store: Path | None = None) -> str:
    """Prepare the national LSOA map of `pack` in the app's geometry store, as the app's first map would.

    The layer is built the way the app builds its default view (the same readers, join and view registry),
    so the content key found at view time is the one written here and the pack's first map opens without
    the ~20 s of shared-border simplification. Returns the content key (for the report and the tests)."""
    from geo.present.budget import fit_to_budget
    from geo.present.mapping import prepare_map
    from geo.present.render import ViewRequest, build_view, resolve_inputs
    from geo.settings import app_geometry_store

    req = ViewRequest(params={"data": pack.id, "view": "lsoas"})
    built = build_view(req, resolve_inputs(req, packs_root=pack.folder.parent))
    layer, _ = fit_to_budget(built.result.layer, what="the map")  # as the app's map does before preparing
    prepared = prepare_map(layer, built.result.spec, Path(store) if store is not None else app_geometry_store())
    return prepared.geometry.key if prepared is not None else ""


def _prepare_after_build(pack: Pack, store: Path | None, progress: Progress) -> None:
    """prepare_pack_geometry, never failing the build: the pack is written; the app prepares at first map if not."""
    short = pack.manifest.get("short", pack.id)
    progress(f"{short}: preparing the national map's geometry", int(pack.manifest["layers"]["lsoa"]["features"]), None)
    try:
        prepare_pack_geometry(pack, store)
    except (AtlasError, OSError, ValueError) as exc:  # the app prepares it at first open instead
        progress(f"{short}: not prepared now ({exc}); the first map will prepare it", 0, None)


def write_pack(release_id: str, table: pd.DataFrame, lsoa: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
               root: Path, sources: list[dict], lookup: pd.DataFrame | None = None,
               postcodes: pd.DataFrame | None = None, geometry_store: Path | None = None, prepare: bool = True,
               progress: Progress = _quiet) -> Pack:
    """Verify the parts against each other and the release, then write the pack atomically.

    Then (`prepare`) its national LSOA map's geometry is prepared into `geometry_store` (default: the app's
    static/geometry), so the first open of the pack does not wait for it."""
    release = releases()[release_id]
    spec = release["table"]
    codes = _verify_table(table, spec, release["short"])
    _same_codes(set(codes), set(lsoa[release["lsoa"]["code"]]), "the table and the LSOA boundaries")
    table_districts = set(normalise_codes(table[spec["district"]])[0])
    _same_codes(table_districts, set(districts[release["districts"]["code"]]), "the table and the district boundaries")
    if lookup is not None:
        covered = set(normalise_codes(lookup[release["lookup"]["code"]])[0])
        if not set(codes) <= covered:
            raise PackError(f"The LSOA lookup misses {len(set(codes) - covered):,} LSOAs of the release.",
                            "Fetch the lookup again.")
    root.mkdir(parents=True, exist_ok=True)
    work = root / f".{release_id}.building"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    try:
        lsoa.to_parquet(work / "lsoa.parquet", index=False)
        districts.to_parquet(work / "districts.parquet", index=False)
        table.to_csv(work / "table.csv", index=False, encoding="utf-8-sig")
        if lookup is not None:
            lookup.to_csv(work / "lookup_lsoa11_lsoa21.csv", index=False)
        if postcodes is not None:
            postcodes.to_parquet(work / "postcodes.parquet", index=False)
        present = {c.measure for c in recognise_columns(list(table.columns)).values()}
        manifest = {
            "id": release_id, "label": release["label"], "short": release["short"], "illustrative": False,
            "published": release["published"], "national_lsoas": release["national_lsoas"],
            "lsoa_vintage": release["lsoa_vintage"], "district_vintage": release["district_vintage"],
            "attribution": release["attribution"], "licence": release["licence"],
            "layers": {
                "lsoa": {"file": "lsoa.parquet", "code": release["lsoa"]["code"], "name": release["lsoa"]["name"],
                         "features": len(lsoa), "crs": "EPSG:4326"},
                "districts": {"file": "districts.parquet", "code": release["districts"]["code"],
                              "name": release["districts"]["name"], "features": len(districts), "crs": "EPSG:4326"},
            },
            "table": {"file": "table.csv", "code": spec["code"], "district": spec["district"],
                      "population": spec["population"], "rows": len(table)},
            "indicators": [{"id": m["id"], "label": m["label"], "unit": m["unit"],
                            "direction": "higher score, lower rank and decile = more deprived",
                            "source": release["label"], "licence": release["licence"]}
                           for m in measures() if m["id"] in present],
            "sources": sources,
            "built": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        if lookup is not None:
            manifest["lookup"] = {"file": "lookup_lsoa11_lsoa21.csv"}
        if postcodes is not None:
            manifest["postcodes"] = {"file": "postcodes.parquet", "rows": len(postcodes),
                                     "terminated": int(postcodes["terminated"].sum())}
        manifest["files"] = {f.name: {"bytes": f.stat().st_size, "sha256": sha256_of(f)}
                             for f in sorted(work.iterdir()) if f.is_file()}
        (work / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        final = root / release_id
        old = root / f".{release_id}.old"
        shutil.rmtree(old, ignore_errors=True)
        if final.exists():
            os.replace(final, old)
        os.replace(work, final)
        shutil.rmtree(old, ignore_errors=True)
        pack = read_manifest(final)
    except OSError as exc:
        if is_disk_full(exc):
            raise _disk_full(exc, root / release_id) from exc
        raise PackError(f"Could not write the pack in {root}: {exc.strerror or exc}.",
                        "Check the folder is writable (ATLAS_PACKS_DIR) and run the same command again.") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if prepare:
        _prepare_after_build(pack, geometry_store, progress)
    return pack


def fetch_release(release_id: str, root: Path | None = None, mirror: str | None = None,
                  progress: Progress = _quiet, postcodes: bool = False, geometry_store: Path | None = None,
                  prepare: bool = True) -> Pack:
    """Download, verify and write a release's pack (resumable; nothing half-built is left to open)."""
    if release_id not in releases():
        raise PackError(f"Unknown release '{release_id}'.", f"Known releases: {', '.join(releases())}.")
    release = releases()[release_id]
    root = root or packs_dir()
    cache = root / ".downloads" / release_id
    sources = []
    table_spec = release["table"]
    manual = by_hand(release_id)
    if postcodes:
        _postcode_steps(release_id)  # refuse before downloading anything when the lookup cannot be fetched
    addresses = [table_spec["url"], *table_spec.get("also", [])]
    for i, address in enumerate(addresses):  # every address GOV.UK has published File 7 under, in turn
        try:
            table_path = download_file(mirror_url(address, mirror), cache / "file7.csv", progress,
                                       f"{release['short']} File 7", manual=manual,
                                       sha256=table_spec.get("sha256", ""))
            break
        except PackError as exc:
            if not getattr(exc, "not_found", False) or i == len(addresses) - 1:
                raise
    table_spec = {**table_spec, "url": address}
    digest = sha256_of(table_path)
    if table_spec.get("sha256") and digest != table_spec["sha256"]:
        table_path.unlink()
        raise PackError(f"{release['short']} File 7 does not match its published checksum.",
                        "It was corrupted in transit or changed at source: run the command again.")
    try:
        table = read_table(table_path)
        _verify_table(table, table_spec, release["short"])
    except AtlasError as exc:
        table_path.unlink(missing_ok=True)  # never trust a bad download on the next run
        raise PackError(f"{release['short']} File 7 is not usable: {exc.message}",
                        "It was deleted; run the command again.\n" + manual) from exc
    sources.append({"part": "table", "url": table_spec["url"], "sha256": digest, "bytes": table_path.stat().st_size})
    layers = {}
    for part in ("lsoa", "districts"):
        spec = release[part]
        features = fetch_arcgis(mirror_url(spec["url"], mirror), cache / part, progress,
                                f"{release['short']} {part} boundaries", spec.get("page_size", 2000),
                                manual=manual)
        try:
            layers[part] = _layer_from(features, spec, f"{release['short']} {part}")
        except AtlasError as exc:
            shutil.rmtree(cache / part, ignore_errors=True)
            raise PackError(exc.message, exc.hint + "\n" + manual) from exc
        sources.append({"part": part, "url": spec["url"], "features": len(layers[part])})
    lookup = None
    if "lookup" in release:
        spec = release["lookup"]
        rows = fetch_arcgis(mirror_url(spec["url"], mirror), cache / "lookup", progress,
                            f"{release['short']} LSOA lookup", spec.get("page_size", 2000), manual=manual)
        lookup = pd.DataFrame([f.get("properties") or {} for f in rows])
        missing = [c for c in spec["columns"] if c not in lookup.columns]
        if missing:
            shutil.rmtree(cache / "lookup", ignore_errors=True)
            raise PackError(f"The LSOA lookup has no column {', '.join(missing)}.", manual)
        lookup = lookup[spec["columns"]]
        sources.append({"part": "lookup", "url": spec["url"], "rows": len(lookup)})
    codes_of_postcodes = None
    if postcodes:
        codes_of_postcodes = _fetch_postcodes(release_id, cache, mirror, progress, manual)
        sources.append({"part": "postcodes", "url": release["postcodes"]["url"], "rows": len(codes_of_postcodes)})
        codes = set(normalise_codes(table[table_spec["code"]])[0])
        codes_of_postcodes = _postcodes_of(codes_of_postcodes, codes, [])
    pack = write_pack(release_id, table, layers["lsoa"], layers["districts"], root, sources, lookup,
                      postcodes=codes_of_postcodes, geometry_store=geometry_store, prepare=prepare, progress=progress)
    shutil.rmtree(cache, ignore_errors=True)
    return pack


# ------------------------------------------------------------------ importing files the user downloaded

TABLE_SUFFIXES = (".csv", ".csv.gz", ".xlsx")
BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".parquet")


@dataclass
class ImportReport:
    """What an import looked at: the files used (part → name) and every other candidate with the reason."""

    used: dict[str, str]
    not_used: list[tuple[str, str]]
    notes: list[str]

    def lines(self) -> list[str]:
        out = [f"used for {part}: {name}" for part, name in self.used.items()]
        out += [f"not used: {name} — {reason}" for name, reason in self.not_used]
        return out + [f"note: {n}" for n in self.notes]


@dataclass
class _Candidate:
    display: str          # the path relative to the chosen folder ('zip/member' inside an archive)
    source: Path | bytes
    kind: str             # "table" | "boundaries"


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _gather(folder: Path, report: ImportReport) -> list[_Candidate]:
    """Every table or boundary file under `folder` (subfolders, zips; symlinks only where they resolve inside)."""
    root = folder.resolve()
    found: list[_Candidate] = []
    seen: dict[Path, str] = {}
    stack = [(folder, root)]
    visited_dirs = {root}
    while stack:
        here, _ = stack.pop()
        try:
            entries = sorted(here.iterdir(), key=lambda p: p.name.lower())
        except OSError as exc:
            report.not_used.append((str(here.relative_to(folder)) + "/", f"could not be read ({exc.strerror or exc})"))
            continue
        subdirs = []
        for path in entries:
            display = str(path.relative_to(folder))
            if path.name.startswith("."):
                continue
            target = path
            if path.is_symlink():
                try:
                    target = path.resolve(strict=True)
                except (OSError, RuntimeError):
                    report.not_used.append((display, "a broken symbolic link"))
                    continue
                if _inside(target, root):
                    display += f" → {target.relative_to(root)}"
                else:
                    report.not_used.append((display, f"a symbolic link to {target}, outside {folder}: not followed "
                                                     "(copy the file into the folder instead)"))
                    continue
            if target.is_dir():
                if target not in visited_dirs:
                    visited_dirs.add(target)
                    subdirs.append(path)
                continue
            if not target.is_file():
                continue
            if target in seen:
                report.not_used.append((display, f"the same file as {seen[target]}"))
                continue
            seen[target] = display
            name = path.name.lower()
            if name.endswith(".zip"):
                found += _zip_candidates(target, display, report)
            elif name.endswith(TABLE_SUFFIXES):
                found.append(_Candidate(display, target, "table"))
            elif name.endswith(BOUNDARY_SUFFIXES):
                found.append(_Candidate(display, target, "boundaries"))
            elif name.endswith((".shp", ".dbf", ".shx", ".prj", ".cpg")):
                report.not_used.append((display, "part of a loose Shapefile: zip its .shp, .shx, .dbf and .prj "
                                                 "together (or download the GeoPackage)"))
            else:
                report.not_used.append((display, "not a table or boundary file"))
        stack.extend((p, root) for p in reversed(subdirs))
    return found


def _zip_candidates(path: Path, display: str, report: ImportReport) -> list[_Candidate]:
    """The tables and boundary files in one archive, after the reader's own archive checks."""
    import zipfile

    from geo.load.io import _refuse_unsafe_member_names, check_zip

    try:
        with zipfile.ZipFile(path) as zf:
            members = check_zip(zf, display, advice=("Unzip it and import the folder.",) * 3)
            _refuse_unsafe_member_names(members, display)
            names = [m.filename for m in members]
            if any(n.lower().endswith(".shp") for n in names):  # a zipped Shapefile is read as one file
                return [_Candidate(display, path, "boundaries")]
            out = []
            for info in members:
                low = info.filename.lower()
                kind = ("table" if low.endswith(TABLE_SUFFIXES) else
                        "boundaries" if low.endswith(BOUNDARY_SUFFIXES) else None)
                member = f"{display}/{info.filename}"
                if kind is None:
                    if not low.endswith((".txt", ".pdf", ".xml", ".html", ".md")):
                        report.not_used.append((member, "not a table or boundary file"))
                    continue
                out.append(_Candidate(member, zf.read(info), kind))
            if not out:
                report.not_used.append((display, "an archive with no table or boundary file in it"))
            return out
    except AtlasError as exc:
        report.not_used.append((display, f"refused: {exc.message}"))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        report.not_used.append((display, f"a damaged zip file ({exc})"))
    return []


def _csv_columns(source: Path | bytes) -> list[str]:
    """The header of a CSV (plain or gzip), without reading the rest; [] if it cannot be read as one."""
    import io

    try:
        return list(pd.read_csv(io.BytesIO(source) if isinstance(source, bytes) else source, nrows=0,
                                encoding="utf-8-sig", encoding_errors="replace", compression="infer").columns)
    except Exception:  # noqa: BLE001 - not a CSV: read_table says why
        return []


def read_postcode_csv(source: Path | bytes, release_id: str, display: str) -> pd.DataFrame:
    """The postcode lookup CSV (too large for the table reader's limits: only its needed columns are read)."""
    import io

    wanted = {*POSTCODE_COLUMNS, "doterm", "lsoa21cd", "lsoa11cd"}
    try:
        frame = pd.read_csv(io.BytesIO(source) if isinstance(source, bytes) else source, dtype=str,
                            keep_default_na=False, encoding="utf-8-sig", encoding_errors="replace",
                            usecols=lambda c: str(c).strip().lower() in wanted)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise PackError(f"{display} could not be read as a CSV: {exc}.", "Download it again.") from exc
    return postcode_frame(frame, release_id, display)


def _fetch_into(spec: dict, folder: Path) -> str:
    return (f"Download {spec['title']} from {_where(spec)} ({spec['page']}), put it "
            f"in {folder} (as downloaded) and run the same command again.")


def _aliases(code: str) -> tuple[set[str], set[str]]:
    """The usual spellings of an ONS code column and of its name column (LSOA11CD: lsoa11cd, lsoa11_code …)."""
    m = re.fullmatch(r"([A-Za-z]+)(\d\d)CD", code)
    if not m:
        return {code.lower()}, set()
    prefixes = {m.group(1).lower()} | ({"lad", "ltla"} if m.group(1).upper() == "LAD" else set())
    year = m.group(2)
    codes = {f"{p}{year}{s}" for p in prefixes for s in ("cd", "code")}
    names = {f"{p}{year}{s}" for p in prefixes for s in ("nm", "name")}
    return codes, names


def _squash(column: object) -> str:
    return "".join(ch for ch in str(column).lower() if ch.isalnum())


def _match_layer(gdf: gpd.GeoDataFrame, spec: dict, wanted: set[str]) -> tuple[str | None, str | None, str]:
    """(code column, name column or None, how it was found); code column None when the codes are not there."""
    code_aliases, name_aliases = _aliases(spec["code"])
    columns = [c for c in gdf.columns if c != gdf.geometry.name]
    best = ""
    by_name = [c for c in columns if _squash(c) in code_aliases]
    others = [c for c in columns if c not in by_name and not pd.api.types.is_numeric_dtype(gdf[c])]
    for column, how in [*((c, "by its name") for c in by_name), *((c, "by its codes") for c in others)]:
        codes = set(normalise_codes(gdf[column])[0])
        covered = len(wanted & codes)
        if covered == len(wanted):
            name = next((c for c in columns if _squash(c) in name_aliases), None)
            return column, name, how
        if covered and how == "by its name":
            best = f"its '{column}' column holds {covered:,} of the {len(wanted):,} codes"
    return None, None, best


def _postcode_steps(release_id: str) -> str:
    """The by-hand route for the postcode lookup; refuses at once when no download address is known."""
    release = releases()[release_id]
    spec = release.get("postcodes")
    if not spec:
        raise PackError(f"{release['short']} packs do not keep a postcode lookup.", "Fetch without --postcodes.")
    steps = (f"By hand:\n1. Open {spec['page']} and download {spec['title']}.\n2. Put it (zipped or not) in the "
             f"folder with the other files.\n3. Run: python -m geo data import --release {release_id} --from FOLDER")
    if not spec.get("url"):
        raise PackError(f"No download address of the postcode lookup for {release['short']} is known yet "
                        "(geo/reference/releases.toml).", steps)
    return steps


def _fetch_postcodes(release_id: str, cache: Path, mirror: str | None, progress: Progress, manual: str) -> pd.DataFrame:
    """Download ONS's postcode lookup (a CSV, or a zip holding one, opened with the archive checks)."""
    import zipfile

    from geo.load.io import _refuse_unsafe_member_names, check_zip

    release = releases()[release_id]
    spec = release["postcodes"]
    steps = _postcode_steps(release_id)
    path = download_file(mirror_url(spec["url"], mirror), cache / "postcodes.download", progress,
                         f"{release['short']} postcode lookup", manual=steps)
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as zf:
                members = check_zip(zf, "the postcode lookup archive", advice=("Download the CSV itself.",) * 3)
                _refuse_unsafe_member_names(members, "the postcode lookup archive")
                csvs = [m for m in members if m.filename.lower().endswith(".csv") and
                        looks_like_postcodes(_csv_columns(zf.read(m)[:65536]))]
                if not csvs:
                    raise PackError("The postcode lookup archive holds no postcode CSV.", steps)
                return read_postcode_csv(zf.read(csvs[0]), release_id, csvs[0].filename)
        return read_postcode_csv(path, release_id, "the postcode lookup")
    except PackError:
        path.unlink(missing_ok=True)
        raise


def import_release(release_id: str, folder: Path, root: Path | None = None,
                   report: ImportReport | None = None, geometry_store: Path | None = None, prepare: bool = True,
                   progress: Progress = _quiet) -> Pack:
    """Build a release's pack from the files as downloaded: File 7 and the ONS boundary files, anywhere under
    `folder` (subfolders, zips, symlinks that stay inside it), whatever they are called; every file not used is
    named in `report` with the reason."""
    if release_id not in releases():
        raise PackError(f"Unknown release '{release_id}'.", f"Known releases: {', '.join(releases())}.")
    from geo.catalogue import recognise_release

    release = releases()[release_id]
    short, spec = release["short"], release["table"]
    folder = Path(folder)
    if not folder.is_dir():
        raise PackError(f"No folder at '{folder}'.", "Give the folder holding the downloaded files.")
    report = report if report is not None else ImportReport({}, [], [])
    candidates = _gather(folder, report)

    def looked_at() -> str:
        if not report.not_used:
            return " Nothing else was found there."
        return " Not used: " + "; ".join(f"{n} ({r})" for n, r in report.not_used) + "."

    table = lookup = None
    lookup_spec = release.get("lookup")
    postcode_source = None
    for cand in (c for c in candidates if c.kind == "table"):
        if looks_like_postcodes(_csv_columns(cand.source)):
            if "postcodes" not in release:
                report.not_used.append((cand.display, f"a postcode lookup ({short} packs do not keep one)"))
            elif postcode_source is None:
                postcode_source = cand
            else:
                report.not_used.append((cand.display, f"another postcode lookup; {postcode_source.display} was used"))
            continue
        try:
            frame = read_table(cand.source, name=Path(cand.display).name)
        except AtlasError as exc:
            report.not_used.append((cand.display, exc.message))
            continue
        layout = recognise_release(list(frame.columns))
        if lookup_spec and lookup is None:
            upper = {str(c).upper(): c for c in frame.columns}
            if all(c in upper for c in lookup_spec["columns"]):
                lookup = frame.rename(columns={upper[c]: c for c in lookup_spec["columns"]})[lookup_spec["columns"]]
                report.used["the LSOA 2011→2021 lookup"] = cand.display
                continue
        if layout is None:
            report.not_used.append((cand.display, "not an Indices of Deprivation table (no LSOA and district code "
                                                  "columns)"))
            continue
        if layout.lsoa_column != spec["code"] or layout.district_column != spec["district"]:
            report.not_used.append((cand.display, f"a table of another release ({layout.release}), not {short}"))
            continue
        if table is not None:
            report.not_used.append((cand.display, f"another {short} File 7; {report.used['File 7']} was used"))
            continue
        try:
            _verify_table(frame, spec, short)
        except PackError as exc:
            reason = exc.message.replace(f"The {short} table has", "it has")
            report.not_used.append((cand.display, f"an {short} table but not File 7: {reason.rstrip('.')} "
                                                  "(File 7 holds every score, rank, decile and the populations)"))
            continue
        table = frame
        report.used["File 7"] = cand.display
    if table is None:
        raise PackError(f"No {short} File 7 under {folder}.{looked_at()}",
                        _fetch_into(spec, folder))
    codes = set(normalise_codes(table[spec["code"]])[0])
    wanted = {"lsoa": codes, "districts": set(normalise_codes(table[spec["district"]])[0])}
    what = {"lsoa": "LSOA boundaries", "districts": "district boundaries"}
    layers: dict[str, gpd.GeoDataFrame] = {}
    for cand in (c for c in candidates if c.kind == "boundaries"):
        if len(layers) == 2:
            report.not_used.append((cand.display, "not needed: both boundary layers were already found"))
            continue
        try:
            gdf = read_boundaries(cand.source, name=Path(cand.display).name)
        except AtlasError as exc:
            report.not_used.append((cand.display, exc.message))
            continue
        reasons = []
        for part in ("lsoa", "districts"):
            if part in layers:
                continue
            pspec = release[part]
            column, name, how = _match_layer(gdf, pspec, wanted[part])
            if column is None:
                if how:
                    reasons.append(f"{how} ({what[part]})")
                continue
            gdf = gdf.drop(columns=[c for c in (pspec["code"], pspec["name"]) if c in gdf.columns and c not in
                                    (column, name)])
            gdf = gdf.rename(columns={column: pspec["code"], **({name: pspec["name"]} if name else {})})
            if not name:
                gdf[pspec["name"]] = gdf[pspec["code"]]
                report.notes.append(f"{cand.display} has no name column for its {what[part]}: the codes stand in "
                                    "for names.")
            try:
                layers[part] = _layer_from(gdf, pspec, f"{short} {part}")
            except PackError as exc:
                reasons.append(exc.message)
                continue
            report.used[what[part]] = cand.display + (f" (codes recognised {how}: '{column}')"
                                                      if column != pspec["code"] else "")
            break
        else:
            report.not_used.append((cand.display, "; ".join(reasons) or
                                    f"boundaries without the LSOA or district codes of {short}"))
    for part in ("lsoa", "districts"):
        if part not in layers:
            raise PackError(f"No {what[part]} file under {folder} has the {part} codes of {short} "
                            f"(a '{release[part]['code']}' column, or any column, covering every code).{looked_at()}",
                            _fetch_into(release[part], folder))
    if lookup_spec and lookup is None:
        raise PackError(f"No LSOA 2011→2021 lookup CSV (columns {', '.join(lookup_spec['columns'])}) under "
                        f"{folder}.{looked_at()}", _fetch_into(lookup_spec, folder))
    postcodes = None
    if postcode_source is not None:
        try:
            postcodes = read_postcode_csv(postcode_source.source, release_id, postcode_source.display)
            report.used["postcodes"] = postcode_source.display
        except PackError as exc:
            report.not_used.append((postcode_source.display, exc.message))
    sources = [{"part": part, "imported_from": name} for part, name in report.used.items()]
    return write_pack(release_id, table, layers["lsoa"], layers["districts"], root or packs_dir(), sources, lookup,
                      postcodes=_postcodes_of(postcodes, codes, report.notes), geometry_store=geometry_store,
                      prepare=prepare, progress=progress)


def _postcodes_of(postcodes: pd.DataFrame | None, codes: set[str], notes: list[str]) -> pd.DataFrame | None:
    """The postcodes whose LSOA is one of the release's (England's), with a note of the rest."""
    if postcodes is None:
        return None
    inside = postcodes["lsoa"].isin(codes)
    if (~inside).any():
        notes.append(f"{int((~inside).sum()):,} postcodes outside the release's LSOAs (Wales, Scotland, Northern "
                     "Ireland, or unallocated) are not kept.")
    if not inside.any():
        notes.append("No postcode of the lookup lies in the release's LSOAs: the postcode lookup was not kept.")
        return None
    return postcodes[inside].reset_index(drop=True)


# ------------------------------------------------------------------ postcodes

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
POSTCODE_COLUMNS = ("pcds", "pcd7", "pcd8", "pcd")


def normalise_postcode(text: object) -> str | None:
    """'ts248aa', 'TS24 8AA', 'TS248AA', ' ts24  8aa ' → 'TS248AA'; None if it is not a postcode's shape."""
    squashed = "".join(ch for ch in str(text).upper() if ch.isalnum())
    return squashed if _POSTCODE.match(squashed) else None


def display_postcode(key: str) -> str:
    return f"{key[:-3]} {key[-3:]}"


def postcode_frame(frame: pd.DataFrame, release_id: str, display: str = "the postcode lookup") -> pd.DataFrame:
    """ONS's postcode → OA → LSOA → MSOA → LAD best-fit lookup as the pack keeps it: one row per postcode,
    `postcode` (normalised, no space), `lsoa` (the release's LSOA vintage) and `terminated` (`doterm` filled)."""
    spec = releases()[release_id]["postcodes"]
    lower = {str(c).strip().lower(): c for c in frame.columns}
    pcd = next((lower[c] for c in POSTCODE_COLUMNS if c in lower), None)
    lsoa = lower.get(spec["lsoa"])
    if pcd is None or lsoa is None:
        other = next((c for c in ("lsoa21cd", "lsoa11cd") if c in lower and c != spec["lsoa"]), None)
        why = (f"its LSOAs are {other} codes; {releases()[release_id]['short']} needs {spec['lsoa']}" if other
               else f"it has no {'postcode (pcds, pcd7 or pcd8)' if pcd is None else spec['lsoa']} column")
        raise PackError(f"{display} is not a postcode lookup for {releases()[release_id]['short']}: {why}.",
                        f"Download {spec['title']} from {spec['page']}.")
    term = lower.get("doterm")
    out = pd.DataFrame({"postcode": frame[pcd].map(normalise_postcode),
                        "lsoa": normalise_codes(frame[lsoa])[0].astype(str),
                        "terminated": (frame[term].fillna("").astype(str).str.strip() != "") if term is not None
                        else False})
    out = out[out["postcode"].notna() & (out["lsoa"] != "")]
    return out.drop_duplicates("postcode", keep="first").sort_values("postcode").reset_index(drop=True)


def looks_like_postcodes(columns: list) -> bool:
    lower = {str(c).strip().lower() for c in columns}
    return bool(lower & set(POSTCODE_COLUMNS)) and bool(lower & {"lsoa21cd", "lsoa11cd"})


@dataclass(frozen=True)
class PostcodeMatch:
    postcode: str        # 'TS24 8AA'
    lsoa: str
    lsoa_name: str
    district: str
    district_name: str
    terminated: bool


@lru_cache(maxsize=2)
def _postcode_tables(folder: str, built: str) -> tuple[pd.DataFrame, dict, dict]:
    pack = read_manifest(Path(folder))
    codes = pd.read_parquet(pack.path("postcodes")).set_index("postcode")
    layer = pack.manifest["layers"]["lsoa"]
    names = pd.read_parquet(pack.path("lsoa"), columns=[layer["code"], layer["name"]])
    lsoa_names = dict(zip(names[layer["code"]], names[layer["name"]]))
    spec = releases()[pack.id]["table"] if pack.id in releases() else {}
    table = read_table(pack.path("table"))
    code, district = pack.manifest["table"]["code"], pack.manifest["table"]["district"]
    dname = spec.get("district_name") if spec.get("district_name") in table.columns else district
    lsoa_codes = normalise_codes(table[code])[0]
    districts = dict(zip(lsoa_codes, zip(table[district], table[dname])))
    return codes, lsoa_names, districts


def lookup_postcode(pack: Pack, text: str) -> PostcodeMatch | None:
    """The LSOA and district of a postcode in any common form ('ts248aa', 'TS24 8AA'); None if not in the pack.

    Raises PackError when the text is not a postcode or the pack has no postcode lookup."""
    if "postcodes" not in pack.manifest:
        raise PackError(f"Pack '{pack.id}' has no postcode lookup.",
                        f"Rebuild it with the postcode lookup: python -m geo data fetch {pack.id} --postcodes, or put "
                        "ONS's postcode best-fit lookup CSV in the import folder.")
    key = normalise_postcode(text)
    if key is None:
        raise PackError(f"'{text}' is not a UK postcode.", "Type it as on a letter, e.g. TS24 8AA (spaces and case do "
                        "not matter).")
    codes, lsoa_names, districts = _postcode_tables(str(pack.folder), pack.manifest.get("built", ""))
    if key not in codes.index:
        return None
    row = codes.loc[key]
    district, district_name = districts.get(row["lsoa"], ("", ""))
    return PostcodeMatch(display_postcode(key), row["lsoa"], lsoa_names.get(row["lsoa"], row["lsoa"]), district,
                         district_name, bool(row["terminated"]))


def pack_inputs(pack: Pack) -> dict[str, tuple[bytes, str]]:
    """A pack's files as (bytes, name) pairs, the form the app's readers take."""
    out = {}
    for part in ("lsoa", "districts", "table"):
        path = pack.path(part)
        out[part] = (path.read_bytes(), path.name)
    return out


def describe(pack: Pack) -> str:
    """One line for listings."""
    m = pack.manifest
    layers = m["layers"]
    flag = " (illustrative)" if pack.illustrative else ""
    return (f"{pack.id}: {m['label']}{flag} — {layers['lsoa']['features']:,} LSOAs ({m['lsoa_vintage']}), "
            f"{layers['districts']['features']:,} districts ({m['district_vintage']}); {pack.folder}")

