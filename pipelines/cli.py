"""Command line: `newsflow ingest INPUT... --output OUT [options] [Beam options]`, `newsflow inspect OUT [SQL]`,
`newsflow schema [TABLE]`, `newsflow check OUT`, `newsflow compact OUT`. The exit statuses are those of pipelines/exits.py."""
from __future__ import annotations

import argparse
import datetime as dt
import errno
import logging
import os
import re
import sys

from pipelines import exits, logs

logs.mute_beam_noise()  # before anything imports Beam

from pipelines.beam_args import UsageError, split_beam_args
from pipelines.lock import DEFAULT_LOCK_SECONDS, OutputLocked
from pipelines.options import DEFAULT_SPACY_MODEL, IngestConfig
from pipelines.plan import parse_reprocess
from pipelines.watch import DEFAULT_POLL_SECONDS
from schemas.tables import TABLE_MEANINGS
from transforms.containers import JSONL_DEFAULT_FIELDS
from transforms.read import DEFAULT_MAX_DOCUMENT_BYTES, absolute_uri, input_exists
from transforms.redact import user_info
from transforms.write import DEFAULT_MAX_FILE_ROWS

log = logs.EVENTS

EPILOG = """\
Any other --option must be an Apache Beam pipeline option, e.g. --runner=DataflowRunner --project=... or
--direct_num_workers=1; one neither newsflow nor Beam knows is an error. Without --runner, newsflow runs
locally on Beam's FnApiRunner on all cores.

Exit status: 0 published (or nothing new), 1 the run failed, 2 usage error (nothing started), 65 too many
rejects (--max-reject-share), 66 no input (or every input vanished: only their rejects are published),
74 the output is damaged (run `newsflow check OUT --repair`), 75 another run holds the output, 130/143
stopped by SIGINT/SIGTERM (a run already publishing finishes first). Otherwise a run that does not exit 0
published nothing.
"""


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The `newsflow` parser and its `ingest` sub-parser. No abbreviations: `--out` is not `--output`."""
    parser = argparse.ArgumentParser(prog="newsflow", description="Turn raw news dumps into a clean dataset.",
                                     allow_abbrev=False)
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    ingest = commands.add_parser(
        "ingest",
        help="ingest one or more dumps into a dataset",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        allow_abbrev=False,
    )
    ingest.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="file, directory (read recursively) or glob; local path or any fsspec URL")
    ingest.add_argument("--output", "-o", required=True, metavar="OUT",
                        help="dataset folder (local path or fsspec URL)")
    ingest.add_argument("--reference-date", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="resolve year-less dates ('Feb 26') against this date")
    ingest.add_argument("--max-document-bytes", type=positive_int, default=DEFAULT_MAX_DOCUMENT_BYTES,
                        help="reject documents larger than this after decompression (default: %(default)s)")
    ingest.add_argument("--spacy-model", default=DEFAULT_SPACY_MODEL,
                        help="installed spaCy model package for NER (default: %(default)s)")
    ingest.add_argument("--max-file-rows", type=positive_int, default=DEFAULT_MAX_FILE_ROWS, metavar="N",
                        help="most rows in one Parquet file; each worker writes a file per partition and "
                             "bundle, and its largest partitions' whenever it holds N rows (default: %(default)s)")
    ingest.add_argument("--jsonl-fields", type=jsonl_fields, default=None, metavar="FIELD=NAME,...",
                        help="field names of JSON Lines exports, when not text/html/url/date/title "
                             "(e.g. text=body,url=link,date=published)")
    ingest.add_argument("--reprocess", type=reprocess_request, default=None, metavar="WHAT",
                        help="read ingested files again and replace their rows: 'all', 'older' (files ingested "
                             "by an older pipeline version) or a range of publication dates START..END")
    ingest.add_argument("--max-reject-share", type=share, default=None, metavar="SHARE",
                        help="fail the run (exit 65, nothing published) when more than this share (0-1) of its "
                             "documents are rejects, e.g. 0.2")
    ingest.add_argument("--no-entities", action="store_true",
                        help="skip named-entity recognition: clean, date and dedupe only (no entities rows)")
    ingest.add_argument("--memory-budget", type=memory_size, default=None, metavar="SIZE",
                        help="memory a local run may take (e.g. 3G); a larger dump goes through in batches, each "
                             "published as a run (default: a quarter of the machine's memory, at most 3G)")
    ingest.add_argument("--dry-run", action="store_true",
                        help="print what a run would read (files new, changed, unchanged) and exit")
    ingest.add_argument("--watch", action="store_true",
                        help="keep polling the inputs and ingest new files as they arrive, until stopped")
    ingest.add_argument("--poll-seconds", type=positive_float, default=DEFAULT_POLL_SECONDS,
                        help="with --watch: seconds between two looks at the inputs (default: %(default)s)")
    ingest.add_argument("--lock-seconds", type=positive_float, default=DEFAULT_LOCK_SECONDS,
                        help="how long the output's lock outlives a run that died on another machine "
                             "(default: %(default)s)")
    ingest.add_argument("--quiet", "-q", action="store_true",
                        help="print nothing but errors (no progress, no summary); the same as --log-level error")
    ingest.add_argument("--log-level", choices=logs.LEVELS, default="info",
                        help="how much newsflow logs: info shows a run's start, progress and summary "
                             "(default: %(default)s)")
    ingest.add_argument("--log-format", choices=logs.FORMATS, default="plain",
                        help="plain lines, or one JSON object per line (time, level, message, run_id, stage, "
                             "counts) for a log collector (default: %(default)s)")
    add_inspect_parser(commands)
    add_schema_parser(commands)
    add_check_parser(commands)
    add_compact_parser(commands)
    return parser, ingest


def positive_int(value: str) -> int:
    number = int(value)
    if number <= 0:
        raise argparse.ArgumentTypeError(f"{value}: must be a positive whole number")
    return number


def positive_float(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"{value}: must be a positive number")
    return number


def memory_size(value: str) -> int:
    from pipelines.batches import parse_size

    try:
        return parse_size(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def share(value: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise argparse.ArgumentTypeError(f"{value}: must be a share between 0 and 1, e.g. 0.2")
    return number


INSPECT_EPILOG = """\
Tables: articles, duplicates, rejects, entities (partitioned by year, month; undated rows have NULL),
runs (the committed runs), and the function source_of(uri): a page's publisher. Example:
  newsflow inspect out/sample "SELECT year, month, count(*) FROM articles GROUP BY ALL ORDER BY ALL"
