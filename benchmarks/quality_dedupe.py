"""Dedupe quality on ../shared/corpus/dev/dedup: pairwise precision/recall/F1 and merged look-alikes.

Runs the real pipeline (`newsflow ingest`) on the dev set, reads `articles` and `duplicates` back, and
compares the predicted clusters with the gold clusters of dedup/gold.json:
- pairwise: every pair of documents in one gold cluster is a true pair; a predicted pair is two
  documents in one predicted cluster (an article and its duplicates);
- look-alikes: gold `hard_negative_pairs` (templated stories that must stay apart) found merged.

Usage: python benchmarks/quality_dedupe.py [--corpus ../shared/corpus/dev/dedup]
"""
from __future__ import annotations

import argparse
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
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
    true = pairs_of(gold["clusters"])
    hits = len(predicted & true)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(true) if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    negatives = {frozenset(pair[:2]) for pair in gold["hard_negative_pairs"]}
    merged = negatives & predicted
    print(f"dedupe on {corpus} ({summary['documents']} documents, whole pipeline {seconds:.1f} s)")
    print(f"  gold same-story pairs      {len(true):>6}")
    print(f"  predicted pairs            {len(predicted):>6}")
    print(f"  pairwise precision         {precision:>9.4f}")
    print(f"  pairwise recall            {recall:>9.4f}")
    print(f"  pairwise F1                {f1:>9.4f}")
    print(f"  look-alike pairs merged    {len(merged):>6} of {len(negatives)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
