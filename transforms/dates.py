"""The dates stage: find when an article was published, from the text of its page.

Every signal becomes a `Candidate` (a date, where it came from, a score in 0..1, its place in the page):

| source      | signal                                                            | base score |
|-------------|-------------------------------------------------------------------|------------|
| dateline    | a wire dateline opening the body: "BEIRUT, Jan 20 (Reuters) -"     | 0.90       |
| byline      | a date after "Published/Posted/Veröffentlicht/..." on its line     | 0.90       |
| url         | a full date in a web address: /2018/06/28/                         | 0.85       |
| declared    | the publication date an export states (a JSON Lines date field)  | 0.85       |
| html-markup | the markup's first published-date field (meta, JSON-LD, <time>)   | 0.85       |
| html-meta   | the date the HTML extractor found in the page metadata (`hint`)   | 0.80       |
|             | ... as sure as a markup field of the same day; else (none) 0.60 | 0.45-0.85  |
| htmldate    | the day htmldate finds in the markup: as sure as the hint         | 0.45-0.85  |
| url         | ... also from the address the page states (canonical, og:url)     | 0.85       |
| timestamp   | a Unix epoch (s, ms, us or ns) on a line of its own               | 0.80       |
| byline      | a date after an author ("By Jane Roe, 3 May 2021", "von X ·")      | 0.75       |
| path        | a full date in a file path: .../2021-03-04/story.txt              | 0.60       |
| header      | a date line in the first lines of the page (often the crawl day)  | 0.50       |
| page        | any other date in the page, by the shape of its line: a date line | 0.45       |
|             | ... in a short line / in a sentence / on a reader comment         | 0.35/0.15/0.10 |
| byline      | a date after "Updated/Aktualisiert/Stand/..." (later than publ.)  | 0.40       |
| html-markup | a plain "date" field (<meta name="date">): ranks with a date line | 0.45       |
| html-markup | the modification time (article:modified_time, dateModified)       | 0.35       |
| timestamp   | an epoch line inside or after the article (a cache key, a counter) | 0.35       |
| htmldate-text | the day htmldate's search of the text finds (not January 1)      | 0.35       |
|             | ... of a text page: a weak candidate it picks, when none is trusted | 0.30       |
| fetched     | the day a crawler fetched the page (WARC-Date): the last resort    | 0.30       |

Dates written in the page then move with their position: in the byline area around the title and the
first body lines they gain (so a date line there beats the header), after the article (comments,
"related posts") they lose, and so do dates in a listing (three or more dates written alike, a few
lines apart: related links, archives, galleries, comments) or under a heading over other stories
("Related", "Lesen Sie auch"); the first date of the page gains a little; a date in the month of a
/YYYY/MM/ web address gains too. Chrome is never a candidate: dates on a headline-ticker line (` // `
separators), a run of digits glued to a label ("01262020What's Hot:"), copyright lines, dates
after the reference day. A date shown in the page (a date line, a byline) that a markup field or the hint
names too gains 0.45: that is the date the page stands by, even when the markup calls it the modification
(an ambiguous 03/04/2021 is read the way the markup confirms). A UTC time within 6 hours of midnight in the
markup may be another day where the site is: it scores 0.60, unless a field writes that day in local time.
The highest score wins, the earlier one on a tie; below `CONFIDENCE_THRESHOLD` the answer
is "no date". A wire dateline or byline in the article beats a header date (often the crawl day), which
wins when it is the only signal; on the first line, later than a date line the page shows, it is the
crawl day.

Year-less dates ("SALVADOR, Feb 26 -") take the closest year that is not after the reference: the given
`reference_date`, else a YYYY-MM-DD, YYYY-MM or YYYY folder of the source ("/1987-02/" -> Feb 28, 1987),
else the date an export states or the day a crawler fetched the page, else the day the file (or archive
member) was last modified.
Month names: English, German, French, Spanish, Portuguese, Italian, Russian, Dutch; numeric dates day
first (21.01.2017) unless only month first is valid or the page writes US dates.

HTML pages are also read by htmldate (`transforms/htmldates.py`), the library made for them: its day is one
more candidate, as sure as the markup field that names the same day (a shown date it names is confirmed);
a day only its search of the text finds is one more date of the text. The address a page states for itself
(canonical link, og:url) is read for dates when the input gives none. A text page with no trusted candidate
takes, as its last resort (confidence 0.3), the latest date htmldate finds in its text when that is one of
its own weak candidates (never chrome).

Speed: plain regular expressions, no dateparser; htmldate only for HTML pages. One fast pass finds the
years; the date patterns only read short windows around them, in the head of the page and around the
article start.
"""
from __future__ import annotations

import bisect
import calendar
import dataclasses
import datetime as dt
import functools
import html
import re
from typing import NamedTuple

import apache_beam as beam

from schemas.records import Document
from transforms import metrics
from transforms.htmldates import htmldate_day, text_as_html
from transforms.identity import line_key, source_of
from transforms.lexicon import AUTHOR_CUE, COPYRIGHT_AROUND_DATE, MONTHS, RELATED_HEADING, is_ticker
from transforms.routing import ApplyStage, check_time_limit

STAGE = metrics.DATES

# ---------------------------------------------------------------------------------------------
# Bounds and weights
# ---------------------------------------------------------------------------------------------

