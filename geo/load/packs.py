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
    for part in [*manifest.get("layers", {}), "table", *(["lookup"] if "lookup" in manifest else [])]:
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
    by_hand = f" ({manual})" if manual else ""
    if isinstance(last_error, (socket.timeout, TimeoutError)) or "timed out" in str(last_error):
        raise PackError(f"The download of {what or dest.name} from {url} stalled: no data for {timeout:g} s "
                        f"({attempts} attempt{'s' if attempts != 1 else ''}).",
                        "The server or the connection is too slow right now. Run the same command again later "
                        "(it resumes where it stopped), use a mirror, or download the files "
                        f"by hand{by_hand} into one folder and use `python -m geo data import --release ID --from DIR`.")
    raise PackError(f"Could not download {what or dest.name} from {url}: {last_error}.",
                    "Check the connection and run the same command again (it resumes), or download the files "
                    f"by hand{by_hand} into one folder and use `python -m geo data import --release ID --from DIR`.")


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


def write_pack(release_id: str, table: pd.DataFrame, lsoa: gpd.GeoDataFrame, districts: gpd.GeoDataFrame,
               root: Path, sources: list[dict], lookup: pd.DataFrame | None = None) -> Pack:
    """Verify the parts against each other and the release, then write the pack atomically."""
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
        return read_manifest(final)
    except OSError as exc:
        if is_disk_full(exc):
            raise _disk_full(exc, root / release_id) from exc
        raise PackError(f"Could not write the pack in {root}: {exc.strerror or exc}.",
                        "Check the folder is writable (ATLAS_PACKS_DIR) and run the same command again.") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fetch_release(release_id: str, root: Path | None = None, mirror: str | None = None,
                  progress: Progress = _quiet) -> Pack:
    """Download, verify and write a release's pack (resumable; nothing half-built is left to open)."""
    if release_id not in releases():
        raise PackError(f"Unknown release '{release_id}'.", f"Known releases: {', '.join(releases())}.")
    release = releases()[release_id]
    root = root or packs_dir()
    cache = root / ".downloads" / release_id
    sources = []
    table_spec = release["table"]
    url = mirror_url(table_spec["url"], mirror)
    table_path = download_file(url, cache / "file7.csv", progress, f"{release['short']} File 7",
                               manual=table_spec["manual"], sha256=table_spec.get("sha256", ""))
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
                        "It was deleted; run the command again. By hand: " + table_spec["manual"]) from exc
    sources.append({"part": "table", "url": table_spec["url"], "sha256": digest, "bytes": table_path.stat().st_size})
    layers = {}
    for part in ("lsoa", "districts"):
        spec = release[part]
        features = fetch_arcgis(mirror_url(spec["url"], mirror), cache / part, progress,
                                f"{release['short']} {part} boundaries", spec.get("page_size", 2000),
                                manual=spec["manual"])
        try:
            layers[part] = _layer_from(features, spec, f"{release['short']} {part}")
        except AtlasError as exc:
            shutil.rmtree(cache / part, ignore_errors=True)
            raise PackError(exc.message, exc.hint + " By hand: " + spec["manual"]) from exc
        sources.append({"part": part, "url": spec["url"], "features": len(layers[part])})
    lookup = None
    if "lookup" in release:
        spec = release["lookup"]
        rows = fetch_arcgis(mirror_url(spec["url"], mirror), cache / "lookup", progress,
                            f"{release['short']} LSOA lookup", spec.get("page_size", 2000), manual=spec["manual"])
        lookup = pd.DataFrame([f.get("properties") or {} for f in rows])
        missing = [c for c in spec["columns"] if c not in lookup.columns]
        if missing:
            shutil.rmtree(cache / "lookup", ignore_errors=True)
            raise PackError(f"The LSOA lookup has no column {', '.join(missing)}.", "By hand: " + spec["manual"])
        lookup = lookup[spec["columns"]]
        sources.append({"part": "lookup", "url": spec["url"], "rows": len(lookup)})
    pack = write_pack(release_id, table, layers["lsoa"], layers["districts"], root, sources, lookup)
    shutil.rmtree(cache, ignore_errors=True)
    return pack


def import_release(release_id: str, folder: Path, root: Path | None = None) -> Pack:
    """Build a release's pack from files the user already has (File 7 CSV and boundary files in any format)."""
    if release_id not in releases():
        raise PackError(f"Unknown release '{release_id}'.", f"Known releases: {', '.join(releases())}.")
    release = releases()[release_id]
    folder = Path(folder)
    if not folder.is_dir():
        raise PackError(f"No folder at '{folder}'.", "Give the folder holding the downloaded files.")
    table = None
    boundaries: list[gpd.GeoDataFrame] = []
    for path in sorted(p for p in folder.iterdir() if p.is_file()):
        name = path.name.lower()
        try:
            if name.endswith((".csv", ".csv.gz", ".xlsx")):
                candidate = read_table(path)
                if release["table"]["code"] in candidate.columns and table is None:
                    table = candidate
            elif name.endswith((".geojson", ".json", ".gpkg", ".zip", ".parquet")):
                boundaries.append(read_boundaries(path))
        except AtlasError:
            continue
    if table is None:
        raise PackError(f"No {release['short']} File 7 table (a CSV with '{release['table']['code']}') in {folder}.",
                        "Download it by hand: " + release["table"]["manual"])
    codes = set(_verify_table(table, release["table"], release["short"]))
    districts_in_table = set(normalise_codes(table[release["table"]["district"]])[0])
    layers = {}
    for part, wanted in (("lsoa", codes), ("districts", districts_in_table)):
        spec = dict(release[part])
        for gdf in boundaries:
            column = next((c for c in gdf.columns if str(c).upper() == spec["code"]), None)
            name = next((c for c in gdf.columns if str(c).upper() == spec["name"]), None)
            if column and name and set(normalise_codes(gdf[column])[0]) >= wanted:
                gdf = gdf.rename(columns={column: spec["code"], name: spec["name"]})
                layers[part] = _layer_from(gdf, spec, f"{release['short']} {part}")
                break
        if part not in layers:
            raise PackError(f"No boundary file in {folder} has the {part} codes of {release['short']} "
                            f"(a '{spec['code']}' column covering every code).", "Download it by hand: " + spec["manual"])
    lookup = None
    if "lookup" in release:
        spec = release["lookup"]
        for path in sorted(folder.glob("*.csv")):
            frame = read_table(path)
            upper = {str(c).upper(): c for c in frame.columns}
            if all(c in upper for c in spec["columns"]):
                lookup = frame.rename(columns={upper[c]: c for c in spec["columns"]})[spec["columns"]]
                break
        if lookup is None:
            raise PackError(f"No LSOA 2011→2021 lookup CSV (columns {', '.join(spec['columns'])}) in {folder}.",
                            "Download it by hand: " + spec["manual"])
    sources = [{"part": "all", "imported_from": str(folder)}]
    return write_pack(release_id, table, layers["lsoa"], layers["districts"], root or packs_dir(), sources, lookup)


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

