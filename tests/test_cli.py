"""The command line: newsflow's own options, Beam's passed through, the local runner default."""
from apache_beam.options.pipeline_options import DirectOptions, StandardOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from pipelines.cli import build_parser, own_flags, split_beam_args
from pipelines.options import runner_and_options


def split(argv):
    parser, ingest = build_parser()
    return split_beam_args(argv, own_flags(parser, ingest))


def test_unknown_options_go_to_beam_with_their_values():
    ours, beam = split(
        ["ingest", "dump/", "more/*.txt", "--output", "out", "--runner", "DataflowRunner",
         "--project=p", "--save_main_session", "--max-file-rows", "3"]
    )
    assert ours == ["ingest", "dump/", "more/*.txt", "--output", "out", "--max-file-rows", "3"]
    assert beam == ["--runner", "DataflowRunner", "--project=p", "--save_main_session"]


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