"""


def add_inspect_parser(commands) -> None:
    inspect = commands.add_parser(
        "inspect",
        help="query a dataset with DuckDB SQL, or print an overview of it",
        epilog=INSPECT_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inspect.add_argument("output", metavar="OUT", help="dataset folder (local path or fsspec URL)")
    inspect.add_argument("sql", nargs="?", metavar="SQL", help="a DuckDB query; without it, an overview")
    inspect.add_argument("--format", choices=("table", "csv"), default="table",
                         help="table: aligned, the first 50 rows, long cells cut; csv: every row, in full")


def inspect_command(args: argparse.Namespace) -> int:
    """`newsflow inspect`: exit 2 when OUT is not a dataset, 1 when DuckDB refuses the query."""
    import duckdb

    from pipelines.inspect import NotADataset, one_line, open_dataset, overview, run_query

    try:
        con = open_dataset(args.output)
        text = run_query(con, args.sql, args.format) if args.sql else overview(con, args.output)
    except NotADataset as error:
        print(f"newsflow: {error}", file=sys.stderr)
        return 2
    except duckdb.Error as error:
        print(f"newsflow: {one_line(error)}", file=sys.stderr)
        return 1
    try:
        if text:
            print(text, flush=True)
    except BrokenPipeError:  # `newsflow inspect ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit's flush
    return 0


def add_schema_parser(commands) -> None:
    schema = commands.add_parser("schema", help="print the tables' columns and what they mean",
                                 allow_abbrev=False)
    schema.add_argument("table", nargs="?", choices=TABLE_MEANINGS, metavar="TABLE",
                        help=f"one of {', '.join(TABLE_MEANINGS)}; without it, every table")
    schema.add_argument("--format", choices=("text", "markdown"), default="text")


def schema_command(args: argparse.Namespace) -> int:
    from schemas.docs import schema_markdown, schema_text

    tables = [args.table] if args.table else list(TABLE_MEANINGS)
    print(schema_markdown(tables) if args.format == "markdown" else schema_text(tables))
    return exits.OK


def add_check_parser(commands) -> None:
    check = commands.add_parser(
        "check", allow_abbrev=False,
        help="verify a dataset's tables, index, manifest and journals; --repair moves what cannot be read "
             "aside and rebuilds the index and the manifest from the tables")
    check.add_argument("output", metavar="OUT", help="dataset folder (local path or fsspec URL)")
    check.add_argument("--repair", action="store_true",
                       help="move damaged files into OUT/_quarantine/<id>/ (with a report; no row is deleted), "
                            "complete interrupted runs, rebuild the index and the manifest")


def add_compact_parser(commands) -> None:
    compact = commands.add_parser(
        "compact", allow_abbrev=False,
        help="merge the small files of the tables, the index and the manifest into files of up to 128 MB, "
             "atomically, without changing a row (safe to kill; the next command completes or undoes it)")
    compact.add_argument("output", metavar="OUT", help="dataset folder (local path or fsspec URL)")
    compact.add_argument("--dry-run", action="store_true", help="print which files would be merged and exit")
    compact.add_argument("--lock-seconds", type=positive_float, default=DEFAULT_LOCK_SECONDS,
                         help="how long the output's lock outlives a compaction that died on another machine "
                              "(default: %(default)s)")
    compact.add_argument("--quiet", "-q", action="store_true", help="print nothing but errors")


def exit_now(code: int) -> None:
    """End the process with `code` once its output is flushed, skipping the interpreter's teardown: after
    `check` has read every Parquet file of a dataset, the teardown of the native libraries' threads
    (pyarrow, grpc) aborted the process ("terminate called without an active exception", status 134) in
    about 1 run of 10, turning a clean check into a failure for the scheduler."""
    sys.stdout.flush()
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)


def check_command(args: argparse.Namespace) -> int:
    """`newsflow check`: 0 when the dataset is sound (after --repair: once repaired), 74 when it is damaged,
    75 when a run holds its lock, 2 when OUT is no folder."""
    # Not pipelines.ingest: with spaCy loaded, the process sometimes aborted at exit (a C++ thread).
    from pipelines.check import check_output, repair_hint, repair_output
    from storage.layout import new_run_id

    logs.configure("warning", "plain")
    if not input_exists(args.output):
        print(f"newsflow: {args.output}: no such folder", file=sys.stderr)
        return exits.USAGE
    try:
        report = repair_output(args.output, new_run_id(dt.datetime.now(dt.timezone.utc))) if args.repair else check_output(args.output)
    except OutputLocked as error:
        log.error("not started: %s.", error)
        return exits.LOCKED
    print(report.text(), flush=True)
    if report.problems:
        if not args.repair:
            print(f"newsflow: the dataset is damaged: {repair_hint(args.output)}", file=sys.stderr)
        return exits.DAMAGED_OUTPUT
    return exits.OK


def jsonl_fields(value: str) -> tuple[tuple[str, str], ...]:
    """'text=body,url=link' -> (('text', 'body'), ('url', 'link')); only newsflow's fields may be mapped."""
    pairs = []
    for item in filter(None, (part.strip() for part in value.split(","))):
        field, sep, name = item.partition("=")
        if not sep or not name.strip() or field.strip() not in JSONL_DEFAULT_FIELDS:
            raise argparse.ArgumentTypeError(
                f"{item!r}: write FIELD=NAME with FIELD one of {', '.join(JSONL_DEFAULT_FIELDS)}")
        pairs.append((field.strip(), name.strip()))
    return tuple(pairs)


