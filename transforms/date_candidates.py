"""The dates a page's signals give, one function per signal: a wire dateline opening the body, an epoch
timestamp line, a date in the web address or file path, the HTML extractor's hint, htmldate's day, and
what the input states (an export's date field, the crawler's fetch day)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

from transforms.date_mentions import Mention, Range, uri_dates, yearless_date_at
from transforms.date_positions import ArticlePosition, line_number
from transforms.date_reference import mention_date
from transforms.date_scoring import (
    CONFIDENCE_THRESHOLD,
    SCORE_DATELINE,
    SCORE_DECLARED,
    SCORE_FETCHED,
    SCORE_HTML_META,
    SCORE_HTML_META_UNCONFIRMED,
    SCORE_PATH,
    SCORE_TIMESTAMP,
    SCORE_TIMESTAMP_ELSEWHERE,
    SCORE_URL,
    Candidate,
)
from transforms.htmldates import htmldate_day, text_as_html

# An epoch timestamp outside [1995-01-01, reference] is an id or a counter, not a date.
EARLIEST_EPOCH_DATE = dt.date(1995, 1, 1)
# A dateline is looked for in the first characters of the body's first paragraphs.
DATELINE_WINDOW_CHARS = 160
DATELINE_PARAGRAPHS = 3
DATELINE_MAX_PLACES = 2  # "SAO PAULO, Brazil, March 3 -"
DATELINE_LEAD_CHARS = " \t\n*-\u2013\u2014\u2022"  # bullets and spaces before the place
# An epoch line is the article's time above the article or in its first lines; further down it is a cache
# key or a counter.
TIMESTAMP_MAX_LINES_INTO_ARTICLE = 12
# htmldate's day when only its search of the page's text finds one: a date somewhere in the text.
SCORE_HTMLDATE_TEXT = 0.35
# A text page no candidate dates gets the latest date htmldate's search finds in its text (its head), when
# that is one of the page's weak candidates (on the 32 such pages of the dev tune half: 6 right, 2 wrong;
# the first date htmldate finds instead: fewer right than wrong).
HTMLDATE_TEXT_CHARS = 100_000
SCORE_PICKED_BY_HTMLDATE = CONFIDENCE_THRESHOLD

# A dateline opens the body: a place or agency in capitals, a comma, a date, an agency, a dash.
DATELINE_PLACE = re.compile(r"[A-Z][^\n\d,:;!?]{0,40},\s*")
DATELINE_REGION_ABBREVIATION = re.compile(r"[A-Z][A-Za-z]{0,4}\.[ \t]+")
DATELINE_AFTER_DATE = re.compile(r"\s*(?:\([^)\n]{1,30}\)\s*)?[-\u2013\u2014:]")

# An epoch timestamp alone on its line: 9-10 digits (s), 12-13 (ms), 15-16 (us), 18-19 (ns). The pattern
# opens with a literal newline (4x faster to scan than a MULTILINE "^"); the first line is matched apart.
EPOCH_LINE = re.compile(r"\n[ \t]*(\d{9,19})[ \t]*(?=\n|$)")
EPOCH_FIRST_LINE = re.compile(r"[ \t]*(\d{9,19})[ \t]*(?=\n|$)")


# ---------------------------------------------------------------------------------------------
# Candidates, one function per signal
# ---------------------------------------------------------------------------------------------


def dateline_candidates(body: str, reference: dt.date | None) -> list[Candidate]:
    """'AFP, November 11, 2017 -', 'BEIRUT, Jan 20 (Reuters) -', 'SALVADOR, Feb 26 -' at a paragraph start."""
    found = []
    offset = 0
    for paragraph in body.split("\n\n", DATELINE_PARAGRAPHS)[:DATELINE_PARAGRAPHS]:
        mention = dateline_date(paragraph[:DATELINE_WINDOW_CHARS])
        day = mention_date(mention, reference) if mention else None
        if day:
            found.append(Candidate(day, "dateline", SCORE_DATELINE, offset + mention.start))
        offset += len(paragraph) + 2
    return found


def dateline_date(head: str) -> Mention | None:
    """The date of a dateline: after one or two place names ("PARIS, ", "AFP, ", "SAO PAULO, Brazil, ")."""
    pos = len(head) - len(head.lstrip(DATELINE_LEAD_CHARS))
    for _ in range(DATELINE_MAX_PLACES):
        place = DATELINE_PLACE.match(head, pos)
        if not place:
            return None
        for start in (place.end(), _after_abbreviation(head, place.end())):
            mention = yearless_date_at(head, start) if start is not None else None
            if mention and DATELINE_AFTER_DATE.match(head, mention.end):
                return mention
        pos = place.end()
    return None


def _after_abbreviation(head: str, pos: int) -> int | None:
    """Past a state abbreviation that follows the city: "RICHMOND, Va. Feb 26 -"."""
    match = DATELINE_REGION_ABBREVIATION.match(head, pos)
    return match.end() if match else None


def timestamp_candidates(
    page: str, starts: list[int], ranges: list[Range], article: ArticlePosition, latest: dt.date
) -> list[Candidate]:
    """A Unix epoch on a line of its own, in seconds, milliseconds, microseconds or nanoseconds."""
    found = []
    matches = [m for start, end in ranges for m in EPOCH_LINE.finditer(page, max(start - 1, 0), end)]
    first_line = EPOCH_FIRST_LINE.match(page)
    for match in ([first_line] if first_line else []) + matches:
        digits = match.group(1)
        seconds = int(digits) / 10 ** (3 * ((len(digits) - 9) // 3))
        try:
            day = dt.datetime.fromtimestamp(seconds, dt.timezone.utc).date()
        except (OverflowError, OSError, ValueError):
            continue
        if EARLIEST_EPOCH_DATE <= day <= latest:
            top = article.top_line()
            near = top is None or line_number(starts, match.start(1)) <= top + TIMESTAMP_MAX_LINES_INTO_ARTICLE
            score = SCORE_TIMESTAMP if near else SCORE_TIMESTAMP_ELSEWHERE
            found.append(Candidate(day, "timestamp", score, match.start(1)))
    return found


def uri_candidates(source_uri: str) -> list[Candidate]:
    """A full date in the web address ("url") or in the file path ("path")."""
    is_web = source_uri.startswith(("http://", "https://"))
    source, score = ("url", SCORE_URL) if is_web else ("path", SCORE_PATH)
    return [Candidate(day, source, score, -1) for day in uri_dates(source_uri)]


def hint_candidates(
    hint: dt.date | None, markup: list[Candidate] | None = None, source: str = "html-meta"
) -> list[Candidate]:
    """The HTML extractor's date, as sure as the field of the markup (`markup_candidates`) that names the
    same day: a hint read from a <meta name="date"> or a modification time is no publication date. When
    the markup was read (`markup` not None) and no field names that day, the extractor guessed it from
    weaker places (a date in the text, the web address): a date line in the byline area beats it."""
    if not hint:
        return []
    same = [c.score for c in markup or () if c.date == hint]
    if same:
        score = max(same)
    else:
        score = SCORE_HTML_META if markup is None else SCORE_HTML_META_UNCONFIRMED
    return [Candidate(hint, source, score, -1)]


def htmldate_candidates(html: str, markup: list[Candidate], latest: dt.date) -> list[Candidate]:
    """htmldate's day. Found in the markup, it is as sure as a hint (`hint_candidates`); found only by its
    search of the page's text, it is one more date of the text, as sure as a date in a short line."""
    day = htmldate_day(html, latest, extensive=False)
    if day:
        return hint_candidates(day, markup, source="htmldate")
    return htmldate_text_candidates(html, latest, original=True)


