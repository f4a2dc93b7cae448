"""A fresh clone has no /work/shared: every test that reads the shared open data must skip, with a reason.

`.ci/run` runs the tests that reference it a second time with ATLAS_SHARED_DATA pointing nowhere; this
module is always part of that pass (so it can never select no tests) and checks the pass is what it claims.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from tests import cases

TESTS = Path(__file__).resolve().parent
READERS = r"\bSHARED\b|shared_data_available|shared/data|ATLAS_SHARED_DATA"  # the same pattern as .ci/run's grep


def test_shared_data_location_follows_the_environment():
    if "ATLAS_SHARED_DATA" in os.environ:
        assert cases.SHARED == Path(os.environ["ATLAS_SHARED_DATA"])
    if os.environ.get("ATLAS_EXPECT_NO_SHARED_DATA"):
        assert not cases.SHARED.exists(), f"{cases.SHARED} exists: this pass would not test a fresh clone"


def test_ci_runs_every_test_module_that_reads_the_shared_data_without_it():
    """.ci/run's second pass selects the modules that mention the shared data (browser tests aside)."""
    script = (cases.REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "ATLAS_SHARED_DATA=" in script and "ATLAS_EXPECT_NO_SHARED_DATA=1" in script
    readers = sorted(p.name for p in TESTS.glob("test_*.py")
                     if re.search(READERS, p.read_text(encoding="utf-8"))
                     and "browser" not in p.name and p.name != Path(__file__).name)
    assert len(readers) >= 10, readers
