"""Command line: `python -m geo join|summarise|map|render …` (see `python -m geo --help`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from geo.errors import AtlasError


def write_atomic(path, data: bytes) -> None:
    """geo.present.export.write_atomic, imported when a command writes (it imports geopandas: `--help` should not)."""
    from geo.present.export import write_atomic as write

    write(path, data)


def _print_notes(notes: list[dict]) -> None:
    """Every note of the reads, repairs, conversions and the join, on stderr (the app shows the same ones)."""
    for n in notes:
        print(f"note [{n['kind']}]: {n['message']}", file=sys.stderr)


def _read_inputs(args: argparse.Namespace):
    """Boundaries and table of join/map, with the notes of both reads."""
    from geo.load.io import ReadNotes
    from geo.load.readcache import read_boundaries_cached, read_table_cached
    from geo.settings import read_cache

    b_notes, t_notes, cache = ReadNotes(), ReadNotes(), read_cache()
    boundaries = read_boundaries_cached(args.boundaries, layer=args.layer, assume_crs=args.assume_crs, notes=b_notes,
                                        cache=cache)
    table = read_table_cached(args.indicators, sheet=args.sheet, notes=t_notes, cache=cache)
    return boundaries, table, b_notes, t_notes


def _with_read_notes(report, *notes) -> None:
    """Put the read notes first in the report (typed in `notes`, as words in `messages`)."""
    items = [n.to_dict() for r in notes for n in r.items]
    report.notes = items + report.notes
    report.messages = [n["message"] for n in items] + report.messages


def _join(args: argparse.Namespace) -> int:
    from geo.load.io import read_table
    from geo.link.join import JoinBlockedWithReport, join_across_vintages
    from geo.link.vintages import load_lsoa_lookup

    boundaries, table, b_notes, t_notes = _read_inputs(args)
    lookup = load_lsoa_lookup(read_table(args.lookup)) if args.lookup else None
    try:
        _, report = join_across_vintages(boundaries, table, args.boundary_code, args.indicator_code, lookup=lookup,
                                         resolve_conflicts=args.resolve_duplicates)
        status = 0
    except JoinBlockedWithReport as exc:
        report, status = exc.report, 3
        print(f"error: {exc}", file=sys.stderr)
    _with_read_notes(report, b_notes, t_notes)
    _print_notes(report.notes)
    write_atomic(args.report, json.dumps(report.to_dict(), indent=2, ensure_ascii=False).encode("utf-8"))
    print(report.summary())
    return status


def _summarise(args: argparse.Namespace) -> int:
    from geo.catalogue import ReleaseLayout, measures, recognise_release
    from geo.load.io import parse_numbers, read_table
    from geo.derive.summaries import summarise_release

    from geo.load.io import ReadNotes

    notes = ReadNotes()
    table = read_table(args.lsoa_table, sheet=args.sheet, notes=notes)
    _print_notes(notes.to_list())
    headers = [str(c) for c in table.columns]
    named = {k: getattr(args, k) for k in ("district", "score", "rank", "population") if getattr(args, k)}
    layout = recognise_release(headers)
    if named:
        # Columns named by hand: the IMD summaries of those columns (the other measures as recognised, if any).
        for col in named.values():
            if col not in table.columns:
                raise AtlasError(f"The table has no column '{col}'.",
                                 "Name the columns with --district/--score/--rank/--population. "
                                 f"Columns found: {', '.join(headers[:12])} …")
        base = layout or ReleaseLayout("a table with columns named on the command line", "", "", None, {}, {}, {}, 0)
        missing = [k for k in ("district", "score", "rank", "population") if k not in named and not {
            "district": base.district_column, "score": base.scores.get("imd"), "rank": base.ranks.get("imd"),
            "population": base.populations.get("pop_total")}[k]]
        if missing:
            raise AtlasError(f"Cannot tell which column holds the {', '.join(missing)}.",
                             f"Name it with {' '.join('--' + m for m in missing)}.")
        layout = ReleaseLayout(
            base.release, base.lsoa_column, named.get("district", base.district_column), base.district_name_column,
            {**base.populations, **({"pop_total": named["population"]} if "population" in named else {})},
            {**base.scores, **({"imd": named["score"]} if "score" in named else {})},
            {**base.ranks, **({"imd": named["rank"]} if "rank" in named else {})}, base.n_national)
    if layout is None:
        raise AtlasError(
            "This table is not a recognised IoD LSOA table.",
            "Use the IoD2019 or IoD2025 File 7 as published (headers 'LSOA code (2011)' / 'LSOA code (2021)' and "
            "'Local Authority District code (2019)' / '(2024)'), the snake_case all-scores table (lsoa11cd, lad19cd), "
            "or name the columns with --district/--score/--rank/--population.")
    n_national = args.national_lsoas or layout.n_national or len(table)
    layout = ReleaseLayout(layout.release, layout.lsoa_column, layout.district_column, layout.district_name_column,
                           layout.populations, layout.scores, layout.ranks, n_national)
    wanted = [*layout.populations.values(), *layout.scores.values(), *layout.ranks.values()]
    for col in dict.fromkeys(wanted):
        table[col] = parse_numbers(table[col])[0]
    out = summarise_release(table, layout, measures())
    write_atomic(args.out, out.to_csv(index=False, float_format="%.6f").encode())
    done = [m["label"] for m in measures() if m["id"] in layout.scores and m["id"] in layout.ranks]
    print(f"Read {args.lsoa_table} as {layout.release}: {len(table):,} LSOAs, ranks out of {n_national:,}; "
          f"weights {', '.join(f'{k} = {v!r}' for k, v in layout.populations.items())}.", file=sys.stderr)
    print(f"Wrote {len(out):,} district summaries ({', '.join(done)}; each measure with its rank, "
          f"1 = most deprived) to {args.out}")
    return 0


def _map(args: argparse.Namespace) -> int:
    from geo.catalogue import describe_column, recognise_columns
    from geo.load.io import parse_numbers
    from geo.link.join import join_indicators
    from geo.present.budget import check_map_bytes, fit_to_budget
    from geo.present.classify import classify_values
    from geo.present.mapping import MapSpec, build_choropleth, map_html
    from geo.present.render import prepare_offline

    boundaries, table, b_notes, t_notes = _read_inputs(args)
    if args.column not in table.columns:
        raise AtlasError(f"The table has no column '{args.column}'.",
                         f"Columns: {', '.join(map(str, table.columns))}.")
    copies = t_notes.duplicate_columns.get(args.column)
    if copies:
        raise AtlasError(f"The table has {len(copies)} columns headed '{args.column}' (read as "
                         f"{', '.join(repr(c) for c in copies)}); the atlas does not pick the first for you.",
                         f"Name the one to map: --column {' or --column '.join(repr(c) for c in copies)}.")
    joined, report = join_indicators(boundaries, table, args.boundary_code, args.indicator_code)
    _with_read_notes(report, b_notes, t_notes)
    values, _ = parse_numbers(joined[args.column])
    if not values.notna().any():
        blanks = t_notes.formula_blanks.get(args.column)
        why = (f"its {blanks:,} formula cell(s) have no saved result (the workbook was not recalculated and saved)"
               if blanks else "none of its cells that match an area holds a number")
        raise AtlasError(f"Column '{args.column}' has no values to map: {why}.",
                         "Open and save the workbook in Excel or LibreOffice (or export it as CSV), or map another "
                         "column.")
    joined[args.column] = values
    column = describe_column(args.column, recognise_columns([args.column]))
    higher_is_worse = column.higher_is_worse if args.higher_is_worse is None else args.higher_is_worse == "yes"
    joined, size_notes = fit_to_budget(joined, what=f"the map of '{args.column}'")
    for n in size_notes:
        report.note(n.kind, n.message)
    _print_notes(report.notes)
    classification = classify_values(joined[args.column], args.scheme, args.k, higher_is_worse,
                                     breaks=args.breaks, palette=args.palette)
    name_col = next((c for c in boundaries.columns if str(c).lower().endswith(("nm", "name"))), None)
    spec = MapSpec(args.column, column.label, name_col, report.boundary_code, title=args.title or column.label,
                   subtitle=f"{Path(args.indicators).name} on {Path(args.boundaries).name}")
    prepared = prepare_offline(joined, spec)  # the offline page carries its geometry, found in the cache
    m = build_choropleth(joined, spec, classification, attribution=args.attribution, prepared=prepared)
    page = map_html(m).encode("utf-8")
    check_map_bytes(page, len(joined), what=f"the map of '{args.column}'")
    write_atomic(args.out, page)
    print(f"{report.summary()} Wrote {args.out} ({len(page) / 1e6:.1f} MB)")
    return 0


class _ProgressLine:
    """Progress on stderr: a rewritten line on a terminal, a line every 10% (or 5,000 features) otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last: tuple[str, int] = ("", -1)

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        step = int(done * 10 / total) if total else done // 5000
        if self.tty or (stage, step) != self.last:
            text = f"{stage}: {done / total:.0%} of {total / 1e6:.1f} MB" if total else f"{stage}: {done:,}"
            print(("\r" if self.tty else "") + text, end="" if self.tty else "\n", file=sys.stderr, flush=True)
            self.last = (stage, step)


