"""Kernel views: what is published on a connection belongs to that connection alone."""

from __future__ import annotations

import gc

import duckdb
import pyarrow as pa

from cargotrace.maritime.kernels import views


def test_a_new_connection_sees_nothing_a_gone_one_published() -> None:
    con = duckdb.connect()
    views.publish(con, "t", pa.table({"x": [1, 2, 3]}))
    views.set_tag(con, "t", "settings")
    folder = views.workdir(con)
    assert folder.is_dir()
    assert views.published(con, "t") is not None
    assert views.tag(con, "t") == "settings"
    con.close()
    del con
    gc.collect()
    assert not folder.exists()  # the work folder goes with its connection

    other = duckdb.connect()
    assert views.published(other, "t") is None
    assert views.tag(other, "t") is None
    assert views.published_files(other, "t") is None


def test_release_forgets_tables_files_and_work_folder() -> None:
    con = duckdb.connect()
    views.publish(con, "t", pa.table({"x": [1, 2, 3]}))
    sink = views.Sink(con, "parts", to_disk=True)
    sink.add(pa.table({"y": [4, 5]}).to_batches())
    sink.publish()
    assert con.execute("SELECT sum(y) FROM parts").fetchone() == (9,)
    folder = views.workdir(con)
    views.release(con)
    assert views.published(con, "t") is None
    assert views.published_files(con, "parts") is None
    assert not folder.exists()
    assert not con.execute(
        "SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = 'parts'"
    ).fetchone()[0]
