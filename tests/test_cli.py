"""The command line: newsflow's own options, Beam's checked against Beam's option classes, usage errors
that exit 2 before anything starts, the local runner default, `newsflow schema`."""
import signal
import subprocess
import sys

import pytest
from apache_beam.options.pipeline_options import DirectOptions, StandardOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from cli_runs import ROOT

from pipelines import exits, signals
from pipelines.beam_args import UsageError, split_beam_args
from pipelines.cli import build_parser, main, own_flags
from pipelines.options import runner_and_options
from schemas.docs import schema_markdown
from schemas.tables import ARTICLES, DATE_PARTITIONED, SCHEMAS, TABLE_MEANINGS, described_columns

DUMP = ROOT / "samples" / "dump"


def split(argv):
    parser, ingest = build_parser()
    return split_beam_args(argv, own_flags(parser, ingest))


def test_beam_options_go_to_beam_with_their_values_and_flags_take_none():
    ours, beam = split(
        ["ingest", "dump/", "more/*.txt", "--output", "out", "--runner", "DataflowRunner",
         "--project=p", "--save_main_session", "third/", "--max-file-rows", "3"]
    )
    # --save_main_session is a flag in Beam: the input after it stays an input.
    assert ours == ["ingest", "dump/", "more/*.txt", "--output", "out", "third/", "--max-file-rows", "3"]
    assert beam == ["--runner", "DataflowRunner", "--project=p", "--save_main_session"]


def test_the_beam_options_the_readme_shows_for_each_runner_are_accepted():
    documented = ["--runner=DataflowRunner", "--project=PROJECT", "--region=europe-west1",
                  "--temp_location=gs://BUCKET/tmp", "--setup_file=./setup.py", "--experiments=use_runner_v2",
                  "--sdk_container_image=REGION-docker.pkg.dev/PROJECT/REPO/newsflow:1", "--runner=PortableRunner",
                  "--job_endpoint=localhost:8099", "--environment_type=EXTERNAL", "--environment_config=localhost:50000",
                  "--flink_master=FLINK_HOST:8081", "--direct_running_mode=in_memory", "--direct_num_workers=1"]
    ours, beam = split(["ingest", "dump/", "--output", "out", *documented])
    assert (ours, beam) == (["ingest", "dump/", "--output", "out"], documented)


@pytest.mark.parametrize("typo, suggestion", [
    (["--quite"], "--quiet"),
    (["--reproces", "all"], "--reprocess"),
    (["--direct-num-workers=1"], "--direct_num_workers"),
])
def test_an_option_neither_newsflow_nor_beam_knows_is_refused_with_the_closest_one(typo, suggestion):
    with pytest.raises(UsageError, match=f"Did you mean {suggestion}\\?"):
        split(["ingest", "dump/", "--output", "out", *typo])


def test_a_beam_option_with_a_value_beam_would_not_parse_is_refused():
    with pytest.raises(UsageError, match="invalid int value: 'many'"):
        split(["ingest", "dump/", "--output", "out", "--direct_num_workers=many"])
    with pytest.raises(UsageError, match="invalid choice"):
        split(["ingest", "dump/", "--output", "out", "--direct_running_mode", "sideways"])