def weak_candidates_htmldate_picks(page: str, candidates: list[Candidate], latest: dt.date) -> list[Candidate]:
    """The last resort of a text page no candidate dates: the latest date htmldate's search finds in its
    text, when it is a date of the page too weak to trust alone (so never chrome: a ticker, a copyright)."""
    if not candidates:
        return []
    weak_days = {c.date for c in candidates}
    picked = htmldate_text_candidates(text_as_html(page[:HTMLDATE_TEXT_CHARS]), latest, original=False)
    return [dataclasses.replace(c, score=SCORE_PICKED_BY_HTMLDATE) for c in picked if c.date in weak_days]


def htmldate_text_candidates(html: str, latest: dt.date, original: bool) -> list[Candidate]:
    """The day htmldate's search of a page's text finds: the first one (`original`) or the latest one."""
    day = htmldate_day(html, latest, extensive=True, original=original)
    if not day or (day.month, day.day) == (1, 1):  # January 1 is how its search gives a year alone ("© 2021")
        return []
    return [Candidate(day, "htmldate-text", SCORE_HTMLDATE_TEXT, -1)]


def stated_candidates(declared: dt.date | None, fetched: dt.date | None) -> list[Candidate]:
    """What the input itself states: an export's date field, and the crawler's fetch day (last resort)."""
    return [Candidate(day, source, score, -1)
            for day, source, score in ((declared, "declared", SCORE_DECLARED), (fetched, "fetched", SCORE_FETCHED))
            if day]
