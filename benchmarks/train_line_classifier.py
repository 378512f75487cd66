"""Train the line classifier of the text cleaner (transforms/line_classifier.py) from the gold corpora.

    .venv/bin/pip install -e '.[train]'        # CatBoost, for training only
    .venv/bin/python benchmarks/train_line_classifier.py [--corpus ../shared/corpus] [--out PATH]

Data: the six web-page corpora with a gold article body (benchmarks/corpora.py BODY_CORPORA), each page as
its whole-page text dump. Only their *tune* halves are read: the check halves (by site) are never seen
here. Every line of a page is labelled by aligning it with the gold body (`gold_labels`), and the page
goes through the cleaner's own feature code (`transforms.clean.text_page_features`), so training sees
exactly the rows the pipeline computes. (Gold bodies added as pages of their own, every line article
text, were tried and left out: the model then kept tickers and share lines on short pages. A page with
no chrome at all is the cleaner's plain-story rule, not the model's.)

Model: CatBoost's oblivious trees in two stages (stage two also reads stage one's probabilities around
each line; stage one's probabilities for training stage two are out-of-fold, by site, so stage two
learns from probabilities like those it will see on new sites). The probability threshold is the one
that maximises the leave-one-corpus-out macro F1 on the tune halves.

Pages, weights and the threshold are written as JSON: no pickle, nothing to download, readable by numpy.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from dataclasses import dataclass
from difflib import SequenceMatcher
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from corpora import BODY_CORPORA, DEFAULT_CORPUS, Page, macro_scores, pages, read_text_dump, tp_fp_fn

from transforms.clean import text_page_features
from transforms.line_classifier import MODEL_PATH, STAGE_TWO, LineClassifier, ObliviousTrees, stage_two_rows
from transforms.line_features import FEATURES

DEPTH = 6  # levels of every tree: 64 leaves
ITERATIONS = 300
LEARNING_RATE = 0.1
FOLDS = 4  # out-of-fold stage-one probabilities for stage two, folds of whole sites
THRESHOLDS = tuple(round(0.2 + 0.05 * step, 2) for step in range(13))  # 0.20 .. 0.80
ALIGNED_SHARE = 0.5  # a line is article text when this share of its words align with the gold body
_TOKEN = re.compile(r"\w+")


@dataclass
class LabelledPage:
    page: Page
    lines: list[str]
    rows: np.ndarray
    labels: np.ndarray
    title: int | None


def gold_labels(lines: list[str], gold: str) -> np.ndarray:
    """1 for the lines of a page that are its gold body: the page's words aligned with the gold's, in
    order (difflib), and a line is gold when half its words are aligned. In order, so a caption printed
    twice, or a "Share" line under every comment, matches the gold once at most."""
    words, owner = [], []
    for index, line in enumerate(lines):
        tokens = _TOKEN.findall(line.lower())
        words += tokens
        owner += [index] * len(tokens)
    aligned, total = np.zeros(len(lines)), np.zeros(len(lines))
    np.add.at(total, owner, 1)
    matcher = SequenceMatcher(None, words, _TOKEN.findall(gold.lower()), autojunk=False)
    for start, _, size in matcher.get_matching_blocks():
        np.add.at(aligned, owner[start : start + size], 1)
    return ((total > 0) & (aligned >= ALIGNED_SHARE * total)).astype(np.int8)


def labelled(page: Page, corpus: Path) -> LabelledPage | None:
    found = text_page_features(read_text_dump(page, corpus))
    if found is None:
        return None
    lines, rows, title = found
    return LabelledPage(page, lines, rows, gold_labels(lines, page.gold["body"]), title)


def training_pages(items: list[Page], corpus: Path) -> list[LabelledPage]:
    found = [labelled(page, corpus) for page in items]
    return [page for page in found if page is not None and len(page.lines)]


def _rows_and_labels(items: list[LabelledPage], rows: list[np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stacked rows and labels, without the rules' title lines (the title is not body text in any
    corpus's sense of it, and it is chosen apart)."""
    keep = [np.arange(len(page.lines)) != page.title for page in items]
    rows = rows or [page.rows for page in items]
    return (np.concatenate([r[k] for r, k in zip(rows, keep)]),
            np.concatenate([page.labels[k] for page, k in zip(items, keep)]))


def _fit_trees(rows: np.ndarray, labels: np.ndarray) -> ObliviousTrees:
    from catboost import CatBoostClassifier  # training only: `pip install -e '.[train]'`

    model = CatBoostClassifier(depth=DEPTH, iterations=ITERATIONS, learning_rate=LEARNING_RATE,
                               random_seed=0, verbose=0, thread_count=-1, allow_writing_files=False)
    model.fit(rows, labels)
    return trees_of(model.get_params()["depth"], json.loads(_catboost_json(model)))


def _catboost_json(model) -> str:
    import os
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "model.json")
        model.save_model(path, format="json")
        return Path(path).read_text()


def trees_of(depth: int, model: dict) -> ObliviousTrees:
    """CatBoost's JSON export as ObliviousTrees (the raw score: scale * sum of leaves + bias)."""
    scale, biases = model["scale_and_bias"]
    features, borders, leaves = [], [], []
    for tree in model["oblivious_trees"]:
        splits = tree["splits"]
        if any(split["split_type"] != "FloatFeature" for split in splits):
            raise ValueError("only trees over float features are supported")
        # A shallower tree is padded with levels that always answer no (x > inf): its leaves keep their indices.
        missing = depth - len(splits)
        features.append([split["float_feature_index"] for split in splits] + [0] * missing)
        borders.append([split["border"] for split in splits] + [np.inf] * missing)
        leaves.append([scale * value for value in tree["leaf_values"]] + [0.0] * (2**depth - len(tree["leaf_values"])))
    return ObliviousTrees(np.asarray(features, dtype=np.intp), np.asarray(borders), np.asarray(leaves),
                          float(biases[0] if isinstance(biases, list) else biases))


