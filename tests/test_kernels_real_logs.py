"""The NumPy kernels (the default) and the stage SQL (`--set maritime_kernel=sql`, the
definition) give the same findings on real AIS logs analysed end to end: the NOAA day (US
waters) and AMSA's satellite and terrestrial logs (the Pacific). Floating-point values agree
to 1e-9 (relative): a mean of coordinates added up in another order differs in its last
bits, e.g. a circling vessel-hour's centre, -122.4271355 against -122.42713549999999."""

from __future__ import annotations

import shutil

from cargotrace import workflow
from cargotrace.case.store import Case
from cargotrace.settings import AnalysisSettings

from conftest import shared_data
from kernel_support import rows_match

TABLES = (
    "port_calls", "gaps", "coverage_gaps", "encounters", "encounter_crowds", "loitering",
    "position_jumps", "circling", "interference", "spoofed_positions", "ais_disabling",
    "draught_changes", "identity_events", "voyages",
)  # fmt: skip


def test_kernels_and_sql_find_the_same_on_real_logs(tmp_path):
    logs = [
        shared_data("ais", "noaa", "AISdata_marinecadastre_20220103.csv.gz"),
        shared_data("ais", "amsa", "ais.txt.gz"),
        shared_data("ais", "amsa", "exact-earth-augmented-3.txt"),
    ]
    kernels, sql = tmp_path / "kernels", tmp_path / "sql"
    workflow.ingest(kernels, "ais", logs)
    shutil.copytree(kernels, sql)
    workflow.analyze(kernels, AnalysisSettings())
    workflow.analyze(sql, AnalysisSettings(maritime_kernel="sql"))
    found = {}
    for name, case_dir in (("kernels", kernels), ("sql", sql)):
        with Case.open(case_dir) as case:
            found[name] = {
                t: case.con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall()
                for t in TABLES
                if case.has_table(t)
            }
    assert found["kernels"].keys() == found["sql"].keys()
    assert {"port_calls", "gaps", "circling", "interference"} <= found["kernels"].keys()
    for t in found["kernels"]:
        assert len(found["kernels"][t]) == len(found["sql"][t]), t
        for a, b in zip(found["kernels"][t], found["sql"][t], strict=True):
            assert rows_match(a, b, abs_tol=1e-12), (t, a, b)
    # the logs give every kind of these events something to find
    counts = {t: len(rows) for t, rows in found["kernels"].items()}
    assert (
        min(counts["port_calls"], counts["gaps"], counts["circling"], counts["interference"]) > 0
    ), counts
