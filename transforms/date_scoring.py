"""How sure each date is, and which one wins: a `Candidate` (a date, its source, its score), the base
score of every source (the table in dates.py), the bonus of a shown date the markup confirms, the crawl
day's penalty, and the choice of the best plausible candidate."""
from __future__ import annotations

import dataclasses
import datetime as dt
from typing import NamedTuple

from transforms.date_positions import line_end

# Below this score the best candidate is not trusted and the document gets no date.
CONFIDENCE_THRESHOLD = 0.3
# Dates in text before this year are history, not a publication date of a digitised news page.
EARLIEST_TEXT_YEAR = 1970

# The base score of each source (the table in dates.py's doc); position moves page dates (date_page_candidates.py).
SCORE_DATELINE = 0.90
SCORE_PUBLISHED_CUE = 0.90
SCORE_URL = 0.85
SCORE_DECLARED = 0.85
SCORE_FETCHED = CONFIDENCE_THRESHOLD  # only when nothing else is trusted: a page is older than its fetch
SCORE_HTML_META = 0.80
SCORE_HTML_META_UNCONFIRMED = 0.60  # no field of the markup names the hint's day (see `hint_candidates`)
SCORE_TIMESTAMP = 0.80
SCORE_TIMESTAMP_ELSEWHERE = 0.35  # an epoch line inside or after the article
SCORE_AUTHOR_CUE = 0.75
SCORE_PATH = 0.60
SCORE_UPDATED_CUE = 0.40
SCORE_HEADER = 0.50
SCORE_DATE_LINE = 0.45  # a line that is (almost) only a date
SCORE_SHORT_LINE = 0.35  # a date inside a short line: "von Jane · 31. Oktober 2023 · 3 Kommentare"
SCORE_RUNNING_TEXT = 0.15  # a date inside a sentence
SCORE_COMMENT = 0.10  # a date on a reader comment ("3. Mai 2016 at 16:55 · Antwort")
# A date on the page's first line later than a date line of the page (`crawl_days_lowered`); as much as
# the other position penalties (dev tune half: 2 text pages right; on any header line, 1 more lost).
PENALTY_CRAWL_DAY_HEADER = 0.15
# A date shown in the page that the HTML markup names too (see `confirmed`).
BONUS_CONFIRMED_BY_MARKUP = 0.45
MIN_SCORE_TO_CONFIRM = 0.40  # a date line or a byline; not a date in running text or on a comment
MARKUP_SOURCES = frozenset({"html-meta", "html-markup", "htmldate"})
SHOWN_SOURCES = frozenset({"dateline", "byline", "header", "page"})


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------


class DateResult(NamedTuple):
    published_date: dt.date | None
    date_source: str | None
    confidence: float


NO_DATE = DateResult(None, None, 0.0)


@dataclasses.dataclass(frozen=True)
class Candidate:
    date: dt.date
    source: str
    score: float
    position: int  # where it was read (page, or body for datelines); breaks ties for the earlier; -1: url, meta
    other_reading: dt.date | None = None  # an ambiguous numeric date read the other way round


def crawl_days_lowered(candidates: list[Candidate], page: str) -> list[Candidate]:
    """A date on the page's first line later than a date line the page shows is the day the page was
    crawled (sites print today's date atop every page): it loses `PENALTY_CRAWL_DAY_HEADER`."""
    shown_days = [c.date for c in candidates if c.source in SHOWN_SOURCES - {"header"} and c.score >= SCORE_DATE_LINE]
    if not shown_days:
        return candidates
    earliest_shown, first_line_end = min(shown_days), line_end(page, 0)
    return [
        dataclasses.replace(c, score=c.score - PENALTY_CRAWL_DAY_HEADER)
        if c.source == "header" and c.position < first_line_end and c.date > earliest_shown else c
        for c in candidates
    ]


def confirmed(candidates: list[Candidate]) -> list[Candidate]:
    """A date the page shows that the markup names too (published, a plain date or the modification) is
    the date the page stands by: it gains over dates only one of them gives. An ambiguous numeric date
    (03/04/2021) is read the way the markup confirms."""
    markup_days = {c.date for c in candidates if c.source in MARKUP_SOURCES}
    return [_confirmed(c, markup_days) for c in candidates]


def _confirmed(candidate: Candidate, markup_days: set[dt.date]) -> Candidate:
    """The candidate with the bonus (and the reading the markup confirms), or as it was."""
    if candidate.source not in SHOWN_SOURCES or candidate.score < MIN_SCORE_TO_CONFIRM:
        return candidate
    for day in (candidate.date, candidate.other_reading):
        if day in markup_days:
            return dataclasses.replace(candidate, date=day, score=candidate.score + BONUS_CONFIRMED_BY_MARKUP)
    return candidate


def choose(candidates: list[Candidate], latest: dt.date) -> DateResult:
    """The best plausible candidate: highest score, then earliest in the page."""
    plausible = [c for c in candidates if c.date <= latest and c.date.year >= EARLIEST_TEXT_YEAR]
    if not plausible:
        return NO_DATE
    best = max(plausible, key=lambda c: (c.score, -c.position if c.position >= 0 else 0))
    confidence = round(min(best.score, 1.0), 3)
    if confidence < CONFIDENCE_THRESHOLD:
        return NO_DATE
    return DateResult(best.date, best.source, confidence)
