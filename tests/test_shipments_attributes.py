"""A shipment's `attributes`: its unmapped cells as JSON (NULL when all are empty); the
parties' INNs in columns of their own (`consignor_inn`, `consignee_inn`)."""

from __future__ import annotations

from pathlib import Path

from cargotrace import workflow
from cargotrace.case import schema
from cargotrace.case.store import Case

from builders import write_csv

HEADER = ["Номер накладной", "Дата отправления", "Вес груза, кг", "Грузоотправитель", "ИНН грузоотправителя",
          "Грузополучатель", "ИНН грузополучателя", "Примечание"]  # fmt: skip
A, B = "7707083893", "7736050003"  # INNs with their check digits right


ROWS = [
    ["Э1", "03.09.2023", "61250", "ООО «Ромашка»", A, "", "", "срочно"],
    ["Э2", "03.09.2023", "61250", "ООО «Ромашка»", A, "", "", ""],
    ["Э3", "03.09.2023", "61250", "", "", "ПАО «Газпром»", B, ""],
    ["Э4", "03.09.2023", "61250", "ООО «Ромашка»", A, "ПАО «Газпром»", B, 'пломба "2"'],
    ["Э5", "03.09.2023", "61250", "ООО «Ромашка»", "", "", "", "срочно"],
    ["Э6", "03.09.2023", "61250", "ООО «Ромашка»", "", "", "", "  "],
]
STORED = [  # waybill, attributes, consignor_inn, consignee_inn
    ("Э1", '{"Примечание":"срочно"}', A, None),
    ("Э2", None, A, None),
    ("Э3", None, None, B),
    ("Э4", '{"Примечание":"пломба \\"2\\""}', A, B),
    ("Э5", '{"Примечание":"срочно"}', None, None),
    ("Э6", None, None, None),
]
STORED_SQL = (
    "SELECT waybill, attributes, consignor_inn, consignee_inn FROM shipments ORDER BY waybill"
)


def _ingested(tmp_path: Path) -> Path:
    path = write_csv(tmp_path / "s.csv", HEADER, ROWS, encoding="cp1251", delimiter=";")
    [result] = workflow.ingest(tmp_path / "case", "shipments", [path])
    assert (result.rows_kept, result.rows_quarantined) == (6, 0)
    return tmp_path / "case"


def test_attributes_hold_the_unmapped_cells_and_the_inns_their_columns(tmp_path: Path) -> None:
    with Case.open(_ingested(tmp_path)) as case:
        assert case.con.execute(STORED_SQL).fetchall() == STORED


def test_a_version_3_case_moves_the_inns_out_of_attributes(tmp_path: Path) -> None:
    """Schema 4: a case made before holds the INNs in `attributes` (as that version stored
    them, no INN columns); opened for writing, they move to their columns and `attributes`
    keeps the unmapped cells only (NULL when none): as a new ingest stores them."""
    root = _ingested(tmp_path)
    old = {  # `attributes` as schema 3 stored them
        "Э1": f'{{"Примечание":"срочно","consignor_inn":"{A}"}}',
        "Э2": f'{{"consignor_inn":"{A}"}}',
        "Э3": f'{{"consignee_inn":"{B}"}}',
        "Э4": f'{{"Примечание":"пломба \\"2\\"","consignor_inn":"{A}","consignee_inn":"{B}"}}',
        "Э5": '{"Примечание":"срочно"}',
    }
    with Case.open(root, write=True) as case:
        for waybill, attributes in old.items():
            case.con.execute(
                "UPDATE shipments SET attributes = ? WHERE waybill = ?", [attributes, waybill]
            )
        case.con.execute("ALTER TABLE shipments DROP COLUMN consignor_inn")
        case.con.execute("ALTER TABLE shipments DROP COLUMN consignee_inn")
        case.set_meta("schema_version", "3")
    with Case.open(root, write=True) as case:
        assert case.meta("schema_version") == str(schema.SCHEMA_VERSION)
        assert case.con.execute(STORED_SQL).fetchall() == STORED
