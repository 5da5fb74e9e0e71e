"""Where four statements of the stage SQL read their per-fix rows from.

Four statements read a per-fix table only to keep a few of its rows or one value per vessel:
`ship_links` (the track's distinct transmitters), `raw_gaps` (the track's fixes that end a
gap), `service_speed` (a quantile of each vessel's speeds) and `ais_calls` (the zone marks of
silences in port). Each names the table it reads through `Sources`; by default the per-fix
tables themselves (the definition). An engine that already holds a smaller table with
exactly the rows the statement keeps — or, for the speeds, one row per vessel whose `sog` is
the vessel's quantile, over which the statement's own filter and `quantile_disc` give that
value again — passes its name instead (engine/spark_derived.py: the Spark kernels' pass
writes such tables). The statements' filters and aggregates stay as they are, so the same
text over either table keeps the same rows: one definition of each rule.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sources:
    # ship_links: (mmsi, tx) of the track's fixes (read as SELECT DISTINCT mmsi, tx)
    transmitters: str = "track"
    # raw_gaps: the track's fixes, of which it keeps those with gap_start_lat
    gap_fixes: str = "track"
    # service_speed: (vid, sog), of which it takes quantile_disc(sog) per vid of speeds in the band
    speeds: str = "track"
    # ais_calls: the zone marks, of which it keeps those with port_gap
    gap_marks: str = "zone_marks"


PER_FIX = Sources()
