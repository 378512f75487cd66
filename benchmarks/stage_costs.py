"""Where a run's time goes besides NER: every stage's plain function over a folder, timed in one process.

    python benchmarks/stage_costs.py                      # ../shared/corpus/dev/reuters
    python benchmarks/stage_costs.py INPUT --profile entities.post --limit 2000

Reads every file of INPUT, then runs the stage functions the pipeline runs, one stage over all documents
at a time: read, clean, dates, dedupe signature, mentioned dates, NER (`nlp.pipe`, one process) and the
entities stage's own work around it, the rows written, and Beam's encoding of a document between
stages (its coder, there and back, as at every fusion break). Prints seconds and the share of NER's.
`--profile STAGE` prints that stage's top functions (cProfile, cumulative time).
"""
from __future__ import annotations

import argparse
import cProfile
import dataclasses
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_INPUT = REPO.parent / "shared" / "corpus" / "dev" / "reuters"
sys.path.insert(0, str(REPO))

from apache_beam.coders import registry

from schemas.records import Document, RunInfo
from schemas.rows import article_row, entity_rows
from transforms import entities
from transforms.clean import clean_document
from transforms.dates import date_document
from transforms.dedupe import candidate_of
from transforms.gazetteer import places as gazetteer_places
from transforms.mentions import mention_document
from transforms.read import read_document
from transforms.routing import Rejected


def each(fn, items):
    """fn over items; a rejected item is dropped, as the pipeline routes it to `rejects`."""
    out = []
    for item in items:
        try:
            out.append(fn(item))
        except Rejected:
            pass
    return out


def ner(docs: list[Document], nlp) -> list:
    strings = [entities._annotated_string(doc, nlp) for doc in docs]
    return list(zip(strings, nlp.pipe(strings, batch_size=entities.DEFAULT_BATCH_SIZE)))


def entities_post(docs: list[Document], annotated: list, table) -> list[Document]:
    """What `entities.annotate` does besides `nlp.pipe`: (string, spaCy Doc) in, entities out."""
    return [
        dataclasses.replace(doc, entities=entities._entities(sdoc, string, entities._body_offset(doc), table))
        for doc, (string, sdoc) in zip(docs, annotated)
    ]


def coder_round_trip(docs: list[Document]) -> int:
    coder = registry.get_coder(Document)
    size = 0
    for doc in docs:
        data = coder.encode(doc)
        size += len(data)
        coder.decode(data)
    return size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("input", nargs="?", default=str(DEFAULT_INPUT))
    parser.add_argument("--limit", type=int, default=0, help="only the first N files")
    parser.add_argument("--profile", help="cProfile this stage (a name as printed)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-ner", action="store_true", help="skip NER and what needs it (faster)")
    args = parser.parse_args(argv)
    if not Path(args.input).exists():
        print(f"stage_costs: skipped, {args.input} is not here")
        return 0
    files = sorted(str(p.resolve()) for p in Path(args.input).rglob("*") if p.is_file() and p.suffix != ".json")
    files = files[: args.limit or None]
    run = RunInfo(run_id="profile", ingested_at=__import__("datetime").datetime.now(), pipeline_version="0")
    nlp = entities.load_model()
    seconds: dict[str, float] = {}
    state: dict = {}

    def stage(name, fn):
        profiler = cProfile.Profile() if name == args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = fn()
        if profiler:
            profiler.disable()
        seconds[name] = time.perf_counter() - started
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.top)
        return result

    # Once per worker process: the model, the alias table and the gazetteer (first used by entities.post).
    table = stage("entities.load (once per process)", lambda: entities.default_alias_table())
    stage("gazetteer.load (once per process)", lambda: gazetteer_places(entities.place_key))
    raw = stage("read", lambda: each(read_document, files))
    cleaned = stage("clean", lambda: each(clean_document, raw))
    dated = stage("dates", lambda: each(date_document, cleaned))
    kept = [dataclasses.replace(doc, raw="", line_keys=()) for doc in dated]
    stage("dedupe.signature", lambda: [candidate_of(doc) for doc in kept])
    mentioned = stage("mentions", lambda: each(mention_document, kept))
    annotated = mentioned
    if not args.no_ner:
        state["sdocs"] = stage("ner (nlp.pipe, 1 process)", lambda: ner(mentioned, nlp))
        annotated = stage("entities.post", lambda: entities_post(mentioned, state["sdocs"], table))
    stage("rows (article + entity)", lambda: [(article_row(d, run), entity_rows(d, run)) for d in annotated])
    state["bytes"] = stage("coder round trip (raw page)", lambda: coder_round_trip(raw))
    stage("coder round trip (annotated)", lambda: coder_round_trip(annotated))

    floor = seconds.get("ner (nlp.pipe, 1 process)", float("nan"))
    print(f"{len(files):,} files, {len(raw):,} read, {len(cleaned):,} cleaned, {len(annotated):,} annotated "
          f"(no dedupe here: every document goes on)")
    print(f"{'stage':<32}{'seconds':>9}{'ms/doc':>9}{'of NER':>8}")
    for name, value in seconds.items():
        print(f"{name:<32}{value:>9.2f}{1000 * value / max(len(files), 1):>9.3f}{value / floor:>8.1%}")
    print(f"encoded raw documents: {state['bytes'] / max(len(raw), 1):,.0f} bytes each")
    return 0


if __name__ == "__main__":
    sys.exit(main())
