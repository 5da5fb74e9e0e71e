"""Raw NMEA AIS archives into the case: positions, identity reports and quarantined
sentences, streamed batch by batch through the vectorised decoder.

Rows, for the ledger's invariant, are AIS messages: read = decoded + rejected. Lines that
are not AIS (other NMEA sentences, comments) and messages of types we do not decode are
counted as skipped.
"""

from __future__ import annotations

from pathlib import Path

from cargotrace.case.store import Case
from cargotrace.ingest.loader import IngestResult, Mapping, Progress, TabularKind, sql_str
from cargotrace.ingest.nmea import decode_nmea_file


def load_nmea(case: Case, spec: TabularKind, path: Path, mapping: Mapping, result: IngestResult, progress: Progress | None) -> None:
    con = case.con
    provenance = f"{sql_str(result.file_hash)}, {sql_str(path.name)}, NULL"
    result.detail["format"] = "nmea"
    for batch in decode_nmea_file(path, progress=None):
        con.register("nmea_positions", batch.positions)
        con.execute(
            f"""INSERT INTO positions (mmsi, timestamp, lat, lon, sog, cog, heading, nav_status, msg_type,
                                       file_hash, source_file, sheet, source_row)
                SELECT mmsi, timestamp, lat, lon, sog, cog, heading, nav_status, msg_type, {provenance}, line_no
                FROM nmea_positions"""
        )
        con.unregister("nmea_positions")
        con.register("nmea_statics", batch.statics)
        con.execute(
            f"""INSERT INTO vessel_reports
                SELECT mmsi, CAST(imo AS VARCHAR), name, callsign, CAST(ship_type AS VARCHAR), NULL, timestamp,
                       {provenance}, line_no
                FROM nmea_statics"""
        )
        con.unregister("nmea_statics")
        con.register("nmea_rejects", batch.rejects)
        con.execute(
            f"""INSERT INTO quarantine SELECT 'ais', reason, NULL, raw, {provenance}, line_no FROM nmea_rejects"""
        )
        con.unregister("nmea_rejects")
        stats = batch.stats
        result.rows_read += stats.decoded + stats.rejected
        result.rows_kept += stats.decoded
        result.rows_quarantined += stats.rejected
        result.rows_skipped += stats.non_ais + stats.undecoded_type
        if progress:
            progress(stats.lines)
    result.detail["note"] = "rows are AIS messages; non-AIS lines and undecoded message types are skipped"