def reprocess_request(value: str):
    try:
        return parse_reprocess(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def has_credentials(location: str) -> bool:
    """Whether a URL carries credentials (s3://key:secret@bucket/..., http://KEY@host/..., in any part of a
    chained fsspec URL), which would leak into every table."""
    return user_info(location) is not None


def input_inside(pattern: str, output: str) -> bool:
    """Whether an input names the output folder or something inside it ("--output /", the input's own
    folder or its parent): that dump would be skipped as part of the dataset."""
    try:
        folder = absolute_uri(re.split(r"[*?\[]", pattern, maxsplit=1)[0]).rstrip("/") + "/"
        return folder.startswith(absolute_uri(output).rstrip("/") + "/")
    except Exception:  # noqa: BLE001 - a URL fsspec cannot resolve is reported by the input check below
        return False


def failure_reason(error: BaseException) -> str:
    """What made a run fail, in a few words. Beam wraps a worker's error in its own with the traceback
    as text, so the well-known causes are found in the message."""
    message = str(error)
    if "No space left on device" in message or getattr(error, "errno", None) == errno.ENOSPC:
        return "no space left on device while writing the output"
    if isinstance(error, PermissionError) or "Permission denied" in message:
        return "permission denied while writing the output"
    last_line = next((line.strip() for line in reversed(message.splitlines()) if line.strip()), "")
    return f"{type(error).__name__}: {last_line[:300]}"


def own_flags(*parsers: argparse.ArgumentParser) -> set[str]:
    return {flag for parser in parsers for action in parser._actions for flag in action.option_strings}


def usage_problem(args: argparse.Namespace) -> str | None:
    """Why the command line cannot run as written (checked before anything starts), or None."""
    locations = [*args.inputs, args.output]
    if any(has_credentials(location) for location in locations):
        return ("a URL holds credentials (user:password@ or KEY@). Put them in the store's standard configuration instead "
                "(environment variables, ~/.aws, gcloud auth): URLs end up in tables and logs.")
    for pattern in args.inputs:
        if input_inside(pattern, args.output):
            return (f"the input {pattern} is inside the output {args.output} (or is it): newsflow never reads its "
                    "own output back, so nothing would be ingested. Choose an output folder beside the dump.")
        try:
            if not input_exists(pattern):
                return f"input not found: {pattern} (no such file or folder). Nothing was started."
        except Exception as error:  # noqa: BLE001 - no filesystem for the URL, no credentials, no network
            return f"input {pattern} cannot be checked: {type(error).__name__}: {error}. Nothing was started."
    return None


def main(argv: list[str] | None = None) -> int:
    try:
        return run_command(argv)
    except BrokenPipeError:
        # The reader of the output went away (`newsflow ingest --dry-run | head`): that is no error of ours.
        # Point stdout at /dev/null so the interpreter's last flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return exits.OK


def run_command(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, ingest_parser = build_parser()
    if argv[:1] == ["inspect"]:  # no Beam options to separate out
        return inspect_command(parser.parse_args(argv))
    if argv[:1] == ["schema"]:
        return schema_command(parser.parse_args(argv))
    if argv[:1] == ["check"]:
        exit_now(check_command(parser.parse_args(argv)))
    if argv[:1] == ["compact"]:  # exits as `check` does, after reading every Parquet file
        from pipelines.compact import compact_command

        args = parser.parse_args(argv)
        exit_now(compact_command(args.output, args.dry_run, args.lock_seconds, args.quiet))
    try:
        newsflow_args, beam_args = split_beam_args(argv, own_flags(parser, ingest_parser))
    except UsageError as error:
        (ingest_parser if argv[:1] == ["ingest"] else parser).print_usage(sys.stderr)
        print(f"newsflow: error: {error}", file=sys.stderr)
        return exits.USAGE
    args = parser.parse_args(newsflow_args)  # exits with 2 on a bad value
    if args.version:
        from pipelines.ingest import pipeline_version

        print(f"newsflow {pipeline_version()}")
        return exits.OK
    if args.command != "ingest":
        parser.print_help()
        return exits.USAGE
    return ingest_command(args, beam_args)


def ingest_command(args: argparse.Namespace, beam_args: list[str]) -> int:
    logs.configure("error" if args.quiet else args.log_level, args.log_format)
    problem = usage_problem(args)
    if problem:
        log.error("error: %s", problem)  # a JSON line too with --log-format json
        return exits.USAGE
    config = IngestConfig(
        inputs=tuple(args.inputs),
        output=args.output,
        reference_date=args.reference_date,
        max_document_bytes=args.max_document_bytes,
        spacy_model=args.spacy_model,
        max_file_rows=args.max_file_rows,
        jsonl_fields=args.jsonl_fields or (),
        reprocess=args.reprocess,
        lock_seconds=args.lock_seconds,
        max_reject_share=args.max_reject_share,
        entities=not args.no_entities,
        memory_budget=args.memory_budget,
    )
    if args.dry_run:
        from pipelines.dry_run import dry_run

        return dry_run(config)
    from pipelines import signals
    from pipelines.progress import Progress

    signals.stop_on_signals()
    progress = Progress.for_terminal(args.quiet, log_format=args.log_format)
    show = summary_shower(args.quiet, args.log_format)
    if args.watch:
        from pipelines.watch import watch

        return watch(config, beam_args, args.poll_seconds, show, progress=progress)
    return run_once(config, beam_args, progress, show)


def summary_shower(quiet: bool, log_format: str):
    """How a finished run's summary is shown: a table on stdout, or one JSON log line; nothing when quiet."""
    from pipelines.summary import format_summary, summary_counts

    def show(summary: dict) -> None:
        if quiet:
            return
        if log_format == "json":
            logs.event(format_summary(summary).splitlines()[0], "summary", summary_counts(summary),
                       summary.get("run_id"))
        else:
            print(format_summary(summary), flush=True)

    return show


def what_was_published(error: BaseException, output: str) -> str:
    """What a failed or stopped run left of its publication (pipelines/ingest.py marks the error)."""
    earlier, batches = getattr(error, "published_batches", ([], 1))
    before = (f"{len(earlier)} of its {batches} batches were published before ({', '.join(earlier)}): a re-run "
              f"reads only the files of the others. " if earlier else "")
    published = getattr(error, "published_run", None)
    if published:
        return f"{before}Run {published} finished publishing first."
    pending = getattr(error, "publication_pending", None)
    if pending:
        return (f"{before}Run {pending} had started publishing: its journal is written, so the next run into "
                f"{output} (or `newsflow check {output} --repair`) completes the publication.")
    if earlier:
        return f"{before}The batch that was running published nothing."
    return f"Nothing was published: the dataset in {output} is as it was before the run."


def run_once(config: IngestConfig, beam_args: list[str], progress, show) -> int:
    """One ingest run; its exit status (pipelines/exits.py)."""
    from pipelines.check import refusal
    from pipelines.ingest import run_ingest  # imports the stages
    from pipelines.invariant import TooManyRejects
    from pipelines.plan import NoInput
    from pipelines.signals import Stopped
    from pipelines.summary import read_nothing
    from storage.publication import DamagedOutput

    try:
        summary = run_ingest(config, beam_args, progress)
    except OutputLocked as error:
        log.error("not started: %s.", error)
        return exits.LOCKED
    except NoInput as error:
        log.error("nothing to read: %s. Nothing was written.", error)
        return exits.NO_INPUT
    except DamagedOutput as error:
        log.error("%s", refusal(error, config.output))
        return exits.DAMAGED_OUTPUT
    except TooManyRejects as error:
        log.error("the run failed: %s. %s", error, what_was_published(error, config.output))
        return exits.TOO_MANY_REJECTS
    except Stopped as stop:
        log.error("stopped by %s. %s", stop.signal_name, what_was_published(stop, config.output))
        return stop.exit_code
    except Exception as error:  # noqa: BLE001 - one clear line; the log above has the details
        log.error("the run failed: %s. %s", failure_reason(error), what_was_published(error, config.output))
        return exits.FAILED
    show(summary)
    if read_nothing(summary):
        log.error("the run read nothing: every input it listed had vanished before it was read (see its rejects)")
        return exits.NO_INPUT
    return exits.OK


if __name__ == "__main__":
    sys.exit(main())
