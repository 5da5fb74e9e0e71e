"""A shipment's `attributes`: its unmapped cells as JSON (NULL when all are empty) with the
parties' INNs merged in; without unmapped cells the INNs alone (`shipments._select`)."""

from __future__ import annotations

from pathlib import Path

from cargotrace import workflow
from cargotrace.case.store import Case

from builders import write_csv

HEADER = ["Номер накладной", "Дата отправления", "Вес груза, кг", "Грузоотправитель", "ИНН грузоотправителя",
          "Грузополучатель", "ИНН грузополучателя", "Примечание"]  # fmt: skip
A, B = "7707083893", "7736050003"  # INNs with their check digits right


def test_attributes_hold_the_unmapped_cells_and_the_inns(tmp_path: Path) -> None:
    rows = [
        ["Э1", "03.09.2023", "61250", "ООО «Ромашка»", A, "", "", "срочно"],
        ["Э2", "03.09.2023", "61250", "ООО «Ромашка»", A, "", "", ""],
        ["Э3", "03.09.2023", "61250", "", "", "ПАО «Газпром»", B, ""],
        ["Э4", "03.09.2023", "61250", "ООО «Ромашка»", A, "ПАО «Газпром»", B, 'пломба "2"'],
        ["Э5", "03.09.2023", "61250", "ООО «Ромашка»", "", "", "", "срочно"],
        ["Э6", "03.09.2023", "61250", "ООО «Ромашка»", "", "", "", "  "],
    ]
    path = write_csv(tmp_path / "s.csv", HEADER, rows, encoding="cp1251", delimiter=";")
    [result] = workflow.ingest(tmp_path / "case", "shipments", [path])
    assert (result.rows_kept, result.rows_quarantined) == (6, 0)
    with Case.open(tmp_path / "case") as case:
        stored = case.con.execute(
            "SELECT waybill, attributes FROM shipments ORDER BY waybill"
        ).fetchall()
    assert stored == [
        ("Э1", f'{{"Примечание":"срочно","consignor_inn":"{A}"}}'),
        ("Э2", f'{{"consignor_inn":"{A}"}}'),
        ("Э3", f'{{"consignee_inn":"{B}"}}'),
        ("Э4", f'{{"Примечание":"пломба \\"2\\"","consignor_inn":"{A}","consignee_inn":"{B}"}}'),
        ("Э5", '{"Примечание":"срочно"}'),
        ("Э6", None),
    ]
