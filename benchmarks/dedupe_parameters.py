"""Why dedupe uses word 3-grams, 32 bands x 4 rows, Jaccard >= 0.5 and, for two pages of one source,
openings sharing >= 0.25 of their word triples: the sweeps that chose them.

    .venv/bin/python benchmarks/dedupe_parameters.py [--corpus ../shared/corpus/dev/dedup]
    .venv/bin/python benchmarks/dedupe_parameters.py --seeds tune [--sets DIR] [--openings-only]

Cleans every page of a syndication set in process with the pipeline's own functions (page cleaner, then
the templates learned per source), then
1. for each shingle size and similarity threshold, finds candidate pairs with the pipeline's LSH banding,
   verifies them with the pipeline's numbers guard, clusters them (connected components) and prints
   pairwise precision, recall, F1 and merged look-alike pairs against gold.json, plus the banding's recall
   of the true pairs (how many gold pairs became candidates);
2. for the pairs of two pages of one source that pass those checks, how much of their openings' word
   triples they share: same-story pairs and different-story pairs, and how many of each a threshold keeps.
   The second sweep also runs with no template learned at all, the worst case of leftover chrome.
Settings are chosen on the tune seeds (quality_dedupe.TUNE_SEEDS), never on the report seeds.
Exits 0 with a message when the corpus is absent.
"""
from __future__ import annotations

import argparse
import collections
import itertools
import json
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.logs import mute_beam_noise

mute_beam_noise()  # before Beam is imported

from quality_dedupe import generated_set, seeds_of

from schemas.records import Document
from transforms import dedupe
from transforms.clean import clean_document
from transforms.clusters import connected_components
from transforms.identity import content_id, source_of
from transforms.routing import Rejected
from transforms.templates import apply_template, learn_templates, page_lines

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "dev" / "dedup"
SHINGLE_SIZES = (2, 3, 4, 5)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
OPENING_THRESHOLDS = (0.1, 0.15, 0.2, 0.25, 0.3, 0.4)


def cleaned_documents(corpus: pathlib.Path, templates: bool = True) -> dict[str, Document | None]:
    """Relative path -> the Document as the pipeline's clean stage makes it (None when rejected)."""
    docs = {}
    for path in sorted(corpus.glob("*/*.txt")):
        data = path.read_bytes()
        doc = Document(content_id(data), str(path), "text", "utf-8", data.decode("utf-8", "replace"))
        try:
            docs[str(path.relative_to(corpus))] = clean_document(doc)
        except Rejected:
            docs[str(path.relative_to(corpus))] = None
    if not templates:
        return docs
    pages = collections.defaultdict(list)
    for doc in filter(None, docs.values()):
        pages[source_of(doc.source_uri)].append(page_lines(doc))
    learned = {source: learn_templates(found)[0] for source, found in pages.items()}
    for name, doc in docs.items():
        try:
            docs[name] = apply_template(doc, learned.get(source_of(doc.source_uri), frozenset())) if doc else None
        except Rejected:
            docs[name] = None
    return docs


def pairs_of(clusters) -> set[frozenset[str]]:
    return {frozenset(pair) for cluster in clusters for pair in itertools.combinations(sorted(cluster), 2)}


def lsh_pairs(candidates: dict[str, dedupe.Candidate]) -> set[frozenset[str]]:
    buckets = collections.defaultdict(list)
    for name, candidate in candidates.items():
        for key in dedupe.band_keys(candidate.signature):
            buckets[key].append(name)
    return {frozenset(p) for members in buckets.values() for p in itertools.combinations(members, 2)}


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
        pairs = lsh_pairs(candidates)
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


def opening_shares(docs: dict[str, Document | None], gold: dict, corpus: pathlib.Path) -> dict[bool, list[float]]:
    """Same story? -> the opening shares of the same-source pairs of different pages that pass the
    similarity and numbers checks (one page of each page group, as the pipeline searches)."""
    candidates = {name: dedupe.candidate_of(doc) for name, doc in docs.items() if doc}
    by_page: dict[str, dedupe.Candidate] = {}
    for candidate in sorted(candidates.values(), key=dedupe.representative_order):
        by_page.setdefault(candidate.page, candidate)
    representatives = {candidate.key: candidate for candidate in by_page.values()}
    story = {str(corpus / name): i for i, members in enumerate(gold["clusters"]) for name in members}
    shares: dict[bool, list[float]] = {True: [], False: []}
    for pair in lsh_pairs(representatives):
        a, b = (representatives[key] for key in sorted(pair))
        if not dedupe.same_source(a, b) or a.content_hash == b.content_hash:
            continue  # equal texts: what the cleaner kept of two pages is the same (chrome only, or the story)
        if dedupe.estimated_jaccard(a.signature, b.signature) < dedupe.NEAR_DUPLICATE_MIN_JACCARD:
            continue
        if dedupe.numbers_agree(a.numbers, b.numbers):
            shares[story[a.key] == story[b.key]].append(dedupe.opening_share(a.opening, b.opening))
    return shares


def openings_sweep(sets: dict[str, pathlib.Path]) -> None:
    """How many same-source pairs of one story (kept) and of two stories (rejected) each threshold gives."""
    print("\nopenings of two pages of one source that pass the similarity and numbers checks")
    print(f"{'set':>10} {'templates':>9} {'same story':>10} {'min share':>9} {'different':>9} {'max share':>9} " +
          " ".join(f"{'>=' + str(t):>7}" for t in OPENING_THRESHOLDS))
    for name, corpus in sets.items():
        gold = json.loads((corpus / "gold.json").read_text())
        for templates in (True, False):
            shares = opening_shares(cleaned_documents(corpus, templates), gold, corpus)
            same, different = shares[True], shares[False]
            kept = [f"{sum(s >= t for s in same)}/{sum(s >= t for s in different)}" for t in OPENING_THRESHOLDS]
            print(f"{name:>10} {'learned' if templates else 'none':>9} {len(same):>10} "
                  f"{min(same, default=float('nan')):>9.2f} {len(different):>9} {max(different, default=float('nan')):>9.2f} "
                  + " ".join(f"{k:>7}" for k in kept))
    print("(>=t: same-story pairs kept / different-story pairs kept at that threshold)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=pathlib.Path, default=DEFAULT_CORPUS)
    parser.add_argument("--seeds", type=seeds_of, help="generated sets instead of --corpus: tune, or 1-3")
    parser.add_argument("--sets", type=pathlib.Path, help="where generated sets are kept (default: a temp folder)")
    parser.add_argument("--openings-only", action="store_true", help="skip the shingle and threshold sweep")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        if args.seeds:
            sets = {f"seed {seed}": generated_set(seed, args.sets or pathlib.Path(scratch)).resolve() for seed in args.seeds}
        else:
            sets = {"dev": args.corpus.resolve()}
        if not all((corpus / "gold.json").exists() for corpus in sets.values()):
            print("dedupe parameter sweep skipped: gold.json not found (../shared/corpus is not here)")
            return 0
        if not args.openings_only:
            for name, corpus in sets.items():
                print(name)
                docs = cleaned_documents(corpus)
                sweep({key: doc.text if doc else "" for key, doc in docs.items()},
                      json.loads((corpus / "gold.json").read_text()))
        openings_sweep(sets)
    return 0


if __name__ == "__main__":
    sys.exit(main())