# Below this score the best candidate is not trusted and the document gets no date.
CONFIDENCE_THRESHOLD = 0.3
# Dates in text before this year are history, not a publication date of a digitised news page.
EARLIEST_TEXT_YEAR = 1970
# An epoch timestamp outside [1995-01-01, reference] is an id or a counter, not a date.
EARLIEST_EPOCH_DATE = dt.date(1995, 1, 1)
# A date may be one day after the reference (time zones); later ones are in the future: chrome or noise.
FUTURE_SLACK = dt.timedelta(days=1)
# Pages can be megabytes; a publication date sits near the top or near the article start. Only the
# head of the page and a window around the article start are scanned for dates.
SCAN_HEAD_CHARS = 40_000
SCAN_BEFORE_ARTICLE_CHARS = 6_000
SCAN_AFTER_ARTICLE_CHARS = 3_000
# Bodies and pages past this length are cut before any work (a news article is far shorter).
MAX_INPUT_CHARS = 2_000_000
# Each year found by the fast pass is read with this much text around it: "Mittwoch, 21 de septiembre de"
# fits before a year, "-01-21" after it.
YEAR_CONTEXT_BEFORE_CHARS = 32
YEAR_CONTEXT_AFTER_CHARS = 12
# Archive, calendar and table pages hold hundreds of years; reading the first ones of a range is enough.
MAX_READ_CHARS_PER_RANGE = 8_000
# The first lines of a page are its header (site name, today's date, menus).
HEADER_LINES = 10
# A dateline is looked for in the first characters of the body's first paragraphs.
DATELINE_WINDOW_CHARS = 160
DATELINE_PARAGRAPHS = 3
DATELINE_MAX_PLACES = 2  # "SAO PAULO, Brazil, March 3 -"
DATELINE_LEAD_CHARS = " \t\n*-\u2013\u2014\u2022"  # bullets and spaces before the place
# A byline cue ("Published", "By") counts when it is at most this far before the date on its line.
CUE_WINDOW_CHARS = 60
# A line this short (after removing the date) is a date line, not a sentence that mentions a date.
DATE_LINE_MAX_REST_CHARS = 40
# Longer than this, a line is running text: a date in it is an event, rarely the publication day.
SHORT_LINE_MAX_CHARS = 160
# A line with this many headline separators is a ticker of other stories.
# A ticker without " // " must be long and have many separators: a byline has a few pipes too.
TICKER_MIN_SEPARATORS = 4
# Archive and calendar pages list hundreds of dates: past this many, only dates near the article count.
MAX_PAGE_DATES = 100
# Page dates within this many lines before the article start (or in its first lines) are its byline area.
NEAR_ARTICLE_LINES_BEFORE = 12
NEAR_ARTICLE_LINES_INSIDE = 3
# An epoch line is the article's time above the article or in its first lines; further down it is a cache
# key or a counter.
TIMESTAMP_MAX_LINES_INTO_ARTICLE = 12
# The article is found in the page by the first characters of its first and last paragraphs (and title).
LOCATE_SNIPPET_CHARS = (60, 30, 15)
LOCATE_MIN_SNIPPET_CHARS = 8
LOCATE_MAX_PARAGRAPHS = 3

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
# htmldate's day when only its search of the page's text finds one: a date somewhere in the text.
SCORE_HTMLDATE_TEXT = 0.35
# A text page no candidate dates gets the latest date htmldate's search finds in its text (its head), when
# that is one of the page's weak candidates (on the 32 such pages of the dev tune half: 6 right, 2 wrong;
# the first date htmldate finds instead: fewer right than wrong).
HTMLDATE_TEXT_CHARS = 100_000
SCORE_PICKED_BY_HTMLDATE = CONFIDENCE_THRESHOLD
BONUS_NEAR_ARTICLE = 0.15
BONUS_FIRST_IN_PAGE = 0.05
BONUS_URL_MONTH_AGREES = 0.10  # the web address says /2018/06/ and the date is in June 2018
PENALTY_AFTER_ARTICLE = 0.15  # comments, related posts, archives
PENALTY_TWO_DIGIT_YEAR = 0.10
# A date on the page's first line later than a date line of the page (`crawl_days_lowered`); as much as
# the other position penalties (dev tune half: 2 text pages right; on any header line, 1 more lost).
PENALTY_CRAWL_DAY_HEADER = 0.15
# Related links, archives, galleries and comments print a date on every item, written the same way (the
# same words and signs around it): at least this many dates written alike, each within a few lines of the
# next, are a listing of other pages' dates, not the article's own. They lose as much as dates after the
# article (dev tune half: penalties from 0.10 to 0.35 differ by one page).
LISTING_MIN_DATES = 3
LISTING_MAX_GAP_LINES = 12
LISTING_CONTEXT_CHARS = (12, 6)  # how much of the line before and after a date tells how it is written
PENALTY_LISTING = PENALTY_AFTER_ARTICLE
# The lines below a heading over other stories ("Related", "Lesen Sie auch") that are their teasers (2 to
# 8 lines below it in the dev tune pages).
RELATED_HEADING_LINES = 8
# A date shown in the page that the HTML markup names too (see `confirmed`).
BONUS_CONFIRMED_BY_MARKUP = 0.45
MIN_SCORE_TO_CONFIRM = 0.40  # a date line or a byline; not a date in running text or on a comment
MARKUP_SOURCES = frozenset({"html-meta", "html-markup", "htmldate"})
SHOWN_SOURCES = frozenset({"dateline", "byline", "header", "page"})

# ---------------------------------------------------------------------------------------------
# Regular expressions (compiled once)
# ---------------------------------------------------------------------------------------------

_SP = r"[ \t\u00a0]"
_MONTH_WORD = r"(?P<m>[^\W\d_]{3,10})\.?"
_DAY = r"(?P<d>[0-3]?\d)"
_ORDINAL = r"(?:st|nd|rd|th|er|\.)?"
_YEAR = r"(?P<y>(?:19|20)\d\d)"
# A date is never glued to digits, and a date without separators ("01262020What's Hot:") or with month
# names is never glued to letters either: that is a menu label or a word. Only dates with separators and a
# 4-digit year may touch letters, as text dumps lose the space of "Jane Roe3.11.2023".
_START = r"(?<![\w.])"
_END = r"(?!\w)"
# A year may run into a capitalised word or the next date: "15. April 2016Samstag, 4. März 2017" is a
# published/updated pair whose line break the dump lost.
_END_NAMED = r"(?![^\W\d_](?<![A-ZÀ-ÖØ-Þ]))"
_START_SEPARATED = r"(?<![\d.])"
_END_SEPARATED = r"(?!\d|\.\d)"

# 19. Juli 2014 | 4 November 2017 | 21 de enero de 2017 | 31 Okt, 2023 | 1er janvier 2017 | 21 января 2017
DAY_MONTH_YEAR = re.compile(
    rf"{_START}{_DAY}{_ORDINAL}{_SP}*(?:de{_SP}+|of{_SP}+)?{_MONTH_WORD},?{_SP}*"
    rf"(?:de{_SP}+|del{_SP}+)?{_YEAR}{_END_NAMED}"
)
# November 11, 2017 | June 28th, 2018 | Mar. 5 2020
MONTH_DAY_YEAR = re.compile(rf"(?<!\w){_MONTH_WORD}{_SP}+{_DAY}(?:st|nd|rd|th)?,?{_SP}+{_YEAR}{_END_NAMED}")
# 2021-09-19 | 2021/09/19 | 2021.09.19 (a 'T' may follow: ISO date-time)
YEAR_MONTH_DAY = re.compile(
    rf"{_START_SEPARATED}{_YEAR}(?P<sep>[-/.])(?P<m>[01]?\d)(?P=sep)(?P<d>[0-3]?\d){_END_SEPARATED}(?![-/]\d)"
)
# 21.01.2017 | 21 - 01 - 2017 | 01/21/2017 (day/month order decided later)
NUMERIC_DATE = re.compile(
    rf"{_START_SEPARATED}(?P<a>[0-3]?\d){_SP}{{0,2}}(?P<sep>[-/.]){_SP}{{0,2}}(?P<b>[0-3]?\d){_SP}{{0,2}}(?P=sep)"
    rf"{_SP}{{0,2}}(?P<y>(?:19|20)\d\d){_END_SEPARATED}"
)
# 07.11.23 | 02/11/23: a 2-digit year only with dots or slashes and two-digit day and month, never glued
# ("1.2.3" is a version).
NUMERIC_DATE_SHORT_YEAR = re.compile(rf"{_START}(?P<a>\d\d)(?P<sep>[./])(?P<b>\d\d)(?P=sep)(?P<y>\d\d){_END}(?![./-]\d)")
# Year-less forms, only trusted in a dateline: "Feb 26", "26 Feb", "20. Januar".
MONTH_DAY = re.compile(rf"{_MONTH_WORD}{_SP}+{_DAY}(?:st|nd|rd|th)?(?![\w])")
DAY_MONTH = re.compile(rf"{_DAY}{_ORDINAL}{_SP}*{_MONTH_WORD}(?!\w)")