def _data(args: argparse.Namespace) -> int:
    from geo.load.packs import ImportReport, describe, fetch_release, import_release, list_packs

    dest = Path(args.dest) if getattr(args, "dest", None) else None
    if args.data_command == "list":
        for pack in list_packs(dest):
            print(describe(pack))
        return 0
    if args.data_command == "fetch":
        pack = fetch_release(args.release, dest, mirror=args.mirror, progress=_ProgressLine(),
                             postcodes=args.postcodes)
    else:
        report = ImportReport({}, [], [])
        print(f"Looking for {args.release} files under {args.source} (subfolders and zips included)…", flush=True)
        try:
            pack = import_release(args.release, Path(args.source), dest, report=report, progress=_ProgressLine())
        finally:
            for line in report.lines():
                print("  " + line)
    print(f"\nBuilt {describe(pack)}")
    return 0


def _eligibility(args: argparse.Namespace) -> int:
    from geo.catalogue import measures, recognise_release
    from geo.link.codes import district_year
    from geo.derive.eligibility import (
        Formula,
        allocate,
        compare_with_reference,
        evaluate_rule,
        parse_rule,
        reconcile_allocations,
        recovery,
    )
    from geo.load.io import read_table
    from geo.derive.nrf import abolished_notes, reference_codes, verification_sentence
    from geo.load.packs import list_packs, read_manifest
    from geo.link.layers import measure_frame, prepare_table

    packs = {p.id: p for p in list_packs(Path(args.packs) if args.packs else None)}
    source = Path(args.release)
    if args.release in packs:
        table_path = packs[args.release].path("table")
    elif source.is_dir():
        table_path = read_manifest(source).path("table")
    else:
        table_path = source
    from geo.load.io import ReadNotes

    notes = ReadNotes()
    ind = prepare_table(read_table(table_path, notes=notes))
    _print_notes(notes.to_list())
    labels = {m["id"]: m["label"] for m in measures()}
    frames = {m: measure_frame(ind, m) for m in labels if ind.column_for(m, "score") and ind.column_for(m, "rank")}
    rule = parse_rule(Path(args.rule).read_text(encoding="utf-8"), tuple(frames))
    names = {}
    if ind.district_column and ind.district_name_column:
        names = dict(zip(ind.frame[ind.district_column].astype("string").str.strip(), ind.frame[ind.district_name_column]))
    table = evaluate_rule(rule, frames, ind.n_national(), names, labels).table
    if not table["eligible"].any():
        raise AtlasError(f"No district is eligible under '{rule.name}'.", "Loosen a threshold or change the rule.")
    if args.population_only and args.weight_by_score:
        raise AtlasError("--population-only and --weight-by-score contradict each other.", "Give one of them.")
    formula = Formula(args.pot, args.percent, bool(args.weight_by_score), args.floor, args.ceiling)
    imd = frames.get("imd", next(iter(frames.values())))
    table = allocate(table, imd, formula, ind.n_national())
    layout = recognise_release([str(c) for c in ind.frame.columns])
    release = layout.release if layout else str(table_path)
    rec = reconciliation = None
    try:
        reference = reference_codes(table["district_code"].tolist())
    except AtlasError as exc:
        reference = None
        print(f"note: no comparison with the NRF 88: {exc.message}", file=sys.stderr)
    if reference is not None:
        table = compare_with_reference(table, reference, abolished_notes(table["district_code"].tolist()))
        rec = recovery(table)
        reconciliation = reconcile_allocations(imd, formula, ind.n_national(), reference, names, release)
    out = table.rename(columns={"district_code": "code"})
    out["reasons"] = out["reasons"].fillna("")
    columns = ["code", "name", "eligible", "reasons", "allocation", "allocation_per_head"]
    extra = [c for c in ("status", "reference", "reference_note") if c in out]
    write_atomic(args.out, out[columns + extra].to_csv(index=False, float_format="%.2f").encode())
    vintage = district_year(table["district_code"])
    of = f"districts of {vintage}" if vintage else "districts"
    print(f"{int(table['eligible'].sum())} of {len(table)} {of} eligible under '{rule.name}' on {release}; "
          f"£{table['allocation'].sum():,.2f} allocated.")
    if rule.source:
        print(f"Rule source: {rule.source}")
    print(formula.describe())
    if rec is not None:
        counts = table["status"].value_counts().to_dict()
        print(f"Against the NRF 2001 list: the rule recovers {rec.districts_recovered} of the {rec.districts} {of} "
              f"that hold the 88 authorities ({rec.authorities_recovered} of {rec.authorities} authorities of 2001).")
        print("Status by district: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + ".")
        print(f"Missed ({len(rec.missed)}): {', '.join(rec.missed) or 'none'}.")
        print(f"Added ({len(rec.added)}): {', '.join(rec.added) or 'none'}.")
        for note in table.loc[table["reference_note"] != "", "reference_note"]:
            print(f"Abolished 2009: {note}.")
        print(verification_sentence())
    if reconciliation is not None:
        print(reconciliation.sentence())
        if args.reconciliation:
            write_atomic(args.reconciliation, reconciliation.table.to_csv(index=False, float_format="%.6f").encode())
            print(f"Wrote the reconciliation ({reconciliation.compared} districts) to {args.reconciliation}")
    return 0


def _progress(args: argparse.Namespace) -> int:
    from geo.load.io import read_table
    from geo.derive.progress import (
        area_progress,
        group_headline,
        headline,
        indicator_meta,
        measure_progress,
        method_in_words,
        parse_target,
        read_series,
        resolve_group,
    )

    from geo.load.io import ReadNotes

    notes = ReadNotes()
    series = read_series(read_table(args.series, sheet=args.sheet, notes=notes))
    _print_notes(notes.to_list())
    target = parse_target(Path(args.target).read_text(encoding="utf-8"), tuple(series["indicator"].unique()))
    meta_files = tuple(Path(m) for m in args.meta) + (Path(args.series).with_suffix(".toml"),)
    meta = indicator_meta(target.indicator, meta_files)
    group = resolve_group(target.group, sorted(series["code"].unique()))
    summary, words = measure_progress(series, target, group, meta, pool=not args.unweighted)
    areas = area_progress(series, target, group, summary)
    out = areas[["code", "name", "period", "value", "in_group", "group_value", "rest_value", "gap", "status"]]
    write_atomic(args.out, out.to_csv(index=False, float_format="%.6g").encode())
    last = summary.iloc[-1]
    print(f"{target.name}: {last['period']}: group {meta.show(last['group_value'])}, rest {meta.show(last['rest_value'])}, "
          f"gap {meta.points(last['gap'])} — {last['status']}.")
    print(words)
    print(f"Method: {method_in_words(summary)}.")
    if meta.rank_caveat:
        print(meta.rank_caveat)
    print(group_headline(target, meta, summary, "The group"))
    for code in args.headline or []:
        rows = areas[areas["code"] == code.strip().upper()]
        if rows.empty:
            raise AtlasError(f"No area {code} in the series.", "Give a code from the series.")
        print(headline(str(rows["name"].iloc[0]), target, meta, rows))
    return 0


def _replay2001(args: argparse.Namespace) -> int:
    from geo.derive.replay2001 import read_wards, replay_2001

    result = replay_2001(read_wards(args.wards), n=args.n)
    if args.out:
        columns = ["district", "district_name", "wards", "wards_in_worst_10pc", "average_score", "rank_average_score",
                   "average_rank", "rank_average_rank", "extent", "rank_extent", "local_concentration",
                   "rank_local_concentration", "eligible", "eligible_on", "nrf_2001", "nrf_name"]
        write_atomic(args.out, result.districts[columns].to_csv(index=False, float_format="%.6f").encode("utf-8"))
    print("\n".join(result.lines()))
    if args.out:
        print(f"Wrote {len(result.districts):,} districts to {args.out}")
    return 0


def _render(args: argparse.Namespace) -> int:
    import time

    from geo.present.render import OUTPUTS, ViewRequest, parse_view, render_view, resolve_inputs

    out = Path(args.out)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in OUTPUTS:
        raise AtlasError(f"Cannot tell the output format from '{out.name}'.",
                         "End --out with .png, .svg or .pdf (a slide), .html (an offline map) or .csv (the table).")
    req = parse_view(args.view) if args.view else ViewRequest()
    for key in ("title", "subtitle", "callout", "theme", "marks"):
        if getattr(args, key) is not None:
            setattr(req, key, getattr(args, key))
    inputs = resolve_inputs(req, args.lsoa, args.table, args.districts, Path(args.packs) if args.packs else None)
    inputs.others = list(args.other or [])
    inputs.series = [Path(p) for p in args.series or []]
    inputs.series_boundaries = [Path(p) for p in args.series_boundaries or []]
    for key in ("source", "release", "attribution"):
        if getattr(args, key) is not None:
            setattr(inputs, key, getattr(args, key))
    start = time.perf_counter()
    notes: list[dict] = []
    data = render_view(req, inputs, fmt, notes)
    _print_notes(notes)
    write_atomic(out, data)
    print(f"Wrote {out} ({len(data) / 1024:.0f} kB, {fmt.upper()}) in {time.perf_counter() - start:.1f} s")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m geo", description="Neighbourhood Renewal Atlas tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    def boundary_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("boundaries", help="GeoJSON, GeoPackage, zipped Shapefile or GeoParquet")
        p.add_argument("indicators", help="CSV or XLSX table (official IoD files accepted as published)")
        p.add_argument("--boundary-code", help="code column in the boundaries (guessed if omitted)")
        p.add_argument("--indicator-code", help="code column in the table (guessed if omitted)")
        p.add_argument("--layer", help="GeoPackage layer, or Shapefile of a zip holding several (needed when there "
                                       "are several: the atlas never picks the first)")
        p.add_argument("--sheet", help="sheet of an XLSX table (needed when it has several visible sheets)")
        p.add_argument("--assume-crs", help="CRS for a boundary file that does not declare one, e.g. EPSG:27700")

    p = sub.add_parser("join", help="join a table to boundaries and write the join report as JSON")
    boundary_args(p)
    p.add_argument("--report", required=True, help="where to write the JSON report")
    p.add_argument("--resolve-duplicates", choices=["block", "first", "last"], default="block",
                   help="what to do with codes that appear twice with different values (default: block)")
    p.add_argument("--lookup", help="ONS LSOA 2011→2021 best-fit lookup CSV, to convert a 2011-keyed table")
    p.set_defaults(func=_join)

    p = sub.add_parser("summarise", help="district summaries (MHCLG method) from an LSOA table")
    p.add_argument("lsoa_table", help="IoD2019/IoD2025 File 7 as published, or the snake_case all-scores table")
    p.add_argument("--district", help="district code column (default: recognised from the headers)")
    p.add_argument("--score", help="IMD score column (default: recognised)")
    p.add_argument("--rank", help="IMD rank column (default: recognised)")
    p.add_argument("--population", help="total population column (default: recognised)")
    p.add_argument("--sheet", help="sheet of an XLSX table (needed when it has several visible sheets)")
    p.add_argument("--national-lsoas", type=int, default=None,
                   help="LSOAs the ranks are out of (default: by the LSOA vintage: 32844 for 2011, 33755 for 2021)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_summarise)

    p = sub.add_parser("map", help="write the choropleth as one self-contained, offline HTML file")
    boundary_args(p)
    p.add_argument("--column", required=True, help="the table column to map")
    p.add_argument("--scheme", default="quantiles",
                   choices=["quantiles", "equal_interval", "natural_breaks", "fisher_jenks_sampled", "user_defined"])
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--breaks", type=float, nargs="*", help="upper class bounds for --scheme user_defined")
    p.add_argument("--palette", default="viridis", choices=["viridis", "cividis", "blue-purple", "greys"])
    p.add_argument("--higher-is-worse", choices=["yes", "no"], default=None,
                   help="direction (recognised IoD columns know theirs)")
    p.add_argument("--title")
    p.add_argument("--attribution", default="Contains public sector information licensed under the OGL v3.0.")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_map)

    p = sub.add_parser("eligibility", help="which districts a rule selects, why, and an allocation of a pot")
    p.add_argument("--rule", required=True, help="rule file (TOML; see geo/reference/rules/)")
    p.add_argument("--release", required=True, help="pack id (see `data list`), pack folder, or an IoD File 7 table")
    p.add_argument("--packs", help="packs folder (default: $ATLAS_PACKS_DIR or ./packs)")
    p.add_argument("--pot", type=float, default=900_000_000.0, help="£ to split (default 900,000,000)")
    p.add_argument("--percent", type=float, default=10.0, help="LSOAs in the most deprived PERCENT%% count")
    p.add_argument("--population-only", action="store_true",
                   help="a standard amount per head of population in the most deprived LSOAs (the NRF method; default)")
    p.add_argument("--weight-by-score", action="store_true",
                   help="weight that population by IMD score (an alternative, not the NRF method)")
    p.add_argument("--reconciliation", help="also write the reconciliation with the actual NRF allocations (CSV)")
    p.add_argument("--floor", type=float, default=0.0, help="minimum £ per eligible district")
    p.add_argument("--ceiling", type=float, default=0.0, help="maximum £ per eligible district (0 = none)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_eligibility)

    p = sub.add_parser("progress", help="a target's progress: group vs the rest, per period and per area")
    p.add_argument("--target", required=True, help="target file (TOML; see geo/reference/targets/)")
    p.add_argument("--series", required=True, help="indicator series, long (code, period, value …) or wide (CSV/XLSX)")
    p.add_argument("--sheet", help="sheet of an XLSX series (needed when it has several visible sheets)")
    p.add_argument("--meta", nargs="*", default=[], help="TOML files describing the indicators (labels, units)")
    p.add_argument("--headline", nargs="*", help="area codes to print a generated headline for")
    p.add_argument("--unweighted", action="store_true",
                   help="unweighted mean of areas even where the indicator pools by LSOA counts")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_progress)

    p = sub.add_parser("replay2001", help="replay the 2001 NRF selection from the IMD 2000 ward file (an approximation)")
    p.add_argument("wards", help="IMD 2000 ward table (1998 wards: Ward, LA, LA Name, IMD score and rank)")
    p.add_argument("--n", type=int, default=50, help="the top N on any measure are selected (default 50)")
    p.add_argument("--out", help="where to write the per-district measures, ranks and flags (CSV)")
    p.set_defaults(func=_replay2001)

    p = sub.add_parser("render", help="any view of the app as a slide (PNG, SVG, PDF), an offline map (HTML) or its "
                                      "table (CSV), from a link or a view file")
    p.add_argument("--view", help="the app's address (in quotes) or a TOML view file (default: the app's first view)")
    p.add_argument("--out", required=True, help=".png (1920×1080 slide), .svg, .pdf, .html (offline map) or .csv")
    p.add_argument("--other", action="append", help="change: another release to compare with (pack id, pack folder or "
                                                    "LSOA table); repeatable")
    p.add_argument("--series", action="append", help="progress: an indicator series (CSV/XLSX); repeatable")
    p.add_argument("--series-boundaries", action="append",
                   help="progress: boundaries the series' areas are drawn on (e.g. districts of the series' year)")
    p.add_argument("--lsoa", help="LSOA boundaries (instead of the view's pack)")
    p.add_argument("--table", help="IoD indicator table (with --lsoa)")
    p.add_argument("--districts", help="district boundaries (for the districts view)")
    p.add_argument("--packs", help="packs folder (default: $ATLAS_PACKS_DIR or ./packs)")
    p.add_argument("--title", help="slide title (default: the map's)")
    p.add_argument("--subtitle", help="slide subtitle (default: the map's)")
    p.add_argument("--callout", help="a sentence or two beside the map")
    p.add_argument("--theme", choices=["light", "projector"], help="light (default) or projector (white on black)")
    p.add_argument("--marks", choices=["none", "hatch", "labels"],
                   help="not by colour alone: a hatch per class, or class numbers on areas (up to 300)")
    p.add_argument("--source", help="footer source (default: the pack's, or the IoD catalogue's)")
    p.add_argument("--release", help="footer release/vintage (default: the pack's label, or the table's file name)")
    p.add_argument("--attribution", help="footer licence attribution (default: the pack's, or the OGL v3.0 line)")
    p.set_defaults(func=_render)

    p = sub.add_parser("data", help="real England data packs: fetch, import, list")
    data = p.add_subparsers(dest="data_command", required=True)
    d = data.add_parser("fetch", help="download, verify and build a release's pack (resumes if interrupted)")
    d.add_argument("release", choices=["iod2019", "iod2025"])
    d.add_argument("--mirror", help="base URL of a mirror of the official hosts (paths kept)")
    d.add_argument("--postcodes", action="store_true", help="also add ONS's postcode → LSOA best-fit lookup")
    d.add_argument("--dest", help="packs folder (default: $ATLAS_PACKS_DIR or ./packs)")
    d = data.add_parser("import", help="build a release's pack from files you already have")
    d.add_argument("--release", required=True, choices=["iod2019", "iod2025"])
    d.add_argument("--from", dest="source", required=True, help="the folder the files were downloaded to (File 7, "
                   "the ONS boundary files); subfolders and zips are searched, files are recognised by their contents")
    d.add_argument("--dest", help="packs folder (default: $ATLAS_PACKS_DIR or ./packs)")
    d = data.add_parser("list", help="list the packs the app can open")
    d.add_argument("--dest", help="packs folder (default: $ATLAS_PACKS_DIR or ./packs)")
    p.set_defaults(func=_data)
    return parser


def _usage(option: str, message: str, hint: str) -> AtlasError:
    return AtlasError(f"{option}: {message}", hint)


def _check_number(args: argparse.Namespace, name: str, low: float | None = None, high: float | None = None,
                  low_open: bool = False, integer: bool = False, hint: str = "") -> None:
    import math

    value = getattr(args, name, None)
    if value is None:
        return
    option = "--" + name.replace("_", "-")
    bounds = (f"more than {low:g}" if low_open else f"at least {low:g}") if low is not None else ""
    if high is not None:
        bounds += (" and " if bounds else "") + f"at most {high:g}"
    if not math.isfinite(value) or (low is not None and (value <= low if low_open else value < low)) or (
            high is not None and value > high):
        raise _usage(option, f"{value!r} is not allowed; it must be {bounds}.", hint or f"Give {option} a number "
                     f"{bounds}.")


def _check_files(args: argparse.Namespace, names: tuple[str, ...], folders: tuple[str, ...] = ()) -> None:
    for name in names:
        values = getattr(args, name, None)
        for value in values if isinstance(values, list) else [values]:
            if value is not None and not Path(value).is_file():
                given = name if name in ("boundaries", "indicators", "lsoa_table", "wards") else "--" + name.replace(
                    "_", "-")
                raise AtlasError(f"No file at '{value}' (given as {given}).", "Check the path.")
    for name in folders:
        value = getattr(args, name, None)
        if value is not None and not Path(value).is_dir():
            raise _usage(f"--{name.replace('_', '-')}", f"no folder at '{value}'.", "Check the path.")


def _check_out(args: argparse.Namespace, *names: str) -> None:
    for name in names:
        value = getattr(args, name, None)
        if value is None:
            continue
        folder = Path(value).resolve().parent
        if not folder.is_dir():
            raise _usage(f"--{name}", f"the folder '{folder}' does not exist.", "Create it, or write somewhere else.")
        if Path(value).is_dir():
            raise _usage(f"--{name}", f"'{value}' is a folder.", "Give a file name.")


def validate(args: argparse.Namespace) -> None:
    """Every option value of every subcommand checked before anything is read: AtlasError (exit 2) if wrong."""
    command = args.command
    if command in ("join", "map"):
        _check_files(args, ("boundaries", "indicators", "lookup"))
        for name in ("boundary_code", "indicator_code", "layer", "sheet", "column"):
            value = getattr(args, name, None)
            if value is not None and not str(value).strip():
                raise _usage(f"--{name.replace('_', '-')}", "an empty name.", "Name a column, layer or sheet.")
        if args.assume_crs is not None:
            from pyproj import CRS

            try:
                CRS.from_user_input(args.assume_crs)
            except Exception as exc:  # pyproj.exceptions.CRSError
                raise _usage("--assume-crs", f"'{args.assume_crs}' is not a coordinate system the atlas knows.",
                             "Give an EPSG code, e.g. EPSG:27700 (British National Grid) or EPSG:4326.") from exc
        _check_out(args, "report", "out")
    if command == "map":
        _check_number(args, "k", 2, 12, hint="Give --k a whole number of classes from 2 to 12.")
        if args.scheme == "user_defined":
            import math

            if not args.breaks:
                raise _usage("--breaks", "--scheme user_defined needs the upper class bounds.",
                             "Give them ascending, e.g. --breaks 10 20 30.")
            if any(not math.isfinite(b) for b in args.breaks) or sorted(set(args.breaks)) != list(args.breaks):
                raise _usage("--breaks", f"{args.breaks} are not finite, strictly ascending numbers.",
                             "Give them ascending, e.g. --breaks 10 20 30.")
        elif args.breaks:
            raise _usage("--breaks", f"only --scheme user_defined takes breaks (the scheme is {args.scheme}).",
                         "Add --scheme user_defined, or leave out --breaks.")
    if command == "summarise":
        _check_files(args, ("lsoa_table",))
        _check_number(args, "national_lsoas", 1, integer=True)
        _check_out(args, "out")
    if command == "eligibility":
        _check_files(args, ("rule",), ("packs",))
        _check_number(args, "pot", 0, low_open=True)
        _check_number(args, "percent", 0, 100, low_open=True)
        _check_number(args, "floor", 0)
        _check_number(args, "ceiling", 0)
        if args.ceiling and args.ceiling < args.floor:
            raise _usage("--ceiling", f"{args.ceiling:g} is below --floor {args.floor:g}.",
                         "Give a ceiling of at least the floor, or 0 for none.")
        _check_out(args, "out", "reconciliation")
    if command == "progress":
        _check_files(args, ("target", "series", "meta"))
        _check_out(args, "out")
    if command == "replay2001":
        _check_files(args, ("wards",))
        _check_number(args, "n", 1, integer=True)
        _check_out(args, "out")
    if command == "render":
        _check_files(args, ("lsoa", "table", "districts", "series", "series_boundaries"), ("packs",))
        _check_out(args, "out")
    if command == "data":
        if getattr(args, "mirror", None) and not str(args.mirror).startswith(("http://", "https://")):
            raise _usage("--mirror", f"'{args.mirror}' is not an http(s) address.",
                         "Give the base URL of a mirror, e.g. https://mirror.example/ons.")
        _check_files(args, (), ("source",) if getattr(args, "data_command", "") == "import" else ())


def dispatch(argv: list[str] | None = None) -> int:
    """Parse, validate and run a subcommand; AtlasError propagates (main() turns it into exit code 2)."""
    args = build_parser().parse_args(argv)
    validate(args)
    return int(args.func(args))


def main(argv: list[str] | None = None) -> int:
    try:
        return dispatch(argv)
    except AtlasError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"what to do: {exc.hint}", file=sys.stderr)
        return 2
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
