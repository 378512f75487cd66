"""The storage layer: one layout for every path of OUT, one atomic write, and state published only from
the files a run's successful write steps listed."""
import pickle

from fsspec.implementations.local import LocalFileSystem

from schemas.tables import REJECTS, TEMPLATES
from storage.files import is_temporary, write_atomically, write_rows
from storage.layout import Layout, part_file_name
from storage.publication import publish, recover, staged_files, write_file_list
from storage.state import TemplateStatistics
from storage.visible import table_files

RUN_ID = "20240101T000000Z-abcdef"


def _statistics(source: str) -> list[dict]:
    return [{"source": source, "line_key": 7, "stories": [1, 2, 3]}]


def test_a_layout_names_the_paths_of_out_and_of_its_run_and_pickles_as_its_two_strings(tmp_path):
    layout = Layout(str(tmp_path / "out") + "/", RUN_ID)
    assert layout.root == str(tmp_path / "out")
    assert layout.staged("articles", "x.parquet") == f"{tmp_path}/out/_staging/{RUN_ID}/articles/x.parquet"
    assert layout.journal() == f"{tmp_path}/out/_runs/{RUN_ID}.pending.json"
    assert layout.report_uri() == f"{tmp_path}/out/_runs/{RUN_ID}.html"
    assert isinstance(layout.fs, LocalFileSystem)  # resolved once, then cached ...
    copy = pickle.loads(pickle.dumps(layout))  # ... but never pickled: workers resolve it themselves
    assert copy == layout and copy.staged("a") == layout.staged("a")
    assert "_resolved" not in pickle.loads(pickle.dumps(layout)).__dict__


def test_an_atomic_write_leaves_no_temporary_file_and_replaces_the_old_content(tmp_path):
    fs, path = LocalFileSystem(), f"{tmp_path}/folder/file.json"
    write_atomically(fs, path, b"old")
    write_atomically(fs, path, b"new")
    assert [p.name for p in (tmp_path / "folder").iterdir()] == ["file.json"]
    assert (tmp_path / "folder" / "file.json").read_bytes() == b"new"


def test_state_is_published_from_the_listed_files_only_and_replaces_the_earlier_state(tmp_path):
    out = str(tmp_path / "out")
    for run_id, source in (("20240101T000000Z-aaaaaa", "first"), (RUN_ID, "second")):
        run = Layout(out, run_id)
        listed = f"{TEMPLATES}/{part_file_name(run_id, 'listed')}"
        write_rows(run.fs, run.staged(listed), TEMPLATES, _statistics(source))
        # What a failed bundle left: written, never listed by a successful write step.
        write_rows(run.fs, run.staged(TEMPLATES, part_file_name(run_id, "failed")), TEMPLATES, _statistics("lost"))
        write_file_list(run, [listed])
        publish(run, staged_files(run), {"run_id": run_id})
    sources = {source for source, _ in TemplateStatistics(out).read()}
    assert sources == {"second"}  # the last run's merged state; never the unlisted file


def test_what_an_interrupted_write_leaves_is_skipped_by_readers_and_removed_by_recovery(tmp_path):
    out = Layout(str(tmp_path / "out"))
    run = out.for_run(RUN_ID)
    write_file_list(run, [])
    publish(run, staged_files(run), {"run_id": RUN_ID})
    half_written = [out.path("_runs", f".tmp-1234-{RUN_ID}.json"), out.path(REJECTS, ".tmp-5678-part.parquet")]
    for path in half_written:
        out.fs.pipe_file(path, b"half")
    assert all(is_temporary(path) for path in half_written)
    assert not any(is_temporary(path) for path in table_files(out, REJECTS))
    recover(out)
    assert not out.fs.exists(half_written[0])