# A dateline opens the body: a place or agency in capitals, a comma, a date, an agency, a dash.
DATELINE_PLACE = re.compile(r"[A-Z][^\n\d,:;!?]{0,40},\s*")
DATELINE_REGION_ABBREVIATION = re.compile(r"[A-Z][A-Za-z]{0,4}\.[ \t]+")
LEADING_DATE_SEPARATOR = re.compile(r"[ \t]*[-\u2013\u2014|:\u00b7\u2022]")
DATELINE_AFTER_DATE = re.compile(r"\s*(?:\([^)\n]{1,30}\)\s*)?[-\u2013\u2014:]")

# An epoch timestamp alone on its line: 9-10 digits (s), 12-13 (ms), 15-16 (us), 18-19 (ns). The pattern
# opens with a literal newline (4x faster to scan than a MULTILINE "^"); the first line is matched apart.
EPOCH_LINE = re.compile(r"\n[ \t]*(\d{9,19})[ \t]*(?=\n|$)")
EPOCH_FIRST_LINE = re.compile(r"[ \t]*(\d{9,19})[ \t]*(?=\n|$)")

PUBLISHED_CUE = re.compile(
    r"(?i)\b(?:published|posted|publication|released|dated|written|veröffentlicht|veröffentlichung|erschienen|"
    r"erstellt|geschrieben|publiziert|"
    r"publié|publiée|créé|publicado|publicada|publicación|publicação|pubblicato|pubblicata|опубликовано|"
    r"gepubliceerd|geplaatst)\b|(?:\bdate|\w*datum|\bdata|\bfecha|\bдата)\s*:"
)
UPDATED_CUE = re.compile(
    r"(?i)\b(?:updated|update|modified|last\s+changed|aktualisiert|geändert|stand|mis\s+à\s+jour|modifié|"
    r"actualizado|actualizada|atualizado|atualizada|aggiornato|aggiornata|обновлено|bijgewerkt)\b"
)
# A date on a line with these words is a reader comment, not the article.
COMMENT_CUE = re.compile(
    r"(?i)\b(?:reply|antworten|antwort|répondre|responder|rispondi|ответить|says|sagt|schreibt|meint)\b\s*:?"
)
# Dates in a web address or a path: /2018/06/28/, -2018-06-28-, _20180628_. Without separators the date
# must stand alone between punctuation: hashed file names ("3f20190512ab.txt") hold digit runs.
URI_SEPARATED_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<sep>[-/_.])(?P<m>0[1-9]|1[0-2]|[1-9](?=/))(?P=sep)"
    r"(?P<d>0[1-9]|[12]\d|3[01]|[1-9](?=/))(?!\d)"
)
URI_COMPACT_DATE = re.compile(r"(?<![^\W_])(?P<y>(?:19|20)\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?![^\W_])")
URI_YEAR_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/_.](0[1-9]|1[0-2])(?!\d)")
URI_YEAR = re.compile(r"(?<![\d\w])((?:19|20)\d\d)(?![\d\w])")

NEWLINE = re.compile(r"\n")
# Runs of letters, digits and spaces, for how a date is written in its line (see `_written_like`).
_SHAPE_RUN = re.compile(r"([^\W\d_]+)|(\d+)|(\s+)")
# Every full date has a year: four digits, or two in "07.11.23". This single fast pass (ASCII classes keep
# Python's fast scanning loop) finds where the slower date patterns are worth running.
YEAR_ANCHOR = re.compile(r"[0-9][0-9](?:[0-9][0-9]|[./-][0-9][0-9][./-][0-9][0-9])")
# Characters that may continue a date past the end of a reading window ("21.01.20|17").
_DATE_CHARS = frozenset("0123456789./-")

# Cheap HTML to text, for HTML pages: scripts and styles out, tags become line breaks.
_HTML_DROP = re.compile(r"(?is)<(script|style|noscript)\b.*?</\1\s*>|<!--.*?-->")
# A tag opens with a letter, "/", "!" or "?" and never holds "<": a stray "<" in the text does not swallow
# the text up to the next tag, and a tag of many long attributes (JSON in data-*) does not leak them as text.
_HTML_TAG = re.compile(r"<[A-Za-z/!?][^<>]*>")

Range = tuple[int, int]  # [start, end) offsets in a text


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


@dataclasses.dataclass(frozen=True)
class Mention:
    """A date written in a text: where it is, and what it says (year None when the text omits it)."""

    start: int
    end: int
    year: int | None
    month: int
    day: int
    two_digit_year: bool = False
    ambiguous: bool = False  # a slashed date that reads as a valid day in both orders: 03/04/2021


# ---------------------------------------------------------------------------------------------
# Reading dates in text
# ---------------------------------------------------------------------------------------------


def _month(word: str) -> int | None:
    return MONTHS.get(word.lower().rstrip("."))


def _valid(year: int, month: int, day: int) -> bool:
    return 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]


def _full_year(text: str) -> tuple[int, bool]:
    """A year from 4 or 2 digits (2-digit years are in the last hundred years)."""
    if len(text) == 4:
        return int(text), False
    year = 2000 + int(text)
    return (year if year <= dt.date.today().year else year - 100), True


def _windows(text: str, ranges: list[Range]) -> list[Range]:
    """Short windows around every year in the ranges, merged where they overlap."""
    windows: list[Range] = []
    for start, end in ranges:
        first_window, read = len(windows), 0
        for match in YEAR_ANCHOR.finditer(text, start, end):
            if not _is_year_anchor(text, match):
                continue
            if read > MAX_READ_CHARS_PER_RANGE:
                break
            low = max(start, match.start() - YEAR_CONTEXT_BEFORE_CHARS)
            high = min(end, match.end() + YEAR_CONTEXT_AFTER_CHARS)
            while high < end and text[high] in _DATE_CHARS:  # never cut a date in two
                high += 1
            if len(windows) > first_window and low <= windows[-1][1]:
                read += high - windows[-1][1]
                windows[-1] = (windows[-1][0], high)
            else:
                read += high - low
                windows.append((low, high))
    return windows


def _is_year_anchor(text: str, match: re.Match) -> bool:
    """A 19xx/20xx year or a dd.mm.yy date, not a piece of a longer number (prices, ids, timestamps)."""
    digits, start, end = match.group(), match.start(), match.end()
    if start and text[start - 1].isdigit():
        return False
    if digits[2] in "./-":  # "21.01.20" is the start of "21.01.2017" as well
        return True
    return digits[:2] in ("19", "20") and not (end < len(text) and text[end].isdigit())


