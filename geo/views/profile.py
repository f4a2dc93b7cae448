"""Area profile: one page for a district (or a group of districts), as a Local Strategic Partnership reads it.

`?view=profile&area=E06000001` (or `area=E06000001,E06000002`): the district's LSOAs by national IMD
decile (the map); every domain's district average score as a spine chart against England's range of
districts; its district summaries with their national ranks (1 = most deprived); its priority
neighbourhoods (England's most deprived 10% and 20% on the IMD) with their worst domains; the local
gap between those and the rest of the district on each domain; its NRF status under the chosen rule
and whether it was one of the NRF 2001 authorities; its target status where a series is loaded.
The numbers are geo.derive.profile's; this module assembles them into a ViewResult.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo.catalogue import summaries
from geo.derive.eligibility import evaluate_rule, presets
from geo.derive.nrf import reference_codes
from geo.derive.profile import AreaProfile, area_profile, profile_headlines
from geo.errors import AtlasError
from geo.link.layers import lsoa_measure_layer, lsoas_in_districts
from geo.present.classify import classify_values
from geo.present.compare import AREA_LETTERS, Comparison, national_decile, national_rank, spine_svg, spine_table
from geo.present import numbers
from geo.present.mapping import format_value
from geo.views.classes import SUMMARY_KINDS
from geo.views.sources import provenance
from geo.views.base import Param, View, ViewData, ViewResult
from geo.views.common import district_names, release_map
from geo.views.eligibility import domain_frames, rule_from

MAX_MARKED = len(AREA_LETTERS)  # districts marked on the spine chart
GAP_NOTE = ("Local gap: the population-weighted mean LSOA score of the priority neighbourhoods (England's most "
            "deprived 20% on the IMD) minus that of the rest of the area, per domain (weighted by each domain's "
            "population, working-age for Employment); a positive gap = the priority neighbourhoods are more deprived. "
            "Domains have different scales, so the gaps compare across domains only in England's standard deviations.")


def _areas_default(data: ViewData, values: dict) -> list[str]:
    names = district_names(data)
    return [next(iter(names))] if names else []


class ProfileView(View):
    id = "profile"
    label = "Area profile"
    description = "One district (or a group): its neighbourhoods, domains, summaries, priority areas, gaps and status."

    def available(self, data: ViewData) -> str | None:
        if not data.iod or data.ind.column_for("imd", "rank") is None:
            return "the table has no IMD ranks"
        if not data.ind.district_column:
            return "a district code column is needed"
        if data.ind.column_for("imd", "score") is None or data.ind.population_column is None:
            return "a profile needs LSOA scores, ranks and populations (IoD File 7)"
        return None

    def params(self, data: ViewData) -> tuple[Param, ...]:
        return (
            Param("area", "District(s) to profile", "choices", default=_areas_default,
                  choices=lambda d, v: list(district_names(d)),
                  labels=lambda d, v: {c: f"{n} ({c})" for c, n in district_names(d).items()},
                  help="A district code, e.g. E06000001, or several for a group.",
                  unknown="No district {value} in this data."),
            Param("rule", "Fund rule", "text", default=lambda d, v: next(iter(presets())),
                  help="The eligibility rule the NRF status is judged by: a preset's name, a rule file or a link's token."),
        )

    def build(self, data: ViewData, values: dict) -> ViewResult:
        codes = [str(c).strip().upper() for c in values.get("area") or []]
        if not codes:  # the release's districts, to pick one from
            result = release_map(data, level="districts")
            result.warnings.append("Choose a district to profile in 'District(s) to profile' (e.g. E06000001).")
            return result
        ind = data.ind
        frames = domain_frames(data)
        labels = data.measure_labels()
        names = district_names(data)
        lsoa_names = None
        if ind.name_column:
            lsoa_names = pd.Series(ind.frame[ind.name_column].to_numpy(), index=frames["imd"]["code"].to_numpy())
        n = ind.n_national()
        profile = area_profile(frames, codes, n, labels, lsoa_names, names)
        if profile.n_lsoas == 0:
            result = release_map(data, level="districts")
            result.problems.append(AtlasError(f"No LSOAs of {', '.join(codes)} in this data.",
                                              "Choose a district from the list."))
            return result

        layer = lsoas_in_districts(data.joined, ind, codes)
        shown = lsoa_measure_layer(ind, layer, data.report.boundary_code, data.name_column, "imd", labels["imd"],
                                   "decile")
        spec = shown.spec
        spec.title = f"{profile.name}: neighbourhoods by national IMD decile"
        spec.subtitle = (f"{profile.n_lsoas} LSOAs; decile 1 = England's most deprived 10%; "
                         f"{profile.in_most_deprived(10)} in decile 1")
        classification = classify_values(shown.layer[spec.value_column], "national_deciles", 10, shown.higher_is_worse,
                                         deciles=shown.deciles, extremes=spec.extremes)

        summary_rows, comparison, measures_note = self._summaries(data, profile, labels)
        nrf_rows, nrf_lines = self._nrf(data, values, frames, labels, names, profile)
        target_rows, target_lines = self._target(data, profile)
        headlines = profile_headlines(profile, labels) + nrf_lines + target_lines
        table = self._table(profile, summary_rows, nrf_rows, target_rows)
        notes = [GAP_NOTE]
        if len(codes) > MAX_MARKED:
            notes.append(f"The spine chart marks the first {MAX_MARKED} of the {len(codes)} districts.")
        extra = {"profile": profile, "spine_svg": spine_svg(comparison) if comparison is not None else "",
                 "spine_table": spine_table(comparison) if comparison is not None else pd.DataFrame(),
                 "spine_note": measures_note, "summaries": pd.DataFrame(summary_rows),
                 "priority": profile.priority, "gaps": profile.gaps, "deciles": profile.deciles,
                 "nrf": pd.DataFrame(nrf_rows), "target": target_lines, "gap_note": GAP_NOTE,
                 "provenance": provenance(data)}
        tables = {"profile": table, "priority": profile.priority, "gaps": profile.gaps,
                  "summaries": pd.DataFrame(summary_rows)}
        return ViewResult(shown.layer, spec, shown.higher_is_worse, shown.deciles, classification=classification,
                          tables=tables, headlines=headlines, notes=notes, place=profile.name if len(codes) == 1 else None,
                          area_word="LSOAs", national_place="England", extra=extra)

    # ------------------------------------------------------------------ parts

    def _summaries(self, data: ViewData, profile: AreaProfile, labels: dict[str, str]):
        """District summaries of the IMD with national ranks, and every domain's average score on a spine chart."""
        rows, spine_rows, ranges, n_first = [], [], [], 0
        entries = summaries()
        for measure, label in labels.items():
            try:
                table = data.district_summaries(measure)
            except AtlasError:
                continue
            table = table.assign(_code=table["district_code"].astype("string").str.strip().str.upper())
            at = table.set_index("_code")
            for s in entries:
                col = s["id"]
                if col not in table.columns or (measure != "imd" and col != "average_score"):
                    continue
                for code in profile.codes:
                    if code not in at.index:
                        continue
                    rank = at.loc[code].get(f"{col}_rank")
                    rows.append({"district_code": code, "district": profile.names.get(code, code), "measure": label,
                                 "summary": s["label"], "summary_id": col, "value": at.loc[code, col],
                                 "national_rank": int(rank) if pd.notna(rank) else None, "of": len(table)})
            if "average_score" not in table.columns:
                continue
            vals = pd.to_numeric(table["average_score"], errors="coerce").astype(float).reset_index(drop=True)
            present = vals.notna()
            if not present.any():
                continue
            count = int(present.sum())
            n_first = n_first or count
            rank = national_rank(vals, True)
            decile = national_decile(rank, count)
            england = float(vals[present].median())
            q = vals[present].quantile([0.0, 0.25, 0.75, 1.0]).to_numpy()
            column = f"{measure}_average_score"
            ranges.append({"measure": label, "column": column, "higher_is_worse": True, "n": count, "min": q[0],
                           "q25": q[1], "england": england, "q75": q[2], "max": q[3]})
            codes = table["_code"].reset_index(drop=True)
            for code in profile.codes[:MAX_MARKED]:
                hit = np.flatnonzero(codes.to_numpy() == code)
                if not len(hit):
                    continue
                i = int(hit[0])
                v = vals.iloc[i]
                spine_rows.append({"code": code, "name": profile.names.get(code, code), "measure": label,
                                   "column": column, "value": v, "rank": rank.iloc[i], "of": count,
                                   "decile": decile.iloc[i], "england": england, "gap": v - england,
                                   "against_england": "more deprived" if v > england else "less deprived"
                                   if v < england else "same as England"})
        comparison = None
        if ranges and spine_rows:
            t = pd.DataFrame(spine_rows)
            marked = [c for c in profile.codes[:MAX_MARKED] if c in set(t["code"])]
            comparison = Comparison(t, pd.DataFrame(ranges), [(c, profile.names.get(c, c)) for c in marked], n_first,
                                    "districts")
        note = ("Each domain's district average score (population-weighted mean of its LSOA scores, MHCLG's method) "
                "against England's range of districts: grey band = the middle half, black line = the median district.")
        return rows, comparison, note

    def _nrf(self, data: ViewData, values: dict, frames, labels, names, profile: AreaProfile):
        rows, lines = [], []
        try:
            rule = rule_from(values.get("rule") or next(iter(presets())), tuple(frames))
            result = evaluate_rule(rule, frames, data.ind.n_national(), names, labels).table
        except AtlasError as exc:
            return rows, [f"NRF status: not evaluated ({exc.message})"]
        at = result.assign(_c=result["district_code"].astype("string").str.upper()).set_index("_c")
        try:
            reference = reference_codes(result["district_code"].tolist())
        except AtlasError:
            reference = None
        for code in profile.codes:
            name = profile.names.get(code, code)
            eligible = bool(at.loc[code, "eligible"]) if code in at.index else False
            why = str(at.loc[code, "reasons"]) if code in at.index else ""
            was = None if reference is None else code in reference
            rows.append({"district_code": code, "district": name, "rule": rule.name, "eligible": eligible,
                         "reasons": why, "nrf_2001": was,
                         "nrf_2001_authorities": ", ".join(reference.get(code, [])) if reference else ""})
            past = ("" if was is None else " It was one of the 88 NRF authorities of 2001." if was
                    else " It was not one of the 88 NRF authorities of 2001.")
            lines.append(f"{name} is {'eligible' if eligible else 'not eligible'} under “{rule.name}” (the reasons "
                         f"are in the profile table).{past}")
        return rows, lines

    def _target(self, data: ViewData, profile: AreaProfile):
        if not data.series:
            return [], ["No target series is loaded, so there is no target status."]
        from geo.views import get_view, resolve_values

        view = get_view("progress")
        reason = view.available(data)
        if reason:
            return [], [f"No target status: {reason}."]
        try:
            values, _ = resolve_values(view, data, {})
            result = view.build(data, values)
        except AtlasError as exc:
            return [], [f"No target status: {exc.message}"]
        if "areas" not in result.extra:  # no usable series or target: the progress view says why in its warnings
            why = " ".join(result.warnings + [p.message for p in result.problems]) or "no target series is loaded"
            return [], [f"No target status: {why}"]
        areas, period, target = result.extra["areas"], result.extra["period"], result.extra["target"]
        rows, lines = [], []
        for code in profile.codes:
            name = profile.names.get(code, code)
            at = areas[(areas["code"].astype("string").str.upper() == code) & (areas["period"] == period)]
            if at.empty:
                lines.append(f"{name} is not in the series of the target “{target.name}”.")
                continue
            status = str(at["status"].iloc[0])
            rows.append({"district_code": code, "district": name, "target": target.name, "period": period,
                         "status": status})
            lines.append(f"{name} against “{target.name}” ({period}): {status}.")
        return rows, lines

    def _table(self, p: AreaProfile, summary_rows, nrf_rows, target_rows) -> pd.DataFrame:
        """The profile as one long table (the CSV): section, district, item, value, national rank, of, note."""
        out = []
        for decile, count in p.deciles.items():
            out.append(("LSOAs by national IMD decile", p.name, f"decile {decile}", count, None, p.n_lsoas,
                        "decile 1 = England's most deprived 10%"))
        for r in summary_rows:
            out.append(("District summaries", r["district"], f"{r['measure']}: {r['summary']}",
                        numbers.fmt(r["value"], SUMMARY_KINDS.get(r.get("summary_id", ""), "score")),
                        r["national_rank"], r["of"], "rank 1 = most deprived"))
        for r in p.priority.itertuples():
            out.append(("Priority neighbourhoods", r.name, f"{r.code} ({r.priority})", format_value(r.imd_score),
                        int(r.imd_rank), p.n_national, f"worst domains: {r.worst_domains}"))
        for r in p.gaps.itertuples():
            out.append(("Local gap", p.name, r.label, format_value(r.gap), None, None,
                        f"priority {format_value(r.priority_mean_score)} ({r.priority_lsoas} LSOAs) vs rest "
                        f"{format_value(r.rest_mean_score)} ({r.rest_lsoas} LSOAs); population-weighted mean scores; "
                        f"{r.gap_in_england_sd:.2f} England standard deviations"))
        for r in nrf_rows:
            was = ("NRF 2001 authority: " + ("yes" if r["nrf_2001"] else "no")) if r["nrf_2001"] is not None else ""
            out.append(("NRF status", r["district"], r["rule"], "eligible" if r["eligible"] else "not eligible", None,
                        None, "; ".join(t for t in (was, r["reasons"]) if t)))
        for r in target_rows:
            out.append(("Target status", r["district"], r["target"], r["status"], None, None, r["period"]))
        table = pd.DataFrame(out, columns=["section", "area", "item", "value", "national_rank", "of", "note"])
        for col in ("national_rank", "of"):
            table[col] = table[col].astype("Int64")
        return table
