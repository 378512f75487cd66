"""Logging for schedulers: --log-level decides what newsflow and its libraries show, --log-format how."""
import io
import json
import logging

import pytest

from pipelines import logs


@pytest.fixture
def captured():
    stream = io.StringIO()

    def configure(level: str, fmt: str = "plain") -> io.StringIO:
        logs.configure(level, fmt, stream)
        return stream

    yield configure
    logs.set_run(None)
    logs.configure()


def test_info_shows_newsflow_lines_plainly_and_libraries_only_from_warnings(captured):
    stream = captured("info")
    logs.event("run 1: 3 files to read")
    logging.getLogger("pipelines.commit").info("completed a publication")
    logging.getLogger("apache_beam.runners").info("a Beam detail")
    logging.getLogger("fsspec").warning("a store warning")
    lines = stream.getvalue().splitlines()
    assert lines[0] == "newsflow: run 1: 3 files to read"
    assert lines[1].endswith("INFO pipelines.commit: completed a publication")
    assert lines[2].endswith("WARNING fsspec: a store warning") and len(lines) == 3


def test_warning_hides_newsflow_info_lines_and_debug_shows_libraries_too(captured):
    stream = captured("warning")
    logs.event("run 1 published")
    logging.getLogger("pipelines.ingest").warning("took over a stale lock")
    assert [line.split(": ", 1)[-1] for line in stream.getvalue().splitlines()] == ["took over a stale lock"]
    stream = captured("debug")
    logging.getLogger("apache_beam.runners").debug("a Beam detail")
    assert "a Beam detail" in stream.getvalue()


def test_json_lines_have_the_run_id_stage_and_counts(captured):
    stream = captured("info", "json")
    logs.set_run("20260101T000000Z-abcdef")
    logs.event("run published", "publish", {"articles": 3})
    logging.getLogger("pipelines.retract").warning("a plain warning")
    try:
        raise ValueError("bad bytes")
    except ValueError:
        logging.getLogger("pipelines.ingest").exception("the run failed")
    first, second, third = (json.loads(line) for line in stream.getvalue().splitlines())
    assert first["run_id"] == second["run_id"] == third["run_id"] == "20260101T000000Z-abcdef"
    assert (first["stage"], first["counts"], first["logger"], first["level"]) == (
        "publish", {"articles": 3}, "newsflow", "info")
    assert (second["level"], second["message"]) == ("warning", "a plain warning") and "stage" not in second
    assert third["level"] == "error" and "ValueError: bad bytes" in third["error"]
