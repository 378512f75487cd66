"""Why dedupe uses word 3-grams, 32 bands x 4 rows and Jaccard >= 0.5: the sweep that chose them.

    .venv/bin/python benchmarks/dedupe_parameters.py [--corpus ../shared/corpus/dev/dedup]

Cleans every page of dev/dedup in process with the pipeline's own functions (page cleaner, then the
templates learned per source), then, for each shingle size and similarity threshold, finds candidate
pairs with the pipeline's LSH banding, verifies them with the pipeline's numbers guard, clusters them
(connected components) and prints pairwise precision, recall, F1 and merged look-alike pairs against
gold.json, plus the banding's recall of the true pairs (how many gold pairs became candidates).
Exits 0 with a message when the corpus is absent.
"""
from __future__ import annotations

import argparse
import collections
import itertools
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.logs import mute_beam_noise

mute_beam_noise()  # before Beam is imported

from transforms import dedupe
from transforms.clean import clean_document
from transforms.clusters import connected_components
from transforms.document import Document, content_id
from transforms.routing import Rejected
from transforms.templates import apply_template, learn_templates, page_lines, source_of

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dev" / "dedup"
SHINGLE_SIZES = (2, 3, 4, 5)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)


def cleaned_texts(corpus: pathlib.Path) -> dict[str, str]:
    """Relative path -> clean text, as the pipeline's clean stage makes it ('' when rejected)."""
    docs = {}
    for path in sorted(corpus.glob("*/*.txt")):
        data = path.read_bytes()
        doc = Document(content_id(data), str(path), "text", "utf-8", data.decode("utf-8", "replace"))
        try:
            docs[str(path.relative_to(corpus))] = clean_document(doc)
        except Rejected:
            docs[str(path.relative_to(corpus))] = None
    pages = collections.defaultdict(list)
    for doc in filter(None, docs.values()):
        pages[source_of(doc.source_uri)].append(page_lines(doc))
    templates = {source: learn_templates(found)[0] for source, found in pages.items()}
    texts = {}
    for name, doc in docs.items():
        try:
            texts[name] = apply_template(doc, templates.get(source_of(doc.source_uri), frozenset())).text if doc else ""
        except Rejected:
            texts[name] = ""
    return texts


def pairs_of(clusters) -> set[frozenset[str]]:
    return {frozenset(pair) for cluster in clusters for pair in itertools.combinations(sorted(cluster), 2)}


def sweep(texts: dict[str, str], gold: dict) -> None:
    true = pairs_of(gold["clusters"])
    negatives = {frozenset(pair[:2]) for pair in gold["hard_negative_pairs"]}
    names = [name for name, text in texts.items() if text]
    print(f"{len(names)} pages with a body, {len(true)} gold same-story pairs, {len(negatives)} look-alike pairs")
    print(f"{'shingle':>7} {'threshold':>9} {'candidates':>10} {'band recall':>11} {'P':>6} {'R':>6} {'F1':>6} {'merged':>6}")
    for size in SHINGLE_SIZES:
        candidates = {
            name: dedupe.Candidate(name, name, dedupe.content_hash(texts[name]), None, len(texts[name]),
                                   dedupe.minhash_signature(texts[name], size), dedupe.quoted_numbers(texts[name]))
            for name in names
        }
        buckets = collections.defaultdict(list)
        for name, candidate in candidates.items():
            for key in dedupe.band_keys(candidate.signature):
                buckets[key].append(name)
        pairs = {frozenset(p) for members in buckets.values() for p in itertools.combinations(members, 2)}
        band_recall = len(pairs & true) / len(true)
        for threshold in THRESHOLDS:
            verified = [
                tuple(pair) for pair in pairs
                if dedupe.estimated_jaccard(candidates[min(pair)].signature, candidates[max(pair)].signature) >= threshold
                and dedupe.numbers_agree(candidates[min(pair)].numbers, candidates[max(pair)].numbers)
            ]
            roots = connected_components(verified)  # exact copies share every band and verify at 1.0
            clusters = collections.defaultdict(list)
            for name, root in roots.items():
                clusters[root].append(name)
            predicted = pairs_of(clusters.values())
            hits = len(predicted & true)
            p = hits / len(predicted) if predicted else 1.0
            r = hits / len(true)
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            print(f"{size:>7} {threshold:>9.1f} {len(pairs):>10} {band_recall:>11.3f} {p:>6.3f} {r:>6.3f} {f1:>6.3f} "
                  f"{len(predicted & negatives):>6}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    corpus = args.corpus.resolve()
    if not (corpus / "gold.json").exists():
        print(f"dedupe parameter sweep skipped: {corpus}/gold.json not found (../shared/corpus is not here)")
        return 0
    sweep(cleaned_texts(corpus), json.loads((corpus / "gold.json").read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
