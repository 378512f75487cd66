"""Which command-line options go to Apache Beam, checked against Beam's own option classes.

newsflow passes the options it does not define to Beam. Beam itself only logs a warning for an option
it does not know ("Unparseable argument ... Did you mean ...") and runs anyway, so a typo (`--quite`,
`--reproces all`) would run the whole job without doing what was asked. Here an option goes to Beam only
when one of Beam's PipelineOptions classes defines it, and its value must parse as Beam parses it;
anything else is a usage error that names the closest known option.
"""
from __future__ import annotations

import argparse
import difflib


class UsageError(ValueError):
    """The command line cannot be run as written."""


def beam_parser() -> argparse.ArgumentParser:
    """The argument parser Beam builds from all its PipelineOptions classes (runner options included)."""
    from apache_beam.options.pipeline_options import PipelineOptions

    parsers = []
    PipelineOptions([]).get_all_options(add_extra_args_fn=parsers.append)  # Beam hands us its parser
    parser = parsers[0]
    parser.exit_on_error = False  # a bad value raises ArgumentError instead of exiting
    return parser


def closest(name: str, candidates) -> str | None:
    matches = difflib.get_close_matches(name, sorted(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def unknown_option(name: str, ours: set[str], beams: set[str]) -> UsageError:
    suggestion = closest(name, ours) or closest(name, beams) or closest(name.replace("-", "_"), beams)
    hint = f" Did you mean {suggestion}?" if suggestion else ""
    return UsageError(f"unknown option {name}.{hint} newsflow's options are listed by `newsflow ingest --help`; "
                      "any other option must be one Apache Beam knows (--runner, --direct_num_workers, ...)")


def split_beam_args(argv: list[str], ours: set[str]) -> tuple[list[str], list[str]]:
    """(newsflow's arguments, Beam's). An option newsflow does not define goes to Beam with its value if
    Beam knows it; raises UsageError for an option neither knows, or a value Beam would not accept."""
    newsflow_args, beam_args = [], []
    parser = None  # built on the first Beam option: importing Beam's options takes a second
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if arg == "--":  # the rest are inputs
            newsflow_args += argv[i:]
            break
        if not arg.startswith("--") or name in ours:
            newsflow_args.append(arg)
            i += 1
            continue
        parser = parser or beam_parser()
        action = parser._option_string_actions.get(name)
        if action is None:
            raise unknown_option(name, ours, set(parser._option_string_actions))
        beam_args.append(arg)
        takes_value = action.nargs != 0  # flags (store_true) take none
        if "=" not in arg and takes_value and i + 1 < len(argv) and not argv[i + 1].startswith("-"):
            beam_args.append(argv[i + 1])
            i += 1
        i += 1
    if beam_args:
        try:
            parser.parse_known_args(beam_args)
        except argparse.ArgumentError as error:
            raise UsageError(f"Beam option {error}") from None
    return newsflow_args, beam_args
