"""The exit statuses of `newsflow ingest`, for a scheduler to act on (the README's table lists them).

Numbers from sysexits.h where one fits, so that tools which know them (systemd, Airflow's retry rules)
read them right; 128 + N for a stop by signal N, as a shell reports it.
"""
from __future__ import annotations

OK = 0  # published, or nothing new to ingest
FAILED = 1  # the run failed (a stage, the store, the disk): nothing was published
USAGE = 2  # a mistyped or unknown option, a bad value, a missing input path: nothing was started or created
TOO_MANY_REJECTS = 65  # EX_DATAERR: the rejects exceeded --max-reject-share; nothing was published
NO_INPUT = 66  # EX_NOINPUT: the inputs hold no file, or every input vanished before it could be read
# EX_IOERR: a file of the output cannot be read, or a journal names paths outside it. Retrying does not
# help: `newsflow check OUT --repair` moves it aside and rebuilds the index and manifest; nothing was done.
DAMAGED_OUTPUT = 74
LOCKED = 75  # EX_TEMPFAIL: another run holds the output's lock; try again later
# Stopped by SIGINT (Ctrl-C): 130; by SIGTERM: 143 (pipelines/signals.py).
