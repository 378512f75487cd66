"""Where things are in a page's text: line numbers, where the cleaned article sits (its title, first and
last body lines), and the parts of the page worth reading for dates (its head, around the article start)."""
from __future__ import annotations

import bisect
import dataclasses
import re

from transforms.date_mentions import Range

# Pages can be megabytes; a publication date sits near the top or near the article start. Only the
# head of the page and a window around the article start are scanned for dates.
SCAN_HEAD_CHARS = 40_000
SCAN_BEFORE_ARTICLE_CHARS = 6_000
SCAN_AFTER_ARTICLE_CHARS = 3_000
# Page dates within this many lines before the article start (or in its first lines) are its byline area.
NEAR_ARTICLE_LINES_BEFORE = 12
NEAR_ARTICLE_LINES_INSIDE = 3
# The article is found in the page by the first characters of its first and last paragraphs (and title).
LOCATE_SNIPPET_CHARS = (60, 30, 15)
LOCATE_MIN_SNIPPET_CHARS = 8
LOCATE_MAX_PARAGRAPHS = 3
NEWLINE = re.compile(r"\n")


# ---------------------------------------------------------------------------------------------
# Where the article is in the page
# ---------------------------------------------------------------------------------------------


def line_starts(text: str) -> list[int]:
    return [0] + [match.end() for match in NEWLINE.finditer(text)]


def line_text(text: str, starts: list[int], number: int) -> str:
    end = starts[number + 1] - 1 if number + 1 < len(starts) else len(text)
    return text[starts[number] : end]


def line_number(starts: list[int], pos: int) -> int:
    return bisect.bisect_right(starts, pos) - 1


@dataclasses.dataclass(frozen=True)
class ArticlePosition:
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


def locate_article(page: str, body: str, title: str | None, starts: list[int]) -> ArticlePosition:
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
                return line_number(starts, pos)
        return None

    paragraphs = [p for p in body.split("\n\n", LOCATE_MAX_PARAGRAPHS) if p.strip()]
    first = line_of(paragraphs[0]) if paragraphs else None
    title_line = _title_line(page, title, first, starts)
    last = line_of(body.rstrip()[-LOCATE_SNIPPET_CHARS[0] :].split("\n")[-1], last=True)
    if first is not None and last is not None and last < first:
        last = None
    return ArticlePosition(title_line, first, last)


def _title_line(page: str, title: str | None, body_line: int | None, starts: list[int]) -> int | None:
    """The line of the title: its last occurrence before the body (menus and tickers repeat titles)."""
    title = (title or "").strip()
    if len(title) < LOCATE_MIN_SNIPPET_CHARS:
        return None
    end = starts[body_line] if body_line is not None else len(page)
    pos = page.rfind(title, 0, end)
    if pos < 0 and body_line is not None:
        pos = page.find(title)
    return None if pos < 0 else line_number(starts, pos)


def scan_ranges(page: str, starts: list[int], article: ArticlePosition) -> list[Range]:
    """The parts of the page worth reading for dates: its head, and around the article start."""
    ranges = [(0, line_end(page, SCAN_HEAD_CHARS))]
    top = article.top_line()
    if top is not None:
        low = _line_start(page, starts[top] - SCAN_BEFORE_ARTICLE_CHARS)
        high = line_end(page, starts[top] + SCAN_AFTER_ARTICLE_CHARS)
        if low <= ranges[0][1]:
            ranges[0] = (0, max(high, ranges[0][1]))
        else:
            ranges.append((low, high))
    return ranges


def _line_start(text: str, pos: int) -> int:
    return 0 if pos <= 0 else text.rfind("\n", 0, pos) + 1


def line_end(text: str, pos: int) -> int:
    end = text.find("\n", pos) if pos < len(text) else -1
    return len(text) if end < 0 else end
