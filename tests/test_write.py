"""The writer of one table in a worker: rows buffered by partition, written as they add up."""
import datetime as dt

from schemas.tables import ARTICLES
from storage.layout import Layout
from transforms import write


def test_a_worker_holds_fewer_than_max_file_rows_rows_across_all_partitions(monkeypatch, tmp_path):
    written = []
    monkeypatch.setattr(write, "write_part_file", lambda fs, root, run, table, partition, rows: (
        written.append((partition, len(rows))) or f"{partition}/{len(written)}"))
    writer = write._WriteBundleFn(Layout(str(tmp_path), "run"), ARTICLES, max_file_rows=4)
    writer.setup()
    writer.start_bundle()
    months = [1, 2, 1, 3, 2, 1, 4, 1, 5, 6]  # six partitions, none of which reaches 4 rows on its own
    for seen, month in enumerate(months, start=1):
        list(writer.process({"published_date": dt.date(2024, month, 5)}))
        assert seen - sum(rows for _, rows in written) < 4  # rows held by the worker
    assert written[0] == ("year=2024/month=1", 2)  # the largest partition went first
    list(writer.finish_bundle())
    assert sum(rows for _, rows in written) == len(months)
    assert max(rows for _, rows in written) <= 4
