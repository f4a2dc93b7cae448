"""Design rules kept by tests: geo/ is pure, the catalogue and settings are documented data."""

from __future__ import annotations

import ast
from pathlib import Path

from geo.catalogue import load_catalogue, recognise_columns
from geo.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


def test_geo_never_imports_streamlit():
    for path in (ROOT / "geo").rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n.split(".")[0] == "streamlit" for n in names), f"{path} imports streamlit"


def test_every_catalogue_entry_is_documented():
    cat = load_catalogue()
    for entry in cat["measure"]:
        assert entry["id"] and entry["label"] and len(entry["description"]) > 20 and entry["header"]
    for entry in cat["summary"]:
        assert isinstance(entry["higher_is_worse"], bool) and entry["description"]
    assert cat["defaults"]["licence"] and cat["defaults"]["attribution"]


def test_every_setting_has_help():
    assert all(s.help.endswith(".") and s.name for s in SETTINGS)


def test_official_headers_of_files_1_2_and_7_and_snake_case_are_recognised():
    headers = ["Index of Multiple Deprivation (IMD) Rank", "Index of Multiple Deprivation (IMD) Decile",
               "Income Rank (where 1 is most deprived)", "Income Score (rate)",
               "Living Environment Decile (where 1 is most deprived 10% of LSOAs)", "crime_score", "LSOA code (2011)"]
    found = recognise_columns(headers)
    assert {(c.measure, c.kind) for c in found.values()} == {
        ("imd", "rank"), ("imd", "decile"), ("income", "rank"), ("income", "score"), ("living_env", "decile"),
        ("crime", "score")}
    assert found["Income Score (rate)"].higher_is_worse and not found["Income Rank (where 1 is most deprived)"].higher_is_worse


def test_ruff_is_clean():
    import shutil
    import subprocess
    import sys

    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    run = subprocess.run([ruff, "check", "--output-format", "concise", "."], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
