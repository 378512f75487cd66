"""Dedupe quality on ../shared/corpus/dev/dedup: pairwise precision/recall/F1 and merged look-alikes.

Runs the real pipeline (`newsflow ingest`) on the dev set, reads `articles` and `duplicates` back, and
compares the predicted clusters with the gold clusters of dedup/gold.json:
- pairwise: every pair of documents in one gold cluster is a true pair; a predicted pair is two
  documents in one predicted cluster (an article and its duplicates);
- look-alikes: gold `hard_negative_pairs` (templated stories that must stay apart) found merged.

Then the same dump as two deliveries into one output (a fixed half of the files, then the rest): the
same metrics over the combined dataset, and how many second-half copies of first-half stories were
linked to the first run's articles through the cross-run index.

Usage: python benchmarks/quality_dedupe.py [--corpus ../shared/corpus/dev/dedup]
"""
from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.ingest import run_ingest
from pipelines.options import IngestConfig
from schemas.tables import ARTICLES, DUPLICATES, open_table

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dev" / "dedup"


def pairs_of(clusters: list[list[str]]) -> set[frozenset[str]]:
    return {frozenset(pair) for cluster in clusters for pair in itertools.combinations(sorted(cluster), 2)}


def predicted_clusters(output: str, corpus: pathlib.Path) -> list[list[str]]:
    def relative(uri: str) -> str:
        return uri.split(str(corpus) + "/", 1)[1]

    articles = open_table(output, ARTICLES).to_table(columns=["doc_id", "source_uri"]).to_pylist()
    duplicates = open_table(output, DUPLICATES).to_table(columns=["source_uri", "duplicate_of"]).to_pylist()
    clusters = {row["doc_id"]: [relative(row["source_uri"])] for row in articles}
    for row in duplicates:
        clusters[row["duplicate_of"]].append(relative(row["source_uri"]))
    return [members for members in clusters.values() if len(members) > 1]


def scores(predicted: set, true: set) -> tuple[float, float, float]:
    hits = len(predicted & true)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def report(title: str, predicted: set, gold: dict) -> None:
    true = pairs_of(gold["clusters"])
    precision, recall, f1 = scores(predicted, true)
    negatives = {frozenset(pair[:2]) for pair in gold["hard_negative_pairs"]}
    print(title)
    print(f"  gold same-story pairs      {len(true):>6}")
    print(f"  predicted pairs            {len(predicted):>6}")
    print(f"  pairwise precision         {precision:>9.4f}")
    print(f"  pairwise recall            {recall:>9.4f}")
    print(f"  pairwise F1                {f1:>9.4f}")
    print(f"  look-alike pairs merged    {len(negatives & predicted):>6} of {len(negatives)}")


def in_first_half(relative: str) -> bool:
    """A fixed split of the dump's files into two deliveries."""
    return hashlib.blake2b(relative.encode(), digest_size=1).digest()[0] % 2 == 0


def cross_run(corpus: pathlib.Path, gold: dict) -> None:
    """Ingest half of the dump, then the other half into the same output: the copies in the second half
    of stories ingested in the first must point at the first run's articles."""
    files = sorted(str(path.relative_to(corpus)) for path in corpus.glob("*/*.txt"))
    first = [name for name in files if in_first_half(name)]
    second = [name for name in files if not in_first_half(name)]
    with tempfile.TemporaryDirectory() as output:
        started = time.monotonic()
        for half in (first, second):
            run_ingest(IngestConfig(inputs=tuple(f"{corpus}/{name}" for name in half), output=output))
        seconds = time.monotonic() - started
        clusters = predicted_clusters(output, corpus)
    predicted = pairs_of(clusters)
    cluster_of = {name: i for i, cluster in enumerate(gold["clusters"]) for name in cluster}
    # Gold copies in the second half whose story has a member in the first half.
    expected = {
        name for name in second if name in cluster_of
        and any(member in first for member in gold["clusters"][cluster_of[name]])
    }
    found = {name for cluster in clusters if any(m in first for m in cluster) for name in cluster if name in expected}
    # Strictly: in one predicted cluster with a first-half copy of its own gold story (a copy merged into a
    # wrong cluster that happens to hold first-half pages is not found).
    predicted_of = {name: i for i, cluster in enumerate(clusters) for name in cluster}
    own_story = {
        name for name in found
        if any(m in first and predicted_of.get(m) == predicted_of[name] for m in gold["clusters"][cluster_of[name]])
    }
    report(f"cross-run: {len(first)} files, then {len(second)} more into the same output ({seconds:.1f} s)",
           predicted, gold)
    print(f"  second-half copies of first-half stories found   {len(found)} of {len(expected)}")
    print(f"    ...linked to a first-half copy of their own story   {len(own_story)} of {len(expected)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
    parser.add_argument("--no-cross-run", action="store_true", help="skip the two-delivery measurement")
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if not (corpus / "gold.json").exists():
        print(f"dedupe benchmark skipped: {corpus}/gold.json not found (../shared/corpus is not here)")
        return 0
    gold = json.loads((corpus / "gold.json").read_text())
    with tempfile.TemporaryDirectory() as output:
        started = time.monotonic()
        summary = run_ingest(IngestConfig(inputs=(f"{corpus}/*/*.txt",), output=output))
        seconds = time.monotonic() - started
        predicted = pairs_of(predicted_clusters(output, corpus))
    report(f"one run on {corpus} ({summary['documents']} documents, whole pipeline {seconds:.1f} s)", predicted, gold)
    if not args.no_cross_run:
        cross_run(corpus, gold)
    return 0


if __name__ == "__main__":
    sys.exit(main())
