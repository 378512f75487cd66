"""What the learned line classifier sees of every line of a text page: one row of numbers per line.

The page cleaner (transforms/clean_lines.py) has already measured each line (length, stopword density, chrome
vocabulary, repeats) and run its rules over the page (jusText's classes, the article block, the title).
Those measurements and decisions are features here, together with the line's neighbours, where it
stands on the page and what the page as a whole looks like; `transforms/line_classifier.py` turns the
rows into the probability that a line is article text. Plain numpy, no Beam: the training script
(`benchmarks/train_line_classifier.py`) computes exactly the same rows from the gold corpora.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from transforms.routing import check_time_limit

CLASS_CODES = {"bad": 0.0, "short": 1.0, "neargood": 2.0, "good": 3.0}
NEIGHBOUR_OFFSETS = (-2, -1, 1, 2)
CONTEXT_LINES = 5  # the window whose share of good lines and mean stopword density a line sees
DISTANCE_SCALE = 10.0  # lines; distances to the rules' article are counted in tens...
DISTANCE_CAP = 10.0  # ...up to a hundred lines away
MARKERS_CAP = 3  # "Related" / "Comments" lines seen above a line: none, one, two, three or more

_UPPER = re.compile(r"[A-Z]")
_LETTER = re.compile(r"[^\W\d_]")
_DIGIT = re.compile(r"\d")
_PUNCTUATION = re.compile(r"[^\w\s]")
_SEPARATOR = re.compile(r"[|»•·▪►]")
_ADDRESS = re.compile(r"https?://|www\.|@\w|\.(?:com|org|net)\b")
_QUOTE = re.compile(r"[\"“”«»„]")
# A comment's header or footer: "Jane Doe says:", "by jdoe (1234) writes:", "... at 6:10 am. Reply #",
# "Flag as inappropriate".
_COMMENT_MARK = re.compile(
    r"\b(?:says|said|wrote|writes|commented|replied|sagt|schrieb|a écrit|dijo|escribió)\s*(?::|$|on\b|at\b)"
    r"|\b(?:reply|replies|report abuse|flag as inappropriate|permalink|antworten|répondre|responder|melden)\b",
    re.IGNORECASE,
)
# A line's shape: numbers as 0, capitalised words as A. Comment headers, teaser dates and listings print
# one shape many times ("by A A on A 0, 0 at 0:0 am. A #"); an article's sentences rarely share one.
_NUMBER = re.compile(r"\d+")
_CAPITALISED = re.compile(r"\b[A-Z]\w*")
SHAPE_MAX_WORDS = 15
COMMENT_MARK_MAX_WORDS = 15
COMMENT_CONTEXT_LINES = 10  # comment threads repeat their header every few lines


class ClassifiedLine(Protocol):
    """What the page cleaner knows of one line (transforms.clean_lines.Line)."""

    text: str
    chars: int
    words: int
    stopword_density: float
    sentence: bool
    heading_like: bool
    word_chars: int
    key: str
    chrome: bool
    ends_article: bool
    ends_open: bool
    repeated: bool
    menu: bool
    cls: str


@dataclass(frozen=True)
class RuleVerdict:
    """What the cleaner's rules made of the page: features, not decisions."""

    initial_classes: Sequence[str]  # jusText's class of each line before context
    body: frozenset[int]  # the lines of the article the rules chose
    title: int | None
    has_stoplist: bool
    datelines: frozenset[int] = frozenset()  # lines that open like a wire story ("LONDON, March 5 -")
    table_rows: frozenset[int] = frozenset()  # lines of names and figures
    furnished: bool = True  # the page prints something of a site's (a menu, a share button, a copyright)


OWN = (
    "log_chars", "log_words", "stopword_density", "sentence_end", "heading_like", "chrome", "repeated",
    "log_copies", "first_copy", "ends_article", "ends_open", "initial_class", "final_class", "menu",
    "rule_body", "rule_title", "position", "char_position", "digit_share", "upper_share",
    "punctuation_share", "capitalised_share", "mean_word_chars", "separators", "address", "markers_above",
    "distance_to_rule_body", "quote", "commas_per_word", "dateline", "table_row", "comment_mark",
    "comment_marks_above", "log_shape_copies",
)
NEIGHBOUR = ("log_chars", "stopword_density", "sentence_end", "chrome", "final_class", "rule_body")
PAGE = ("log_lines", "has_stoplist", "chrome_share", "log_page_chars", "rule_body_share", "menu_share",
        "repeated_share")
FEATURES = (
    *OWN,
    *(f"{name}@{offset:+d}" for offset in NEIGHBOUR_OFFSETS for name in NEIGHBOUR),
    "good_share_around", "stopword_density_around", "chrome_share_around", "comment_marks_around",
    *(f"page_{name}" for name in PAGE),
)
_NEIGHBOUR_COLUMNS = [OWN.index(name) for name in NEIGHBOUR]


