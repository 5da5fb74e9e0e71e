"""Unit tests of the vectorised NMEA AIS decoder on hand-picked sentences.

Expected values come from the decoded dumps in gpsd's ``test/sample.aivdm`` (noaadata /
Maritec checked) and the pyais README, and are cross-checked against pyais.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from functools import reduce
from operator import xor
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cargotrace.errors import InputError
from cargotrace.ingest.nmea import assemble as nmea_assemble
from cargotrace.ingest.nmea.decoder import DecodedBatch, decode_lines, decode_nmea_file
from cargotrace.ingest.readers import sources

TYPE1 = "!AIVDM,1,1,,B,15M67FC000G?ufbE`FepT@3n00Sa,0*5C"
TYPE1_NO_HEADING = "!AIVDM,1,1,,B,15NG6V0P01G?cFhE`R2IU?wn28R>,0*05"
TYPE4 = "!AIVDM,1,1,,A,403OviQuMGCqWrRO9>E6fE700@GO,0*4D"
TYPE4_NA = "!AIVDM,1,1,,A,402Fha0000Htt<tSF0l4Q@000d20,0*65"
TYPE5 = (
    "!AIVDM,2,1,1,A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp8,0*1C",
    "!AIVDM,2,2,1,A,88888888880,2*25",
)
TYPE18 = "!AIVDM,1,1,,A,B52K>;h00Fc>jpUlNV@ikwpUoP06,0*4C"
TYPE19 = "!AIVDM,1,1,,B,C5N3SRgPEnJGEBT>NhWAwwo862PaLELTBJ:V00000000S0D:R220,0*0B"
TYPE24A = "!AIVDM,1,1,,A,H42O55i18tMET00000000000000,2*6D"
TYPE24B = "!AIVDM,1,1,,A,H42O55lti4hhhilD3nink000?050,0*40"
TYPE27 = "!AIVDM,1,1,,A,KCQ9r=hrFUnH7P00,0*41"
TYPE27_LONG = "!AIVDM,1,1,,B,KC5E2b@U19PFdLbMuc5=ROv62<7m,0*16"
TYPE8 = "!AIVDM,1,1,,B,83aDChPj2d<dL<uM=hhhI?a@6HP0,0*40"
T0 = datetime(2021, 11, 1, 1, 58, 9, tzinfo=UTC)  # 1635731889


def nmea(body: str) -> str:
    """``!`` + body + ``*hh`` with the correct checksum."""
    return f"!{body}*{reduce(xor, body.encode(), 0):02X}"


def tag(fields: str) -> str:
    return f"\\{fields}*{reduce(xor, fields.encode(), 0):02X}\\"


def only_position(batch: DecodedBatch) -> dict:
    assert batch.positions.num_rows == 1, batch.rejects.to_pylist()
    return batch.positions.to_pylist()[0]


def only_static(batch: DecodedBatch) -> dict:
    assert batch.statics.num_rows == 1, batch.rejects.to_pylist()
    return batch.statics.to_pylist()[0]


def test_type1_position_report() -> None:
    row = only_position(decode_lines([TYPE1]))
    assert row == {
        "line_no": 1,
        "mmsi": 366053209,
        "timestamp": None,
        "msg_type": 1,
        "lat": 37.802118,
        "lon": -122.341618,
        "sog": 0.0,
        "cog": 219.3,
        "heading": 1,
        "nav_status": 3,
        "source": None,
    }


def test_heading_not_available_is_null() -> None:
    row = only_position(decode_lines([TYPE1_NO_HEADING]))
    assert (row["mmsi"], row["sog"], row["cog"], row["heading"]) == (367380120, 0.1, 245.2, None)
    assert (row["lat"], row["lon"]) == (37.806948, -122.404333)


def test_sentinels_become_null() -> None:
    # lat 91, lon 181, sog 1023 (102.3 kn), cog 3600 (360 deg), heading 511, built bit by bit
    bits = "000001" + "00" + format(211000001, "030b") + "0000" + "10000000"
    bits += format(1023, "010b") + "0" + format(181 * 600000, "028b") + format(91 * 600000, "027b")
    bits += format(3600, "012b") + format(511, "09b") + "0" * 31
    payload = "".join(_armour(int(bits[i : i + 6], 2)) for i in range(0, 168, 6))
    row = only_position(decode_lines([nmea(f"AIVDM,1,1,,A,{payload},0")]))
    assert row["mmsi"] == 211000001
    assert [row[k] for k in ("lat", "lon", "sog", "cog", "heading")] == [None] * 5


def _armour(value: int) -> str:
    return chr(value + 48 if value < 40 else value + 56)


def test_type4_base_station_uses_its_utc_time() -> None:
    row = only_position(decode_lines([TYPE4]))
    assert row["msg_type"] == 4 and row["mmsi"] == 3669702
    assert (row["lat"], row["lon"]) == (36.883767, -76.352362)
    assert row["timestamp"] == datetime(2007, 5, 14, 19, 57, 39, tzinfo=UTC)
    assert row["sog"] is row["cog"] is row["heading"] is row["nav_status"] is None


def test_type4_not_available_time_and_position() -> None:
    row = only_position(decode_lines([TYPE4_NA]))
    assert row["mmsi"] == 2470052
    assert row["lat"] is row["lon"] is row["timestamp"] is None
    # ...and with a receive time the base station falls back to it
    row = only_position(decode_lines([f"1635731889 {TYPE4_NA}"]))
    assert row["timestamp"] == T0


def test_type5_two_sentences() -> None:
    batch = decode_lines(["# header", *TYPE5])
    row = only_static(batch)
    assert row == {
        "line_no": 3,
        "mmsi": 351759000,
        "timestamp": None,
        "msg_type": 5,
        "imo": 9134270,
        "callsign": "3FOF8",
        "name": "EVER DIADEM",
        "ship_type": 70,
        "to_bow": 225,
        "to_stern": 70,
        "to_port": 1,
        "to_starboard": 31,
        "draught": 12.2,
        "destination": "NEW YORK",
        "eta_month": 5,
        "eta_day": 15,
        "eta_hour": 14,
        "eta_minute": 0,
        "source": None,
    }
    s = batch.stats
    assert (s.lines, s.non_ais, s.sentences, s.messages, s.decoded) == (3, 1, 2, 1, 1)
    assert s.sentences_in_messages == 2 and batch.positions.num_rows == 0


def test_type18_class_b() -> None:
    row = only_position(decode_lines([TYPE18]))
    assert (row["msg_type"], row["mmsi"], row["sog"], row["cog"]) == (18, 338087471, 0.1, 79.6)
    assert (row["lat"], row["lon"]) == (40.68454, -74.072132)
    assert row["heading"] is None and row["nav_status"] is None


def test_type19_goes_to_both_tables() -> None:
    batch = decode_lines([TYPE19])
    pos, static = only_position(batch), only_static(batch)
    assert (pos["mmsi"], pos["sog"], pos["cog"], pos["heading"]) == (367059850, 8.7, 335.9, None)
    assert (pos["lat"], pos["lon"]) == (29.543695, -88.810392)
    assert (static["name"], static["ship_type"], static["imo"]) == ("CAPT.J.RIMES", 70, None)
    dims = [static[k] for k in ("to_bow", "to_stern", "to_port", "to_starboard")]
    assert dims == [5, 21, 4, 4]
    assert batch.stats.decoded == 1


def test_type24_parts_a_and_b() -> None:
    rows = decode_lines([TYPE24A, TYPE24B]).statics.to_pylist()
    assert [(r["mmsi"], r["name"], r["callsign"], r["ship_type"]) for r in rows] == [
        (271041815, "PROGUY", None, None),
        (271041815, None, "TC6163", 60),
    ]
    dims = [rows[1][k] for k in ("to_bow", "to_stern", "to_port", "to_starboard")]
    assert dims == [0, 15, 0, 5]
    assert rows[0]["to_bow"] is None


def test_type27_long_range() -> None:
    rows = decode_lines([TYPE27, TYPE27_LONG]).positions.to_pylist()
    got = [(r["mmsi"], r["lat"], r["lon"], r["sog"], r["cog"], r["nav_status"]) for r in rows]
    assert got == [
        (236091959, 87.065, -154.201667, 0.0, 0.0, 3),
        (206914217, 4.84, 137.023333, 57.0, 167.0, 2),
    ]
    assert rows[0]["heading"] is None


def test_other_types_counted_not_rejected() -> None:
    batch = decode_lines([TYPE8])
    s = batch.stats
    assert (s.messages, s.decoded, s.undecoded_type, s.rejected) == (1, 0, 1, 0)
    assert batch.positions.num_rows == batch.statics.num_rows == batch.rejects.num_rows == 0


def test_any_talker_and_vdo() -> None:
    lines = [
        nmea(f"{t}VD{k},1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0")
        for t, k in (("AB", "M"), ("BS", "M"), ("AI", "O"), ("=I", "M"))
    ]
    assert decode_lines(lines).positions.column("mmsi").to_pylist() == [366053209] * 4


def test_uncommon_field_widths_take_the_general_path() -> None:
    # a 2-digit sequence id and a 2-character channel: legal, rarely seen
    part1 = TYPE5[0][1:].split("*")[0].replace(",1,A,", ",12,AB,")
    part2 = TYPE5[1][1:].split("*")[0].replace(",1,A,", ",12,AB,")
    row = only_static(decode_lines([nmea(part1), nmea(part2)]))
    assert (row["mmsi"], row["name"], row["destination"]) == (351759000, "EVER DIADEM", "NEW YORK")
    # one 71-character payload in a single sentence (beyond the 82-character NMEA limit)
    single = "55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0NSQEp6ClRp888888888880"
    row = only_static(decode_lines([nmea(f"AIVDM,1,1,,,{single},2")]))
    assert (row["imo"], row["callsign"], row["draught"]) == (9134270, "3FOF8", 12.2)


def test_bad_checksum_rejected() -> None:
    bad = TYPE1[:-2] + "5D"
    batch = decode_lines([TYPE1, bad, TYPE1[:-2] + "5c"])
    assert batch.rejects.to_pylist() == [{"line_no": 2, "reason": "bad_checksum", "raw": bad}]
    assert batch.positions.num_rows == 2  # lower-case hex digits are fine


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa"), "field_count"),
        (nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0,0"), "field_count"),
        (nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,7"), "bad_fill_bits"),
        (nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00S~,0"), "bad_payload_char"),
        (nmea("AIVDM,1,1,,A,15M67FC000G?ufbEXFepT@3n00Sa,0"), "bad_payload_char"),
        (nmea("AIVDM,0,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0"), "bad_fragment"),
        (nmea("AIVDM,1,2,,A,15M67FC000G?ufbE`FepT@3n00Sa,0"), "bad_fragment"),
        (nmea("AIVDM,1,1,x,A,15M67FC000G?ufbE`FepT@3n00Sa,0"), "bad_sequence_id"),
        (nmea("AIVDM,1,1,,A,,0"), "empty_payload"),
        (nmea("AIVDM,1,1,,A,15M67FC000G?ufbE`Fe,0"), "too_short"),  # 114 < 116 bits
        (nmea("AIVDM,1,1,,A,H42O55l,0"), "too_short"),  # 24B, 42 < 48 bits
        ("!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0", "no_checksum"),
        ("!AIVDM,1,1,,A,15M67FC000G?ufbE`FepT@3n00Sa,0*G1", "no_checksum"),
        ("garbage " + TYPE1, "bad_prefix"),
        (tag("c:1635731889") + TYPE1[:-1] + "0", "bad_checksum"),
        ("\\c:1635731889*00\\" + TYPE1, "bad_tag_checksum"),
    ],
)
def test_malformed_sentences_are_rejects(line: str, reason: str) -> None:
    batch = decode_lines([line])
    assert batch.rejects.to_pylist() == [{"line_no": 1, "reason": reason, "raw": line}]
    assert batch.stats.rejected == 1 and batch.stats.decoded == 0


def test_non_ais_lines_are_skipped_not_rejected() -> None:
    lines = [
        "",
        "   ",
        "# !AIVDM,1,1,,A,x,0*00",
        "$GPGGA,123519,4807.038,N*47",
        "!PSTT,1*00",
        "!AIPWR,UNIT=0",
        "random text",
        TYPE1,
    ]
    batch = decode_lines(lines)
    s = batch.stats
    assert (s.lines, s.non_ais, s.sentences, s.rejected, s.decoded) == (8, 7, 1, 0, 1)
    assert only_position(batch)["line_no"] == 8


def test_tag_block_time_and_source() -> None:
    lines = [
        tag("s:rcv-1,c:1635731889") + TYPE1,
        tag("c:1635731889123,s:x") + TYPE18,  # milliseconds
        tag("g:1-2-42,s:st,c:1635731889") + TYPE5[0],  # NMEA 4.10 group: s:/c: on part 1 only
        tag("g:2-2-42") + TYPE5[1],
    ]
    batch = decode_lines(lines)
    a, b = batch.positions.to_pylist()
    assert (a["timestamp"], a["source"]) == (T0, "rcv-1")
    assert (b["timestamp"], b["source"]) == (T0.replace(microsecond=123000), "x")
    static = only_static(batch)
    assert (static["line_no"], static["timestamp"], static["source"]) == (4, T0, "st")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"1635731889 {TYPE1}", T0),
        (f"1635731889,{TYPE1}", T0),
        (f"1635731889.25;{TYPE1}", T0.replace(microsecond=250000)),
        (f"1635731889123 {TYPE1}", T0.replace(microsecond=123000)),
        (f"2021-11-01T01:58:09Z,{TYPE1}", T0),
        (f"2021-11-01 01:58:09.5 {TYPE1}", T0.replace(microsecond=500000)),
        (f"2021-11-01T03:58:09+02:00 {TYPE1}", T0),
        (f"{TYPE1},1635731889", T0),
        (f"{TYPE1},1635731889123", T0.replace(microsecond=123000)),
        (f"{TYPE1},d-109,S2105,t050056.00,T56.13718694,r003669946,1635731889,1635731000", T0),
        (f"{TYPE1},s36310,d-081", None),
    ],
)
def test_time_before_or_after_the_sentence(line: str, expected: datetime | None) -> None:
    assert only_position(decode_lines([line]))["timestamp"] == expected


def test_bytes_and_str_lines_give_the_same_result() -> None:
    lines = [TYPE1, "junk", *TYPE5, TYPE1[:-1] + "0"]
    a, b = decode_lines(lines), decode_lines([x.encode() for x in lines])
    for name in ("positions", "statics", "rejects"):
        assert getattr(a, name).equals(getattr(b, name))
    assert a.stats == b.stats


def test_orphan_fragment_is_a_reject() -> None:
    lines = [TYPE5[1], TYPE1, TYPE5[0]]  # part 2 before part 1, part 1 never completed
    batch = decode_lines(lines)
    assert [(r["line_no"], r["reason"]) for r in batch.rejects.to_pylist()] == [
        (1, "orphan_fragment"),
        (3, "orphan_fragment"),
    ]
    s = batch.stats
    assert (s.sentences, s.sentences_in_messages, s.rejected_sentences, s.messages) == (3, 1, 2, 1)


def test_interleaved_fragments_of_two_sources() -> None:
    other = tag("s:B") + TYPE5[0]
    lines = [tag("s:A") + TYPE5[0], other, tag("s:A") + TYPE5[1], tag("s:B") + TYPE5[1]]
    rows = decode_lines(lines).statics.to_pylist()
    assert [(r["line_no"], r["source"], r["name"]) for r in rows] == [
        (3, "A", "EVER DIADEM"),
        (4, "B", "EVER DIADEM"),
    ]


def _decode_file(path: Path, batch_lines: int) -> DecodedBatch:
    batches = list(decode_nmea_file(path, batch_lines=batch_lines))
    out = batches[0]
    for b in batches[1:]:
        out = out.merge(b)
    return out


def test_gz_input(tmp_path: Path) -> None:
    path = tmp_path / "log.nmea.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("\n".join([TYPE1, *TYPE5, "$GPZDA,1*00"]) + "\n")
    seen: list[int] = []
    batches = list(decode_nmea_file(path, progress=seen.append))
    assert len(batches) == 1 and seen and seen[-1] == path.stat().st_size
    b = batches[0]
    assert (b.positions.num_rows, b.statics.num_rows, b.stats.lines, b.stats.non_ais) == (
        1,
        1,
        4,
        1,
    )


def test_gz_bomb_is_refused_with_the_line_reached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A .gz that expands past 200x its size (above a floor, 32 MiB; 1 MiB here) is refused
    as a decompression bomb, as for CSV; a genuine log (~5x) reads on."""
    monkeypatch.setattr(sources, "RATIO_FLOOR", 1 << 20)
    bomb = tmp_path / "bomb.nmea.gz"
    with gzip.open(bomb, "wt") as fh:
        fh.write((TYPE1 + "\n") * 100_000)  # 5 MB of one sentence: >1,000x
    with pytest.raises(
        InputError,
        match=r"cannot read past line \d+: .*200x its compressed size.*decompression bomb",
    ):
        list(decode_nmea_file(bomb))
    genuine = tmp_path / "fine.nmea.gz"
    with gzip.open(genuine, "wt") as fh:
        fh.write("\n".join([TYPE1, *TYPE5]) + "\n")
    assert sum(b.positions.num_rows for b in decode_nmea_file(genuine)) == 1


