"""Identity events: what a vessel said about itself changing, and one MMSI used by two
transmitters at once.

* `name_change`, `flag_change`, `imo_change`, `callsign_change`: consecutive identity
  reports of one MMSI (`vessel_reports`, from vessels files and static AIS messages, in
  time order; undated reports first, in file order) that give a different value. Repeats
  of the same value are not events. Flags derived from the MMSI (`flag_source = 'mid'`)
  are not reports and take no part.
* `mmsi_change`: consecutive reports of one IMO number (valid check digit) under different MMSIs.
* `shared_mmsi`: an MMSI whose track jumps back and forth faster than `max_speed_kn`
  (maritime/track.py); its fixes were split into two transmitters, '<mmsi>' and
  '<mmsi>#2', and every later stage treats them as two vessels.
"""

from __future__ import annotations

from cargotrace.maritime.ships import imo_valid_sql
from cargotrace.settings import AnalysisSettings


def statements(settings: AnalysisSettings) -> list[str]:
    attributes = " UNION ALL ".join(
        f"SELECT mmsi, imo, '{name}_change' AS event, 'mmsi' AS key_kind, CAST(mmsi AS VARCHAR) AS key, "
        f"{column} AS value, observed_at, source_file, source_row FROM vessel_reports "
        f"WHERE mmsi IS NOT NULL AND {column} IS NOT NULL AND trim({column}) <> ''{extra}"
        for name, column, extra in (
            ("name", "upper(trim(name))", ""),
            # a flag inferred from the MMSI's MID (flag_source 'mid') is not a report: a
            # registry flag that differs from it is not a change of flag
            ("flag", "upper(flag)", " AND coalesce(flag_source, 'reported') <> 'mid'"),
            ("imo", "imo", ""),
            ("callsign", "upper(callsign)", ""),
        )  # fmt: skip
    )
    by_imo = (
        "SELECT mmsi, imo, 'mmsi_change' AS event, 'imo' AS key_kind, imo AS key, CAST(mmsi AS VARCHAR) AS value, "
        "observed_at, source_file, source_row FROM vessel_reports WHERE imo IS NOT NULL AND mmsi IS NOT NULL "
        # a placeholder IMO (1073741823 = all 30 bits set, 0000001, …) ties unrelated vessels
        # together: only a number with a valid check digit makes an mmsi_change
        f"AND {imo_valid_sql('imo')}"
    )
    return [
        f"""
        CREATE OR REPLACE TABLE identity_events AS
        WITH facts AS ({attributes} UNION ALL {by_imo}
        ), ordered AS (
            SELECT *, lag(value) OVER w AS previous_value, lag(observed_at) OVER w AS previous_observed_at,
                      lag(source_file) OVER w AS previous_source_file, lag(source_row) OVER w AS previous_source_row
            FROM facts
            WINDOW w AS (PARTITION BY event, key ORDER BY observed_at NULLS FIRST, source_file, source_row, value)
        )
        SELECT CAST(mmsi AS VARCHAR) AS vessel_key, mmsi, imo, event, observed_at, previous_value, value AS new_value,
               previous_observed_at, source_file, source_row,
               event || ' of ' || key_kind || ' ' || key || ': ' || previous_value || ' -> ' || value AS detail
        FROM ordered
        WHERE previous_value IS NOT NULL AND previous_value <> value
        UNION ALL
        SELECT CAST(s.mmsi AS VARCHAR) || '#2', s.mmsi, v.imo, 'shared_mmsi', s.first_jump_at, NULL, NULL,
               s.last_jump_at, NULL, NULL,
               'MMSI ' || CAST(s.mmsi AS VARCHAR) || ': ' || CAST(s.jumps AS VARCHAR)
               || ' impossible jumps (faster than {settings.max_speed_kn:g} kn) between '
               || CAST(s.first_jump_at AS VARCHAR) || ' and ' || CAST(s.last_jump_at AS VARCHAR)
               || '; track split into ' || CAST(s.mmsi AS VARCHAR) || ' and ' || CAST(s.mmsi AS VARCHAR) || '#2'
        FROM shared_mmsi s LEFT JOIN vessels v ON v.mmsi = s.mmsi
        ORDER BY mmsi, observed_at NULLS FIRST, event
        """
    ]