def _share(pattern: re.Pattern, text: str) -> float:
    return len(pattern.findall(text)) / max(1, len(text))


def _shape(line: ClassifiedLine) -> str:
    if line.words > SHAPE_MAX_WORDS:
        return line.key  # a long line's shape is itself: only its copies share it
    return _CAPITALISED.sub("A", _NUMBER.sub("0", line.text))


def _own(lines: Sequence[ClassifiedLine], rules: RuleVerdict) -> np.ndarray:
    copies = Counter(line.key for line in lines)
    shapes = [_shape(line) for line in lines]
    shape_copies = Counter(shapes)
    seen: set[str] = set()
    total_chars = sum(line.chars for line in lines) or 1
    body = sorted(rules.body)
    first, last = (body[0], body[-1]) if body else (len(lines), -1)
    rows, chars_before, markers, comment_marks = [], 0, 0, 0
    for index, line in enumerate(lines):
        if index % 1024 == 0:
            check_time_limit()
        text, tokens = line.text, line.text.split()
        comment_mark = line.words <= COMMENT_MARK_MAX_WORDS and _COMMENT_MARK.search(text) is not None
        if index < first:
            distance = (first - index) / DISTANCE_SCALE
        elif index > last:
            distance = (index - last) / DISTANCE_SCALE
        else:
            distance = 0.0
        rows.append((
            math.log1p(line.chars), math.log1p(line.words), line.stopword_density, line.sentence,
            line.heading_like, line.chrome, line.repeated, math.log(copies[line.key]), line.key not in seen,
            line.ends_article, line.ends_open, CLASS_CODES[rules.initial_classes[index]],
            CLASS_CODES.get(line.cls, 0.0), line.menu, index in rules.body, index == rules.title,
            index / len(lines), chars_before / total_chars, _share(_DIGIT, text),
            len(_UPPER.findall(text)) / max(1, len(_LETTER.findall(text))), _share(_PUNCTUATION, text),
            sum(map(str.isupper, [token[0] for token in tokens])) / max(1, len(tokens)),
            line.word_chars / max(1, line.words), len(_SEPARATOR.findall(text)),
            _ADDRESS.search(text) is not None, min(markers, MARKERS_CAP), min(distance, DISTANCE_CAP),
            _QUOTE.search(text) is not None, text.count(",") / max(1, line.words), index in rules.datelines,
            index in rules.table_rows, comment_mark, min(comment_marks, MARKERS_CAP),
            math.log(shape_copies[shapes[index]]),
        ))
        seen.add(line.key)
        chars_before += line.chars
        markers += line.ends_article
        comment_marks += comment_mark
    return np.asarray(rows, dtype=np.float64)


def shifted(columns: np.ndarray, offset: int) -> np.ndarray:
    """Row i holds row i+offset's values; -1 past the page's edges."""
    moved = np.full_like(columns, -1.0)
    if offset < 0:
        moved[-offset:] = columns[:offset]
    else:
        moved[:-offset] = columns[offset:]
    return moved


def window_mean(values: np.ndarray, reach: int) -> np.ndarray:
    """The mean of `values` over each row's window of `reach` rows on either side (cut at the edges)."""
    sums = np.concatenate([[0.0], np.cumsum(values)])
    rows = np.arange(len(values))
    low, high = np.clip(rows - reach, 0, len(values)), np.clip(rows + reach + 1, 0, len(values))
    return (sums[high] - sums[low]) / (high - low)


def line_features(lines: Sequence[ClassifiedLine], rules: RuleVerdict) -> np.ndarray:
    """One row of FEATURES per line (float64; no line, no row)."""
    if not lines:
        return np.zeros((0, len(FEATURES)))
    own = _own(lines, rules)
    neighbours = [shifted(own[:, _NEIGHBOUR_COLUMNS], offset) for offset in NEIGHBOUR_OFFSETS]
    good = own[:, OWN.index("final_class")] == CLASS_CODES["good"]
    around = np.stack([
        window_mean(good.astype(float), CONTEXT_LINES),
        window_mean(own[:, OWN.index("stopword_density")], CONTEXT_LINES),
        window_mean(own[:, OWN.index("chrome")], COMMENT_CONTEXT_LINES),
        window_mean(own[:, OWN.index("comment_mark")], COMMENT_CONTEXT_LINES),
    ], axis=1)
    count = len(lines)
    page = (
        math.log1p(count), rules.has_stoplist, own[:, OWN.index("chrome")].mean(),
        math.log1p(sum(line.chars for line in lines)), len(rules.body) / count,
        own[:, OWN.index("menu")].mean(), own[:, OWN.index("repeated")].mean(),
    )
    return np.concatenate([own, *neighbours, around, np.tile(page, (count, 1))], axis=1)
