"""The rules' article in classified lines: the page cut into blocks of article text at long stretches of
chrome and at "Related" / "Comments" lines; the block under the headline the page names, else the densest
one, extended over a strip of ads in its middle; the title above it; failing that a wire brief found by its
dateline, a lenient reading, or a table of results."""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from transforms.clean_lines import (
    DIGIT,
    GOOD,
    LENGTH_LOW,
    LETTERS,
    REPEAT_NEAR_LINES,
    Line,
    classify,
)
from transforms.clean_wire import opens_with_dateline

# --- the article: good lines add their length, chrome between them costs a toll ----------------------
BAD_LINE_TOLL = 30  # characters of article a line of chrome costs (menus: many lines, each tolled)
BAD_LINE_SHARE = 0.5  # plus this share of the line's own length (long chrome costs more)...
BAD_LINE_TOLL_CAP = 150  # ...up to this: one long caption or ticker must not split an article
HARD_GAP_TOLL = 300  # chrome worth this much (about eight menu lines) separates two texts
CONTINUATION_MAX_GAP_TOLL = 1000  # an article resumes after at most this much chrome inside it...
CONTINUATION_MIN_SHARE = 0.5  # ...with text worth at least this share of what came before
DATELINE_ARTICLE_MAX_LINES = 60  # a wire brief found by its dateline is a few lines of figures
TABLE_MIN_ROWS = 4  # a page that is a table of results: this many rows with names and figures...
TABLE_ROW_MIN_WORDS = 2
TABLE_MAX_GAP = 2  # ...with at most this many lines without figures in a row between them

# --- the title ----------------------------------------------------------------------------------------
REPEATED_TITLE_MIN_WORDS = 4  # "Rating: 9 Votes" repeats too; a headline printed twice is longer
HEADLINE_MIN_WORDS = 4  # the nearest heading with this many words is preferred to a shorter one
TITLE_LOOKBACK = 40  # lines above the article that may hold its headline
TITLE_TO_BODY_GAP = 15  # lines of metadata (bylines, dates, share buttons) between headline and body
ANCHORED_MIN_SHARE = 0.1  # text under a repeated headline must be worth this share of the densest text

# --- verdict ------------------------------------------------------------------------------------------
MIN_BODY_CHARS = 100  # a block under a named headline with less text than this is not its article
MIN_BODY_LETTERS = 25  # fewer letters left is "no article body" (a wire dividend brief has ~40)

_BULLET = re.compile(r"^[•·▪►»*>-]\s")  # a list item is not a headline


# === 5. where the article is ===========================================================================


@dataclasses.dataclass
class _Block:
    """Lines from a good line to a good line, with no hard gap in between."""

    start: int
    end: int  # exclusive
    score: float  # characters of good lines, net of the tolls of the chrome inside


def _toll(line: Line) -> float:
    """What a line of chrome between two stretches of article costs them."""
    return min(BAD_LINE_TOLL + BAD_LINE_SHARE * line.chars, BAD_LINE_TOLL_CAP)


def _blocks(lines: list[Line]) -> list[_Block]:
    """Cut the page at hard gaps: long stretches of chrome, and lines announcing post-article sections.

    A hard gap separates the article from teaser lists and comments that read like prose too.
    """
    blocks: list[_Block] = []
    current: _Block | None = None
    gap = 0.0
    for index, line in enumerate(lines):
        if line.cls == GOOD:
            if current is None:
                current = _Block(index, index + 1, 0.0)
            current.score += line.chars - gap
            current.end, gap = index + 1, 0.0
        elif current is not None:
            gap += _toll(line)
            if gap >= HARD_GAP_TOLL or line.ends_article:
                blocks.append(current)
                current, gap = None, 0.0
    if current is not None:
        blocks.append(current)
    return blocks


def _block_after(lines: list[Line], blocks: list[_Block], title: int) -> _Block | None:
    """The article under a headline: the largest block starting within a few lines below it.

    Not simply the first: a standfirst or a lone caption often stands between headline and body. A
    headline that the classifier took for text belongs to the block below it: that block starts after it.
    """
    near = []
    for block in blocks:
        if block.start <= title < block.end:
            block = _Block(title + 1, block.end, block.score - lines[title].chars)
        if 0 < block.start - title <= TITLE_TO_BODY_GAP and block.end > block.start:
            near.append(block)
    return max(near, key=lambda block: block.score) if near else None


