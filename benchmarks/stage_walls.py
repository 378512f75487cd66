"""Wall time of every fused Beam stage of one local run: where a run waits besides NER.

    python benchmarks/stage_walls.py INPUT OUT [Beam options]

Runs the pipeline in this process on the local runner (FnApiRunner), timing each bundle it executes
(by patching its private `_execute_bundle`: a diagnostic, not a supported interface). The runner runs
one fused stage at a time, so the stage walls add up to the run's wall time.
"""
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines import logs

logs.mute_beam_noise()  # before Beam is imported

from apache_beam.runners.portability.fn_api_runner import fn_runner

from pipelines.ingest import run_ingest
from pipelines.options import IngestConfig


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__)
        return 2
    logs.configure("error")
    walls: collections.Counter[str] = collections.Counter()
    execute = fn_runner.FnApiRunner._execute_bundle

    def timed(self, context, bundle_manager, bundle_input):
        started = time.perf_counter()
        try:
            return execute(self, context, bundle_manager, bundle_input)
        finally:
            walls[bundle_manager.stage.name] += time.perf_counter() - started

    fn_runner.FnApiRunner._execute_bundle = timed
    summary = run_ingest(IngestConfig(inputs=(argv[0],), output=argv[1]), argv[2:])
    print(f"run: {summary['wall_seconds']:.1f} s, in stages {sum(walls.values()):.1f} s")
    for name, seconds in walls.most_common(20):
        print(f"{seconds:8.2f} s  {name[:160]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