@pytest.mark.parametrize("batch_lines", [1, 2, 3, 1000])
def test_batch_boundary_splitting_a_multipart_message(tmp_path: Path, batch_lines: int) -> None:
    lines = [TYPE1, TYPE5[0], TYPE5[1], TYPE18, TYPE5[1]]  # last line: an orphan part 2
    path = tmp_path / "log.nmea"
    path.write_text("\r\n".join(lines))  # CRLF, no final newline
    got = _decode_file(path, batch_lines)
    want = decode_lines(lines)
    assert got.statics.column("line_no").to_pylist() == [3]
    for name in ("positions", "statics", "rejects"):
        assert getattr(got, name).equals(getattr(want, name)), name
    assert got.stats == want.stats


def test_unfinished_fragment_at_end_of_file_is_orphan(tmp_path: Path) -> None:
    path = tmp_path / "log.nmea"
    path.write_text("\n".join([TYPE1, TYPE5[0]]) + "\n")
    got = _decode_file(path, 1)
    assert got.rejects.to_pylist() == [{"line_no": 2, "reason": "orphan_fragment", "raw": TYPE5[0]}]


def test_pending_fragments_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nmea_assemble, "MAX_PENDING", 2)
    first = [
        nmea(f"AIVDM,2,1,{k},A,55?MbV02;H;s<HtKR20EHE:0@T4@Dn2222222216L961O5Gf0,0")
        for k in range(4)
    ]
    second = [nmea(f"AIVDM,2,2,{k},A,NSQEp6ClRp888888888880,2") for k in range(4)]
    path = tmp_path / "log.nmea"
    path.write_text("\n".join(first + second) + "\n")
    got = _decode_file(path, batch_lines=4)
    # after the first batch only the newest 2 of 4 unfinished messages are kept
    assert got.statics.column("line_no").to_pylist() == [7, 8]
    assert sorted(got.rejects.column("line_no").to_pylist()) == [1, 2, 5, 6]
    assert set(got.rejects.column("reason").to_pylist()) == {"orphan_fragment"}


