"""Command line: `newsflow ingest INPUT... --output OUT [options] [Beam options]`, `newsflow inspect OUT [SQL]`."""
from __future__ import annotations

import argparse
import datetime as dt
import errno
import os
import sys
import urllib.parse

from pipelines import logs

logs.mute_beam_noise()  # before anything imports Beam

from pipelines.lock import DEFAULT_LOCK_SECONDS, OutputLocked
from pipelines.options import DEFAULT_SPACY_MODEL, IngestConfig
from pipelines.plan import parse_reprocess
from pipelines.watch import DEFAULT_POLL_SECONDS
from transforms.containers import JSONL_DEFAULT_FIELDS
from transforms.read import DEFAULT_MAX_DOCUMENT_BYTES
from transforms.write import DEFAULT_MAX_FILE_ROWS

EPILOG = """\
Any other --option is passed to Apache Beam, e.g. --runner=DataflowRunner --project=... or
--direct_num_workers=1. Write Beam options as --name=value when a value could be mistaken for an
input. Without --runner, newsflow runs locally on Beam's FnApiRunner on all cores.
"""


EXIT_LOCKED = 75  # sysexits' EX_TEMPFAIL: another run holds the output; try again later


def build_parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The `newsflow` parser and its `ingest` sub-parser."""
    parser = argparse.ArgumentParser(prog="newsflow", description="Turn raw news dumps into a clean dataset.")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    commands = parser.add_subparsers(dest="command")
    ingest = commands.add_parser(
        "ingest",
        help="ingest one or more dumps into a dataset",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ingest.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="file, directory (read recursively) or glob; local path or any fsspec URL")
    ingest.add_argument("--output", "-o", required=True, metavar="OUT",
                        help="dataset folder (local path or fsspec URL)")
    ingest.add_argument("--reference-date", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                        help="resolve year-less dates ('Feb 26') against this date")
    ingest.add_argument("--max-document-bytes", type=int, default=DEFAULT_MAX_DOCUMENT_BYTES,
                        help="reject documents larger than this after decompression (default: %(default)s)")
    ingest.add_argument("--spacy-model", default=DEFAULT_SPACY_MODEL,
                        help="installed spaCy model package for NER (default: %(default)s)")
    ingest.add_argument("--max-file-rows", type=int, default=DEFAULT_MAX_FILE_ROWS, metavar="N",
                        help="most rows in one Parquet file; each worker writes a file per partition and "
                             "bundle, and its largest partitions' whenever it holds N rows (default: %(default)s)")
    ingest.add_argument("--jsonl-fields", type=jsonl_fields, default=None, metavar="FIELD=NAME,...",
                        help="field names of JSON Lines exports, when not text/html/url/date/title "
                             "(e.g. text=body,url=link,date=published)")
    ingest.add_argument("--reprocess", type=reprocess_request, default=None, metavar="WHAT",
                        help="read ingested files again and replace their rows: 'all', 'older' (files ingested "
                             "by an older pipeline version) or a range of publication dates START..END")
    ingest.add_argument("--watch", action="store_true",
                        help="keep polling the inputs and ingest new files as they arrive, until Ctrl-C")
    ingest.add_argument("--poll-seconds", type=float, default=DEFAULT_POLL_SECONDS,
                        help="with --watch: seconds between two looks at the inputs (default: %(default)s)")
    ingest.add_argument("--lock-seconds", type=float, default=DEFAULT_LOCK_SECONDS,
                        help="how long the output's lock outlives a run that died on another machine "
                             "(default: %(default)s)")
    ingest.add_argument("--quiet", "-q", action="store_true",
                        help="print nothing but errors (no progress line, no summary)")
    add_inspect_parser(commands)
    return parser, ingest


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
    """Whether a URL carries a password (s3://key:secret@bucket/...), which would leak into every table."""
    try:
        return urllib.parse.urlsplit(location).password is not None
    except ValueError:
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


def split_beam_args(argv: list[str], ours: set[str]) -> tuple[list[str], list[str]]:
    """Separate newsflow's arguments from Beam's: an unknown --option (and its value) goes to Beam."""
    newsflow_args, beam_args = [], []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if arg.startswith("--") and name not in ours:
            beam_args.append(arg)
            has_value = "=" not in arg and i + 1 < len(argv) and not argv[i + 1].startswith("-")
            if has_value:
                beam_args.append(argv[i + 1])
                i += 1
        else:
            newsflow_args.append(arg)
        i += 1
    return newsflow_args, beam_args


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser, ingest_parser = build_parser()
    if argv[:1] == ["inspect"]:  # no Beam options to separate out
        return inspect_command(parser.parse_args(argv))
    newsflow_args, beam_args = split_beam_args(argv, own_flags(parser, ingest_parser))
    args = parser.parse_args(newsflow_args)
    if args.version:
        from pipelines.ingest import pipeline_version

        print(f"newsflow {pipeline_version()}")
        return 0
    if args.command != "ingest":
        parser.print_help()
        return 2
    logs.configure(args.quiet)
    with_secrets = [location for location in [*args.inputs, args.output] if has_credentials(location)]
    if with_secrets:
        print("newsflow: a URL holds credentials (user:password@). Put them in the store's standard configuration "
              "instead (environment variables, ~/.aws, gcloud auth): URLs end up in tables and logs.", file=sys.stderr)
        return 2
    from pipelines.ingest import run_ingest  # imports Beam and the stages: keep --help fast
    from pipelines.progress import Progress
    from pipelines.summary import format_summary

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
    )
    progress = Progress.for_terminal(args.quiet)
    if args.watch:
        from pipelines.watch import watch

        return watch(config, beam_args, args.poll_seconds, None if args.quiet else print, progress=progress)
    try:
        summary = run_ingest(config, beam_args, progress)
    except OutputLocked as error:
        print(f"newsflow: not started: {error}.", file=sys.stderr)
        return EXIT_LOCKED
    except Exception as error:  # noqa: BLE001 - one clear line; the log above has the details
        print(f"newsflow: the run failed: {failure_reason(error)}. Nothing was published: the dataset in "
              f"{args.output} is as it was before the run.", file=sys.stderr)
        return 1
    if not args.quiet:
        print(format_summary(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