def _named_mention(match: re.Match) -> Mention | None:
    """A DAY_MONTH_YEAR or MONTH_DAY_YEAR match, when its word is a month and the day exists."""
    month = _month(match["m"])
    year, day = int(match["y"]), int(match["d"])
    if not month or not _valid(year, month, day):
        return None
    return Mention(match.start(), match.end(), year, month, day)


def _iso_mention(match: re.Match) -> Mention | None:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    return Mention(match.start(), match.end(), year, month, day) if _valid(year, month, day) else None


def _numeric_mention(match: re.Match, month_first: bool = False) -> Mention | None:
    a, b = int(match["a"]), int(match["b"])
    year, two_digit = _full_year(match["y"])
    # Day first, except where only month first is valid (12/25/2020), or with slashes where both are
    # valid and the page writes its named dates month first.
    if b > 12 or (match["sep"] == "/" and month_first and a <= 12):
        month, day = a, b
    else:
        day, month = a, b
    if not _valid(year, month, day):
        return None
    # Only slashes are written both ways round (03/04/2021); dots and dashes are day first.
    ambiguous = match["sep"] == "/" and a != b and max(a, b) <= 12
    return Mention(match.start(), match.end(), year, month, day, two_digit, ambiguous)


def _named_month_mentions(text: str, windows: list[Range]) -> tuple[list[Mention], bool]:
    """Dates with a month name, and whether the text writes them month first ("June 5, 2020")."""
    found, month_first_count = [], 0
    for pattern in (DAY_MONTH_YEAR, MONTH_DAY_YEAR):
        for start, end in windows:
            for match in pattern.finditer(text, start, end):
                mention = _named_mention(match)
                if mention:
                    found.append(mention)
                    month_first_count += pattern is MONTH_DAY_YEAR
    return found, month_first_count > len(found) - month_first_count


def _numeric_mentions(text: str, windows: list[Range], month_first: bool) -> list[Mention]:
    found = []
    for start, end in windows:
        found.extend(filter(None, map(_iso_mention, YEAR_MONTH_DAY.finditer(text, start, end))))
    taken = {m.start for m in found}
    for pattern in (NUMERIC_DATE, NUMERIC_DATE_SHORT_YEAR):
        for start, end in windows:
            for match in pattern.finditer(text, start, end):
                mention = None if match.start() in taken else _numeric_mention(match, month_first)
                if mention:
                    found.append(mention)
                    taken.add(match.start())
    return found


def find_dates(text: str, ranges: list[Range] | None = None) -> list[Mention]:
    """Every full date (day, month, year) written in `text` (or in its `ranges`), in order of position.

    Numeric dates are read day first (21.01.2017, 21/01/2017), except with slashes in a text that
    writes its named dates month first, where 06/05/2020 is June 5.
    """
    windows = _windows(text, [(0, len(text))] if ranges is None else ranges)
    named, month_first = _named_month_mentions(text, windows)
    mentions = named + _numeric_mentions(text, windows, month_first)
    mentions.sort(key=lambda m: (m.start, -m.end))
    kept: list[Mention] = []
    for mention in mentions:  # overlapping readings of the same characters: keep the first, longest
        if not kept or mention.start >= kept[-1].end:
            kept.append(mention)
    return kept


def _yearless_at(text: str, pos: int) -> Mention | None:
    """A date with or without its year starting exactly at `pos` ("Feb 26", "November 11, 2017")."""
    for pattern, read in _FULL_DATE_READERS:
        match = pattern.match(text, pos)
        mention = read(match) if match else None
        if mention:
            return mention
    for pattern in (MONTH_DAY, DAY_MONTH):
        match = pattern.match(text, pos)
        if match and _month(match["m"]) and 1 <= int(match["d"]) <= 31:
            return Mention(pos, match.end(), None, _month(match["m"]), int(match["d"]))
    return None


_FULL_DATE_READERS = (
    (MONTH_DAY_YEAR, _named_mention),
    (DAY_MONTH_YEAR, _named_mention),
    (YEAR_MONTH_DAY, _iso_mention),
    (NUMERIC_DATE, _numeric_mention),
)


# ---------------------------------------------------------------------------------------------
# Reference day and year-less dates
# ---------------------------------------------------------------------------------------------


def reference_from_uri(source_uri: str) -> dt.date | None:
    """The latest day a delivery folder allows: .../1987-02/x.txt -> 1987-02-28; .../2019/x -> 2019-12-31."""
    path = source_uri or ""
    full = _uri_dates(path)
    if full:
        return full[-1]
    year_month = URI_YEAR_MONTH.findall(path)
    if year_month:
        year, month = int(year_month[-1][0]), int(year_month[-1][1])
        return dt.date(year, month, calendar.monthrange(year, month)[1])
    years = URI_YEAR.findall(path)
    if years:
        return dt.date(int(years[-1]), 12, 31)
    return None


def resolve_year(month: int, day: int, reference: dt.date) -> dt.date | None:
    """The latest date with this month and day that is not after `reference` (Feb 29 looks back 8 years)."""
    for year in range(reference.year, max(reference.year - 9, dt.MINYEAR - 1), -1):
        if _valid(year, month, day) and dt.date(year, month, day) <= reference:
            return dt.date(year, month, day)
    return None


def _mention_date(mention: Mention, reference: dt.date | None) -> dt.date | None:
    if mention.year is None:
        return resolve_year(mention.month, mention.day, reference) if reference else None
    return dt.date(mention.year, mention.month, mention.day)


# ---------------------------------------------------------------------------------------------
# Where the article is in the page
# ---------------------------------------------------------------------------------------------


def _line_starts(text: str) -> list[int]:
    return [0] + [match.end() for match in NEWLINE.finditer(text)]


def _line_text(text: str, starts: list[int], number: int) -> str:
    end = starts[number + 1] - 1 if number + 1 < len(starts) else len(text)
    return text[starts[number] : end]


def _line_number(starts: list[int], pos: int) -> int:
    return bisect.bisect_right(starts, pos) - 1


@dataclasses.dataclass(frozen=True)
class _Article:
    """Where the article sits in the page, in line numbers (None when it cannot be found)."""

    title_line: int | None
    first_line: int | None  # first body paragraph
    last_line: int | None  # last body paragraph

    def is_near_start(self, number: int) -> bool:
        """Is this line in the byline area: from a little before the title to the first body lines?"""
        top = self.top_line()
        if top is None:
            return False
        bottom = self.first_line if self.first_line is not None else self.title_line
        return top - NEAR_ARTICLE_LINES_BEFORE <= number < bottom + NEAR_ARTICLE_LINES_INSIDE

    def top_line(self) -> int | None:
        known = [n for n in (self.title_line, self.first_line) if n is not None]
        return min(known) if known else None

    def is_after(self, number: int) -> bool:
        return self.last_line is not None and number > self.last_line

    def is_before(self, number: int) -> bool:
        start = self.title_line if self.title_line is not None else self.first_line
        return start is None or number < start


