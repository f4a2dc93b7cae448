"""Run the atlas for a team: N Streamlit replicas behind Caddy, as ordinary processes (no root, no system paths).

    .venv/bin/python deploy/launch.py --port 8700 --replicas 8701,8702

starts the replicas (`streamlit run app.py`, all with the same cookie secret, XSRF protection, base URL and
packs folder), waits until each answers /_stcore/health, renders deploy/Caddyfile.template into a run
folder, starts Caddy on --port, waits until the app answers through it, and then runs until SIGTERM or
SIGINT, when it stops Caddy and the replicas and exits 0. A replica that dies is logged and left to the
proxy, which sends its sessions to the others. The run folder (a temporary one unless --run-dir is given)
holds the rendered Caddyfile, the logs and launch.json (the ports and process ids).

The cookie secret comes from $ATLAS_COOKIE_SECRET or --cookie-secret-file; without either a random one is
made for this run (sessions then do not survive a restart of the launcher, which they do not anyway). The
proxy's sticky cookie is an HMAC of the replica's address keyed by $ATLAS_LB_SECRET (random when unset), so
the cookie does not reveal the address; Caddy reads the key from its environment.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import secrets
import shutil
import signal
import string
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
APP_DIR = HERE.parent
TEMPLATE = HERE / "Caddyfile.template"
HEALTH = "/_stcore/health"


class _Template(string.Template):
    delimiter = "%"  # Caddy's own syntax uses { } and $: %{name} is ours


def render_caddyfile(*, port: int, bind: str, replicas: list[int], static_dir: Path, geometry_dir: Path,
                     run_dir: Path, frontend_dir: Path) -> str:
    """The Caddyfile for this run (every placeholder must be given: a missing one is a KeyError)."""
    for path in (static_dir, geometry_dir, run_dir, frontend_dir):
        if any(c in str(path) for c in '"\n\r{}'):
            raise SystemExit(f"error: the path {str(path)!r} has characters the Caddyfile cannot quote")
    upstreams = " ".join(f"127.0.0.1:{p}" for p in replicas)
    return _Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        port=port, bind=bind, upstreams=upstreams, static_dir=static_dir, geometry_dir=geometry_dir, run_dir=run_dir,
        frontend_dir=frontend_dir)


COMPRESSED = (".js", ".css")


def frontend_copy(out_dir: Path) -> tuple[Path, str]:
    """Streamlit's front end (the installed Streamlit's static/static/: JS, CSS and fonts, every name content-hashed
    by its build) copied for the proxy to answer as /static/ from disk, each JS and CSS file beside its brotli
    (quality 5) and gzip forms for Caddy's `precompressed`. A replica sends its front end uncompressed and, on a
    first visit, answers some hundred requests in its one Python thread while it runs the page's script; the
    proxy then compressed each file again for every first visit. Returns (the folder, what was done)."""
    import gzip

    import brotli
    import streamlit

    src = Path(streamlit.__file__).resolve().parent / "static" / "static"
    if not (src / "js").is_dir():
        raise SystemExit(f"error: no front end in {src}: this Streamlit is not the one in requirements.txt")
    dst = out_dir / "static"
    if dst.exists():
        shutil.rmtree(dst)
    shutil.copytree(src, dst)
    files = raw = br = 0
    for path in sorted(dst.rglob("*")):
        if path.suffix not in COMPRESSED or not path.is_file():
            continue
        data = path.read_bytes()
        packed = brotli.compress(data, quality=5)
        path.with_name(path.name + ".br").write_bytes(packed)
        path.with_name(path.name + ".gz").write_bytes(gzip.compress(data, 6, mtime=0))
        files, raw, br = files + 1, raw + len(data), br + len(packed)
    return out_dir, (f"front end: Streamlit {streamlit.__version__}'s {files} JS and CSS files copied for the proxy "
                     f"with brotli and gzip beside them, {raw / 1e6:,.1f} MB → {br / 1e6:,.1f} MB brotli")


ICON_NAME = re.compile(rb":material/([a-z0-9_]+):")


def icon_names() -> set[str]:
    """Every Material icon the page can show: each `:material/name:` in Streamlit's front end and Python side,
    and in the atlas' own code (it names none today). Read from the installed Streamlit, so an upgrade that adds
    icons is subset right at the next start."""
    import streamlit

    st_dir = Path(streamlit.__file__).resolve().parent
    names: set[str] = set()
    for path in [*(st_dir / "static" / "static" / "js").glob("*.js"), *st_dir.rglob("*.py"),
                 APP_DIR / "app.py", *(APP_DIR / "ui").rglob("*.py")]:
        names.update(n.decode() for n in ICON_NAME.findall(path.read_bytes()))
    return names


def subset_icon_font(out_dir: Path) -> tuple[Path, str]:
    """Streamlit's icon font (Material Symbols, 375 KB, fetched by every first page because its sidebar and
    expanders draw their arrows with it) cut down to the icons in `icon_names()`: about 13 KB.

    Written into `out_dir` (the front-end copy's media folder) under the original's name; returns (the file, what
    was done). The font's icons are ligatures
    (the text "expand_more" drawn as one glyph); only those for the names are kept, with the letters that spell
    them. An icon outside the set would show its name as text, never a wrong icon. If the font cannot be read or
    cut (a Streamlit whose front end moved it), the file is the original font and the note says so."""
    import io

    import streamlit

    media = Path(streamlit.__file__).resolve().parent / "static" / "static" / "media"
    found = sorted(media.glob("MaterialSymbols-Rounded.*.woff2"))
    if not found:
        raise SystemExit(f"error: no MaterialSymbols-Rounded font in {media}: this Streamlit is not the one in "
                         "requirements.txt")
    src = found[0]
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / src.name
    try:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        names = icon_names()
        font = TTFont(src)
        letter = {glyph: chr(code) for code, glyph in font.getBestCmap().items()}
        keep: set[str] = set()
        cut: set[str] = set()
        for lookup in font["GSUB"].table.LookupList.Lookup:
            for table in lookup.SubTable:
                table = table.ExtSubTable if lookup.LookupType == 7 else table
                if getattr(table, "LookupType", None) != 4:
                    continue
                for first, ligatures in list(table.ligatures.items()):
                    spelled = (("".join(letter.get(g, "\0") for g in [first, *lig.Component]), lig)
                               for lig in ligatures)  # "\0": a glyph that is no letter spells no name
                    kept = [(text, lig) for text, lig in spelled if text in names]
                    keep.update(lig.LigGlyph for _, lig in kept)
                    cut.update(text for text, _ in kept)
                    if kept:
                        table.ligatures[first] = [lig for _, lig in kept]
                    else:
                        del table.ligatures[first]
        options = subset.Options()
        options.flavor, options.layout_features, options.notdef_outline = "woff2", ["rlig", "liga"], True
        cutter = subset.Subsetter(options)
        cutter.populate(glyphs=sorted(keep), text="".join(sorted(set("".join(names)))))
        cutter.subset(font)
        buf = io.BytesIO()
        font.save(buf)
        out.write_bytes(buf.getvalue())
        note = (f"icon font: cut to the {len(cut)} icons of the {len(names)} names Streamlit and the atlas use "
                f"(not icons in this font: {', '.join(sorted(names - cut)) or 'none'}), "
                f"{src.stat().st_size / 1e3:,.0f} KB → {out.stat().st_size / 1e3:,.0f} KB")
    except Exception as exc:  # noqa: BLE001 — any failure to cut leaves the whole font, said in the log
        shutil.copyfile(src, out)
        note = f"icon font: could not cut it ({type(exc).__name__}: {exc}); serving the whole font"
    return out, note


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + HEALTH, timeout=2) as resp:
            return resp.status == 200 and resp.read().strip() == b"ok"
    except OSError:
        return False


def _die_with_parent() -> None:
    """In the child, before exec: get SIGTERM if the launcher itself dies (Linux prctl PR_SET_PDEATHSIG)."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _ports(text: str) -> list[int]:
    ports = [int(p) for p in text.split(",") if p.strip()]
    if len(ports) < 1 or len(set(ports)) != len(ports) or not all(0 < p < 65536 for p in ports):
        raise argparse.ArgumentTypeError("give distinct port numbers separated by commas, e.g. 8701,8702")
    return ports


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, required=True, help="the port the proxy listens on (the address users open)")
    ap.add_argument("--bind", default="127.0.0.1",
                    help="the address the proxy listens on (default 127.0.0.1; 0.0.0.0 for every interface)")
    ap.add_argument("--replicas", type=_ports, required=True,
                    help="the replicas' ports on 127.0.0.1, comma separated (one replica per port)")
    ap.add_argument("--packs-dir", type=Path, default=os.environ.get("ATLAS_PACKS_DIR"),
                    help="the packs folder every replica uses (default $ATLAS_PACKS_DIR, else the app's packs/)")
    ap.add_argument("--static-dir", type=Path, default=APP_DIR / "static",
                    help="where the proxy reads vendor/ and atlas/ (default the app's static/, filled by scripts/setup.sh)")
    ap.add_argument("--geometry-dir", type=Path, default=None,
                    help="the shared folder of map geometry the replicas write and the proxy serves (default "
                         "STATIC_DIR/geometry; give another path only where that same folder is mounted elsewhere)")
    ap.add_argument("--cookie-secret-file", type=Path,
                    help="a file holding Streamlit's cookie secret (default $ATLAS_COOKIE_SECRET, else a random one)")
    ap.add_argument("--run-dir", type=Path, help="folder for the Caddyfile, logs and launch.json (default: a "
                    "temporary folder, removed on exit)")
    ap.add_argument("--caddy", default=shutil.which("caddy") or "/usr/bin/caddy", help="the caddy binary")
    ap.add_argument("--timeout", type=float, default=90.0, help="seconds to wait for each replica and the proxy")
    return ap.parse_args(argv)


