"""The pipeline is runner-portable: it runs through Beam's PortableRunner (the job API that Flink, Spark
and Dataflow use) against a local job service with an external worker pool, and gives the same tables
as the default local runner."""
import os
import pathlib
import socket
import subprocess
import sys
import time

import pytest
from cli_runs import dataset_content, run_cli

from schemas.tables import ARTICLES, DUPLICATES, REJECTS

pytestmark = pytest.mark.slow  # a job server and a worker pool

ROOT = pathlib.Path(__file__).resolve().parent.parent
DUMP = ROOT / "samples" / "dump"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("localhost", 0))
        return probe.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert process.poll() is None, "service exited before it listened"
        with socket.socket() as probe:
            if probe.connect_ex(("localhost", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port}")


@pytest.fixture(scope="module")
def portable_services():
    # The worker pool starts workers with the `python` found on PATH: make it this environment's.
    env = dict(os.environ, PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    job_port, pool_port = free_port(), free_port()
    commands = [
        [sys.executable, "-m", "apache_beam.runners.portability.local_job_service_main", "--port", str(job_port)],
        [sys.executable, "-m", "apache_beam.runners.worker.worker_pool_main", "--service_port", str(pool_port)],
    ]
    processes = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for c in commands]
    try:
        wait_for_port(job_port, processes[0])
        wait_for_port(pool_port, processes[1])
        yield job_port, pool_port
    finally:
        for process in processes:
            process.kill()
            process.wait(timeout=30)


def ingest(out: pathlib.Path, *beam_args: str) -> None:
    run_cli(DUMP, "--output", out, *beam_args)


def test_portable_runner_gives_the_same_dataset_as_the_local_runner(portable_services, tmp_path):
    job_port, pool_port = portable_services
    ingest(
        tmp_path / "portable",
        "--runner=PortableRunner",
        f"--job_endpoint=localhost:{job_port}",
        "--environment_type=EXTERNAL",
        f"--environment_config=localhost:{pool_port}",
    )
    ingest(tmp_path / "local")
    portable = dataset_content(tmp_path / "portable")
    assert len(portable[ARTICLES]) == 10 and len(portable[DUPLICATES]) == 2 and len(portable[REJECTS]) == 4
    assert portable == dataset_content(tmp_path / "local")