def test_overlong_line_is_truncated_not_buffered(tmp_path: Path) -> None:
    path = tmp_path / "log.nmea"
    path.write_bytes(b"x" * (3 << 20) + b"\n" + TYPE1.encode() + b"\n")
    got = _decode_file(path, batch_lines=1000)
    assert (got.stats.lines, got.stats.non_ais, got.positions.num_rows) == (2, 1, 1)
    assert got.positions.column("line_no").to_pylist() == [2]


def test_byte_order_mark_and_empty_source() -> None:
    batch = decode_lines(["\ufeff" + TYPE1, tag("s:,c:1635731889") + TYPE18])
    assert batch.rejects.num_rows == 0
    assert batch.positions.column("source").to_pylist() == [None, None]


def test_empty_inputs(tmp_path: Path) -> None:
    batch = decode_lines([])
    assert batch.stats.lines == 0 and batch.positions.num_rows == 0
    assert batch.positions.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    (tmp_path / "empty.nmea").write_bytes(b"")
    assert list(decode_nmea_file(tmp_path / "empty.nmea")) == []


def test_first_line_no_offsets_line_numbers() -> None:
    batch = decode_lines(["x", TYPE1, TYPE1[:-1] + "0"], first_line_no=101)
    assert only_position(batch)["line_no"] == 102
    assert batch.rejects.column("line_no").to_pylist() == [103]


