"""Stops from cargotrace's hysteresis SQL against MovingPandas' TrajectoryStopDetector, on
the real AIS samples under shared/data/ais, and the speed of both.

MovingPandas needs geopandas >= 1, which the project pins below 1 (the pin only serves to
ship Natural Earth data), so this runs in a separate virtual environment that imports
cargotrace from the source tree (it needs only duckdb, numpy and pyarrow from it):

    python3 -m venv /tmp/mpvenv
    /tmp/mpvenv/bin/pip install movingpandas duckdb pyarrow
    /tmp/mpvenv/bin/python benchmarks/compare_movingpandas.py --json /tmp/mp.json
    .venv/bin/python benchmarks/bench_events.py --movingpandas /tmp/mp.json   # the ratio

Samples: the NOAA MarineCadastre day (2022-01-03, first 99,999 rows: 99,647 fixes fall in the
day's first 24 minutes and 352 in hours 14 and 23, so every stop of 2 h in it spans a hole of
about 23 h between two fixes), the Ever Given week
at Suez (VesselsValue via movingpandas-examples; no speed column, so cargotrace uses the
speed implied by consecutive fixes) and the Danish AIS clip in UTM 32N (reprojected to
WGS 84; 14 minutes long, so no stop of 2 h exists in it).

Parameters: both detectors use a minimum duration of 2 h; cargotrace's stop begins below
0.2 kn and ends above 0.5 kn; MovingPandas' spatial criterion is `--max-diameter` metres
(default 500; a sweep over other diameters is reported too). Agreement is the share of
MovingPandas stops (>= 2 h) that overlap in time a cargotrace stop of the same vessel
(and, the other way round, the share of cargotrace stops that MovingPandas also finds), over
all stops and over the well-sampled ones (>= 3 fixes, none more than 1 h apart). Every
unmatched MovingPandas stop is classified: by the speeds reported in it, by the navigational
status and ship type the vessel reported, and by how it was sampled.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from cargotrace.maritime import stops, track  # noqa: E402
from cargotrace.settings import AnalysisSettings  # noqa: E402

MIN_DURATION = timedelta(hours=2)


def shared_ais_dir() -> Path:
    root = os.environ.get("CARGOTRACE_SHARED_DATA")
    return (Path(root) if root else ROOT.parent / "shared" / "data") / "ais"


def load_noaa(base: Path) -> pd.DataFrame:
    df = pd.read_csv(
        base / "noaa" / "AISdata_marinecadastre_20220103.csv.gz",
        usecols=["MMSI", "BaseDateTime", "LAT", "LON", "SOG", "Status", "VesselType"],
    )
    df = df.rename(
        columns={
            "MMSI": "mmsi",
            "BaseDateTime": "timestamp",
            "LAT": "lat",
            "LON": "lon",
            "SOG": "sog",
            "Status": "nav_status",
            "VesselType": "vessel_type",
        }
    )
    df["timestamp"] = pd.to_datetime(df["timestamp"], utc=True)
    df.loc[df["sog"] >= 102.2, "sog"] = None  # 102.3 = not available
    return df


def load_evergiven(base: Path) -> pd.DataFrame:
    df = pd.read_csv(base / "movingpandas" / "boat-positions_evergiven.csv", encoding="utf-8-sig")
    df = df.rename(columns={"ID": "mmsi", "longitude": "lon", "latitude": "lat"})
    df["timestamp"] = pd.to_datetime(df["ais_pos_timestamp"], format="%d/%m/%Y %H:%M", utc=True)
    df["sog"] = None
    return df[["mmsi", "timestamp", "lat", "lon", "sog"]]


def load_denmark(base: Path) -> pd.DataFrame:
    from pyproj import Transformer

    doc = json.loads((base / "movingpandas" / "ais-utm32N_dk.json").read_text())
    to_wgs84 = Transformer.from_crs("EPSG:32632", "EPSG:4326", always_xy=True)
    rows = []
    for f in doc["features"]:
        x, y = f["geometry"]["coordinates"]
        lon, lat = to_wgs84.transform(x, y)
        p = f["properties"]
        rows.append(
            {
                "mmsi": p["MMSI"],
                "timestamp": pd.Timestamp(p["t"], tz="UTC"),
                "lat": lat,
                "lon": lon,
                "sog": p["SOG"],
            }
        )
    return pd.DataFrame(rows)


def ours(df: pd.DataFrame) -> tuple[pd.DataFrame, float]:
    con = duckdb.connect()
    con.register("df", df[["mmsi", "timestamp", "lat", "lon", "sog"]])
    con.execute(
        "CREATE TABLE positions AS SELECT CAST(mmsi AS BIGINT) AS mmsi, timestamp, lat, lon, CAST(sog AS DOUBLE) AS sog FROM df"
    )
    settings = AnalysisSettings()
    started = time.perf_counter()
    for statement in track.statements(settings) + stops.statements(settings):
        con.execute(statement)
    elapsed = time.perf_counter() - started
    out = con.execute("SELECT mmsi, started_at, ended_at FROM stops").df()
    return out, elapsed


def movingpandas(
    df: pd.DataFrame, diameters: list[float]
) -> tuple[dict[float, pd.DataFrame], float]:
    import geopandas as gpd
    import movingpandas as mpd

    started = time.perf_counter()
    gdf = gpd.GeoDataFrame(
        df[["mmsi", "timestamp"]].copy(),
        geometry=gpd.points_from_xy(df["lon"], df["lat"]),
        crs="EPSG:4326",
    )
    tc = mpd.TrajectoryCollection(gdf, traj_id_col="mmsi", t="timestamp")
    detector = mpd.TrajectoryStopDetector(tc)
    out = {}
    first_elapsed = None
    for d in diameters:
        segments = detector.get_stop_segments(min_duration=MIN_DURATION, max_diameter=d)
        # a stop segment's parent is the vessel's trajectory, whose id is the MMSI
        rows = [{"mmsi": int(seg.parent.id), "started_at": seg.get_start_time(),
                 "ended_at": seg.get_end_time()} for seg in segments]  # fmt: skip
        out[d] = pd.DataFrame(rows, columns=["mmsi", "started_at", "ended_at"])
        if first_elapsed is None:
            first_elapsed = time.perf_counter() - started
    return out, float(first_elapsed or 0.0)


def _utc(series: pd.Series) -> pd.Series:
    s = pd.to_datetime(series)
    return s.dt.tz_localize("UTC") if s.dt.tz is None else s.dt.tz_convert("UTC")


def matched_share(
    reference: pd.DataFrame, other: pd.DataFrame
) -> tuple[float | None, list[dict[str, object]]]:
    """Share of `reference` intervals that overlap an `other` interval of the same vessel."""
    if reference.empty:
        return None, []
    ref = reference.assign(
        started_at=_utc(reference["started_at"]), ended_at=_utc(reference["ended_at"])
    )
    oth = (
        other.assign(started_at=_utc(other["started_at"]), ended_at=_utc(other["ended_at"]))
        if not other.empty
        else other
    )
    by_vessel = {k: g for k, g in oth.groupby("mmsi")} if not oth.empty else {}
    hits, misses = 0, []
    for r in ref.itertuples():
        g = by_vessel.get(r.mmsi)
        if (
            g is not None
            and ((g["started_at"] <= r.ended_at) & (g["ended_at"] >= r.started_at)).any()
        ):
            hits += 1
        else:
            misses.append(
                {"mmsi": int(r.mmsi), "started_at": str(r.started_at), "ended_at": str(r.ended_at)}
            )
    return hits / len(ref), misses


def _aware(value: object) -> pd.Timestamp:
    ts = pd.Timestamp(value)  # MovingPandas drops the time zone: its times are UTC
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts


def _fixes_in(df: pd.DataFrame, mmsi: object, start: object, end: object) -> pd.DataFrame:
    start, end = _aware(start), _aware(end)
    return df[
        (df["mmsi"] == mmsi)
        & (df["timestamp"] >= pd.Timestamp(start))
        & (df["timestamp"] <= pd.Timestamp(end))
    ]


def reason(fixes: pd.DataFrame) -> str:
    """Why cargotrace's hysteresis finds no stop where MovingPandas' geometry does."""
    sog = fixes["sog"].dropna()
    if sog.empty and len(fixes) >= 2:  # no speed column: the speeds implied by the fixes
        f = fixes.sort_values("timestamp")
        lat, lon = np.radians(f["lat"].to_numpy(float)), np.radians(f["lon"].to_numpy(float))
        h = (
            np.sin(np.diff(lat) / 2) ** 2
            + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(np.diff(lon) / 2) ** 2
        )
        km = 2 * 6371.0088 * np.arcsin(np.sqrt(h))
        hours = f["timestamp"].diff().dt.total_seconds().to_numpy()[1:] / 3600
        sog = pd.Series(km / 1.852 / np.where(hours > 0, hours, np.nan)).dropna()
    if sog.empty:
        return "no speed"
    if (sog > 0.5).all():
        return "reported speed above 0.5 kn at every fix"
    if (sog >= 0.2).all():
        return "reported speed never below 0.2 kn (stop never begins)"
    return "stopped for less than 2 h between speeds above 0.5 kn"


# AIS navigational status (ITU-R M.1371 message 1-3) and ship type (first digit, 3x by
# second digit) as MarineCadastre writes them
NAV_STATUS = {0: "under way using engine", 1: "at anchor", 3: "restricted manoeuvrability",
              5: "moored", 7: "engaged in fishing", 8: "under way sailing", 15: "not defined"}  # fmt: skip
SHIP_TYPE = {30: "fishing", 31: "towing", 32: "towing", 33: "dredging", 35: "military", 36: "sailing",
             37: "pleasure craft", 52: "tug", 6: "passenger", 7: "cargo", 8: "tanker"}  # fmt: skip


def _label(fixes: pd.DataFrame, column: str) -> str:
    if column not in fixes or fixes[column].dropna().empty:
        return "not reported"
    code = int(fixes[column].dropna().mode().iloc[0])
    names = NAV_STATUS if column == "nav_status" else SHIP_TYPE
    return names.get(code) or names.get(code // 10) or f"other ({code})"


def explain_misses(df: pd.DataFrame, misses: list[dict[str, object]]) -> dict[str, object]:
    """Reasons for every missed stop, counted, and the first few with their speeds; with the
    navigational status and ship type the vessel reported (most frequent, where the sample
    has them) and how the stop was sampled."""
    counts: dict[str, int] = {}
    by_status: dict[str, int] = {}
    by_type: dict[str, int] = {}
    longest_interval_h: list[float] = []
    sparse = 0
    examples = []
    for m in misses:
        s = _fixes_in(df, m["mmsi"], m["started_at"], m["ended_at"])
        why = reason(s)
        counts[why] = counts.get(why, 0) + 1
        status, kind = _label(s, "nav_status"), _label(s, "vessel_type")
        by_status[status] = by_status.get(status, 0) + 1
        by_type[kind] = by_type.get(kind, 0) + 1
        t = s["timestamp"].sort_values()
        longest_interval_h.append(
            float(t.diff().max().total_seconds() / 3600) if len(t) > 1 else 0.0
        )
        sparse += int(len(s) < 3)
        if len(examples) < 8:
            sog = s["sog"].dropna()
            examples.append(m | {"fixes": len(s), "reason": why, "sog_min": None if sog.empty else float(sog.min()),
                                 "sog_max": None if sog.empty else float(sog.max())})  # fmt: skip
    intervals = np.asarray(longest_interval_h)
    return {"by_reason": counts, "by_nav_status": by_status, "by_ship_type": by_type,
            "with_fewer_than_3_fixes": sparse,
            "longest_interval_between_fixes_over_1h": int((intervals > 1).sum()),
            "longest_interval_between_fixes_median_h": float(np.median(intervals)) if len(intervals) else None,
            "examples": examples}  # fmt: skip


def well_sampled(df: pd.DataFrame, stops_df: pd.DataFrame) -> pd.DataFrame:
    """Stops with at least 3 fixes and no interval between fixes longer than 1 h."""
    keep = []
    for r in stops_df.itertuples():
        t = _fixes_in(df, r.mmsi, r.started_at, r.ended_at)["timestamp"].sort_values()
        keep.append(len(t) >= 3 and bool((t.diff().dropna() <= pd.Timedelta(hours=1)).all()))
    return stops_df[keep] if len(stops_df) else stops_df


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-diameter", type=float, default=500.0)
    parser.add_argument("--sweep", type=float, nargs="*", default=[100.0, 250.0, 1000.0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    base = shared_ais_dir()
    diameters = [args.max_diameter, *[d for d in args.sweep if d != args.max_diameter]]
    report: dict[str, object] = {
        "min_duration_hours": 2,
        "max_diameter_m": args.max_diameter,
        "datasets": {},
    }
    total_positions, total_mp_s, total_ours_s = 0, 0.0, 0.0
    for name, loader in (
        ("noaa_marinecadastre_20220103", load_noaa),
        ("evergiven_suez", load_evergiven),
        ("denmark_utm32n", load_denmark),
    ):
        df = loader(base)
        our_stops, our_s = ours(df)
        mp_stops, mp_s = movingpandas(df, diameters)
        entry: dict[str, object] = {"positions": len(df), "vessels": int(df["mmsi"].nunique()), "cargotrace_stops": len(our_stops),
                                    "cargotrace_seconds": round(our_s, 3), "movingpandas_seconds": round(mp_s, 3), "by_diameter": {}}  # fmt: skip
        for d, mp in mp_stops.items():
            share, misses = matched_share(mp, our_stops)
            back, extra = matched_share(our_stops, mp)
            dense = well_sampled(df, mp)
            dense_share, _ = matched_share(dense, our_stops)
            entry["by_diameter"][str(int(d))] = {  # type: ignore[index]
                "movingpandas_stops": len(mp),
                "mp_stops_matched_by_cargotrace": share,
                "cargotrace_stops_matched_by_mp": back,
                "well_sampled_mp_stops": len(dense),
                "well_sampled_matched_by_cargotrace": dense_share,
                "unmatched_mp_stops": explain_misses(df, misses),
                "unmatched_cargotrace_stops": extra[:8],
            }
        report["datasets"][name] = entry  # type: ignore[index]
        total_positions += len(df)
        total_mp_s += mp_s
        total_ours_s += our_s
        head = entry["by_diameter"][str(int(args.max_diameter))]  # type: ignore[index]
        print(f"{name}: {len(df):,} positions; cargotrace {len(our_stops)} stops in {our_s:.2f} s; "
              f"MovingPandas {head['movingpandas_stops']} stops in {mp_s:.2f} s; "
              f"MP stops matched {head['mp_stops_matched_by_cargotrace']}", flush=True)  # fmt: skip
        for d, r in entry["by_diameter"].items():  # type: ignore[union-attr]
            print(f"   diameter {d:>5s} m: MP stops {r['movingpandas_stops']:4d}, matched {r['mp_stops_matched_by_cargotrace']}, "
                  f"well-sampled {r['well_sampled_mp_stops']} matched {r['well_sampled_matched_by_cargotrace']}, "
                  f"cargotrace stops found by MP {r['cargotrace_stops_matched_by_mp']}; "
                  f"misses {r['unmatched_mp_stops']['by_reason']}")  # fmt: skip
            miss = r["unmatched_mp_stops"]
            print(f"      misses by status {miss['by_nav_status']}; by ship type {miss['by_ship_type']}; "
                  f"fewer than 3 fixes {miss['with_fewer_than_3_fixes']}; a fix interval over 1 h "
                  f"{miss['longest_interval_between_fixes_over_1h']} (median longest "
                  f"{miss['longest_interval_between_fixes_median_h']} h)")  # fmt: skip
    report["movingpandas"] = {
        "positions": total_positions,
        "seconds": total_mp_s,
        "positions_per_s": total_positions / total_mp_s,
    }
    report["cargotrace_stops"] = {
        "positions": total_positions,
        "seconds": total_ours_s,
        "positions_per_s": total_positions / total_ours_s,
    }
    print(
        f"MovingPandas stop detection: {report['movingpandas']['positions_per_s']:,.0f} positions/s; "  # type: ignore[index]
        f"cargotrace stops (same samples, fixed costs included): {report['cargotrace_stops']['positions_per_s']:,.0f} positions/s"
    )  # type: ignore[index]
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, default=str))


if __name__ == "__main__":
    main()