def _site_folds(items: list[LabelledPage]) -> list[int]:
    """A fold for every page, whole sites together."""
    sites = sorted({page.page.site for page in items})
    fold_of = {site: number % FOLDS for number, site in enumerate(sites)}
    return [fold_of[page.page.site] for page in items]


def fit(items: list[LabelledPage], threshold: float = 0.5) -> LineClassifier:
    """Both stages, stage two on out-of-fold stage-one probabilities."""
    folds = _site_folds(items)
    first_out_of_fold: list[np.ndarray | None] = [None] * len(items)
    for fold in range(FOLDS):
        trees = _fit_trees(*_rows_and_labels([p for p, f in zip(items, folds) if f != fold]))
        for index, (page, f) in enumerate(zip(items, folds)):
            if f == fold:
                first_out_of_fold[index] = trees.probabilities(page.rows)
    first = _fit_trees(*_rows_and_labels(items))
    second_rows = [stage_two_rows(page.rows, p) for page, p in zip(items, first_out_of_fold)]
    second = _fit_trees(*_rows_and_labels(items, second_rows))
    return LineClassifier(first, second, threshold)


def body_text(classifier: LineClassifier, page: LabelledPage, threshold: float) -> str:
    """What the classifier keeps of a page, without the title, at a given threshold."""
    probabilities = classifier.probabilities(page.rows)
    return "\n\n".join(line for i, (line, p) in enumerate(zip(page.lines, probabilities))
                       if p >= threshold and i != page.title)


def scores_by_threshold(classifier: LineClassifier, items: list[LabelledPage]) -> dict[float, tuple]:
    """(P, R, F1) of the Zyte metric for every candidate threshold."""
    return {
        threshold: macro_scores([tp_fp_fn(page.page.gold["body"], body_text(classifier, page, threshold))
                                 for page in items])
        for threshold in THRESHOLDS
    }


def leave_one_corpus_out(data: dict[str, list[LabelledPage]], log=print) -> dict[str, dict[float, tuple]]:
    """For every corpus, a classifier trained on the others, scored on it at every threshold."""
    results = {}
    for left_out, scored in data.items():
        classifier = fit([page for name, items in data.items() if name != left_out for page in items])
        results[left_out] = scores_by_threshold(classifier, scored)
        best = max(results[left_out].values(), key=lambda s: s[2])
        log(f"  leave out {left_out}: best F1 {best[2]:.3f}")
    return results


def best_threshold(results: dict[str, dict[float, tuple]]) -> float:
    """The threshold with the best macro F1 over the left-out corpora."""
    return max(THRESHOLDS, key=lambda t: np.mean([scores[t][2] for scores in results.values()]))


def to_json(classifier: LineClassifier, provenance: dict) -> dict:
    def stage(trees: ObliviousTrees) -> dict:
        return {"features": trees.features.tolist(), "borders": [[float(f"{b:.7g}") for b in row] for row in trees.borders],
                "leaf_values": [[float(f"{v:.6g}") for v in row] for row in trees.leaf_values], "bias": trees.bias}

    return {"features": list(FEATURES), "stage_two": list(STAGE_TWO), "threshold": classifier.threshold,
            "first": stage(classifier.first), "second": stage(classifier.second), "provenance": provenance}


def tune_data(corpus: Path) -> dict[str, list[LabelledPage]]:
    """The tune half of every body corpus, labelled (check halves are never read)."""
    return {name: training_pages([page for page in pages(name, corpus) if not page.check], corpus)
            for name in BODY_CORPORA}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--threshold", type=float,
                        help="use this threshold and skip leave-one-corpus-out (quick retrain while developing)")
    args = parser.parse_args(argv)
    if not (args.corpus / "dev").is_dir():
        print(f"No gold corpus at {args.corpus}: nothing to train on.")
        return 0
    data = tune_data(args.corpus)
    print("pages per corpus (tune halves):", {name: len(items) for name, items in data.items()})
    results = {}
    if args.threshold is None:
        print("leave-one-corpus-out, for the threshold:")
        results = leave_one_corpus_out(data)
        threshold = best_threshold(results)
        macro = np.mean([scores[threshold][2] for scores in results.values()])
        print(f"threshold {threshold}: leave-one-corpus-out macro F1 {macro:.3f} (tune halves)")
    else:
        threshold = args.threshold
    classifier = fit([page for items in data.values() for page in items], threshold)
    provenance = {
        "trained": dt.date.today().isoformat(),
        "script": "benchmarks/train_line_classifier.py",
        "data": "tune halves (benchmarks/corpora.py) of " + ", ".join(BODY_CORPORA) + " in ../shared/corpus/dev",
        "pages": {name: len(items) for name, items in data.items()},
        "leave_one_corpus_out_f1": {name: round(scores[threshold][2], 4) for name, scores in results.items()},
        "catboost": {"depth": DEPTH, "iterations": ITERATIONS, "learning_rate": LEARNING_RATE, "folds": FOLDS},
    }
    args.out.write_text(json.dumps(to_json(classifier, provenance), separators=(",", ":")))
    print(f"written {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
