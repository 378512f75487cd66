"""The dates written in a page's text, each scored by what it is (a byline, a date line, a date in a
sentence or on a reader comment) and moved by where it stands (the byline area, after the article, in a
listing, under a heading over other stories). Chrome is never a candidate: tickers, copyright lines, the
lines a site prints on every story."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re

from transforms.date_candidates import DATELINE_LEAD_CHARS, DATELINE_WINDOW_CHARS, dateline_date
from transforms.date_mentions import Mention, Range, find_dates
from transforms.date_positions import ArticlePosition, line_number, line_text
from transforms.date_scoring import (
    EARLIEST_TEXT_YEAR,
    SCORE_AUTHOR_CUE,
    SCORE_COMMENT,
    SCORE_DATE_LINE,
    SCORE_DATELINE,
    SCORE_HEADER,
    SCORE_PUBLISHED_CUE,
    SCORE_RUNNING_TEXT,
    SCORE_SHORT_LINE,
    SCORE_UPDATED_CUE,
    Candidate,
)
from transforms.identity import line_key
from transforms.lexicon import AUTHOR_CUE, COPYRIGHT_AROUND_DATE, RELATED_HEADING, is_ticker

# The first lines of a page are its header (site name, today's date, menus).
HEADER_LINES = 10
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
BONUS_NEAR_ARTICLE = 0.15
BONUS_FIRST_IN_PAGE = 0.05
BONUS_URL_MONTH_AGREES = 0.10  # the web address says /2018/06/ and the date is in June 2018
PENALTY_AFTER_ARTICLE = 0.15  # comments, related posts, archives
PENALTY_TWO_DIGIT_YEAR = 0.10
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

LEADING_DATE_SEPARATOR = re.compile(r"[ \t]*[-\u2013\u2014|:\u00b7\u2022]")
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
# Runs of letters, digits and spaces, for how a date is written in its line (see `_written_like`).
_SHAPE_RUN = re.compile(r"([^\W\d_]+)|(\d+)|(\s+)")


# ---------------------------------------------------------------------------------------------
# Dates written in the page
# ---------------------------------------------------------------------------------------------


def page_candidates(
    page: str,
    starts: list[int],
    ranges: list[Range],
    article: ArticlePosition,
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
        number = line_number(starts, mention.start)
        if len(found) >= MAX_PAGE_DATES and not article.is_near_start(number):
            continue
        line = line_text(page, starts, number)
        if number not in ticker_lines:
            ticker_lines[number] = is_ticker(line, SHORT_LINE_MAX_CHARS + 1, TICKER_MIN_SEPARATORS)
        column = mention.start - starts[number]
        if ticker_lines[number] or _is_copyright(line, column, mention):
            continue
        if site_lines and line_key(line) in site_lines:
            continue
        previous = line_text(page, starts, number - 1) if number else ""
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
        RELATED_HEADING.fullmatch(line_text(page, starts, above).strip())
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


def _page_date_kind(line: str, previous: str, column: int, mention: Mention, number: int, article: ArticlePosition):
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


def _score_page_date(line: str, previous: str, column: int, mention: Mention, number: int, article: ArticlePosition):
    """(source, score) of a date written in the page: its kind, moved by its position around the article."""
    if column and line[0].isupper():
        dateline = dateline_date(line[:DATELINE_WINDOW_CHARS])
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