def locate_article(page: str, body: str, title: str | None, starts: list[int]) -> _Article:
    """Find the title, the first and the last body paragraph in the page."""

    def line_of(text: str, last: bool = False) -> int | None:
        # The clean stage re-flows wrapped lines: shorter snippets survive a line break in the page.
        text = text.strip()
        for size in LOCATE_SNIPPET_CHARS:
            snippet = text[-size:] if last else text[:size]
            if len(snippet) < LOCATE_MIN_SNIPPET_CHARS:
                return None
            pos = page.rfind(snippet) if last else page.find(snippet)
            if pos >= 0:
                return _line_number(starts, pos)
        return None

    paragraphs = [p for p in body.split("\n\n", LOCATE_MAX_PARAGRAPHS) if p.strip()]
    first = line_of(paragraphs[0]) if paragraphs else None
    title_line = _title_line(page, title, first, starts)
    last = line_of(body.rstrip()[-LOCATE_SNIPPET_CHARS[0] :].split("\n")[-1], last=True)
    if first is not None and last is not None and last < first:
        last = None
    return _Article(title_line, first, last)


def _title_line(page: str, title: str | None, body_line: int | None, starts: list[int]) -> int | None:
    """The line of the title: its last occurrence before the body (menus and tickers repeat titles)."""
    title = (title or "").strip()
    if len(title) < LOCATE_MIN_SNIPPET_CHARS:
        return None
    end = starts[body_line] if body_line is not None else len(page)
    pos = page.rfind(title, 0, end)
    if pos < 0 and body_line is not None:
        pos = page.find(title)
    return None if pos < 0 else _line_number(starts, pos)


def scan_ranges(page: str, starts: list[int], article: _Article) -> list[Range]:
    """The parts of the page worth reading for dates: its head, and around the article start."""
    ranges = [(0, _line_end(page, SCAN_HEAD_CHARS))]
    top = article.top_line()
    if top is not None:
        low = _line_start(page, starts[top] - SCAN_BEFORE_ARTICLE_CHARS)
        high = _line_end(page, starts[top] + SCAN_AFTER_ARTICLE_CHARS)
        if low <= ranges[0][1]:
            ranges[0] = (0, max(high, ranges[0][1]))
        else:
            ranges.append((low, high))
    return ranges


def _line_start(text: str, pos: int) -> int:
    return 0 if pos <= 0 else text.rfind("\n", 0, pos) + 1


def _line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos) if pos < len(text) else -1
    return len(text) if end < 0 else end


# ---------------------------------------------------------------------------------------------
# Candidates, one function per signal
# ---------------------------------------------------------------------------------------------


def dateline_candidates(body: str, reference: dt.date | None) -> list[Candidate]:
    """'AFP, November 11, 2017 -', 'BEIRUT, Jan 20 (Reuters) -', 'SALVADOR, Feb 26 -' at a paragraph start."""
    found = []
    offset = 0
    for paragraph in body.split("\n\n", DATELINE_PARAGRAPHS)[:DATELINE_PARAGRAPHS]:
        mention = _dateline_date(paragraph[:DATELINE_WINDOW_CHARS])
        day = _mention_date(mention, reference) if mention else None
        if day:
            found.append(Candidate(day, "dateline", SCORE_DATELINE, offset + mention.start))
        offset += len(paragraph) + 2
    return found


def _dateline_date(head: str) -> Mention | None:
    """The date of a dateline: after one or two place names ("PARIS, ", "AFP, ", "SAO PAULO, Brazil, ")."""
    pos = len(head) - len(head.lstrip(DATELINE_LEAD_CHARS))
    for _ in range(DATELINE_MAX_PLACES):
        place = DATELINE_PLACE.match(head, pos)
        if not place:
            return None
        for start in (place.end(), _after_abbreviation(head, place.end())):
            mention = _yearless_at(head, start) if start is not None else None
            if mention and DATELINE_AFTER_DATE.match(head, mention.end):
                return mention
        pos = place.end()
    return None


def _after_abbreviation(head: str, pos: int) -> int | None:
    """Past a state abbreviation that follows the city: "RICHMOND, Va. Feb 26 -"."""
    match = DATELINE_REGION_ABBREVIATION.match(head, pos)
    return match.end() if match else None


