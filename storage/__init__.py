"""Everything that touches the output folder: its layout, atomic writes, the publication protocol, and
the readers of what committed runs left there.

- `layout`: every folder and file name of OUT, and `Layout(output, run_id)` that names their paths;
- `files`: the one atomic write (one temporary-name scheme) and the Parquet encoding of rows;
- `publication`: the journal, publish, recover and discard (what makes a run all-or-nothing);
- `visible`: what readers of the tables see (committed runs only);
- `state`: the cross-run index and the template statistics, behind small reader objects that stages get.

It imports only `schemas`: the stages (transforms/) and the driver (pipelines/) build on it.
"""