def _with_continuation(lines: list[Line], blocks: list[_Block], block: _Block) -> _Block:
    """The article extended over strips of chrome inside it (ads, "More from ...").

    It goes on when text as substantial as the article so far follows a strip; teasers and comments
    under an article are smaller, or announced by a "Comments" / "Related" line.
    """
    for following in blocks:
        if following.start < block.end:
            continue
        gap = lines[block.end : following.start]
        if (
            any(line.ends_article for line in gap)
            or sum(map(_toll, gap)) > CONTINUATION_MAX_GAP_TOLL
            or following.score < CONTINUATION_MIN_SHARE * block.score
        ):
            break
        block = _Block(block.start, following.end, block.score + following.score)
    return block


# === 6. the title =====================================================================================


def _title_candidate(line: Line) -> bool:
    """A heading that could be the headline: not chrome, not a list item, not a bracketed credit."""
    if not line.heading_like or line.chrome or line.words < 2 or _BULLET.match(line.text):
        return False
    return not (line.text.startswith(("(", "[")) and line.text.endswith((")", "]")))


def _named_titles(lines: list[Line]) -> list[int]:
    """Lines that the page's own name quotes: a dump's first line is often "<headline> | <site>"."""
    page_name = lines[0].key if lines else ""  # words only: quotes and dashes differ between the two
    return [
        i for i, line in enumerate(lines[1:], start=1)
        if line.words >= 3 and _title_candidate(line) and line.key in page_name
    ]


def _find_title(lines: list[Line], body_start: int) -> tuple[int | None, bool]:
    """(index of the headline above `body_start`, whether the page confirms it by printing it twice).

    A headline is often printed twice in a row: glued to the end of a breadcrumb trail, then alone (a
    table of contents also repeats headings, but far from them). Otherwise it is the nearest heading above the body, looking past metadata (dates,
    bylines, credits) that the classifier already took for chrome.
    """
    window = range(max(0, body_start - TITLE_LOOKBACK), min(len(lines), body_start + 1))
    candidates = [i for i in window if _title_candidate(lines[i])]
    repeated = [
        i for i in candidates
        if lines[i].words >= REPEATED_TITLE_MIN_WORDS
        and any(
            lines[j].text.endswith(lines[i].text)
            for j in range(max(0, i - REPEAT_NEAR_LINES), min(len(lines), i + REPEAT_NEAR_LINES + 1))
            if j != i
        )
    ]
    if repeated:
        return repeated[-1], True
    # The body's own first line counts: a headline long enough to pass for text opens the block.
    # A headline is a sentence's worth of words; two or three capitalised words are usually a byline.
    headlines = [i for i in candidates if lines[i].words >= HEADLINE_MIN_WORDS] or candidates
    return (headlines[-1], False) if headlines else (None, False)


# === 7. the article, end to end =======================================================================


def _skip_metadata(lines: list[Line], start: int, end: int) -> int:
    """Short lines right under the headline are its byline, date and credits, not the article."""
    while start < end and lines[start].chars < LENGTH_LOW and not lines[start].sentence:
        start += 1
    return start


def _article_under_named_title(lines: list[Line], blocks: list[_Block]) -> tuple[int, _Block] | None:
    """(title, block) when the page names its headline and an article follows it; the best if several."""
    found = []
    for title in _named_titles(lines):
        block = _block_after(lines, blocks, title)
        if block is not None and block.score >= MIN_BODY_CHARS:
            found.append((block, title))
    if not found:
        return None
    block, title = max(found, key=lambda pair: (pair[0].score, -pair[1]))
    return title, block


def _title_and_block(lines: list[Line], blocks: list[_Block]) -> tuple[int | None, _Block]:
    """The headline and the block of article text under it."""
    named = _article_under_named_title(lines, blocks)
    if named is not None:
        # The article is what follows the headline the page names, even when comments or teasers
        # elsewhere on the page hold more text.
        return named
    block = max(blocks, key=lambda b: b.score)
    title, confirmed = _find_title(lines, block.start)
    named_above = [i for i in _named_titles(lines) if i < block.start]
    if named_above:  # named, but further above the article than bylines and share buttons reach
        return named_above[-1], block
    if title is not None and confirmed and title < block.start:
        under_title = _block_after(lines, blocks, title)
        if under_title is not None and under_title.score >= ANCHORED_MIN_SHARE * block.score:
            return title, under_title
    return title, block


def _article(lines: list[Line]) -> tuple[int | None, list[int]]:
    """(title index, indices of body lines) of the article in classified lines."""
    blocks = _blocks(lines)
    if not blocks:
        return None, []
    title, block = _title_and_block(lines, blocks)
    block = _with_continuation(lines, blocks, block)
    start = block.start
    if title is not None:
        start = _skip_metadata(lines, max(start, title + 1), block.end)
    # The headline is not repeated at the top of the body, and no paragraph is printed twice.
    seen = {lines[title].key} if title is not None else set()
    body = []
    for index in range(start, block.end):
        if lines[index].cls == GOOD and lines[index].key not in seen:
            body.append(index)
            seen.add(lines[index].key)
    return title, body