def exit_status(argv: list[str]) -> int:
    """`newsflow ARGV`'s exit status, in this process (argparse's own errors raise SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exited:
        return exited.code


@pytest.mark.parametrize("extra", [
    ["--quite"],
    ["--reproces", "all"],
    ["--out", "elsewhere"],  # no abbreviations of newsflow's options either
    ["--max-file-rows", "0"],
    ["--max-reject-share", "1.5"],
    ["--max-reject-share", "lots"],
    ["--log-format", "xml"],
    ["--direct_num_workers=many"],
])
def test_usage_errors_exit_2_before_anything_starts_and_create_nothing(tmp_path, capsys, extra):
    out = tmp_path / "out"
    assert exit_status(["ingest", str(DUMP), "--output", str(out), *extra]) == exits.USAGE
    assert not out.exists()
    assert "error" in capsys.readouterr().err


def test_a_missing_input_path_is_a_usage_error_and_creates_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert exit_status(["ingest", str(DUMP), str(tmp_path / "does-not-exist"), "--output", str(out)]) == exits.USAGE
    assert not out.exists()
    assert "input not found" in capsys.readouterr().err


def test_an_empty_input_folder_exits_66_and_leaves_no_dataset(tmp_path, capsys):
    empty, out = tmp_path / "empty", tmp_path / "out"
    empty.mkdir()
    assert main(["ingest", str(empty), "--output", str(out)]) == exits.NO_INPUT
    assert not out.exists()
    err = capsys.readouterr().err
    assert "the inputs hold no file" in err and "manifest" not in err


def test_a_glob_matching_nothing_exits_66(tmp_path):
    assert main(["ingest", str(tmp_path / "*.txt"), "--output", str(tmp_path / "out")]) == exits.NO_INPUT
    assert not (tmp_path / "out").exists()


def test_dry_run_of_a_first_run_lists_every_file_as_new_and_creates_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["ingest", str(DUMP), "--output", str(out), "--dry-run"]) == exits.OK
    lines = capsys.readouterr().out.splitlines()
    files = sorted(path for path in DUMP.rglob("*") if path.is_file())
    assert lines[0].startswith(f"newsflow: dry run into {out}: {len(files)} files to read ({len(files)} new, 0 changed")
    assert sorted(line.split()[1] for line in lines[1:]) == sorted(path.as_uri() for path in files)
    assert all(line.split()[0] == "new" for line in lines[1:])
    assert not out.exists()


def test_default_runner_is_fn_api_runner_on_all_cores_in_processes():
    runner, options = runner_and_options([])
    assert isinstance(runner, FnApiRunner)
    direct = options.view_as(DirectOptions)
    assert direct.direct_running_mode == "multi_processing"
    assert direct.direct_num_workers == 0


def test_explicit_runner_and_direct_options_are_respected():
    runner, options = runner_and_options(["--runner=PortableRunner", "--job_endpoint=localhost:8099"])
    assert runner is None
    assert options.view_as(StandardOptions).runner == "PortableRunner"
    _, options = runner_and_options(["--direct_running_mode=in_memory", "--direct_num_workers=1"])
    assert options.view_as(DirectOptions).direct_running_mode == "in_memory"
    assert options.view_as(DirectOptions).direct_num_workers == 1


def test_a_stop_signal_raises_stopped_with_the_shell_exit_status():
    signals.stop_on_signals()
    try:
        with pytest.raises(signals.Stopped) as stopped:
            signal.raise_signal(signal.SIGTERM)
        assert (stopped.value.signal_name, stopped.value.exit_code) == ("SIGTERM", 143)
        with pytest.raises(signals.Stopped) as stopped:
            signal.raise_signal(signal.SIGINT)
        assert stopped.value.exit_code == 130
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_a_stop_signal_during_publishing_waits_until_the_block_ends():
    signals.stop_on_signals()
    finished = []
    try:
        with pytest.raises(signals.Stopped), signals.deferred():
            signal.raise_signal(signal.SIGTERM)
            finished.append("the rest of the publication")
        assert finished == ["the rest of the publication"]
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)


def test_schema_prints_every_column_of_every_table_with_its_meaning(capsys):
    assert main(["schema"]) == exits.OK
    text = capsys.readouterr().out
    for table in TABLE_MEANINGS:
        assert f"{table}: {TABLE_MEANINGS[table]}" in text
        for name, type_, meaning in described_columns(table):
            assert meaning, (table, name)  # every column has its meaning in schemas/tables.py
            assert f"  {name}" in text
    assert main(["schema", ARTICLES]) == exits.OK
    articles = capsys.readouterr().out
    assert "duplicate_of" not in articles and "boilerplate_share" in articles


def test_described_columns_are_the_tables_columns_with_partitions_last():
    for table in TABLE_MEANINGS:
        names = [name for name, _, _ in described_columns(table)]
        partitions = ["year", "month"] if table in DATE_PARTITIONED else []
        assert names == [*SCHEMAS[table].names, *partitions]


def test_the_readme_shows_the_tables_as_schemas_defines_them():
    """The README's column tables are `newsflow schema --format markdown`: one source for both."""
    readme = (ROOT / "README.md").read_text()
    assert schema_markdown(list(TABLE_MEANINGS)) in readme


def test_a_reader_that_stops_reading_early_is_no_error(tmp_path):
    """`newsflow ingest --dry-run | head -1`: the pipe closes before newsflow has printed every line."""
    dump = tmp_path / "dump"
    dump.mkdir()
    for number in range(2000):  # more lines than a pipe's buffer holds
        (dump / f"page-{number:04d}.txt").write_text("A headline\n\nA sentence of the story.\n")
    command = [sys.executable, "-m", "pipelines.cli", "ingest", str(dump), "--output", str(tmp_path / "out"),
               "--dry-run"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout.readline().startswith(b"newsflow: dry run")
    process.stdout.close()  # as `head -1` does
    _, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors.decode()[-2000:]
    assert b"Traceback" not in errors
