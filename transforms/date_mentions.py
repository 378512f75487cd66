"""Reading the dates written in a text or an address: every full date (day, month, year) with its place,
numeric (day first unless the text writes US dates), ISO or with a month name in eight languages, and the
year-less forms a dateline uses ("Feb 26"). One fast pass finds the years; the date patterns only read
short windows around them."""
from __future__ import annotations

import calendar
import dataclasses
import datetime as dt
import re

from transforms.lexicon import MONTHS

# Each year found by the fast pass is read with this much text around it: "Mittwoch, 21 de septiembre de"
# fits before a year, "-01-21" after it.
YEAR_CONTEXT_BEFORE_CHARS = 32
YEAR_CONTEXT_AFTER_CHARS = 12
# Archive, calendar and table pages hold hundreds of years; reading the first ones of a range is enough.
MAX_READ_CHARS_PER_RANGE = 8_000


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


# Dates in a web address or a path: /2018/06/28/, -2018-06-28-, _20180628_. Without separators the date
# must stand alone between punctuation: hashed file names ("3f20190512ab.txt") hold digit runs.
URI_SEPARATED_DATE = re.compile(
    r"(?<!\d)(?P<y>(?:19|20)\d\d)(?P<sep>[-/_.])(?P<m>0[1-9]|1[0-2]|[1-9](?=/))(?P=sep)"
    r"(?P<d>0[1-9]|[12]\d|3[01]|[1-9](?=/))(?!\d)"
)
URI_COMPACT_DATE = re.compile(r"(?<![^\W_])(?P<y>(?:19|20)\d\d)(?P<m>0[1-9]|1[0-2])(?P<d>0[1-9]|[12]\d|3[01])(?![^\W_])")
URI_YEAR_MONTH = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/_.](0[1-9]|1[0-2])(?!\d)")
URI_YEAR = re.compile(r"(?<![\d\w])((?:19|20)\d\d)(?![\d\w])")

# Every full date has a year: four digits, or two in "07.11.23". This single fast pass (ASCII classes keep
# Python's fast scanning loop) finds where the slower date patterns are worth running.
YEAR_ANCHOR = re.compile(r"[0-9][0-9](?:[0-9][0-9]|[./-][0-9][0-9][./-][0-9][0-9])")
# Characters that may continue a date past the end of a reading window ("21.01.20|17").
_DATE_CHARS = frozenset("0123456789./-")

Range = tuple[int, int]  # [start, end) offsets in a text


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


def valid_date(year: int, month: int, day: int) -> bool:
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
    if not month or not valid_date(year, month, day):
        return None
    return Mention(match.start(), match.end(), year, month, day)


def _iso_mention(match: re.Match) -> Mention | None:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    return Mention(match.start(), match.end(), year, month, day) if valid_date(year, month, day) else None


def _numeric_mention(match: re.Match, month_first: bool = False) -> Mention | None:
    a, b = int(match["a"]), int(match["b"])
    year, two_digit = _full_year(match["y"])
    # Day first, except where only month first is valid (12/25/2020), or with slashes where both are
    # valid and the page writes its named dates month first.
    if b > 12 or (match["sep"] == "/" and month_first and a <= 12):
        month, day = a, b
    else:
        day, month = a, b
    if not valid_date(year, month, day):
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


def yearless_date_at(text: str, pos: int) -> Mention | None:
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


def uri_dates(uri: str) -> list[dt.date]:
    """The full dates written in a web address or a path, in order."""
    matches = [*URI_SEPARATED_DATE.finditer(uri or ""), *URI_COMPACT_DATE.finditer(uri or "")]
    found = []
    for match in sorted(matches, key=lambda m: m.start()):
        year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
        if valid_date(year, month, day):
            found.append(dt.date(year, month, day))
    return found
