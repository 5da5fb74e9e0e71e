"""The lines of a file that hold no row are said for what they are: an NMEA log's non-AIS
lines apart from its valid AIS messages of types cargotrace does not read (the gpsd sample's
76 messages of types 6, 7, 8, ... were counted as "blank/non-data lines")."""

from __future__ import annotations

from pathlib import Path

from pyais.stream import FileReaderStream

from cargotrace import workflow
from cargotrace.ingest.nmea.messages import DECODED_TYPES
from cargotrace.ingest.summary import skipped_phrase
from cargotrace.ingest.types import IngestResult

from conftest import shared_data

NOT_READ = (
    "AIS messages of types not read (binary, safety, aid-to-navigation, SAR aircraft, ...: "
    "only types 1, 2, 3, 4, 5, 18, 19, 24, 27 are)"
)


def test_a_real_log_says_its_non_ais_lines_apart_from_the_messages_of_types_not_read(
    tmp_path: Path,
) -> None:
    path = shared_data("ais", "gpsd", "sample.aivdm")
    # pyais, independently: every valid message of the log, and those of types not read
    messages = [m.ais_id for m in FileReaderStream(str(path))]
    other = sum(t not in DECODED_TYPES for t in messages)
    [result] = workflow.ingest(tmp_path / "case", "ais", [path])
    assert (len(messages), other, result.rows_read) == (102, 76, 26)
    assert result.rows_read + other == len(messages)
    assert skipped_phrase(result) == f"; 1,003 non-AIS lines and 76 {NOT_READ} skipped"


def test_each_kind_of_skipped_line_is_named_only_when_there_are_some() -> None:
    def result(skipped: int, decoder: dict[str, int] | None) -> IngestResult:
        return IngestResult(
            Path("x"),
            "ais",
            "h",
            rows_skipped=skipped,
            detail={"decoder": decoder} if decoder else {},
        )

    assert skipped_phrase(result(0, {"non_ais": 0, "undecoded_type": 0})) == ""
    assert (
        skipped_phrase(result(3, {"non_ais": 3, "undecoded_type": 0}))
        == "; 3 non-AIS lines skipped"
    )
    assert (
        skipped_phrase(result(2, {"non_ais": 0, "undecoded_type": 2})) == f"; 2 {NOT_READ} skipped"
    )
    # a table file's blank lines, as the ingest and its preview say them
    assert skipped_phrase(result(4, None)) == "; 4 blank/non-data lines skipped"
    assert skipped_phrase(result(4, None), "blank lines") == "; 4 blank lines skipped"