def cookie_secret(args: argparse.Namespace) -> str:
    if args.cookie_secret_file:
        secret = args.cookie_secret_file.read_text(encoding="utf-8").strip()
    else:
        secret = os.environ.get("ATLAS_COOKIE_SECRET", "").strip() or secrets.token_hex(32)
    if len(secret) < 32:
        raise SystemExit("error: the cookie secret is shorter than 32 characters; use e.g. `openssl rand -hex 32`")
    return secret


def replica_command(port: int) -> list[str]:
    """One replica: the same options on every one, so a session is accepted on whichever the proxy picks."""
    return [sys.executable, "-m", "streamlit", "run", "app.py",
            "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
            "--server.baseUrlPath", "", "--server.enableXsrfProtection", "true", "--server.enableCORS", "true",
            "--server.enableStaticServing", "true", "--server.fileWatcherType", "none", "--server.runOnSave", "false",
            "--browser.gatherUsageStats", "false", "--client.showErrorDetails", "none"]


class Launcher:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.own_run_dir = args.run_dir is None
        self.run_dir = Path(tempfile.mkdtemp(prefix="atlas-deploy-")) if self.own_run_dir else args.run_dir.resolve()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.run_dir, 0o700)
        self.replicas: dict[int, subprocess.Popen] = {}
        self.proxy: subprocess.Popen | None = None
        self.stopping = False
        self.reported: set[int] = set()

    def log(self, message: str) -> None:
        print(f"launch: {message}", flush=True)

    def _start(self, command: list[str], env: dict[str, str], log_name: str) -> subprocess.Popen:
        with open(self.run_dir / log_name, "wb") as log:
            return subprocess.Popen(command, cwd=APP_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True, preexec_fn=_die_with_parent)

    def _wait_healthy(self, url: str, proc: subprocess.Popen, what: str, log_name: str) -> None:
        deadline = time.monotonic() + self.args.timeout
        while not healthy(url):
            if proc.poll() is not None:
                raise SystemExit(f"error: {what} exited with code {proc.returncode}; see {self.run_dir / log_name}")
            if self.stopping:
                raise SystemExit(f"stopped before {what} was healthy")
            if time.monotonic() > deadline:
                raise SystemExit(f"error: {what} not healthy after {self.args.timeout:.0f} s; see "
                                 f"{self.run_dir / log_name}")
            time.sleep(0.25)

    def start(self) -> None:
        a = self.args
        static_dir = a.static_dir.resolve()
        geometry_dir = (a.geometry_dir or static_dir / "geometry").resolve()
        if not (static_dir / "vendor" / "leaflet" / "leaflet.js").is_file():
            raise SystemExit(f"error: {static_dir}/vendor/leaflet/leaflet.js is missing; run scripts/setup.sh first")
        if not Path(a.caddy).is_file():
            raise SystemExit(f"error: caddy not found at {a.caddy}; install it with `apt-get install caddy`")
        geometry_dir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret(a)}
        env.pop("ATLAS_COOKIE_SECRET", None)
        lb_secret = env.pop("ATLAS_LB_SECRET", "").strip() or secrets.token_hex(32)
        if a.packs_dir:
            env["ATLAS_PACKS_DIR"] = str(a.packs_dir.resolve())
        for port in a.replicas:  # all started at once, then awaited: they load in parallel
            self.replicas[port] = self._start(replica_command(port), env, f"replica-{port}.log")
        frontend_dir, note = frontend_copy(self.run_dir / "frontend")  # while the replicas load
        self.log(note)
        self.log(subset_icon_font(frontend_dir / "static" / "media")[1])
        for port, proc in self.replicas.items():
            self._wait_healthy(f"http://127.0.0.1:{port}", proc, f"the replica on port {port}", f"replica-{port}.log")
            self.log(f"replica on port {port} healthy (pid {proc.pid})")

        caddyfile = self.run_dir / "Caddyfile"
        caddyfile.write_text(render_caddyfile(port=a.port, bind=a.bind, replicas=a.replicas, static_dir=static_dir,
                                              geometry_dir=geometry_dir, run_dir=self.run_dir,
                                              frontend_dir=frontend_dir), encoding="utf-8")
        # Caddy's own state (autosave, storage) in the run folder; its secret only in its environment.
        proxy_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.run_dir),
                     "XDG_DATA_HOME": str(self.run_dir / "xdg-data"), "XDG_CONFIG_HOME": str(self.run_dir / "xdg-config"),
                     "ATLAS_LB_SECRET": lb_secret}
        self.proxy = self._start([a.caddy, "run", "--config", str(caddyfile), "--adapter", "caddyfile"],
                                 proxy_env, "caddy.log")
        host = "127.0.0.1" if a.bind in ("0.0.0.0", "::") else a.bind
        url = f"http://{host}:{a.port}"
        self._wait_healthy(url, self.proxy, "caddy", "caddy.log")
        state = {"url": url + "/", "pid": os.getpid(), "run_dir": str(self.run_dir), "static_dir": str(static_dir),
                 "geometry_dir": str(geometry_dir),
                 "proxy": {"port": a.port, "pid": self.proxy.pid, "log": str(self.run_dir / "caddy.log")},
                 "replicas": [{"port": p, "pid": proc.pid, "log": str(self.run_dir / f"replica-{p}.log")}
                              for p, proc in self.replicas.items()]}
        (self.run_dir / "launch.json").write_text(json.dumps(state, indent=2), encoding="utf-8")
        self.log(f"ready: {url}/ ({len(self.replicas)} replicas; run folder {self.run_dir})")

    def watch(self) -> int:
        """Until asked to stop: report replicas that exit; stop everything if the proxy exits."""
        while not self.stopping:
            for port, proc in self.replicas.items():
                if proc.poll() is not None and port not in self.reported:
                    self.reported.add(port)
                    self.log(f"replica on port {port} exited with code {proc.returncode}; "
                             "the proxy sends its sessions to the others")
            if self.proxy.poll() is not None:
                self.log(f"caddy exited with code {self.proxy.returncode}; stopping")
                return 1
            time.sleep(0.5)
        return 0

    def stop(self) -> None:
        """The proxy first (no new requests reach a stopping replica), then the replicas; SIGKILL after 15 s."""
        procs = ([self.proxy] if self.proxy else []) + list(self.replicas.values())
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self.own_run_dir:
            shutil.rmtree(self.run_dir, ignore_errors=True)
        self.log("stopped")


def main(argv: list[str] | None = None) -> int:
    launcher = Launcher(parse_args(argv))

    def on_signal(signum, _frame):
        launcher.stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        launcher.start()
        return launcher.watch()
    finally:
        launcher.stop()


if __name__ == "__main__":
    sys.exit(main())