def timestamp_candidates(
    page: str, starts: list[int], ranges: list[Range], article: _Article, latest: dt.date
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
            near = top is None or _line_number(starts, match.start(1)) <= top + TIMESTAMP_MAX_LINES_INTO_ARTICLE
            score = SCORE_TIMESTAMP if near else SCORE_TIMESTAMP_ELSEWHERE
            found.append(Candidate(day, "timestamp", score, match.start(1)))
    return found


def uri_candidates(source_uri: str) -> list[Candidate]:
    """A full date in the web address ("url") or in the file path ("path")."""
    is_web = source_uri.startswith(("http://", "https://"))
    source, score = ("url", SCORE_URL) if is_web else ("path", SCORE_PATH)
    return [Candidate(day, source, score, -1) for day in _uri_dates(source_uri)]


def _uri_dates(uri: str) -> list[dt.date]:
    """The full dates written in a web address or a path, in order."""
    matches = [*URI_SEPARATED_DATE.finditer(uri or ""), *URI_COMPACT_DATE.finditer(uri or "")]
    found = []
    for match in sorted(matches, key=lambda m: m.start()):
        year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
        if _valid(year, month, day):
            found.append(dt.date(year, month, day))
    return found


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


# ---------------------------------------------------------------------------------------------
# Dates in the HTML markup (metadata), read from the raw page
# ---------------------------------------------------------------------------------------------

# The markup names the publication date: <meta property="article:published_time">, JSON-LD "datePublished",
# <time itemprop="datePublished">. Keys are compared lowercased, without "og:" and "dc."/"dcterms." prefixes.
PUBLISHED_KEYS = frozenset({
    "article:published_time", "published_time", "article:published", "datepublished", "date_published",
    "publishdate", "publish-date", "publish_date", "pubdate", "pub_date", "date.issued", "issued",
    "sailthru.date", "parsely-pub-date", "cxenseparse:publishtime", "article.published", "published-time",
    "vr:published-time", "citation_publication_date", "datecreated", "date.created", "created",
})
# The modification day is later than the publication: alone it only dates a page that says nothing else,
# but it confirms a date the page shows (see `confirmed`).
MODIFIED_KEYS = frozenset({
    "article:modified_time", "modified_time", "updated_time", "datemodified", "date_modified", "last-modified",
    "lastmod", "date.modified", "modified", "article:updated_time",
})
# A bare "date" (<meta name="date">, Dublin Core dc.date) is most often the publication, sometimes not.
PLAIN_DATE_KEYS = frozenset({"date"})
MARKUP_SCORES = {"published": 0.85, "date": SCORE_DATE_LINE, "modified": 0.35}
# A UTC time this close to midnight may fall on another day where the site is (New York is UTC-5, Berlin
# UTC+1): such a day is not trusted more than a date shown in the byline area.
UTC_DAY_MARGIN_HOURS = 6
SCORE_MARKUP_UTC_NEAR_MIDNIGHT = 0.60
# The markup sits in the head of the page and in the article's tags; megabytes of scripts come after.
MARKUP_SCAN_CHARS = 300_000
_MARKUP_TAG = re.compile(r"(?is)<(meta|time)\b([^>]{0,2000})>")
_MARKUP_ATTRIBUTE = re.compile(r"""(?s)([\w:.\-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_ADDRESS_TAG = re.compile(r"(?is)<(?:link|meta)\b([^>]{0,2000})>")
_JSON_DATE = re.compile(r'"(date(?:Published|Created|Modified))"\s*:\s*"([^"]{6,40})"')
_KEY_PREFIX = re.compile(r"^(?:og:|dc\.|dcterms\.)")
_ISO_DATE_TIME = re.compile(
    r"\s*(?P<y>(?:19|20)\d\d)-(?P<m>\d\d?)-(?P<d>\d\d?)(?!\d)"
    r"(?:[T ](?P<hour>\d\d):\d\d(?::\d\d)?(?:\.\d+)?\s*(?P<zone>Z|[+-]\d\d:?\d\d)?)?"
)


def markup_candidates(html: str) -> list[Candidate]:
    """The dates the HTML markup names, one per kind (published, plain date, modified): the first one.

    Later ones of a kind are other stories' (related links) or reader comments (<time itemprop=...>).
    """
    firsts: dict[str, tuple[dt.date, bool]] = {}
    local_days = set()  # days some field writes in the site's own time
    for key, value in _markup_fields(html[:MARKUP_SCAN_CHARS]):
        kind = _markup_kind(key)
        day, uncertain = _markup_day(value) if kind else (None, False)
        if day:
            firsts.setdefault(kind, (day, uncertain))
            if not uncertain:
                local_days.add(day)
    return [
        Candidate(day, "html-markup", _markup_score(kind, uncertain and day not in local_days), -1)
        for kind, (day, uncertain) in firsts.items()
    ]


def stated_address(html: str) -> str | None:
    """The web address a page states for itself: its canonical link, else its og:url (a date in it is as
    good as one in the address the input gives)."""
    found = {}
    for match in _ADDRESS_TAG.finditer(html[:MARKUP_SCAN_CHARS]):
        attributes = _attributes(match[1])
        if attributes.get("rel", "").lower() == "canonical":
            found.setdefault("canonical", attributes.get("href", ""))
        elif attributes.get("property", "").lower() == "og:url":
            found.setdefault("og:url", attributes.get("content", ""))
    address = found.get("canonical") or found.get("og:url") or ""
    return address if address.startswith(("http://", "https://")) else None


def _markup_score(kind: str, uncertain_day: bool) -> float:
    score = MARKUP_SCORES[kind]
    return min(score, SCORE_MARKUP_UTC_NEAR_MIDNIGHT) if uncertain_day else score


def _markup_fields(html: str):
    """(key, value) pairs of the markup in page order: meta tags, <time> tags and JSON(-LD) date fields."""
    fields = []
    for match in _MARKUP_TAG.finditer(html):
        attributes = _attributes(match[2])
        if match[1].lower() == "meta":
            key = attributes.get("property") or attributes.get("name") or attributes.get("itemprop") or ""
            value = attributes.get("content", "")
        else:
            key = _time_key(attributes)
            value = attributes.get("datetime") or attributes.get("content") or ""
        fields.append((match.start(), key, value))
    fields += [(match.start(), match[1], match[2]) for match in _JSON_DATE.finditer(html)]
    return [(key, value) for _, key, value in sorted(fields)]


def _attributes(tag: str) -> dict[str, str]:
    """The attributes of a tag's text (`name="value"`, `name='value'`, `name=value`), names lowercased."""
    return {m[1].lower(): m[2] or m[3] or m[4] or "" for m in _MARKUP_ATTRIBUTE.finditer(tag)}


def _time_key(attributes: dict[str, str]) -> str:
    """What a <time> tag dates: its itemprop, a "pubdate" flag, or a published/updated word in its class."""
    if attributes.get("itemprop"):
        return attributes["itemprop"]
    if "pubdate" in attributes:
        return "pubdate"
    css = attributes.get("class", "").lower()
    if "publish" in css or "created" in css:
        return "published_time"
    if "updat" in css or "modif" in css:
        return "modified_time"
    return ""  # a plain <time>: its text is read with the page's text


def _markup_kind(key: str) -> str | None:
    """"published", "modified" or a plain "date" (a key of MARKUP_SCORES), or None: not a date field."""
    key = _KEY_PREFIX.sub("", key.strip().lower())
    for kind, keys in (("published", PUBLISHED_KEYS), ("modified", MODIFIED_KEYS), ("date", PLAIN_DATE_KEYS)):
        if key in keys:
            return kind
    return None


def _markup_day(value: str) -> tuple[dt.date | None, bool]:
    """The day of a markup value, and whether that day is uncertain.

    ISO "2021-05-03T10:00:00+02:00" gives the day as written (the site's own time zone). A UTC time near
    midnight ("2021-05-04T02:10:00Z") may be the day before or after where the site is: uncertain.
    Other values are read as text ("03.05.2021 10:00").
    """
    match = _ISO_DATE_TIME.match(value)
    if match:
        year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
        if not _valid(year, month, day):
            return None, False
        hour = int(match["hour"]) if match["hour"] else None
        utc = bool(match["zone"]) and match["zone"].strip(":0+-Z") == ""
        near_midnight = hour is not None and (hour < UTC_DAY_MARGIN_HOURS or hour >= 24 - UTC_DAY_MARGIN_HOURS)
        return dt.date(year, month, day), utc and near_midnight
    mentions = find_dates(value)
    return (dt.date(mentions[0].year, mentions[0].month, mentions[0].day) if mentions else None), False


# ---------------------------------------------------------------------------------------------
# Dates written in the page
# ---------------------------------------------------------------------------------------------


def page_candidates(
    page: str,
    starts: list[int],
    ranges: list[Range],
    article: _Article,
    latest: dt.date,
    url_month: tuple[int, int] | None,
    site_lines: frozenset[int] = frozenset(),
) -> list[Candidate]:
    """Dates written in the page: datelines, bylines, header lines, date lines, dates in text.

    Not from a line in `site_lines` (`identity.line_key`s of lines the page's source prints on many
    different stories): the same date on every page of a site is the day it was crawled. The dates of
    other stories (a listing, teasers under a "Related" heading) lose `PENALTY_LISTING`.
    """
    found: list[Candidate] = []
    lines_and_shapes: list[tuple[int, str]] = []
    ticker_lines: dict[int, bool] = {}
    for mention in find_dates(page, ranges):
        day = dt.date(mention.year, mention.month, mention.day)
        if day.year < EARLIEST_TEXT_YEAR or day > latest:
            continue
        number = _line_number(starts, mention.start)
        if len(found) >= MAX_PAGE_DATES and not article.is_near_start(number):
            continue
        line = _line_text(page, starts, number)
        if number not in ticker_lines:
            ticker_lines[number] = is_ticker(line, SHORT_LINE_MAX_CHARS + 1, TICKER_MIN_SEPARATORS)
        column = mention.start - starts[number]
        if ticker_lines[number] or _is_copyright(line, column, mention):
            continue
        if site_lines and line_key(line) in site_lines:
            continue
        previous = _line_text(page, starts, number - 1) if number else ""
        source, score = _score_page_date(line, previous, column, mention, number, article)
        if not found:
            score += BONUS_FIRST_IN_PAGE
        if url_month and (day.year, day.month) == url_month:
            score += BONUS_URL_MONTH_AGREES
        if mention.two_digit_year:
            score -= PENALTY_TWO_DIGIT_YEAR
        # Capped: two bylines near the title are equally sure, and then the earlier one wins.
        found.append(Candidate(day, source, min(score, 1.0), mention.start, _other_reading(mention)))
        lines_and_shapes.append((number, _written_like(line, column, column + mention.end - mention.start)))
    teasers = _teasers(page, starts, lines_and_shapes)
    return [dataclasses.replace(c, score=c.score - PENALTY_LISTING) if i in teasers else c for i, c in enumerate(found)]


def _teasers(page: str, starts: list[int], lines_and_shapes: list[tuple[int, str]]) -> set[int]:
    """The indexes of the dates of other stories: in a listing, or below a heading over other stories."""
    under_heading = {i for i, (number, _) in enumerate(lines_and_shapes) if _under_related_heading(page, starts, number)}
    return _listed(lines_and_shapes) | under_heading


def _under_related_heading(page: str, starts: list[int], number: int) -> bool:
    """Is this line among the teasers below a heading over other stories ("Related", "Lesen Sie auch")?"""
    return any(
        RELATED_HEADING.fullmatch(_line_text(page, starts, above).strip())
        for above in range(max(0, number - RELATED_HEADING_LINES), number)
    )


def _written_like(line: str, start: int, end: int) -> str:
    """How a date is written in its line: the characters around it (not the indentation), words as "a",
    numbers as "0"."""
    before, after = LISTING_CONTEXT_CHARS
    around = f"{line[max(0, start - before) : start].lstrip()}|{line[end : end + after]}"
    return _SHAPE_RUN.sub(_shape_of_run, around)


def _shape_of_run(match: re.Match) -> str:
    return "a" if match[1] else "0" if match[2] else " "


def _listed(lines_and_shapes: list[tuple[int, str]]) -> set[int]:
    """The indexes of the dates in a listing: at least `LISTING_MIN_DATES` dates written alike, on
    different lines, each at most `LISTING_MAX_GAP_LINES` below the one before."""
    by_shape: dict[str, list[tuple[int, int]]] = {}
    for index, (number, shape) in enumerate(lines_and_shapes):
        by_shape.setdefault(shape, []).append((number, index))
    listed: set[int] = set()
    for dates in by_shape.values():
        for run in _runs(dates):
            if len({number for number, _ in run}) >= LISTING_MIN_DATES:
                listed.update(index for _, index in run)
    return listed


def _runs(dates: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    """(line number, index) pairs in page order, cut where one is more than `LISTING_MAX_GAP_LINES` below
    the one before."""
    runs: list[list[tuple[int, int]]] = []
    for date in dates:
        if runs and date[0] - runs[-1][-1][0] <= LISTING_MAX_GAP_LINES:
            runs[-1].append(date)
        else:
            runs.append([date])
    return runs


def _other_reading(mention: Mention) -> dt.date | None:
    """03/04/2021 read the other way round, when the mention is ambiguous."""
    return dt.date(mention.year, mention.day, mention.month) if mention.ambiguous else None


def _page_date_kind(line: str, previous: str, column: int, mention: Mention, number: int, article: _Article):
    """(source, base score) of a date written in the page, from its cue words and the shape of its line."""
    cue = _cue_score(line, column, previous)
    if cue is not None:
        return "byline", cue
    if len(line) <= SHORT_LINE_MAX_CHARS and COMMENT_CUE.search(line):
        return "page", SCORE_COMMENT
    is_date_line = len(line.strip()) - (mention.end - mention.start) <= DATE_LINE_MAX_REST_CHARS
    if is_date_line and number < HEADER_LINES and article.is_before(number):
        return "header", SCORE_HEADER
    return "page", _shape_score(line, column, mention)


def _score_page_date(line: str, previous: str, column: int, mention: Mention, number: int, article: _Article):
    """(source, score) of a date written in the page: its kind, moved by its position around the article."""
    if column and line[0].isupper():
        dateline = _dateline_date(line[:DATELINE_WINDOW_CHARS])
        if dateline is not None and dateline.start == column:
            return "dateline", SCORE_DATELINE
    source, score = _page_date_kind(line, previous, column, mention, number, article)
    if article.is_near_start(number):
        score += BONUS_NEAR_ARTICLE
    elif article.is_after(number):
        score -= PENALTY_AFTER_ARTICLE
    return source, score


def _is_copyright(line: str, column: int, mention: Mention) -> bool:
    """A copyright notice around the date ("© 2014 Courier, 01.02.2014"): the site's, not the article's."""
    around = line[max(0, column - CUE_WINDOW_CHARS) : column + (mention.end - mention.start) + CUE_WINDOW_CHARS]
    return COPYRIGHT_AROUND_DATE.search(around) is not None


def _cue_score(line: str, date_col: int, previous_line: str) -> float | None:
    """The byline score when a cue word precedes the date on its line (or is the whole previous line).

    The cue closest to the date counts: in "Published 3 May 2021 | Updated 5 May 2021" the second date
    is the update.
    """
    if len(line) > SHORT_LINE_MAX_CHARS:
        return None  # in running text "released on 5 May 2019" is an event of the story
    before = line[max(0, date_col - CUE_WINDOW_CHARS) : date_col]
    if not before.strip() and len(previous_line) < DATE_LINE_MAX_REST_CHARS:
        before = previous_line
    closest, score = -1, None
    for cue, cue_score in ((UPDATED_CUE, SCORE_UPDATED_CUE), (PUBLISHED_CUE, SCORE_PUBLISHED_CUE)):
        for match in cue.finditer(before):
            if match.start() > closest:
                closest, score = match.start(), cue_score
    if score is None and AUTHOR_CUE.search(before):
        return SCORE_AUTHOR_CUE
    return score


def _shape_score(line: str, column: int, mention: Mention) -> float:
    """How much a date's line looks like a date line rather than a sentence."""
    rest = len(line.strip()) - (mention.end - mention.start)
    if rest <= DATE_LINE_MAX_REST_CHARS:
        return SCORE_DATE_LINE
    opens_line = not line[: column].strip(DATELINE_LEAD_CHARS)
    if opens_line and LEADING_DATE_SEPARATOR.match(line, column + mention.end - mention.start):
        return SCORE_DATE_LINE  # "27.1.2022 - The council decided..." dates its paragraph
    if len(line) <= SHORT_LINE_MAX_CHARS:
        return SCORE_SHORT_LINE
    return SCORE_RUNNING_TEXT


# ---------------------------------------------------------------------------------------------
# The extractor
# ---------------------------------------------------------------------------------------------


def _url_month(source_uri: str) -> tuple[int, int] | None:
    if not source_uri.startswith(("http://", "https://")):
        return None
    match = URI_YEAR_MONTH.search(source_uri)
    return (int(match[1]), int(match[2])) if match else None


def extract_publication_date(
    page: str,
    body: str,
    title: str | None,
    source_uri: str,
    reference_date: dt.date | None = None,
    hint: dt.date | None = None,
    modified_at: dt.date | None = None,
    site_lines: frozenset[int] = frozenset(),
    url: str | None = None,
    fetched_at: dt.date | None = None,
    declared: dt.date | None = None,
    html: str | None = None,
) -> DateResult:
    """The publication date of an article, where it was found, and how sure we are (see module doc).

    `page` is the whole page text (chrome included), `body` the clean article body, `hint` a date from
    the page metadata. Year-less dates are resolved against `reference_date`, else against a date folder
    in `source_uri`, else against the date the export states or the day a crawler fetched the page, else
    the file's modification day
    `modified_at`; dates after the reference (default: today) or after the fetch are not publication
    dates. `url` (the page's web address, when the input says) is read for dates instead of `source_uri`;
    `declared` is a date the export states.
    """
    body = (body or "")[:MAX_INPUT_CHARS]
    page = (page or "")[:MAX_INPUT_CHARS] or body  # a stage before us may have dropped the raw page
    html = html[:MAX_INPUT_CHARS] if html else None
    reference_date, hint = _as_date(reference_date), _as_date(hint)
    # A dump delivered in a dated folder (.../2024-03/...) cannot hold articles published after it:
    # a later date on such a page is the day it was crawled or re-served.
    latest = _latest_plausible(reference_date or reference_from_uri(source_uri or ""))
    fetched = _as_date(fetched_at)
    if fetched:  # nothing was published after the crawler fetched it
        latest = min(latest, _latest_plausible(fetched))
    # A file cannot have been saved before its article was written: its day resolves year-less dates
    # when nothing better says when the dump was made (it is no upper bound: copies get new times).
    declared = _as_date(declared)
    yearless_reference = (
        reference_date or reference_from_uri(source_uri or "") or declared or fetched or _as_date(modified_at)
    )
    url = url or (stated_address(html) if html else None)
    candidates = collect_candidates(
        page, body, title, url or source_uri or "", latest, yearless_reference, hint, site_lines, html
    ) + stated_candidates(declared, fetched)
    check_time_limit()
    candidates = confirmed(crawl_days_lowered(candidates, page))
    result = choose(candidates, latest)
    if result == NO_DATE and not html:
        result = choose(weak_candidates_htmldate_picks(page, candidates, latest), latest)
    return result


def _as_date(value) -> dt.date | None:
    """A date from a date or a datetime (a datetime does not compare with dates); None for anything else."""
    if isinstance(value, dt.datetime):
        return value.date()
    return value if isinstance(value, dt.date) else None


def _latest_plausible(reference_date: dt.date | None) -> dt.date:
    reference = reference_date or dt.date.today()
    return reference + FUTURE_SLACK if reference < dt.date.max - FUTURE_SLACK else dt.date.max


def collect_candidates(
    page: str,
    body: str,
    title: str | None,
    source_uri: str,
    latest: dt.date,
    reference_date: dt.date | None = None,
    hint: dt.date | None = None,
    site_lines: frozenset[int] = frozenset(),
    html: str | None = None,
) -> list[Candidate]:
    """Every dated signal of a page, scored (see the module doc). `reference_date` resolves year-less
    dates (default: a date folder in `source_uri`); dates on `site_lines` are crawl dates; `html` is the
    raw page when it is HTML: the dates its markup names (`markup_candidates`) and htmldate's are read."""
    yearless_reference = reference_date or reference_from_uri(source_uri)
    starts = _line_starts(page)
    article = locate_article(page, body, title, starts)
    ranges = scan_ranges(page, starts, article)
    markup = markup_candidates(html) if html else None
    return (
        dateline_candidates(body if body.strip() else page, yearless_reference)
        + timestamp_candidates(page, starts, ranges, article, latest)
        + uri_candidates(source_uri)
        + hint_candidates(hint, markup)
        + (htmldate_candidates(html, markup, latest) if html else [])
        + (markup or [])
        + page_candidates(page, starts, ranges, article, latest, _url_month(source_uri), site_lines)
    )


def crawl_days_lowered(candidates: list[Candidate], page: str) -> list[Candidate]:
    """A date on the page's first line later than a date line the page shows is the day the page was
    crawled (sites print today's date atop every page): it loses `PENALTY_CRAWL_DAY_HEADER`."""
    shown_days = [c.date for c in candidates if c.source in SHOWN_SOURCES - {"header"} and c.score >= SCORE_DATE_LINE]
    if not shown_days:
        return candidates
    earliest_shown, first_line_end = min(shown_days), _line_end(page, 0)
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


def html_to_text(page: str) -> str:
    """A rough text of an HTML page, enough to read the dates written in it."""
    return html.unescape(_HTML_TAG.sub("\n", _HTML_DROP.sub(" ", page)))


# ---------------------------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------------------------


def date_document(
    doc: Document, templates: dict[str, frozenset[int]] | None = None, reference_date: dt.date | None = None
) -> Document:
    """The document with its publication date filled; a document without a date goes on with None.

    `templates`: the lines each source prints on many stories (transforms/templates.py), by source.
    """
    page = html_to_text(doc.raw) if doc.content_type == "html" and doc.raw else doc.raw
    site_lines = (templates or {}).get(source_of(doc.address), frozenset())
    result = extract_publication_date(
        page, doc.text, doc.title, doc.source_uri, reference_date, doc.date_hint, doc.modified_at, site_lines,
        url=doc.url, fetched_at=doc.fetched_at, declared=doc.declared_date,
        html=doc.raw if doc.content_type == "html" else None,
    )
    # A new object: Beam elements must not be changed in place. The page's visible size is measured here,
    # where its text is at hand, for the boilerplate share (the raw page is dropped after this stage).
    return dataclasses.replace(
        doc, published_date=result.published_date, date_source=result.date_source, date_confidence=result.confidence,
        page_chars=len("".join(page.split())),
    )


class DateDocuments(beam.PTransform):
    """Documents -> documents with `published_date`; returns a tuple with `.documents` and `.rejects`."""

    def __init__(self, reference_date: dt.date | None = None, templates=None):
        super().__init__()
        self._reference_date = reference_date
        self._templates = templates  # (source, template line keys) from LearnTemplates, or None

    def expand(self, documents):
        stage = functools.partial(date_document, reference_date=self._reference_date)
        if self._templates is None:
            return documents | ApplyStage(STAGE, stage)
        return documents | ApplyStage(STAGE, stage, beam.pvalue.AsDict(self._templates))
