"""Fixtures shared by the test modules."""
import pytest
from cli_runs import ROOT, run_cli


@pytest.fixture(scope="session")
def sample_dataset(tmp_path_factory):
    """One run of `newsflow ingest samples/dump` (not on a terminal, so with plain log lines), shared by
    every module that reads its dataset: read it only, a test that changes it works on a copy. Returns
    (OUT, the finished process)."""
    out = tmp_path_factory.mktemp("sample") / "out"
    result = run_cli(ROOT / "samples" / "dump", "--output", out)
    return out, result