def _dateline_article(lines: list[Line]) -> tuple[int | None, list[int]]:
    """A wire brief inside page chrome: from a dateline ("BOSTON, March 2 - Qtly div ...") to the next
    piece of chrome, under the headline above it. Briefs are too short and too full of figures for the
    prose classifier. The longest such run on the page wins."""
    best: tuple[int | None, list[int]] = (None, [])
    for start, line in enumerate(lines):
        if not opens_with_dateline(line.text):
            continue
        end = start + 1
        while end < len(lines) and end - start < DATELINE_ARTICLE_MAX_LINES:
            if not _is_brief_line(lines[end]):
                break
            end += 1
        if _body_chars(lines, range(start, end)) > _body_chars(lines, best[1]):
            title = start - 1 if start > 0 and _title_candidate(lines[start - 1]) else None
            best = (title, list(range(start, end)))
    return best


def _is_brief_line(line: Line) -> bool:
    """A line a wire brief runs over: anything but chrome (see `_dateline_article`)."""
    return not (line.chrome or line.ends_article or line.menu or line.repeated)


def _brief_opening(lines: list[Line], first: int) -> int | None:
    """The dateline of a wire brief that runs, without chrome in between, into the body at `first`."""
    for index in range(first - 1, max(-1, first - DATELINE_ARTICLE_MAX_LINES), -1):
        if not _is_brief_line(lines[index]):
            return None
        if opens_with_dateline(lines[index].text):
            return index
    return None


def _body_chars(lines: list[Line], body: Iterable[int]) -> int:
    return sum(lines[i].word_chars for i in body)


def has_enough_text(lines: list[Line], body: list[int]) -> bool:
    """Enough text found to stop looking for the article another way."""
    return _body_chars(lines, body) >= MIN_BODY_LETTERS


def text_article(lines: list[Line], has_stoplist: bool) -> tuple[int | None, list[int]]:
    """(title, body lines): the classifier's article; failing that a wire brief found by its dateline;
    failing that what a lenient classifier finds (a short post of one paragraph, with no neighbour);
    failing that a table of results."""
    title, body = _article(classify(lines, has_stoplist))
    if has_enough_text(lines, body):
        opening = _brief_opening(lines, body[0])
        if opening is not None:
            # The article opens with a wire brief's lines of figures, too short for the prose classifier;
            # the headline is above its dateline, not one of its lines.
            if title is not None and title >= opening:
                title = _find_title(lines, opening - 1)[0] if opening > 0 else None
            return title, [*range(opening, body[0]), *body]
        return title, body
    brief = _dateline_article(lines)
    if has_enough_text(lines, brief[1]):
        return brief
    lenient = _article(classify(lines, has_stoplist, lenient=True))
    if has_enough_text(lines, lenient[1]):
        return lenient
    table = _table_article(lines)
    return table if has_enough_text(lines, table[1]) else (title, body)


def is_table_row(line: Line) -> bool:
    """A row of results or figures: names and numbers ("Palm Bay d. Rockledge 70-44")."""
    return (
        not (line.chrome or line.repeated or line.menu)
        and line.words >= TABLE_ROW_MIN_WORDS
        and DIGIT.search(line.text) is not None
        and LETTERS.search(line.text) is not None
    )


def _table_article(lines: list[Line]) -> tuple[int | None, list[int]]:
    """A page that is one table of results under a heading (sports results, an itinerary): the longest
    run of rows, where a few lines without figures (team names, "GIRLS SOCCER") may stand in between,
    under the heading right above it. Prose pages never get here: they have an article already."""
    best: list[int] = []
    start = 0
    while start < len(lines):
        if not is_table_row(lines[start]):
            start += 1
            continue
        end, rows, gap = start, [], 0
        while end < len(lines) and gap <= TABLE_MAX_GAP and not (lines[end].chrome or lines[end].menu):
            if is_table_row(lines[end]):
                rows.append(end)
                gap = 0
            else:
                gap += 1
            end += 1
        if len(rows) >= TABLE_MIN_ROWS and len(rows) > len(best):
            best = list(range(rows[0], rows[-1] + 1))
        start = end
    if not best:
        return None, []
    above = best[0] - 1
    while above >= 0 and not lines[above].text.strip():
        above -= 1
    title = above if above >= 0 and _title_candidate(lines[above]) and above >= best[0] - 3 else None
    return title, best
