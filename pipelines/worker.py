"""Entry point of the local runner's worker processes: Beam's SDK harness, without terminal noise.

Importing Beam logs a warning about an optional BigQuery client through `logging.warning`, which
installs a stderr handler on the root logger of every worker; everything the harness logs at INFO
then floods the user's terminal. A handler installed first prevents that. Worker logs still reach
the driver through the Fn API logging channel, where errors are shown.
"""
import logging
import sys

logging.getLogger().addHandler(logging.NullHandler())

from apache_beam.runners.worker import sdk_worker_main

from pipelines.memory import tune_malloc

if __name__ == "__main__":
    tune_malloc()  # before the harness starts its threads
    sdk_worker_main.main(sys.argv)
