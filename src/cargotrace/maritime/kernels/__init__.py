"""NumPy kernels of the per-fix maritime stages, for the DuckDB engine.

The stage SQL (maritime/track.py, maritime/port_calls.py) is the definition: Spark runs it
(transpiled) and DuckDB can run it too (`--set maritime_kernel=sql`). On one machine the
per-fix part of those stages is faster as a few vectorised passes over the positions sorted
once by (MMSI, time) than as window functions: DuckDB sorts into Arrow in about a second per
ten million fixes, and everything after the sort is shifts, masks and cumulative sums over
contiguous arrays. Each kernel writes the same table, with the same columns and rows, as
the statements it replaces; tests/test_maritime_kernels.py holds them equal on hand-built
tracks, generated fleets (hypothesis) and the real AIS samples.

The tables are handed to DuckDB as Arrow views (`views.publish`), not copied into DuckDB
tables: materialising ten million rows of a dozen columns would cost more than computing
them.
"""
