"""The learned line classifier: the probability that a line of a text page is article text.

Two stages of oblivious decision trees (CatBoost's symmetric trees: every level of a tree asks one
question of every row), trained by `benchmarks/train_line_classifier.py` on the gold article bodies of
the shared web-page corpora and shipped as `transforms/data/line_classifier.json`:

1. stage one reads a line's own features, its neighbours' and its page's (`line_features.FEATURES`);
2. stage two reads the same, plus stage one's probabilities around the line (the next lines, the
   window, the article mass above and below): a line of chrome between two paragraphs, or a lone
   sentence among teasers, is judged by what stage one made of the page around it.

An oblivious tree evaluates as a few array operations, whatever the number of rows: the bit of each
level is `x[feature] > border`, the bits make the leaf's index. So the model costs about a millisecond
a page, in plain numpy, and needs nothing at run time that the pipeline does not already have.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from transforms.line_features import FEATURES, shifted, window_mean

MODEL_PATH = Path(__file__).with_name("data") / "line_classifier.json"
NEIGHBOUR_PROBABILITIES = (-4, -3, -2, -1, 1, 2, 3, 4)
PROBABILITY_WINDOWS = (3, 10, 30)  # lines on either side: the paragraph, the section, the page's part
STRONG = 0.7  # stage one is sure of a line from here: the article runs from the first to the last such
STRONG_DISTANCE_SCALE = 10.0  # lines, as in line_features
STRONG_DISTANCE_CAP = 10.0
STAGE_TWO = (
    *(f"p@{offset:+d}" for offset in NEIGHBOUR_PROBABILITIES),
    *(f"p_around_{reach}" for reach in PROBABILITY_WINDOWS),
    "article_chars_above", "article_chars_below", "page_p_max", "page_p_mean",
    "lines_below_first_strong", "lines_above_last_strong", "in_densest_run", "lines_from_densest_run",
)

ROWS_AT_A_TIME = 1024  # about 15 MB of comparisons at a time


@dataclass(frozen=True)
class ObliviousTrees:
    """A CatBoost model as arrays: tree t asks `x[features[t, d]] > borders[t, d]` at level d."""

    features: np.ndarray  # int [trees, depth]
    borders: np.ndarray  # float [trees, depth]
    leaf_values: np.ndarray  # float [trees, 2 ** depth]
    bias: float

    @classmethod
    def from_json(cls, stage: dict) -> ObliviousTrees:
        return cls(np.asarray(stage["features"], dtype=np.intp), np.asarray(stage["borders"], dtype=np.float64),
                   np.asarray(stage["leaf_values"], dtype=np.float64), float(stage["bias"]))

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        if not len(rows):
            return np.zeros(0)
        # A few rows at a time: the comparisons take rows x trees x depth values.
        raw = np.concatenate([self._raw(rows[start:start + ROWS_AT_A_TIME])
                              for start in range(0, len(rows), ROWS_AT_A_TIME)])
        return 1.0 / (1.0 + np.exp(-raw))

    def _raw(self, rows: np.ndarray) -> np.ndarray:
        bits = rows[:, self.features] > self.borders  # [rows, trees, depth]
        leaves = bits.astype(np.intp) @ (1 << np.arange(self.features.shape[1]))  # [rows, trees]
        return self.leaf_values[np.arange(len(self.leaf_values)), leaves].sum(axis=1) + self.bias


def densest_run(weights: np.ndarray) -> tuple[int, int]:
    """[start, end) of the run of lines with the largest sum of weights (Kadane's maximum subarray)."""
    best, best_run, total, start = -np.inf, (0, 0), 0.0, 0
    for index, weight in enumerate(weights):
        if total <= 0:
            total, start = 0.0, index
        total += weight
        if total > best:
            best, best_run = total, (start, index + 1)
    return best_run


def _distance_to(lines: np.ndarray, run: tuple[int, int]) -> np.ndarray:
    before, after = run[0] - lines, lines - (run[1] - 1)
    return np.clip(np.maximum(np.maximum(before, after), 0) / STRONG_DISTANCE_SCALE, 0, STRONG_DISTANCE_CAP)


def stage_two_rows(rows: np.ndarray, first: np.ndarray) -> np.ndarray:
    """The stage-one rows with STAGE_TWO columns added from the stage-one probabilities `first`."""
    count = len(first)
    chars = np.expm1(rows[:, FEATURES.index("log_chars")])
    mass = np.concatenate([[0.0], np.cumsum(first * chars)])
    total = mass[-1] or 1.0
    strong = np.flatnonzero(first > STRONG)
    lines = np.arange(count)
    if len(strong):
        below_first = np.clip((lines - strong[0]) / STRONG_DISTANCE_SCALE, -STRONG_DISTANCE_CAP, STRONG_DISTANCE_CAP)
        above_last = np.clip((strong[-1] - lines) / STRONG_DISTANCE_SCALE, -STRONG_DISTANCE_CAP, STRONG_DISTANCE_CAP)
    else:
        below_first = above_last = np.full(count, -STRONG_DISTANCE_CAP)
    # The article as one stretch: the run where stage one's sure characters most outweigh the rest.
    run = densest_run((first - 0.5) * chars)
    columns = [
        *(shifted(first, offset) for offset in NEIGHBOUR_PROBABILITIES),
        *(window_mean(first, reach) for reach in PROBABILITY_WINDOWS),
        mass[:-1] / total, (total - mass[1:]) / total, np.full(count, first.max()), np.full(count, first.mean()),
        below_first, above_last, (lines >= run[0]) & (lines < run[1]), _distance_to(lines, run),
    ]
    return np.concatenate([rows, np.stack(columns, axis=1)], axis=1)


@dataclass(frozen=True)
class LineClassifier:
    first: ObliviousTrees
    second: ObliviousTrees
    threshold: float  # a line at or above this probability is article text

    @classmethod
    def from_json(cls, model: dict) -> LineClassifier:
        if tuple(model["features"]) != FEATURES or tuple(model["stage_two"]) != STAGE_TWO:
            raise ValueError("line classifier weights were trained on other features: retrain them "
                             "(benchmarks/train_line_classifier.py)")
        return cls(ObliviousTrees.from_json(model["first"]), ObliviousTrees.from_json(model["second"]),
                   float(model["threshold"]))

    def probabilities(self, rows: np.ndarray) -> np.ndarray:
        """The probability that each line (a row of `line_features.FEATURES`) is article text."""
        if not len(rows):
            return np.zeros(0)
        return self.second.probabilities(stage_two_rows(rows, self.first.probabilities(rows)))

    def is_article(self, rows: np.ndarray) -> np.ndarray:
        return self.probabilities(rows) >= self.threshold


@functools.cache
def line_classifier(path: Path = MODEL_PATH) -> LineClassifier:
    """The shipped classifier, read once per process (a few hundred KB of JSON, well under a second)."""
    return LineClassifier.from_json(json.loads(path.read_text()))