# --- property: any input is accounted for, never raises -------------------------------

REAL = [
    TYPE1,
    TYPE1_NO_HEADING,
    TYPE4,
    *TYPE5,
    TYPE18,
    TYPE19,
    TYPE24A,
    TYPE24B,
    TYPE27,
    TYPE8,
    tag("s:r,c:1635731889") + TYPE1,
    f"{TYPE18},1635731889123",
    "$GPGGA,1*00",
    "# c",
]
NMEA_CHARS = st.sampled_from(list("!$\\*,:;.-0123456789ABCDEFHKMOVWX@`abcdw~ \t\r\n\x00\xe9"))


@st.composite
def mutated_sentence(draw: st.DrawFn) -> str:
    """A real line with a few random character edits (exercises every validation path)."""
    line = list(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(0, 3))):
        pos = draw(st.integers(0, len(line)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        if op == "insert" or not line:
            line.insert(pos, draw(NMEA_CHARS))
        elif op == "delete":
            del line[min(pos, len(line) - 1)]
        else:
            line[min(pos, len(line) - 1)] = draw(NMEA_CHARS)
    return "".join(line)


LINES = st.lists(
    st.one_of(st.text(max_size=120), st.text(NMEA_CHARS, max_size=90), mutated_sentence()),
    max_size=40,
)


def check_accounting(batch: DecodedBatch, n_lines: int) -> None:
    """The invariants documented in ``cargotrace.ingest.nmea.decoder``."""
    s = batch.stats
    assert s.lines == n_lines
    assert s.lines == s.non_ais + s.sentences
    assert s.sentences == s.sentences_in_messages + s.rejected_sentences
    assert s.messages == s.decoded + s.undecoded_type + s.rejected_messages
    assert s.rejected == s.rejected_sentences + s.rejected_messages == batch.rejects.num_rows
    type19 = sum(1 for t in batch.statics.column("msg_type").to_pylist() if t == 19)
    assert s.decoded == batch.positions.num_rows + batch.statics.num_rows - type19
    for table in (batch.positions, batch.statics, batch.rejects):
        assert all(1 <= x <= n_lines for x in table.column("line_no").to_pylist())
        table.validate(full=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LINES)
def test_property_any_text_is_accounted_for(lines: list[str]) -> None:
    check_accounting(decode_lines(lines), len(lines))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.binary(max_size=100), max_size=30))
def test_property_any_bytes_are_accounted_for(lines: list[bytes]) -> None:
    check_accounting(decode_lines(lines), len(lines))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.sampled_from(REAL), mutated_sentence()), max_size=30), st.integers(1, 7)
)
def test_property_file_batches_match_one_shot(lines: list[str], batch_lines: int) -> None:
    import tempfile

    lines = [x.replace("\n", " ").replace("\r", " ") for x in lines]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.nmea"
        path.write_bytes(("\n".join(lines) + "\n").encode("utf-8", "surrogatepass"))
        got = _decode_file(path, batch_lines) if lines else decode_lines([])
    want = decode_lines(lines)
    check_accounting(got, len(lines))
    assert got.stats == want.stats
    for name in ("positions", "statics"):
        assert getattr(got, name).equals(getattr(want, name)), name
    # A fragment carried over and later found orphaned is reported in a later batch.
    assert got.rejects.sort_by("line_no").equals(want.rejects), "rejects"
