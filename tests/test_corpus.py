"""The bad-input corpus (tests/corpus/make_corpus.py) through the real readers, join and map.

Every case must end as its `expected` says: read correctly (with the notes and numbers it names)
or refused with that geo.errors class, a message and a hint. Any other exception would be a
traceback in the app, so it fails the test whatever the case expected.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from pathlib import Path

import pytest

import geo.errors
from tests import cases as bench
from tests.corpus.make_corpus import (
    FAMILIES,
    REFUSAL_DOCS,
    REFUSALS_END,
    REFUSALS_START,
    accounting_problems,
    build_corpus,
    check_case,
    refusals_table,
    run_case,
    summarise,
)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    out = tmp_path_factory.mktemp("corpus")
    return out, build_corpus(out)


@pytest.fixture(scope="module")
def results(corpus):
    _, cases = corpus
    return [(case, got, check_case(case, got)) for case in cases for got in [run_case(case)]]


def test_corpus_is_well_formed(corpus):
    _, cases = corpus
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), [n for n, k in Counter(names).items() if k > 1]
    per_family = Counter(c.family for c in cases)
    for family in FAMILIES:
        assert per_family[family] >= 3, f"family {family!r} has only {per_family[family]} case(s)"
    assert set(per_family) <= set(FAMILIES)
    for case in cases:
        assert case.kind in ("boundaries", "table", "join", "map", "columns", "export", "cli"), case
        assert case.expected == "ok" or isinstance(getattr(geo.errors, case.expected, None), type), case.expected


@pytest.mark.parametrize("family", FAMILIES)
def test_family_behaves(results, family):
    failing, fixed = [], []
    for case, _got, problems in results:
        if case.family != family:
            continue
        if case.known_issue:
            if not problems:
                fixed.append(case.name)
            continue
        if problems:
            failing.append(f"{case.name}: " + "; ".join(problems))
    assert not failing, "\n".join(failing)
    assert not fixed, f"known issue(s) now behave — remove their known_issue: {fixed}"


def test_nothing_but_atlas_errors_escape(results):
    crashes = [f"{c.name}: {g.outcome}: {g.message}" for c, g, _ in results if g.outcome.startswith("CRASH")]
    assert not crashes, "\n".join(crashes)
    for case, got, _ in results:
        if got.outcome != "ok":
            assert "AtlasError" in got.extra["classes"], case.name
            assert got.message.strip() and got.hint.strip(), f"{case.name}: message and hint must both be given"


@pytest.mark.parametrize("name", ["local-decile-official-style"])
def test_known_issues_are_still_listed(results, name):
    """Cases the atlas still gets wrong, kept visible (strict: the test fails once they are fixed)."""
    case, got, problems = next(r for r in results if r[0].name == name)
    if not case.known_issue:
        pytest.skip("fixed")
    if not problems:
        pytest.fail(f"{name} now behaves: remove its known_issue")
    pytest.xfail(f"{case.known_issue} — {problems[0]}")


def test_corpus_is_deterministic(corpus, tmp_path):
    out, _ = corpus
    time.sleep(1.1)  # a timestamp anywhere in a generated file would now differ
    build_corpus(tmp_path)

    def digests(folder: Path) -> dict[str, str]:
        return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in folder.rglob("*") if p.is_file() and not p.is_symlink() and "_scratch" not in p.parts}

    first, second = digests(out), digests(tmp_path)
    assert first.keys() == second.keys()
    assert [k for k in first if first[k] != second[k]] == []


def test_summary_table(results, capsys):
    table = summarise(results)
    with capsys.disabled():
        print("\n" + table)
    for family in FAMILIES:
        assert family in table


def test_every_corpus_join_accounts_for_every_row(results):
    """rows_in == matched + without an area + collapsed (+ converted), in every join of the corpus (CLI ones too)."""
    reports = [(c.name, g.extra["report"].to_dict()) for c, g, _ in results if g.extra.get("report") is not None]
    reports += [(c.name, g.extra["report_dict"]) for c, g, _ in results if g.extra.get("report_dict") is not None]
    assert len(reports) >= 20, len(reports)
    bad = [f"{name}: {p}" for name, r in reports for p in accounting_problems(r)]
    assert not bad, "\n".join(bad)
    assert any(r["rows_converted"] for _, r in reports) and any(r["rows_collapsed"] for _, r in reports)


def test_the_cli_prints_every_note_the_report_carries(results):
    cli = [(c, g) for c, g, _ in results if c.kind == "cli" and "report_dict" in g.extra]
    assert cli
    for case, got in cli:
        for note in got.extra["report_dict"]["notes"]:
            assert note["kind"] and note["message"] in got.extra["stderr"], (case.name, note)


def test_refusals_tables_are_generated_from_the_corpus(corpus):
    """SECURITY.md and the README list what the readers refuse from the corpus itself (so they cannot drift)."""
    _, cases = corpus
    block = refusals_table(cases)
    for name in REFUSAL_DOCS:
        text = (bench.REPO / name).read_text(encoding="utf-8")
        start, end = text.index(REFUSALS_START), text.index(REFUSALS_END) + len(REFUSALS_END)
        assert text[start:end] == block, f"{name} is out of date: run python -m tests.corpus.make_corpus --refusals"
